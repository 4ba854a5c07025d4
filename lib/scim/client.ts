/**
 * The SCIM HTTP client every stage uses: one got instance per connection with
 * keep-alive sockets, SCIM media types, retries as data (./retry.ts), the
 * 401 → refresh token → retry once rule, and errors that never carry secrets.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import got, { type Got, type Response } from 'got';
import { ScimEtlError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { redact, safeUrl } from '../redact.js';
import type { ConnectionConfig } from '../config/types.js';
import { decideRetry, retryMode, retryPolicy, type HttpMethod, type RetryPolicy } from './retry.js';
import { ScimHttpError, parseScimError, pathOnly, safeSnippet } from './errors.js';
import type { AuthProvider } from './auth/types.js';
import { createAuth } from './auth/index.js';
import { tlsOptions } from './auth/tls.js';

export { ScimHttpError, isScimHttpError, parseScimError } from './errors.js';
export type { AuthProvider } from './auth/types.js';
export { createAuth, noAuth } from './auth/index.js';

export type Headers = Record<string, string | string[] | undefined>;

export interface ScimRequest {
  /** Default GET. */
  method?: HttpMethod;
  /** Relative to <server>/v2: 'Users', '/Users/abc', 'Bulk', 'ServiceProviderConfig'. */
  path: string;
  /** Encoded with encodeURIComponent (spaces as %20, quotes as %22); undefined values are left out. */
  searchParams?: Record<string, string | number | undefined>;
  /** Body, sent as application/scim+json. */
  json?: unknown;
  /** Extra headers, e.g. If-Match; they override the defaults. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Default: on for GET/PUT/PATCH/DELETE; a POST only when the server proved it did nothing (429/503, connection refused). true = retry as idempotent; false = never. */
  retry?: boolean;
}

export interface ScimResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined for an empty body (204); the text for a non-JSON reply. */
  body: T;
  /** HTTP attempts made for this request (1 = no retry). */
  attempts: number;
}

export interface ScimStreamResponse {
  status: number;
  headers: Headers;
  /** The raw body (decompressed); errors mid-body surface as 'error' on this stream. */
  body: NodeJS.ReadableStream;
  attempts: number;
}

export interface ClientStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Of those, repeats of a failed attempt (backoff, Retry-After, or the 401 refresh). */
  retries: number;
}

export interface ScimClient {
  /** '<server>/v2' */
  readonly base: string;
  /** Non-2xx after retries → ScimHttpError; network failure → ERR_TRANSPORT_*; refused credentials → ERR_AUTH_REJECTED. */
  request<T = unknown>(req: ScimRequest): Promise<ScimResponse<T>>;
  /** As request, but the body is handed over as a stream once a 2xx status arrived (for stream-json). */
  requestStream(req: ScimRequest): Promise<ScimStreamResponse>;
  readonly stats: ClientStats;
  /** Destroys the keep-alive agents. */
  close(): void;
}

export interface ClientOptions {
  logger?: Logger;
  /** Default: createAuth(conn), chosen from the connection's credentials. Pass `noAuth` for none. */
  auth?: AuthProvider;
  /** Injectable clock for retry waits (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Keep-alive pool size per protocol. Default: max(connection.concurrency, 10). */
  maxSockets?: number;
  /** Injectable randomness for the backoff jitter (tests). */
  random?: () => number;
}

export const USER_AGENT = 'scim-etl/0.1';
const ACCEPT = 'application/scim+json, application/json';
/** Enough of an error body to read its SCIM error; the rest is drained. */
const MAX_ERROR_BODY = 64 * 1024;

