/**
 * Reading error replies. Servers answer failures in several shapes:
 * - RFC 7644 §3.12: {"schemas":[…Error],"status":"409","scimType":"uniqueness","detail":"…"} (status string or number)
 * - Slack: {"Errors":{"description":"…","code":400}} (also an array in SCIM 1.1 servers)
 * - OAuth-ish / generic: {"error":"…","error_description":"…"}, {"message":"…"}
 * - not JSON at all: an HTML error page, a proxy's text.
 * The result is always safe to print: redacted and shortened.
 */
import { ScimEtlError, type ErrorContext } from '../errors.js';
import { redact } from '../redact.js';

export interface ScimErrorInfo {
  /** Status the body claims (may differ from the HTTP status on odd servers). */
  status?: number;
  scimType?: string;
  detail?: string;
}

const MAX_DETAIL = 200;

/** Shorten and redact a piece of server text for a message. */
export function safeSnippet(text: string, max = MAX_DETAIL): string {
  const oneLine = redact(text).replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? oneLine.slice(0, max) + '…' : oneLine;
}

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function asStatus(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{3}\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

/** Parse an error body given as text (raw reply) or as an already-parsed JSON value. */
export function parseScimError(body: unknown): ScimErrorInfo {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return {};
    try {
      value = JSON.parse(text);
    } catch {
      return { detail: safeSnippet(text) };
    }
  }
  if (value === null || typeof value !== 'object') {
    const s = asString(value);
    return s ? { detail: safeSnippet(s) } : {};
  }
  const obj = value as Record<string, unknown>;
  const info: ScimErrorInfo = {};

  // RFC shape (also tolerate "Detail"/"ScimType" capitalisation).
  const pick = (name: string): unknown => {
    const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : obj[key];
  };
  info.status = asStatus(pick('status'));
  info.scimType = asString(pick('scimType'));
  let detail = asString(pick('detail'));

  // Slack / SCIM 1.1: Errors as an object or an array of objects.
  const errors = pick('Errors');
  const first = Array.isArray(errors) ? errors[0] : errors;
  if (first && typeof first === 'object') {
    const e = first as Record<string, unknown>;
    detail ??= asString(e.description) ?? asString(e.detail) ?? asString(e.message);
    info.status ??= asStatus(e.code) ?? asStatus(e.status);
  }

  // OAuth and generic JSON replies.
  if (detail === undefined) {
    const err = asString(pick('error'));
    const desc = asString(pick('error_description'));
    if (err || desc) detail = [err, desc].filter(Boolean).join(': ');
  }
  detail ??= asString(pick('message')) ?? asString(pick('title'));
  if (detail === undefined) {
    // An unknown JSON shape: show a bit of it rather than nothing.
    detail = JSON.stringify(obj);
  }
  info.detail = safeSnippet(detail);
  if (info.status === undefined) delete info.status;
  if (info.scimType === undefined) delete info.scimType;
  return info;
}

/** Remove the query (which may carry filters with personal data or keys) from a path for messages. */
export function pathOnly(path: string): string {
  const i = path.indexOf('?');
  return i === -1 ? path : path.slice(0, i);
}

/**
 * A non-2xx answer after retries (never retried when the body has a scimType:
 * the server says the request itself is wrong). `status`, `scimType` and `detail` say what
 * the server said; the raw body and headers hang off non-enumerable
 * properties so that a JSON dump of the error never carries them.
 */
export class ScimHttpError extends ScimEtlError {
  readonly status: number;
  readonly scimType?: string;
  readonly detail?: string;
  readonly attempts: number;
  declare readonly responseBody?: unknown;
  declare readonly responseHeaders?: Record<string, string | string[] | undefined>;

  constructor(
    req: { method: string; path: string },
    status: number,
    info: ScimErrorInfo,
    attempts: number,
    extra: { code?: string; note?: string; body?: unknown; headers?: Record<string, string | string[] | undefined>; context?: ErrorContext } = {},
  ) {
    const path = pathOnly(req.path.replace(/^\/+/, ''));
    let message = `${req.method} ${path} failed: HTTP ${status}`;
    if (info.scimType) message += ` (${info.scimType})`;
    if (info.detail) message += `: ${info.detail}`;
    if (attempts > 1) message += ` [${attempts} attempts]`;
    if (extra.note) message += `; ${extra.note}`;
    // ERR_SCIM_HTTP, or a more precise code (ERR_TRANSPORT_RETRY_BUDGET) where the status is not the whole story.
    super(extra.code ?? 'ERR_SCIM_HTTP', redact(message), { method: req.method, path, status, scimType: info.scimType, attempts, ...extra.context });
    this.name = 'ScimHttpError';
    this.status = status;
    if (info.scimType !== undefined) this.scimType = info.scimType;
    if (info.detail !== undefined) this.detail = info.detail;
    this.attempts = attempts;
    Object.defineProperty(this, 'responseBody', { value: extra.body, enumerable: false });
    Object.defineProperty(this, 'responseHeaders', { value: extra.headers, enumerable: false });
  }
}

export function isScimHttpError(err: unknown): err is ScimHttpError {
  return err instanceof ScimHttpError;
}
