/**
 * A small in-memory SCIM server over startHttp, with the quirks real servers
 * were found to have (scimgateway, SCIMServer, better-auth) switchable one by
 * one. Only what fulfill needs: POST/GET/PATCH/DELETE of Users, PATCH of
 * Groups' members, POST /Bulk, `eq` filters joined by `or`. Discovery is not
 * served (404): fulfill then assumes PATCH and the built-in schemas.
 */
import type http from 'node:http';
import { listResponse, sendJson, startHttp, type SeenRequest, type TestServer } from '../helpers/http-server.js';

type Json = Record<string, any>;
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Quirks {
  /** Answers a request instead of the server (also inside Bulk); undefined: as usual. */
  override?: (method: string, path: string) => Reply | undefined;
  /** Replaces the reply to a created user (the user is stored unless `store` says no). */
  insertReply?: (user: Json) => Reply & { store?: boolean };
  /** SCIMServer: a `replace` of `attr.sub` answers 200 with the resource unchanged. */
  ignoreSubAttributeReplace?: boolean;
  /** A PATCH of a user answers this and changes nothing. */
  patchNoop?: Reply;
  /** scimgateway: PATCH inside Bulk answers 200 and does nothing. */
  bulkPatchNoop?: boolean;
  /** Rewrites the BulkResponse operations. */
  bulkResults?: (ops: Json[]) => Json[];
  /** scimgateway: DELETE of a missing user is a 500. */
  deleteMissing500?: boolean;
  /** DELETE of these users fails with 500 and keeps them. */
  deleteRefused?: string[];
  /** better-auth: more member adds than this in one PATCH → 400. */
  maxMembersPerPatch?: number;
  /** A list ignores its filter: the first `count` resources. */
  ignoreFilter?: boolean;
  /** A member id whose add is refused with 400 (the whole PATCH). */
  badMember?: string;
}

export interface QuirkyServer extends TestServer {
  users: Map<string, Json>;
  groups: Map<string, Json>;
  /** Requests other than discovery, as "METHOD /path" (query cut). */
  calls(): string[];
}

const err = (status: number, detail: string, scimType?: string): Reply => ({
  status,
  body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail, ...(scimType ? { scimType } : {}) },
});

