/**
 * The SCIM HTTP client every stage uses: one got instance per connection with
 * keep-alive sockets, SCIM media types, retries as data (./retry.ts), the
 * 401 → refresh token → retry once rule, and errors that never carry secrets.
 */
import http from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExtendOptions, Got, Response } from 'got';
import { loadGot } from './lazy-got.js';
import { ScimEtlError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { redact, safeUrl } from '../redact.js';
import type { ConnectionConfig } from '../config/types.js';
import { decideRetry, formatSeconds, retryMode, retryPolicy, type HttpMethod, type RetryPolicy } from './retry.js';
import { ScimHttpError, parseScimError, pathOnly, safeSnippet } from './errors.js';
import { AdaptiveLimit } from './adaptive-limit.js';
import { requestWhole } from './http-transport.js';
import { SPC_PATHS, defaultRoot, findRoot, type FoundRoot } from './root.js';
import { dialectOf, type Dialect } from './dialects/index.js';
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
  /** Relative to the SCIM root (client.base): 'Users', '/Users/abc', 'Bulk', 'ServiceProviderConfig'. */
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
  // The rest is always set by createScimClient; optional so that test doubles need not.
  /** Of the retries, waits the server asked for (429, 503 with Retry-After): they do not use up retry.limit. */
  throttled?: number;
  /** ms spent in those throttled waits. */
  throttledMs?: number;
  /** ms spent in all retry waits (throttled and backoff). */
  waitedMs?: number;
  /** Lowest concurrency limit the 429s brought the connection to (the configured one when none came). */
  lowestLimit?: number;
  /** Most requests in flight at once. */
  mostInFlight?: number;
}

/** The stats of a real client: every counter present. */
export type TransportStats = Required<ClientStats>;

export interface ScimClient {
  /** The SCIM root: '<server>/v2' until root discovery (ClientOptions.discoverRoot) found another. */
  readonly base: string;
  /** Non-2xx after retries → ScimHttpError; network failure → ERR_TRANSPORT_*; refused credentials → ERR_AUTH_REJECTED. */
  request<T = unknown>(req: ScimRequest): Promise<ScimResponse<T>>;
  /** As request, but the body is handed over as a stream once a 2xx status arrived (read as it arrives: the members scanner). */
  requestStream(req: ScimRequest): Promise<ScimStreamResponse>;
  readonly stats: ClientStats;
  /**
   * The ServiceProviderConfig body (singular, else plural path), read once per
   * client; with discoverRoot it is the reply root discovery already had.
   * Undefined when the server serves none. Refused credentials and transport
   * failures are thrown.
   */
  serviceProviderConfig?(signal?: AbortSignal): Promise<Record<string, unknown> | undefined>;
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
  /** Injectable clock for the retry budget (tests). */
  now?: () => number;
  /** Requests in flight at most (the adaptive limit starts here). Default: the socket pool size. */
  maxConcurrency?: number;
  /**
   * Find the SCIM root before the first request (candidates in ./root.ts);
   * the commands turn it on, the library default keeps '<server>/v2'.
   */
  discoverRoot?: boolean;
}

/** Defaults of the connection's bounds (the validator fills them from the pipeline). */
export const DEFAULT_REQUEST_DEADLINE_MS = 600_000;
export const DEFAULT_MAX_REPLY_BYTES = 256 * 1024 * 1024;

export const USER_AGENT = 'scim-etl/0.1';
const ACCEPT = 'application/scim+json, application/json';
/** What got sent by default, for the requests that bypass it (http-transport.ts). */
const WHOLE_DEFAULT_HEADERS: Record<string, string> = { accept: ACCEPT, 'user-agent': USER_AGENT, 'accept-encoding': 'gzip, deflate, br' };
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

