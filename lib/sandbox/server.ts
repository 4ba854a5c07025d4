/**
 * The HTTP side: routing under /v2, authentication, faults, request log.
 * Everything SCIM-specific is in the modules it calls.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ScimHttpError, errorBody, notFound, badRequest } from './scim-error.js';
import type { ErrorStyle } from './dialects.js';
import { sendReply, jsonReply, type Reply, type Mangle } from './reply.js';
import { listResources, type ListParams } from './list.js';
import { ResourceOps } from './resources.js';
import { runBulk } from './bulk.js';
import { parseProjection } from './project.js';
import { serviceProviderConfig, resourceTypes, schemas, listOf } from './discovery.js';
import { FaultInjector, type FiredFault } from './faults.js';
import type { SandboxStore, ResourceType, Entry } from './store.js';
import type { NormalizedOptions } from './options.js';
import type { FaultSpec, RequestLogEntry } from './types.js';
import type { TokenIssuer } from './oauth.js';
import type { RateLimiter } from './rate-limit.js';

const LOG_CAP = 10_000;

export interface ServerState {
  store: SandboxStore;
  o: NormalizedOptions;
  faults: FaultInjector;
  requests: RequestLogEntry[];
  counts: Map<string, number>;
  /** Resolves once the data is loaded; requests wait for it. */
  ready: Promise<void>;
  issuer?: TokenIssuer;
  limiter?: RateLimiter;
}

interface Parsed {
  method: string;
  path: string;
  /** The path below the SCIM root ('' is the root, '/Users/x'), undefined outside it. */
  rel: string | undefined;
  query: URLSearchParams;
  /** "METHOD /v2/Users" with ids collapsed, for the per-route counter. */
  routeKey: string;
}

/** Where the SCIM endpoints are: /v2, the rootPath quirk's path, or (CyberArk) /v2, /scim, /scim/v2 and / alike. */
function belowRoot(path: string, o: NormalizedOptions): string | undefined {
  if (o.quirks.rootPath !== undefined || !o.profile.pathsWithoutV2) {
    return path === o.rootPath || path.startsWith(o.rootPath + '/') ? path.slice(o.rootPath.length) : undefined;
  }
  return path.replace(/^\/scim(?=\/|$)/i, '').replace(/^\/v2(?=\/|$)/i, '');
}

export function createSandboxServer(state: ServerState): Server {
  const ops = new ResourceOps(state.store, state.o);
  const server = createServer((req, res) => {
    void handle(state, ops, req, res);
  });
  // Keep-alive sockets must not hold stop() up.
  server.keepAliveTimeout = 5_000;
  return server;
}

