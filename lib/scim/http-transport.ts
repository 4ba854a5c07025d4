/**
 * The client's hot path: one SCIM request whose reply is read whole, on
 * node:http(s) with the connection's keep-alive agents. got (client.ts) stays
 * for streamed replies (a big group); for everything else its per-request
 * option merging and stream layers cost about a third of a fulfill's CPU
 * (bench/PROFILES.md). What this keeps of got's behaviour:
 *   - timeouts: an idle limit on the socket (connect, between chunks) and on
 *     the wait for the reply's head, and one deadline for the whole reply, as
 *     TimeoutErrors with `code` ETIMEDOUT and `event` 'socket' / 'response' /
 *     'request' (client.ts tells the deadline from the others);
 *   - gzip / deflate / br replies decoded, counted after decoding;
 *   - the request written at once: headers and body in one write;
 *   - the AbortSignal aborts the request (rejects with the signal's reason).
 * The body limits are the caller's (`onChunk` may throw to stop reading).
 */
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly event: 'socket' | 'response' | 'request',
    ms: number,
  ) {
    super(`Timeout awaiting '${event}' for ${ms}ms`);
  }
}

export interface WholeRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Keep-alive agents; the https one carries the connection's CA and certificate checking. */
  agents: { http: http.Agent; https: https.Agent };
  /** Idle limit (ms). */
  idleMs: number;
  /** The whole reply, body included (ms). */
  deadlineMs: number;
  /** Reads the (decoded) body; resolves with what the caller keeps. Throwing stops the request. */
  read(status: number, headers: http.IncomingHttpHeaders, body: Readable): Promise<Buffer>;
}

export interface WholeReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function requestWhole(req: WholeRequest): Promise<WholeReply> {
  return new Promise<WholeReply>((resolve, reject) => {
    if (req.signal?.aborted) return reject(req.signal.reason);
    const secure = req.url.protocol === 'https:';
    const headers: Record<string, string | number> = { ...req.headers };
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(req.body, 'utf8');
      headers['content-length'] = payload.length;
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      headers['content-length'] = 0;
    }
    const options: https.RequestOptions = {
      method: req.method,
      host: req.url.hostname.replace(/^\[|\]$/g, ''),
      port: req.url.port || (secure ? 443 : 80),
      path: req.url.pathname + req.url.search,
      headers,
      agent: secure ? req.agents.https : req.agents.http,
    };
    let settled = false;
    const done = (err: unknown, value?: WholeReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(head);
      req.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onAbort = () => done(req.signal!.reason ?? new Error('aborted'));
    const client = (secure ? https : http).request(options, (res) => {
      clearTimeout(head);
      const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
      const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
      let body: Readable = res;
      if (decoder) {
        body = decoder;
        pipeline(res, decoder, () => undefined);
      }
      res.on('error', (err) => done(err));
      req
        .read(res.statusCode ?? 0, res.headers, body)
        .then((buf) => done(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: buf }), (err) => done(err));
    });
    const deadline = setTimeout(() => done(new TimeoutError('request', req.deadlineMs)), req.deadlineMs);
    deadline.unref?.();
    const head = setTimeout(() => done(new TimeoutError('response', req.idleMs)), req.idleMs);
    head.unref?.();
    client.setTimeout(req.idleMs, () => done(new TimeoutError('socket', req.idleMs)));
    client.on('error', (err) => done(err));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    client.end(payload);
  });
}
