/**
 * One small HTTP helper for the secret stores: retries 429/5xx/network errors
 * by the connection's retry policy (reads are idempotent) and reports what
 * happened without ever echoing a credential.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Response } from 'got';
import { loadGot } from '../../scim/lazy-got.js';
import { redact, safeUrl } from '../../redact.js';
import type { Logger } from '../../log.js';
import { decideRetry, type RetryPolicy } from '../../scim/retry.js';

export interface StoreHttp {
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** TLS: extra CAs, client certificate (CyberArk CCP), verification switch. */
  https?: { certificateAuthority?: string | string[]; certificate?: string; key?: string; rejectUnauthorized?: boolean };
}

export type StoreReply = { ok: true; status: number; text: string } | { ok: false; status?: number; text?: string; errorCode?: string; message: string };

/** Never throws for HTTP or network failures: the caller maps them to its own codes. */
export async function storeRequest(
  s: StoreHttp,
  url: string,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<StoreReply> {
  const sleep = s.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  let retries = 0;
  for (;;) {
    let res: Response<string>;
    try {
      const got = await loadGot();
      res = (await got(url, {
        method: init.method ?? 'GET',
        headers: { accept: 'application/json', ...init.headers },
        ...(init.form ? { form: init.form } : {}),
        https: s.https ?? {},
        timeout: { lookup: s.timeoutMs, connect: s.timeoutMs, secureConnect: s.timeoutMs, socket: s.timeoutMs, response: s.timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: 'text',
        signal: s.signal,
      })) as Response<string>;
    } catch (err) {
      if (s.signal?.aborted) throw s.signal.reason ?? err;
      const code = (err as NodeJS.ErrnoException).code;
      s.logger.debug(`${init.method ?? 'GET'} ${safeUrl(url)} ${code ?? 'error'}`);
      const d = decideRetry(s.retry, 'all', { errorCode: code }, retries);
      if (d.retry) {
        retries++;
        await sleep(d.delayMs, s.signal);
        continue;
      }
      return { ok: false, errorCode: code, message: redact(`${code ?? ''} ${(err as Error).message}`.trim()) };
    }
    s.logger.debug(`${init.method ?? 'GET'} ${safeUrl(url)} ${res.statusCode}`);
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode, text: res.body };
    const d = decideRetry(s.retry, 'all', { status: res.statusCode, retryAfter: res.headers['retry-after'] }, retries);
    if (d.retry) {
      retries++;
      await sleep(d.delayMs, s.signal);
      continue;
    }
    return { ok: false, status: res.statusCode, text: res.body, message: `HTTP ${res.statusCode}` };
  }
}

export function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