/** Build the full URL: base + path + query encoded the way SCIM servers read it. */
export function buildUrl(base: string, path: string, searchParams?: ScimRequest['searchParams']): string {
  const rel = path.replace(/^\/+/, '');
  let url = rel === '' ? base : `${base}/${rel}`;
  const query = Object.entries(searchParams ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  if (query) url += (url.includes('?') ? '&' : '?') + query;
  return url;
}

/** `<server>/v2` from the configured server (which excludes /v2); tolerate a trailing slash or /v2 given anyway. */
export function scimBase(server: string): string {
  let s = server.trim().replace(/\/+$/, '');
  if (/\/v2$/i.test(s)) s = s.slice(0, -3);
  return `${s}/v2`;
}

interface Reply {
  status: number;
  /** The Authorization header this attempt carried (to invalidate exactly that token on a 401). */
  authorization?: string;
  headers: Headers;
  /** Complete body (request(), or any non-2xx reply). */
  body?: Buffer;
  /** Streaming body (requestStream() with a 2xx status). */
  stream?: Readable;
}

class GotScimClient implements ScimClient {
  readonly base: string;
  readonly stats: ClientStats = { requests: 0, retries: 0 };
  private readonly http: Got;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly policy: RetryPolicy;
  private readonly logger: Logger;
  private readonly auth: AuthProvider;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly identifier: string;

  constructor(conn: ConnectionConfig, opts: ClientOptions) {
    this.base = scimBase(conn.server);
    this.identifier = conn.identifier;
    this.logger = opts.logger ?? silentLogger;
    this.auth = opts.auth ?? createAuth(conn, { logger: this.logger });
    this.sleep = opts.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.random = opts.random ?? Math.random;
    this.policy = retryPolicy(conn.retry);
    const tls = tlsOptions(conn);
    if (conn.insecure) {
      this.logger.warn(`connection ${conn.identifier}: TLS certificate verification is OFF (insecure: true). Anyone on the network path can read the credentials and data. Use only in a lab.`);
    }
    const maxSockets = opts.maxSockets ?? Math.max(conn.concurrency ?? 1, 10);
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets }),
      https: new https.Agent({ keepAlive: true, maxSockets, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized }),
    };
    const timeoutMs = conn.timeoutMs > 0 ? conn.timeoutMs : 60_000;
    this.http = got.extend({
      agent: this.agents,
      https: { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { certificateAuthority: tls.ca } : {}) },
      headers: { accept: ACCEPT, 'user-agent': USER_AGENT },
      // Idle limits, not a whole-request limit: a big streamed group may take minutes.
      timeout: { lookup: timeoutMs, connect: timeoutMs, secureConnect: timeoutMs, socket: timeoutMs, response: timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      decompress: true,
    });
  }

  async request<T = unknown>(req: ScimRequest): Promise<ScimResponse<T>> {
    const { reply, attempts } = await this.run(req, false);
    const method = req.method ?? 'GET';
    return { status: reply.status, headers: reply.headers, body: decodeBody(reply, method, req.path) as T, attempts };
  }

  async requestStream(req: ScimRequest): Promise<ScimStreamResponse> {
    const { reply, attempts } = await this.run(req, true);
    return { status: reply.status, headers: reply.headers, body: reply.stream!, attempts };
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** The attempt loop: send, then retry / refresh / fail by the policy. Resolves only with a 2xx reply. */
  private async run(req: ScimRequest, streaming: boolean): Promise<{ reply: Reply; attempts: number }> {
    const method = req.method ?? 'GET';
    const url = buildUrl(this.base, req.path, req.searchParams);
    const mode = retryMode(method, req.retry);
    let attempts = 0;
    let retries = 0;
    let refreshed = false;
    for (;;) {
      if (attempts > 0) this.stats.retries++;
      attempts++;
      this.stats.requests++;
      const started = Date.now();
      let reply: Reply;
      try {
        reply = await this.send(method, url, req, streaming);
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason ?? err;
        // Our own errors (the token endpoint refused, …) are final and already say what happened.
        if (err instanceof ScimEtlError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        this.logger.debug(`${method} ${safeUrl(url)} ${code ?? 'error'} ${Date.now() - started}ms`);
        const decision = decideRetry(this.policy, mode, { errorCode: code }, retries, { random: this.random });
        if (decision.retry) {
          retries++;
          this.logger.debug(`retrying ${method} ${safeUrl(pathOnly(url))} in ${decision.delayMs}ms after ${decision.reason} (retry ${retries}/${this.policy.limit})`);
          await this.sleep(decision.delayMs, req.signal);
          continue;
        }
        throw transportError(method, url, err, attempts, decision.reason);
      }
      this.logger.debug(`${method} ${safeUrl(url)} ${reply.status} ${Date.now() - started}ms`);
      if (reply.status >= 200 && reply.status < 300) return { reply, attempts };

      if (reply.status === 401) {
        if (this.auth.kind !== 'none' && !refreshed) {
          // A token may have expired or been revoked early: fetch a new one, try once more.
          refreshed = true;
          this.auth.invalidate(reply.authorization);
          continue;
        }
        throw this.authRejected(method, url, reply, attempts, refreshed);
      }
      const decision = decideRetry(
        this.policy,
        mode,
        { status: reply.status, retryAfter: reply.headers['retry-after'] },
        retries,
        { random: this.random },
      );
      if (decision.retry) {
        retries++;
        this.logger.debug(`retrying ${method} ${safeUrl(pathOnly(url))} in ${decision.delayMs}ms after ${decision.reason} (retry ${retries}/${this.policy.limit})`);
        await this.sleep(decision.delayMs, req.signal);
        continue;
      }
      const location = reply.headers.location;
      const redirected = reply.status >= 300 && reply.status < 400 && location
        ? `the server redirects to ${safeUrl(pathOnly(String(location)))}: set connection.server to the final URL (redirects are not followed, so that credentials never go elsewhere)`
        : undefined;
      throw new ScimHttpError({ method, path: req.path }, reply.status, parseScimError(reply.body), attempts, {
        note: redirected ?? decision.reason,
        body: reply.body?.toString('utf8'),
        headers: reply.headers,
        context: decision.retryAfterMs !== undefined ? { retryAfterMs: decision.retryAfterMs } : {},
      });
    }
  }

  private async send(method: HttpMethod, url: string, req: ScimRequest, streaming: boolean): Promise<Reply> {
    const headers: Record<string, string> = {};
    const authorization = await this.auth.header(req.signal);
    if (authorization) headers.authorization = authorization;
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/scim+json';
    }
    Object.assign(headers, lowerKeys(req.headers));
    const options = { method, headers, body, signal: req.signal };

    if (!streaming) {
      const res = (await this.http(url, { ...options, responseType: 'buffer' })) as Response<Buffer>;
      return { status: res.statusCode, headers: res.headers, body: res.body, authorization };
    }
    const stream = this.http.stream(url, options);
    // A listener so that an error before the consumer attaches does not crash
    // the process; pipeline()/for-await still receive it.
    stream.on('error', () => {});
    // got removes its abort listener from the signal only when the stream is
    // destroyed, which a body read to the end is not: without this, one
    // listener (and the body it holds) per request piles up on a long export's signal.
    stream.once('end', () => stream.destroy());
    const res = await new Promise<Response>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, stream, authorization };
    return { status: res.statusCode, headers: res.headers, body: await readLimited(stream, MAX_ERROR_BODY), authorization };
  }

  private authRejected(method: string, url: string, reply: Reply, attempts: number, refreshed: boolean): ScimEtlError {
    const host = new URL(url).host;
    const info = parseScimError(reply.body);
    const why =
      this.auth.kind === 'none'
        ? 'the server requires authentication but the connection has no credentials (set oAuthToken, login/password or applicationId/applicationKey)'
        : `credentials rejected by ${host} (HTTP 401 on ${method} ${pathOnly(url.slice(this.base.length + 1)) || '/'}${refreshed ? ', again after a fresh token' : ''})`;
    const detail = info.detail ? `: ${info.detail}` : '';
    return new ScimEtlError(
      'ERR_AUTH_REJECTED',
      redact(`connection ${this.identifier}: ${why}${detail}`),
      { identifier: this.identifier, host, status: 401, attempts, authKind: this.auth.kind },
      { category: 'auth' },
    );
  }
}

