/**
 * Every log line and every error message passes through `redact` before it is
 * printed. Two nets: the secret values themselves (registered as soon as they
 * are read from any source) and patterns that look like credentials even when
 * we never saw the value (Authorization headers, passwords in URLs, token
 * fields in bodies).
 *
 * The registered set holds the run's credentials (a handful of values): one
 * regular expression, compiled again only when the set changes. Secrets that
 * come with data (a `password` column of an order file) are not registered:
 * they stay with their order line and are masked with `maskValues` from what
 * that line produces, so the cost of a call does not grow with the orders.
 * Every pattern is linear in the text (bounded or unambiguous repetitions),
 * so a 10 MB value is masked in milliseconds.
 */

const MASK = '***';
const secrets = new Set<string>();
/** Field names whose JSON string values are secret besides the built-in ones (writeOnly attributes). */
const secretFields = new Set<string>();
let valueMatcher: RegExp | null | undefined;
let fieldMatchers: Array<[RegExp, string]> | undefined;
const counters = { compilations: 0, calls: 0 };

/** The forms a secret travels in: as is, in URLs, Basic headers, JSON bodies and plans. */
export function secretForms(value: string): string[] {
  return [value, encodeURIComponent(value), Buffer.from(value).toString('base64'), JSON.stringify(value).slice(1, -1)];
}

/** Very short values would mask innocent text ("a", "1"); they are not real secrets. */
const MIN_SECRET = 4;

/** Remember a secret value so that it is masked wherever it appears. */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  if (v.length < MIN_SECRET) return;
  for (const f of secretForms(v)) {
    if (secrets.has(f)) continue;
    secrets.add(f);
    valueMatcher = undefined;
  }
}

/**
 * Remember an attribute name whose values are secret (a writeOnly attribute):
 * its JSON string values are masked in plans and messages, whatever the value.
 */
export function registerSecretField(name: string): void {
  const n = name.trim().toLowerCase();
  if (!/^[a-z][\w-]*$/.test(n) || BUILTIN_FIELDS.includes(n) || secretFields.has(n)) return;
  secretFields.add(n);
  fieldMatchers = undefined;
}

/** For tests: forget all registered secrets. */
export function clearSecrets(): void {
  secrets.clear();
  secretFields.clear();
  valueMatcher = undefined;
  fieldMatchers = undefined;
}

/** Work done so far (for tests that check the cost per call stays flat). */
export function redactionStats(): { compilations: number; calls: number; secrets: number } {
  return { ...counters, secrets: secrets.size };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compileValues(): RegExp | null {
  counters.compilations++;
  if (!secrets.size) return null;
  // Longest first, so that a secret containing another is masked whole.
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

const BUILTIN_FIELDS = ['access_token', 'refresh_token', 'id_token', 'client_secret', 'password', 'passwd', 'secret', 'api_key', 'api-key', 'apikey', 'applicationkey', 'oauthtoken'];
const KEY_SOURCE = '(?:access_token|refresh_token|id_token|client_secret|password|passwd|secret|api[_-]?key|applicationkey|oauthtoken)';
/** A JSON string body, escapes included: `"…"` with `\"` inside. */
const JSON_STRING = '"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"';

/**
 * JSON forms, exact whatever the value holds (quotes, commas, spaces):
 * `"password": "…"` and a PATCH operation `"path": "password", "value": "…"`
 * (also with a schema URN or a parent in front of the name).
 */
function compileFields(): Array<[RegExp, string]> {
  counters.compilations++;
  const keys = [KEY_SOURCE, ...[...secretFields].map(escapeRegExp)].join('|');
  return [
    [new RegExp(`("(?:${keys})"\\s{0,16}:\\s{0,16})${JSON_STRING}`, 'gi'), `$1"${MASK}"`],
    [new RegExp(`("path"\\s{0,16}:\\s{0,16}"(?:[^"\\\\]{0,512}[:.])?(?:${keys})"\\s{0,16},\\s{0,16}"value"\\s{0,16}:\\s{0,16})${JSON_STRING}`, 'gi'), `$1"${MASK}"`],
  ];
}

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xxx / Basic xxx (header form, JSON form)
  [/(authorization["']?\s{0,16}[:=]\s{0,16}["']?)(bearer|basic|token)?\s{0,16}[^"'\s,}]+/gi, `$1$2 ${MASK}`],
  [/\b(bearer)\s{1,16}[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${MASK}`],
  // user:password@host in URLs. The scheme starts a word and every part is
  // bounded: an unanchored [a-z]+ before :// made a long cell quadratic.
  [/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/[^/\s:@]{1,256}:)[^@\s/]{1,256}@/gi, `$1${MASK}@`],
];

/**
 * key=value and key: value for the usual secret names, where the name is a
 * word of its own: not a ${NAME:-default} reference (a variable's name, not
 * its value: kept as is by maskKeyValue), not a path (/etc/passwd:12:3), and
 * not followed by a line:col position. A quoted value is masked whole.
 */
const KEY_VALUE = new RegExp(
  `(\\$\\{\\w{0,64})?(?<![/\\\\.])(${KEY_SOURCE}["']?\\s{0,16}[:=](?!\\d+:\\d+(?:\\s|$))\\s{0,16})(${JSON_STRING}|'[^']*'|[^"'&\\s,}]+)`,
  'gi',
);

function maskKeyValue(match: string, reference: string | undefined, head: string, value: string): string {
  if (reference !== undefined) return match;
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
  return `${head}${quote}${MASK}${quote}`;
}

export function redact(text: string): string {
  counters.calls++;
  if (valueMatcher === undefined) valueMatcher = compileValues();
  fieldMatchers ??= compileFields();
  let out = valueMatcher ? text.replace(valueMatcher, MASK) : text;
  for (const [re, rep] of fieldMatchers) out = out.replace(re, rep);
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out.replace(KEY_VALUE, maskKeyValue);
}

/**
 * Masks the given values (and their usual encodings) from a text: the secrets
 * of one order line in what that line produces. Linear: one indexOf pass per form.
 */
export function maskValues(text: string, values: readonly string[] | undefined): string {
  if (!values?.length || !text) return text;
  let out = text;
  const forms = values.flatMap((v) => (v.trim().length < MIN_SECRET ? [] : secretForms(v.trim()))).sort((a, b) => b.length - a.length);
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(MASK);
  return out;
}

/** Strip credentials and sensitive query parameters from a URL for logging. */
export function safeUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    if (u.password) u.password = MASK;
    for (const key of [...u.searchParams.keys()]) {
      if (/token|secret|password|key|sig/i.test(key)) u.searchParams.set(key, MASK);
    }
    return redact(u.toString());
  } catch {
    return redact(String(url));
  }
}