async function handle(state: ServerState, ops: ResourceOps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const method = (req.method ?? 'GET').toUpperCase();
  // The token endpoint has its own authentication; faults still apply to it.
  const oauth = state.issuer !== undefined && (url.pathname === '/oauth2/token' || url.pathname.startsWith('/oauth2/token/') || url.pathname === '/.well-known/oauth-authorization-server');
  const rel = oauth ? undefined : belowRoot(url.pathname, state.o);
  const routeKey = `${method} ${rel === undefined ? url.pathname : state.o.rootPath + rel.replace(/^(\/[^/]+)\/.+$/, '$1/{id}')}`;
  const p: Parsed = { method, path: url.pathname, rel, query: url.searchParams, routeKey };
  let fault: RequestLogEntry['fault'];
  let status = 500;
  /** The request body, for the log's Bulk operation count. */
  let logged: unknown;
  try {
    await state.ready;
    let bearer: string | undefined;
    let body: unknown;
    if (!oauth) {
      bearer = authenticate(state, req);
      const wait = state.limiter?.take(method, p.path);
      if (wait !== undefined) {
        fault = '429';
        throw new ScimHttpError(429, `rate limit exceeded: retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });
      }
      const maxBody = /\/bulk$/i.test(p.path) ? state.o.bulk.maxPayloadSize : state.o.maxBodySize;
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') logged = body = await readJson(req, maxBody);
    }
    const fired = state.faults.size ? state.faults.fire(`${method} ${p.path}`, (spec) => applies(state.store, spec, p, body, oauth)) : [];
    let mangle: Mangle;
    for (const f of fired) {
      fault = f.spec.kind;
      if (f.spec.kind === 'slow') await delay(f.spec.delayMs ?? 1000);
      else if (f.spec.kind === 'expireToken') {
        // An issued token is revoked for good: the client must get a new one.
        if (bearer && state.issuer) state.issuer.revoke(bearer);
        throw new ScimHttpError(401, 'the access token has expired', undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      } else if (f.spec.kind === '429' || f.spec.kind === '503') throw throttle(f);
      else if (f.spec.kind === '500') throw new ScimHttpError(500, 'injected server error');
      else if (f.spec.kind === 'reset' || f.spec.kind === 'truncate') mangle = f.spec.kind;
    }
    if (oauth) {
      const reply = await oauthRoute(state.issuer!, state.store.baseUrl, p, req);
      status = reply.status;
      return await sendReply(res, reply, mangle);
    }
    const reply = route(state, ops, p, req, body, fired);
    status = reply.status;
    await sendReply(res, reply, mangle);
  } catch (err) {
    let e = err instanceof ScimHttpError ? err : new ScimHttpError(500, `internal error: ${(err as Error)?.message ?? String(err)}`);
    // scim2-server: the client's mistake answered as the server's, scimType kept.
    if (state.o.quirks.clientErrorAs500 && e.status === 400) e = new ScimHttpError(500, e.detail, e.scimType, e.headers);
    status = e.status;
    if (e.status >= 500 && !(err instanceof ScimHttpError)) state.o.logger.error(`sandbox: ${method} ${p.path} failed`, { error: (err as Error)?.message });
    if (!res.headersSent) await sendReply(res, jsonReply(e.status, errorBodyFor(state.o.profile.errorStyle, e), e.headers));
    else res.destroy();
  } finally {
    const ops = bulkOperationCount(p.path, logged);
    const ifMatch = header(req, 'if-match');
    record(state, { method, path: p.path, query: url.search.slice(1), status, ...(fault ? { fault } : {}), ...(ops !== undefined ? { operations: ops } : {}), ...(ifMatch !== undefined ? { ifMatch } : {}) }, p.routeKey);
  }
}

function errorBodyFor(style: ErrorStyle, e: ScimHttpError): Record<string, unknown> {
  if (style === 'slack') return { Errors: { description: e.detail, code: e.status } };
  const b = errorBody(e.status, e.detail, e.scimType);
  if (style === 'rfc-numeric') b.status = e.status;
  return b;
}

/** Paging faults only touch list requests; repeat/shift only pages after the first. */
function applies(store: SandboxStore, spec: FaultSpec, p: Parsed, body: unknown, oauth: boolean): boolean {
  const k = spec.kind;
  if (oauth && k === 'expireToken') return false;
  if (k !== 'ignoreCount' && k !== 'capCount' && k !== 'repeatPage' && k !== 'shiftItems') return true;
  const rel = p.rel ?? '';
  const isList = (p.method === 'GET' && /^\/[^/]+\/?$/.test(rel) && store.typeOf(rel.split('/')[1]!) !== undefined) || (p.method === 'POST' && /\/\.search$/i.test(rel));
  if (!isList) return false;
  if (k === 'ignoreCount' || k === 'capCount') return true;
  const start = Number(p.method === 'GET' ? p.query.get('startIndex') : (body as ListParams | undefined)?.startIndex);
  return Number.isFinite(start) && start > 1;
}

function throttle(f: FiredFault): ScimHttpError {
  const secs = f.spec.retryAfter === 'date' ? (f.spec.retryAfterSeconds ?? 1) : (f.spec.retryAfter ?? 1);
  const value = f.spec.retryAfter === 'date' ? new Date(Date.now() + secs * 1000).toUTCString() : String(secs);
  const status = Number(f.spec.kind);
  return new ScimHttpError(status, status === 429 ? 'too many requests: slow down' : 'service unavailable: try later', undefined, { 'Retry-After': value });
}

function route(state: ServerState, ops: ResourceOps, p: Parsed, req: IncomingMessage, body: unknown, fired: FiredFault[]): Reply {
  const { o, store } = state;
  const m = p.rel === undefined ? null : /^(?:\/([^/]+))?(?:\/([^/]+))?\/?$/.exec(p.rel);
  if (!m) throw notFound(`no such endpoint ${p.path}: the SCIM API is under ${o.rootPath}`);
  const [, first, second] = m;
  const seg = (first ?? '').toLowerCase();
  const id = second === undefined ? undefined : decodeSegment(second);
  const ifMatch = header(req, 'if-match');

  const type: ResourceType | undefined = first === undefined ? undefined : store.typeOf(first);
  if (type !== undefined) {
    if (id === '.search') {
      if (p.method !== 'POST') throw methodNotAllowed(p);
      return listResources(store, [type], searchParams(body), o, fired);
    }
    if (type === 'Groups' && o.profile.groupsPatchOnly && p.method !== 'GET' && p.method !== 'PATCH' && id !== '.search') {
      throw new ScimHttpError(405, `${o.profile.name}: groups can only be read and patched`);
    }
    if (!store.writable(type) && p.method !== 'GET') throw new ScimHttpError(405, `${type} are read-only in the sandbox`);
    if (id === undefined) {
      if (p.method === 'GET') return listResources(store, [type], queryParams(p.query), o, fired);
      if (p.method === 'POST') {
        const e = ops.create(type, body);
        if (o.quirks.createWithoutId && type === 'Users' && String(e.res.userName).includes('(')) return createdWithoutId(store, e, o.etag);
        return ops.reply(e, 201);
      }
      throw methodNotAllowed(p);
    }
    switch (p.method) {
      case 'GET': {
        const e = store.mustGet(type, id);
        const inm = header(req, 'if-none-match');
        if (o.etag && inm && inm.split(',').map((t) => t.trim()).includes(store.etagOf(e))) return { status: 304, headers: { ETag: store.etagOf(e) } };
        return ops.reply(e, 200, parseProjection(p.query.get('attributes') ?? undefined, p.query.get('excludedAttributes') ?? undefined, o.quirks));
      }
      case 'PUT':
        return ops.reply(ops.replace(type, id, body, ifMatch), 200);
      case 'PATCH':
        return ops.reply(ops.patch(type, id, body, ifMatch), 200, parseProjection(p.query.get('attributes') ?? undefined, p.query.get('excludedAttributes') ?? undefined, o.quirks));
      case 'DELETE':
        ops.delete(type, id, ifMatch);
        return { status: 204 };
      default:
        throw methodNotAllowed(p);
    }
  }
  if (seg === '.search' && id === undefined) {
    if (p.method !== 'POST') throw methodNotAllowed(p);
    return listResources(store, store.types(), searchParams(body), o, fired);
  }
  if (seg === 'bulk' && id === undefined) {
    if (p.method !== 'POST') throw methodNotAllowed(p);
    if (!o.bulk.supported) throw new ScimHttpError(501, 'Bulk is not supported by this server');
    return jsonReply(200, runBulk(body, ops, o));
  }
  const root = store.root;
  if (p.method !== 'GET') throw methodNotAllowed(p);
  if (o.profile.serviceProviderConfigPaths.some((s) => s.toLowerCase() === seg) && id === undefined) return jsonReply(200, serviceProviderConfig(o, root));
  if (seg === 'resourcetypes') {
    const all = resourceTypes(o, root, extraTypes(store));
    if (id === undefined) return jsonReply(200, listOf(all));
    const one = all.find((r) => String(r.id).toLowerCase() === id.toLowerCase());
    if (!one) throw notFound(`no resource type ${id}`);
    return jsonReply(200, one);
  }
  if (seg === 'schemas') {
    const all = schemas(o, root);
    if (id === undefined) return jsonReply(200, listOf(all));
    const one = all.find((r) => String(r.id).toLowerCase() === id.toLowerCase());
    if (!one) throw notFound(`no schema ${id}`);
    return jsonReply(200, one);
  }
  if (seg === 'me') throw new ScimHttpError(501, '/Me is not supported by this server');
  throw notFound(`no such endpoint ${p.path}`);
}

/** scimgateway: 201 for a user whose userName has a "(", but no id in the body and Location …/Users/undefined. */
function createdWithoutId(store: SandboxStore, e: Entry, etag: boolean): Reply {
  const { id: _id, meta, ...rest } = store.materialize(e);
  const location = `${store.root}/Users/undefined`;
  return jsonReply(201, { ...rest, meta: { ...meta, location } }, { Location: location, ...(etag ? { ETag: store.etagOf(e) } : {}) });
}

/** Types beyond Users and Groups (data file, dialect), described for /ResourceTypes from their first resource. */
function extraTypes(store: SandboxStore): Array<{ endpoint: string; name: string; schema: string }> {
  return store
    .types()
    .filter((t) => t !== 'Users' && t !== 'Groups')
    .map((t) => {
      const first = store.list(t)[0]?.res;
      const schema = Array.isArray(first?.schemas) && typeof first.schemas[0] === 'string' ? first.schemas[0] : `urn:ietf:params:scim:schemas:sandbox:2.0:${store.typeName(t)}`;
      return { endpoint: t, name: store.typeName(t), schema };
    });
}

function queryParams(q: URLSearchParams): ListParams {
  const out: ListParams = {};
  // Parameter names are case-insensitive in practice (startindex, Count…).
  for (const [k, v] of q) {
    const name = (['filter', 'startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes', 'cursor'] as const).find((n) => n.toLowerCase() === k.toLowerCase());
    if (name) out[name] = v;
  }
  return out;
}

function searchParams(body: unknown): ListParams {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('a SearchRequest must be a JSON object', 'invalidSyntax');
  return pickSearch(body as Record<string, unknown>);
}

function pickSearch(b: Record<string, unknown>): ListParams {
  const out: Record<string, unknown> = {};
  for (const name of ['filter', 'startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes', 'cursor']) {
    const k = Object.keys(b).find((x) => x.toLowerCase() === name.toLowerCase());
    if (k !== undefined) out[name] = b[k];
  }
  return out as ListParams;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw notFound(`no resource '${s}' (malformed percent-encoding)`);
  }
}

function methodNotAllowed(p: Parsed): ScimHttpError {
  return new ScimHttpError(405, `${p.method} is not allowed on ${p.path}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function oauthRoute(issuer: TokenIssuer, base: string, p: Parsed, req: IncomingMessage): Promise<Reply> {
  if (p.path.startsWith('/.well-known')) {
    if (p.method !== 'GET') throw methodNotAllowed(p);
    return issuer.metadata(base);
  }
  if (p.method !== 'POST') throw methodNotAllowed(p);
  const rest = p.path.slice('/oauth2/token'.length);
  return issuer.token(req, await readText(req, 64 * 1024), rest ? decodeSegment(rest.slice(1)) : undefined);
}

/** Bearer (static or issued) and/or Basic as configured; nothing configured means an open server. Returns the bearer token used. */
function authenticate(state: ServerState, req: IncomingMessage): string | undefined {
  const o = state.o;
  if (o.token === undefined && !o.basic && !state.issuer) return undefined;
  const auth = header(req, 'authorization') ?? '';
  const space = auth.indexOf(' ');
  const scheme = (space < 0 ? auth : auth.slice(0, space)).toLowerCase();
  const cred = space < 0 ? '' : auth.slice(space + 1).trim();
  if (scheme === 'bearer' && o.token !== undefined && safeEqual(cred, o.token)) return cred;
  if (scheme === 'bearer' && state.issuer?.accepts(cred)) return cred;
  if (scheme === 'basic' && o.basic && !o.profile.bearerOnly) {
    const decoded = Buffer.from(cred, 'base64').toString('utf8');
    if (safeEqual(decoded, `${o.basic.login}:${o.basic.password}`)) return undefined;
  }
  const challenges = [o.token !== undefined || state.issuer ? 'Bearer realm="scim-etl sandbox"' : '', o.basic ? 'Basic realm="scim-etl sandbox"' : ''].filter(Boolean).join(', ');
  throw new ScimHttpError(401, auth ? 'invalid credentials' : 'authentication required', undefined, { 'WWW-Authenticate': challenges });
}

/** Reads a JSON body up to `limit` bytes: 413 above it, 400 invalidSyntax on bad JSON. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readText(req, limit);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body is not valid JSON: ${(err as Error).message}`, 'invalidSyntax');
  }
}

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else parts.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (over) return reject(new ScimHttpError(413, `the request body (${size} bytes) exceeds the limit of ${limit} bytes`, 'tooLarge'));
      resolve(Buffer.concat(parts).toString('utf8'));
    });
  });
}

/** Operations in a /Bulk request body (what tests check batch sizes with). */
function bulkOperationCount(path: string, body: unknown): number | undefined {
  if (!/\/bulk$/i.test(path) || body === null || typeof body !== 'object') return undefined;
  const ops = (body as { Operations?: unknown }).Operations;
  return Array.isArray(ops) ? ops.length : undefined;
}

function record(state: ServerState, entry: RequestLogEntry, routeKey: string): void {
  state.requests.push(entry);
  if (state.requests.length > LOG_CAP) state.requests.splice(0, state.requests.length - LOG_CAP / 2);
  state.counts.set(routeKey, (state.counts.get(routeKey) ?? 0) + 1);
  const { logger } = state.o;
  if (logger.enabled('debug')) logger.debug(`${entry.method} ${entry.path}${entry.query ? '?' + entry.query : ''} ${entry.status}${entry.fault ? ` (fault ${entry.fault})` : ''}`);
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
