/**
 * Every log line and every error message passes through `redact` before it is
 * printed. Two nets: the secret values themselves (registered as soon as they
 * are read from any source) and patterns that look like credentials even when
 * we never saw the value (Authorization headers, passwords in URLs, token
 * fields in bodies).
 */

const MASK = '***';
const secrets = new Set<string>();

/** Remember a secret value so that it is masked wherever it appears. */
export function registerSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  // Very short values would mask innocent text ("a", "1"); they are not real secrets.
  if (v.length < 4) return;
  secrets.add(v);
  // Also the encodings a secret travels in: URLs, Basic headers, JSON bodies and plans.
  secrets.add(encodeURIComponent(v));
  secrets.add(Buffer.from(v).toString('base64'));
  secrets.add(JSON.stringify(v).slice(1, -1));
}

/** For tests: forget all registered secrets. */
export function clearSecrets(): void {
  secrets.clear();
}

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xxx / Basic xxx (header form, JSON form)
  [/(authorization["']?\s*[:=]\s*["']?)(bearer|basic|token)?\s*[^"'\s,}]+/gi, `$1$2 ${MASK}`],
  [/\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${MASK}`],
  // user:password@host in URLs
  [/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi, `$1${MASK}@`],
  // key=value and "key":"value" for the usual secret names
  [/((?:access_token|refresh_token|id_token|client_secret|password|passwd|secret|api[_-]?key|applicationkey|oauthtoken)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi, `$1${MASK}`],
];

export function redact(text: string): string {
  let out = text;
  // Longest first, so that a secret containing another is masked whole.
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  for (const s of sorted) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
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