/** `<server>/v2` from the configured server; tolerate a trailing slash or /v2 given anyway. */
export function scimBase(server: string): string {
  return defaultRoot(server);
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
  readonly stats: TransportStats = { requests: 0, retries: 0, throttled: 0, throttledMs: 0, waitedMs: 0, lowestLimit: 0, mostInFlight: 0 };
  private root: string;
  private readonly server: string;
  /** got, for streamed replies only; created on the first one (lazy-got.ts). */
  private http?: Promise<Got>;
  private readonly gotOptions: ExtendOptions;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly policy: RetryPolicy;
  private readonly logger: Logger;
  private readonly auth: AuthProvider;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly identifier: string;
  private readonly limit: AdaptiveLimit;
  private readonly maxReplyBytes: number;
  private readonly deadlineMs: number;
  private readonly discover: boolean;
  /** Idle limit of a request (connection.timeoutMs). */
  private readonly idleMs: number;
  /** Root discovery (or, without it, the SPC read), once per client. */
  private found?: Promise<FoundRoot>;
  /** The ServiceProviderConfig paths in the dialect's order. */
  private readonly spcPaths: Dialect['discoveryPaths'];

  constructor(conn: ConnectionConfig, opts: ClientOptions) {
    this.server = conn.server;
    this.root = scimBase(conn.server);
    this.identifier = conn.identifier;
    this.spcPaths = dialectOf(conn.scimSyntax).discoveryPaths;
    this.logger = opts.logger ?? silentLogger;
    this.auth = opts.auth ?? createAuth(conn, { logger: this.logger });
    this.sleep = opts.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.policy = retryPolicy(conn.retry);
    this.discover = opts.discoverRoot ?? false;
    this.maxReplyBytes = conn.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.deadlineMs = conn.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS;
    const tls = tlsOptions(conn);
    if (conn.insecure) {
      this.logger.emit('warn', 'tls.insecure', { connection: conn.identifier }, `connection ${conn.identifier}: TLS certificate verification is OFF (insecure: true). Anyone on the network path can read the credentials and data. Use only in a lab.`);
    }
    const maxSockets = opts.maxSockets ?? Math.max(opts.maxConcurrency ?? 1, conn.concurrency ?? 1, 10);
    this.limit = new AdaptiveLimit(Math.max(1, Math.floor(opts.maxConcurrency ?? maxSockets)), this.stats);
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets }),
      https: new https.Agent({ keepAlive: true, maxSockets, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized }),
    };
    const timeoutMs = conn.timeoutMs > 0 ? conn.timeoutMs : 60_000;
    this.idleMs = timeoutMs;
    this.gotOptions = {
      agent: this.agents,
      https: { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { certificateAuthority: tls.ca } : {}) },
      headers: { accept: ACCEPT, 'user-agent': USER_AGENT },
      // Idle limits, and one deadline for the whole reply, body included: a
      // slow drip must end too. Its default is long so a big streamed group still works.
      timeout: { lookup: timeoutMs, connect: timeoutMs, secureConnect: timeoutMs, socket: timeoutMs, response: timeoutMs, request: this.deadlineMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      decompress: true,
    };
  }

  get base(): string {
    return this.root;
  }

  async request<T = unknown>(req: ScimRequest): Promise<ScimResponse<T>> {
    await this.ready(req.signal);
    const cached = await this.cachedSpc(req);
    if (cached) return cached as ScimResponse<T>;
    return this.requestAt<T>(this.root, req);
  }

  async requestStream(req: ScimRequest): Promise<ScimStreamResponse> {
    await this.ready(req.signal);
    const { reply, attempts } = await this.run(this.root, req, true);
    return { status: reply.status, headers: reply.headers, body: reply.stream!, attempts };
  }

  async serviceProviderConfig(signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const f = await this.lookUp(signal);
    return f.reply ? structuredClone(f.reply.body) : undefined;
  }

  /** Root discovery (or, without it, the SPC at the fixed root), once; concurrent callers share it. */
  private async lookUp(signal?: AbortSignal): Promise<FoundRoot> {
    this.found ??= this.discover
      ? findRoot(this.server, (root, path) => this.requestAt(root, { path, signal }), { logger: this.logger, signal, paths: this.spcPaths }).then((f) => {
          this.root = f.root;
          return f;
        })
      : findRoot(this.root, (_root, path) => this.requestAt(this.root, { path, signal }), { logger: silentLogger, signal, paths: this.spcPaths }).then((f) => ({ ...f, root: this.root }));
    const found = this.found;
    try {
      return await found;
    } catch (err) {
      // An aborted search is not an answer: the next call searches again.
      if (signal?.aborted && this.found === found) this.found = undefined;
      throw err;
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** With discoverRoot, the first request waits for the root (concurrent first requests share the search). */
  private async ready(signal?: AbortSignal): Promise<void> {
    if (this.discover) await this.lookUp(signal);
  }

  /** A GET of the very ServiceProviderConfig path discovery read is answered from memory. */
  private async cachedSpc(req: ScimRequest): Promise<ScimResponse | undefined> {
    if (!this.found || (req.method ?? 'GET') !== 'GET' || Object.values(req.searchParams ?? {}).some((v) => v !== undefined)) return undefined;
    const path = req.path.replace(/^\/+|\/+$/g, '');
    if (!(SPC_PATHS as readonly string[]).includes(path)) return undefined;
    const f = await this.found.catch(() => undefined);
    if (!f?.reply || f.via !== path || f.root !== this.root) return undefined;
    return { status: f.reply.status, headers: f.reply.headers, body: structuredClone(f.reply.body), attempts: 1 };
  }

  private async requestAt<T>(root: string, req: ScimRequest): Promise<ScimResponse<T>> {
    const { reply, attempts } = await this.run(root, req, false);
    const method = req.method ?? 'GET';
    const body = reply.body;
    // The raw bytes are not needed once decoded: let them go before the parse holds the text and the value.
    reply.body = undefined;
    return { status: reply.status, headers: reply.headers, body: decodeBody(body, reply, method, req.path) as T, attempts };
  }

  /**
   * The attempt loop: send, then retry / refresh / fail by the policy.
   * Resolves only with a 2xx reply. Each attempt holds a slot of the adaptive
   * limit until its reply is read (a stream's: until its headers arrived).
   */
  private async run(root: string, req: ScimRequest, streaming: boolean): Promise<{ reply: Reply; attempts: number }> {
    const method = req.method ?? 'GET';
    const url = buildUrl(root, req.path, req.searchParams);
    const mode = retryMode(method, req.retry);
    const began = this.now();
    let attempts = 0;
    let retries = 0;
    let throttled = 0;
    let refreshed = false;
    const wait = async (decision: { delayMs: number; reason: string; throttled: boolean }) => {
      if (decision.throttled) {
        throttled++;
        this.stats.throttled++;
        this.stats.throttledMs += decision.delayMs;
      } else {
        retries++;
      }
      this.stats.waitedMs += decision.delayMs;
      const count = decision.throttled ? `throttled wait ${throttled}` : `retry ${retries}/${this.policy.limit}`;
      this.logger.emit('debug', 'http.retry', () => ({ method, url: safeUrl(pathOnly(url)), delayMs: decision.delayMs, reason: decision.reason, throttled: decision.throttled, attempt: attempts }), (f) => `retrying ${f.method} ${f.url} in ${f.delayMs}ms after ${f.reason} (${count})`);
      await this.sleep(decision.delayMs, req.signal);
    };
    for (;;) {
      if (attempts > 0) this.stats.retries++;
      attempts++;
      this.stats.requests++;
      const started = Date.now();
      let reply: Reply;
      const slot = await this.limit.acquire(req.signal);
      try {
        reply = await this.send(method, url, req, streaming);
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason ?? err;
        // Our own errors (the token endpoint refused, a reply too large, …) are final and already say what happened.
        if (err instanceof ScimEtlError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        const ms = Date.now() - started;
        // Lazy: built (URL masked) only when debug is on; this runs once per request.
        this.logger.emit('debug', 'http.request', () => ({ method, url: safeUrl(url), error: code ?? 'error', ms }), (f) => `${f.method} ${f.url} ${f.error} ${f.ms}ms`);
        const decision = decideRetry(this.policy, mode, { errorCode: code }, retries, this.progress(began, throttled));
        if (decision.retry) {
          await wait(decision);
          continue;
        }
        throw transportError(method, url, err, attempts, decision.reason, this.deadlineMs, decision.budgetSpent);
      } finally {
        slot.release();
      }
      const ms = Date.now() - started;
      this.logger.emit('debug', 'http.request', () => ({ method, url: safeUrl(url), status: reply.status, ms }), (f) => `${f.method} ${f.url} ${f.status} ${f.ms}ms`);
      if (reply.status === 429) this.limit.throttled(slot);
      if (reply.status >= 200 && reply.status < 300) {
        this.limit.succeeded();
        return { reply, attempts };
      }

      if (reply.status === 401) {
        if (this.auth.kind !== 'none' && !refreshed) {
          // A token may have expired or been revoked early: fetch a new one, try once more.
          refreshed = true;
          this.auth.invalidate(reply.authorization);
          continue;
        }
        throw this.authRejected(method, url, root, reply, attempts, refreshed);
      }
      const info = parseScimError(reply.body);
      const decision = decideRetry(
        this.policy,
        mode,
        { status: reply.status, retryAfter: reply.headers['retry-after'], scimType: info.scimType },
        retries,
        this.progress(began, throttled),
      );
      if (decision.retry) {
        await wait(decision);
        continue;
      }
      throw new ScimHttpError({ method, path: req.path }, reply.status, info, attempts, {
        code: decision.budgetSpent ? 'ERR_TRANSPORT_RETRY_BUDGET' : undefined,
        note: redirectNote(reply, url) ?? decision.reason,
        body: reply.body?.toString('utf8'),
        headers: reply.headers,
        context: decision.retryAfterMs !== undefined ? { retryAfterMs: decision.retryAfterMs } : {},
      });
    }
  }

  private progress(began: number, throttledSoFar: number) {
    return { random: this.random, now: this.now(), elapsedMs: this.now() - began, throttledSoFar };
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
    const what = { method, url, limit: this.maxReplyBytes };
    if (!streaming) {
      // A reply read whole: node:http directly (http-transport.ts), headers and body in one write.
      const r = await requestWhole({
        method,
        url: new URL(url),
        headers: { ...WHOLE_DEFAULT_HEADERS, ...headers },
        body,
        signal: req.signal,
        agents: this.agents,
        idleMs: this.idleMs,
        deadlineMs: this.deadlineMs,
        read: (status, h, stream) => (status >= 200 && status < 300 ? readWhole(stream, h, what) : readLimited(stream, MAX_ERROR_BODY)),
      });
      return { status: r.status, headers: r.headers, body: r.body, authorization };
    }
    this.http ??= loadGot().then((got) => got.extend(this.gotOptions));
    const stream = (await this.http).stream(url, { method, headers, body, signal: req.signal });
    // got's stream waits for a request body on every method but GET: an empty one, then.
    if (body === undefined && method !== 'GET') stream.end();
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
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    if (ok && streaming) return { status: res.statusCode, headers: res.headers, stream: guardBody(stream, what, this.deadlineMs), authorization };
    const replyBody = ok ? await readWhole(stream, res.headers, what) : await readLimited(stream, MAX_ERROR_BODY);
    return { status: res.statusCode, headers: res.headers, body: replyBody, authorization };
  }

  private authRejected(method: string, url: string, root: string, reply: Reply, attempts: number, refreshed: boolean): ScimEtlError {
    const host = new URL(url).host;
    const info = parseScimError(reply.body);
    const why =
      this.auth.kind === 'none'
        ? 'the server requires authentication but the connection has no credentials (set oAuthToken, login/password or applicationId/applicationKey)'
        : `credentials rejected by ${host} (HTTP 401 on ${method} ${pathOnly(url.slice(root.length + 1)) || '/'}${refreshed ? ', again after a fresh token' : ''})`;
    const detail = info.detail ? `: ${info.detail}` : '';
    return new ScimEtlError(
      'ERR_AUTH_REJECTED',
      redact(`connection ${this.identifier}: ${why}${detail}`),
      { identifier: this.identifier, host, status: 401, attempts, authKind: this.auth.kind },
      { category: 'auth' },
    );
  }
}

/** Redirects are not followed, so that credentials never go elsewhere: say where it points and what to do. */
function redirectNote(reply: Reply, url: string): string | undefined {
  const location = reply.headers.location;
  if (reply.status < 300 || reply.status >= 400 || !location) return undefined;
  let target: URL | undefined;
  try {
    target = new URL(String(location), url);
  } catch {
    target = undefined;
  }
  const where = target ? safeUrl(pathOnly(target.href)) : safeSnippet(String(location), 120);
  const elsewhere = target && target.host !== new URL(url).host ? ` on another host (${target.host})` : '';
  return `the server redirects to ${where}${elsewhere}: set connection.server to the final URL (redirects are not followed, so that credentials never go elsewhere)`;
}

interface BodyLimit {
  method: string;
  url: string;
  limit: number;
}

function tooLarge(what: BodyLimit, size: number, declared: boolean): ScimEtlError {
  return new ScimEtlError(
    'ERR_SCIM_REPLY_TOO_LARGE',
    `${what.method} ${safeUrl(pathOnly(what.url))}: the reply ${declared ? `declares ${size} bytes` : `passed ${size} bytes (decoded)`}, more than connection.maxReplyBytes (${what.limit}); raise it if the server really sends that much`,
    { method: what.method, url: safeUrl(pathOnly(what.url)), limit: what.limit, size },
    { category: 'server' },
  );
}

function deadlineError(method: string, url: string, deadlineMs: number, cause: unknown, attempts?: number): ScimEtlError {
  return new ScimEtlError(
    'ERR_TRANSPORT_DEADLINE',
    `${method} ${safeUrl(pathOnly(url))}: the reply did not complete within connection.requestDeadline (${formatSeconds(deadlineMs)})${attempts && attempts > 1 ? ` [${attempts} attempts]` : ''}`,
    { method, url: safeUrl(pathOnly(url)), deadlineMs, ...(attempts ? { attempts } : {}) },
    { cause, category: 'transport' },
  );
}

/** got's whole-request timeout (as opposed to an idle one). */
function isDeadline(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'TimeoutError' && (err as { event?: string }).event === 'request';
}

/**
 * A 2xx body, whole, counted as it is decoded (a gzip bomb stops at the
 * limit). When the length is declared and not encoded, one buffer of that
 * size is filled in place, so the body is never held twice.
 */
async function readWhole(stream: Readable, headers: Headers, what: BodyLimit): Promise<Buffer> {
  const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
  const declared = encoding === 'identity' && headers['content-length'] !== undefined ? Number(headers['content-length']) : NaN;
  if (declared > what.limit) {
    stream.destroy();
    throw tooLarge(what, declared, true);
  }
  let fixed = Number.isSafeInteger(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (size + b.length > what.limit) throw tooLarge(what, size + b.length, false);
      if (fixed && size + b.length <= fixed.length) b.copy(fixed, size);
      else {
        if (fixed) chunks.push(fixed.subarray(0, size));
        fixed = undefined;
        chunks.push(b);
      }
      size += b.length;
    }
  } finally {
    stream.destroy();
  }
  if (fixed) return size === fixed.length ? fixed : fixed.subarray(0, size);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/**
 * A streamed 2xx body as handed to the consumer: bytes counted as they pass
 * (ERR_SCIM_REPLY_TOO_LARGE past the limit), the deadline as a coded error.
 * Other errors pass unchanged (callers may ask a cut reply again).
 * Backpressure flows through; destroying it closes the request.
 */
function guardBody(source: Readable, what: BodyLimit, deadlineMs: number): Readable {
  let size = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > what.limit) cb(tooLarge(what, size, false));
      else cb(null, chunk);
    },
  });
  source.on('error', (err) => out.destroy(isDeadline(err) ? deadlineError(what.method, what.url, deadlineMs, err) : err));
  out.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  return out;
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
function decodeBody(buf: Buffer | undefined, reply: Reply, method: string, path: string): unknown {
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

function transportError(method: string, url: string, err: unknown, attempts: number, note: string | undefined, deadlineMs: number, budgetSpent?: boolean): ScimEtlError {
  if (isDeadline(err) && !budgetSpent) return deadlineError(method, url, deadlineMs, err, attempts);
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
    budgetSpent ? 'ERR_TRANSPORT_RETRY_BUDGET' : timeout ? 'ERR_TRANSPORT_TIMEOUT' : tls ? 'ERR_TRANSPORT_TLS' : 'ERR_TRANSPORT_NETWORK',
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