export async function startQuirky(q: Quirks = {}, seed: { users?: Json[]; groups?: Json[] } = {}): Promise<QuirkyServer> {
  const users = new Map<string, Json>((seed.users ?? []).map((u) => [u.id, structuredClone(u)]));
  const groups = new Map<string, Json>((seed.groups ?? []).map((g) => [g.id, { members: [], ...structuredClone(g) }]));
  let next = 1;

  const insert = (body: Json): Reply => {
    if ([...users.values()].some((u) => u.userName === body.userName)) return err(409, 'userName taken', 'uniqueness');
    const user = { ...body, id: `new${next++}` };
    const custom = q.insertReply?.(user);
    if (!custom || custom.store !== false) users.set(user.id, user);
    return custom ?? { status: 201, body: user };
  };

  const patchUser = (id: string, body: Json): Reply => {
    const user = users.get(id);
    if (!user) return err(404, 'no such user');
    if (q.patchNoop) return q.patchNoop;
    for (const op of body.Operations as Json[]) {
      if (op.op !== 'replace' && op.op !== 'add') return err(400, `unsupported op ${op.op}`);
      if (op.path === undefined) Object.assign(user, op.value);
      else if (op.path.includes('.')) {
        if (q.ignoreSubAttributeReplace) continue;
        const [attr, sub] = op.path.split('.');
        user[attr] = { ...(user[attr] ?? {}), [sub]: op.value };
      } else if (op.value && typeof op.value === 'object' && !Array.isArray(op.value)) user[op.path] = { ...(user[op.path] ?? {}), ...op.value };
      else user[op.path] = op.value;
    }
    return { status: 200, body: user };
  };

  const patchGroup = (id: string, body: Json): Reply => {
    const group = groups.get(id);
    if (!group) return err(404, 'no such group');
    const ops = body.Operations as Json[];
    const adds = ops.filter((o) => o.op === 'add').flatMap((o) => o.value as Json[]);
    if (q.maxMembersPerPatch !== undefined && adds.length > q.maxMembersPerPatch) return err(400, `at most ${q.maxMembersPerPatch} members per PATCH`);
    if (q.badMember !== undefined && adds.some((m) => m.value === q.badMember)) return err(400, `no such member ${q.badMember}`);
    for (const o of ops) {
      if (o.op === 'add') for (const m of o.value as Json[]) if (!group.members.some((x: Json) => x.value === m.value)) group.members.push({ value: m.value });
      if (o.op === 'remove') {
        const v = /value eq "(.*)"/.exec(o.path)![1];
        group.members = group.members.filter((x: Json) => x.value !== v);
      }
    }
    return { status: 204 };
  };

  const del = (id: string): Reply => {
    if (!users.has(id)) return q.deleteMissing500 ? err(500, 'Error: user not found') : err(404, 'no such user');
    if (q.deleteRefused?.includes(id)) return err(500, 'backend down');
    users.delete(id);
    return { status: 204 };
  };

  /** Resources matching every `attr eq "v"` term joined by `or` (attributes ignored: whole resources). */
  const search = (store: Map<string, Json>, filter: string): Json[] => {
    const terms = [...filter.matchAll(/(\w+) eq "((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, JSON.parse(`"${m[2]}"`) as string] as const);
    return [...store.values()].filter((r) => terms.some(([a, v]) => String(r[a]).toLowerCase() === v.toLowerCase()));
  };

  const route = (method: string, path: string, query: URLSearchParams, body: Json | undefined): Reply => {
    let m: RegExpExecArray | null;
    const custom = q.override?.(method, path);
    if (custom) return custom;
    if (method === 'POST' && path === '/Users') return insert(body!);
    if (method === 'GET' && (path === '/Users' || path === '/Groups')) {
      const store = path === '/Users' ? users : groups;
      const found = q.ignoreFilter ? [...store.values()].slice(0, Number(query.get('count') ?? 100)) : search(store, query.get('filter') ?? '');
      return { status: 200, body: listResponse(found, found.length) };
    }
    if ((m = /^\/(Users|Groups)\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[2]!);
      const store = m[1] === 'Users' ? users : groups;
      if (method === 'GET') return store.has(id) ? { status: 200, body: store.get(id) } : err(404, 'not found');
      if (method === 'PATCH') return m[1] === 'Users' ? patchUser(id, body!) : patchGroup(id, body!);
      if (method === 'DELETE' && m[1] === 'Users') return del(id);
    }
    return err(404, `no route ${method} ${path}`);
  };

  const bulk = (body: Json): Reply => {
    const ids = new Map<string, string>();
    const results = (body.Operations as Json[]).map((op) => {
      const data = op.data === undefined ? undefined : JSON.parse(JSON.stringify(op.data).replace(/"bulkId:([^"]+)"/g, (all, b: string) => (ids.has(b) ? JSON.stringify(ids.get(b)) : all)));
      const r = op.method === 'PATCH' && q.bulkPatchNoop ? { status: 200 } : route(op.method, op.path, new URLSearchParams(), data);
      const created = op.method === 'POST' && r.status === 201 ? (r.body as Json | undefined)?.id : undefined;
      if (created) ids.set(op.bulkId, created);
      return {
        method: op.method,
        ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
        status: String(r.status),
        ...(created ? { location: `http://h/v2/Users/${created}` } : op.method !== 'POST' ? { location: `http://h/v2${op.path}` } : {}),
        ...(r.status >= 400 ? { response: r.body } : {}),
      };
    });
    return { status: 200, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkResponse'], Operations: q.bulkResults ? q.bulkResults(results) : results } };
  };

  const handler = (req: SeenRequest, res: http.ServerResponse) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname.replace(/^\/v2/, '');
    const body = req.body ? (JSON.parse(req.body) as Json) : undefined;
    const r = path === '/Bulk' && req.method === 'POST' ? bulk(body!) : route(req.method, path, url.searchParams, body);
    if (r.body === undefined) {
      res.writeHead(r.status, r.headers ?? {});
      res.end();
    } else if (typeof r.body === 'string') {
      res.writeHead(r.status, { 'content-type': 'text/html', ...r.headers });
      res.end(r.body);
    } else sendJson(res, r.status, r.body, r.headers);
  };
  const server = await startHttp(handler);
  return {
    ...server,
    users,
    groups,
    calls: () => server.requests.filter((r) => !/ServiceProviderConfig|Schemas/.test(r.url)).map((r) => `${r.method} ${r.url.split('?')[0]!.replace(/^\/v2/, '')}`),
  };
}
