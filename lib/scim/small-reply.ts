/**
 * A request whose reply is small by nature (a token, a discovery document, a
 * secret): the whole exchange has one deadline and the reply a size cap, so a
 * token endpoint or vault that drips bytes or streams without end cannot hold
 * a run or fill memory. The per-phase timeouts alone reset on every byte.
 */
import type { CancelableRequest, OptionsInit, Response } from 'got';
import { loadGot } from './lazy-got.js';

/** Far above any token or secret reply. */
export const SMALL_REPLY_MAX_BYTES = 1024 * 1024;

/** Thrown (as a network-style error, never retried) when the reply passes the cap. */
export const REPLY_TOO_LARGE = 'ERR_REPLY_TOO_LARGE';

export async function smallReply(
  url: string,
  options: OptionsInit & { timeoutMs: number },
  maxBytes = SMALL_REPLY_MAX_BYTES,
): Promise<Response<string>> {
  const { timeoutMs, ...init } = options;
  const t = timeoutMs;
  const got = await loadGot();
  const request = got(url, {
    ...init,
    timeout: { lookup: t, connect: t, secureConnect: t, socket: t, response: t, request: t },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
  } as OptionsInit & { isStream?: false }) as CancelableRequest<Response<string>>;
  let tooLarge = false;
  request.on('downloadProgress', (p: { transferred: number }) => {
    if (!tooLarge && p.transferred > maxBytes) {
      tooLarge = true;
      request.cancel();
    }
  });
  try {
    return await request;
  } catch (err) {
    if (tooLarge) throw Object.assign(new Error(`the reply is larger than ${maxBytes} bytes`), { code: REPLY_TOO_LARGE });
    throw err;
  }
}
