/**
 * Retry as data (got style): which methods, statuses and network errors are
 * retried, how long to wait, and when to give up. Pure functions only; the
 * client owns the loop and the (injectable) clock.
 */
import type { RetrySettings } from '../config/types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  limit: number;
  /** Statuses retried for idempotent requests. */
  statusCodes: readonly number[];
  /** Statuses that prove the server did not process the request: safe to retry a POST. */
  unprocessedStatusCodes: readonly number[];
  /** Network error codes retried for idempotent requests. */
  errorCodes: readonly string[];
  /** Network error codes that prove nothing was sent: safe to retry a POST. */
  unsentErrorCodes: readonly string[];
  /** Longest Retry-After we wait for, ms. */
  maxRetryAfterMs: number;
  /** Base of the exponential backoff, ms. */
  backoffMs: number;
  /** Cap of one backoff wait, ms. */
  maxBackoffMs: number;
  /** Time budget of one request, retries and waits included, ms; the count `limit` applies besides. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  limit: 4,
  statusCodes: [408, 429, 500, 502, 503, 504],
  unprocessedStatusCodes: [429, 503],
  errorCodes: ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'],
  unsentErrorCodes: ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'],
  maxRetryAfterMs: 120_000,
  backoffMs: 500,
  maxBackoffMs: 30_000,
  maxElapsedMs: 600_000,
};

/** The policy for a connection: the pipeline's `retry` settings over the defaults. */
export function retryPolicy(settings?: Partial<RetrySettings>): RetryPolicy {
  const p: RetryPolicy = { ...DEFAULT_RETRY };
  if (settings?.limit !== undefined) p.limit = Math.max(0, Math.floor(settings.limit));
  if (settings?.maxRetryAfterMs !== undefined) p.maxRetryAfterMs = Math.max(0, settings.maxRetryAfterMs);
  if (settings?.backoffMs !== undefined) p.backoffMs = Math.max(0, settings.backoffMs);
  if (settings?.maxElapsedMs !== undefined) p.maxElapsedMs = Math.max(0, settings.maxElapsedMs);
  return p;
}

/**
 * How far a request may be retried: 'all' for idempotent requests (or an
 * explicit `retry: true`), 'unprocessed' for a POST (only when the server
 * proved it did nothing), 'none' for `retry: false`.
 */
export type RetryMode = 'all' | 'unprocessed' | 'none';

export function retryMode(method: HttpMethod, explicit?: boolean): RetryMode {
  if (explicit === false) return 'none';
  if (explicit === true) return 'all';
  return method === 'POST' ? 'unprocessed' : 'all';
}

export function isRetriableStatus(policy: RetryPolicy, mode: RetryMode, status: number): boolean {
  if (mode === 'none') return false;
  const list = mode === 'all' ? policy.statusCodes : policy.unprocessedStatusCodes;
  return list.includes(status);
}

export function isRetriableError(policy: RetryPolicy, mode: RetryMode, code: string | undefined): boolean {
  if (mode === 'none' || !code) return false;
  const list = mode === 'all' ? policy.errorCodes : policy.unsentErrorCodes;
  return list.includes(code);
}

/**
 * Retry-After as delta-seconds or an HTTP date, in ms from `now`.
 * Undefined when absent or unreadable (then the backoff applies).
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const text = v.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff with jitter: half fixed, half random, so parallel clients spread out. */
export function backoffDelay(policy: RetryPolicy, retryNumber: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export type RetryDecision =
  /** `throttled`: the server asked for the wait (429, or 503 with Retry-After); it does not use up `limit`. */
  | { retry: true; delayMs: number; reason: string; throttled: boolean }
  | { retry: false; reason?: string; retryAfterMs?: number; budgetSpent?: boolean };

/** What is known about one failed attempt. */
export interface Failure {
  status?: number;
  errorCode?: string;
  retryAfter?: string | string[];
  /** scimType of the SCIM Error body: the server says the request itself is wrong. */
  scimType?: string;
}

/** Where the request stands: error retries and throttled waits so far, time spent since the first attempt. */
export interface RetryProgress {
  now?: number;
  random?: () => number;
  /** Throttled waits already made (grows the backoff of a 429 without Retry-After). */
  throttledSoFar?: number;
  /** ms since the first attempt started; with `maxElapsedMs`, no wait may carry the request past its budget. */
  elapsedMs?: number;
}

/**
 * Decide about one failed attempt. `retriesSoFar` counts error retries
 * already made; waits the server asked for (a 429, a 503 with Retry-After)
 * prove nothing was processed and do not count, only the time budget
 * bounds them (callers that pass no `elapsedMs` count them as before). A body with a scimType is the client's fault: never retried.
 * A Retry-After longer than the policy allows stops the request (with the
 * wait in the decision so that the error can say it).
 */
export function decideRetry(policy: RetryPolicy, mode: RetryMode, failure: Failure, retriesSoFar: number, opts: RetryProgress = {}): RetryDecision {
  if (failure.scimType !== undefined && failure.scimType.trim() !== '') return { retry: false };
  const retriable =
    failure.status !== undefined ? isRetriableStatus(policy, mode, failure.status) : isRetriableError(policy, mode, failure.errorCode);
  if (!retriable) return { retry: false };
  const reason = failure.status !== undefined ? `HTTP ${failure.status}` : String(failure.errorCode);
  const after = failure.status !== undefined ? parseRetryAfter(failure.retryAfter, opts.now) : undefined;
  const throttled = failure.status === 429 || (failure.status === 503 && after !== undefined);
  // Uncounted waits need a time budget to end: callers that track none (token endpoint, vaults) count every retry.
  const counted = !throttled || opts.elapsedMs === undefined;
  if (counted && retriesSoFar >= policy.limit) return { retry: false, reason: `gave up after ${retriesSoFar} retr${retriesSoFar === 1 ? 'y' : 'ies'}` };
  let delayMs: number;
  if (after !== undefined) {
    if (after > policy.maxRetryAfterMs) {
      return {
        retry: false,
        retryAfterMs: after,
        reason: `server asked to wait ${formatSeconds(after)} (Retry-After), longer than retry.maxRetryAfter (${formatSeconds(policy.maxRetryAfterMs)})`,
      };
    }
    delayMs = after;
  } else {
    delayMs = backoffDelay(policy, (counted ? retriesSoFar : (opts.throttledSoFar ?? 0)) + 1, opts.random);
  }
  if (opts.elapsedMs !== undefined && opts.elapsedMs + delayMs > policy.maxElapsedMs) {
    return {
      retry: false,
      budgetSpent: true,
      reason: `retry budget spent: ${formatSeconds(opts.elapsedMs)} elapsed, the next wait (${formatSeconds(delayMs)}) would pass retry.maxElapsed (${formatSeconds(policy.maxElapsedMs)})`,
    };
  }
  return { retry: true, delayMs, reason, throttled };
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