function lowerKeys(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}

async function readLimited(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (size < max) chunks.push(b.subarray(0, max - size));
      size += b.length;
      if (size >= max) break;
    }
  } catch {
    // A body cut short still tells us the status; keep what arrived.
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

/** JSON when it looks like JSON (scim+json, json, or a body starting with { or [), else the text. */
function decodeBody(reply: Reply, method: string, path: string): unknown {
  const buf = reply.body;
  if (!buf || buf.length === 0) return undefined;
  const text = buf.toString('utf8');
  const type = String(reply.headers['content-type'] ?? '').toLowerCase();
  const trimmed = text.trimStart();
  const looksJson = type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[');
  if (!looksJson) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ScimEtlError(
      'ERR_SCIM_BAD_JSON',
      `${method} ${pathOnly(path.replace(/^\/+/, ''))}: the server's reply is not valid JSON (${(err as Error).message}): ${safeSnippet(text, 120)}`,
      { method, path: pathOnly(path), status: reply.status },
      { cause: err },
    );
  }
}

function transportError(method: string, url: string, err: unknown, attempts: number, note?: string): ScimEtlError {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERR_NETWORK';
  const timeout = code === 'ETIMEDOUT' || (err as Error).name === 'TimeoutError';
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO/.test(code);
  let hint = '';
  if (tls) hint = ' (TLS: the server certificate is not trusted; set connection.ca to its CA bundle)';
  else if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') hint = ' (check connection.server)';
  const message = redact(
    `${method} ${safeUrl(pathOnly(url))} failed: ${code} ${(err as Error).message ?? ''}${hint}${attempts > 1 ? ` [${attempts} attempts]` : ''}${note ? `; ${note}` : ''}`,
  );
  return new ScimEtlError(
    timeout ? 'ERR_TRANSPORT_TIMEOUT' : tls ? 'ERR_TRANSPORT_TLS' : 'ERR_TRANSPORT_NETWORK',
    message,
    { method, url: safeUrl(pathOnly(url)), errorCode: code, attempts },
    { cause: err, category: 'transport' },
  );
}

/**
 * A client for one connection; authentication is chosen from the connection's
 * credentials unless `opts.auth` is given. Call after resolveConnectionSecrets().
 */
export function createScimClient(conn: ConnectionConfig, opts: ClientOptions = {}): ScimClient {
  return new GotScimClient(conn, opts);
}
