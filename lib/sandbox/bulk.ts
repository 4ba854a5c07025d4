/**
 * POST /Bulk (RFC 7644 §3.7): operations in order, `bulkId:<id>` references
 * resolved wherever they appear (paths, member values, nested data), an
 * operation whose reference is not created yet waits until it is, and
 * `failOnErrors` stops after that many errors.
 */
import { ScimHttpError, badRequest, errorBody } from './scim-error.js';
import type { ResourceOps } from './resources.js';
import type { ResourceType } from './store.js';
import type { NormalizedOptions } from './options.js';

export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

interface BulkOp {
  method: string;
  path: string;
  bulkId?: string;
  data?: unknown;
  version?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const field = (o: Obj, name: string) => o[Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name];

class Unresolved extends Error {
  constructor(readonly bulkId: string) {
    super(`bulkId '${bulkId}' is not defined`);
  }
}

/** Replaces every "bulkId:x" string (whole value or path segment) by the id created for x. */
function resolve(v: unknown, ids: Map<string, string>): unknown {
  if (typeof v === 'string') {
    if (v.startsWith('bulkId:')) {
      const id = ids.get(v.slice(7));
      if (id === undefined) throw new Unresolved(v.slice(7));
      return id;
    }
    // In a path: /Groups/bulkId:x
    return v.replace(/bulkId:([^/"\s]+)/g, (_, ref: string) => {
      const id = ids.get(ref);
      if (id === undefined) throw new Unresolved(ref);
      return id;
    });
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, ids));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, ids)]));
  return v;
}

/** Reads and checks the request; 413 over maxOperations (maxPayloadSize is checked on the raw body). */
export function parseBulk(body: unknown, o: NormalizedOptions): { ops: BulkOp[]; failOnErrors: number } {
  if (!isObj(body)) throw badRequest('the Bulk body must be a JSON object', 'invalidSyntax');
  const raw = field(body, 'Operations');
  if (!Array.isArray(raw)) throw badRequest('the Bulk body needs an "Operations" array', 'invalidSyntax');
  if (raw.length > o.bulk.maxOperations) {
    throw new ScimHttpError(413, `${raw.length} operations exceed maxOperations ${o.bulk.maxOperations}`, 'tooLarge');
  }
  const foe = field(body, 'failOnErrors');
  if (foe !== undefined && !(typeof foe === 'number' && Number.isInteger(foe) && foe >= 1)) throw badRequest(`failOnErrors must be an integer >= 1, got ${JSON.stringify(foe)}`, 'invalidSyntax');
  const ops = raw.map((r, i) => {
    if (!isObj(r)) throw badRequest(`Operations[${i}] must be an object`, 'invalidSyntax');
    const method = String(field(r, 'method') ?? '').toUpperCase();
    const path = field(r, 'path');
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw badRequest(`Operations[${i}].method must be POST, PUT, PATCH or DELETE, got ${JSON.stringify(field(r, 'method'))}`, 'invalidSyntax');
    if (typeof path !== 'string' || !path.startsWith('/')) throw badRequest(`Operations[${i}].path must be a path such as /Users, got ${JSON.stringify(path)}`, 'invalidSyntax');
    const bulkId = field(r, 'bulkId');
    if (method === 'POST' && (typeof bulkId !== 'string' || !bulkId)) throw badRequest(`Operations[${i}]: POST needs a bulkId`, 'invalidSyntax');
    const op: BulkOp = { method, path };
    if (typeof bulkId === 'string') op.bulkId = bulkId;
    const data = field(r, 'data');
    if (data !== undefined) op.data = data;
    const version = field(r, 'version');
    if (typeof version === 'string') op.version = version;
    return op;
  });
  return { ops, failOnErrors: typeof foe === 'number' ? foe : Infinity };
}

export function runBulk(body: unknown, ops: ResourceOps, o: NormalizedOptions): Obj {
  const { ops: list, failOnErrors } = parseBulk(body, o);
  const ids = new Map<string, string>();
  const results: Array<Obj | undefined> = new Array(list.length);
  const failed = new Set<string>();
  let errors = 0;
  let pending = list.map((_, i) => i);
  // Forward references: retry waiting operations while something new was created.
  while (pending.length && errors < failOnErrors) {
    const waiting: number[] = [];
    let progressed = false;
    for (const i of pending) {
      if (errors >= failOnErrors) break;
      try {
        results[i] = runOne(list[i]!, ops, ids, o.quirks.bulkPatchIgnored === true);
        progressed = true;
      } catch (err) {
        let cause = err;
        if (err instanceof Unresolved) {
          if (failed.has(err.bulkId)) cause = new ScimHttpError(409, `bulkId '${err.bulkId}' refers to an operation that failed`, 'invalidValue');
          else if (list.some((op) => op.bulkId === err.bulkId && op.method === 'POST')) {
            // Defined by a POST not run yet: try again after the others.
            waiting.push(i);
            continue;
          }
        }
        errors++;
        progressed = true;
        if (list[i]!.bulkId && list[i]!.method === 'POST') failed.add(list[i]!.bulkId!);
        results[i] = failure(list[i]!, cause);
      }
    }
    if (!progressed) {
      for (const i of waiting) {
        if (errors >= failOnErrors) break;
        errors++;
        results[i] = failure(list[i]!, new ScimHttpError(409, `circular bulkId reference in ${list[i]!.method} ${list[i]!.path}${list[i]!.bulkId ? ` (bulkId '${list[i]!.bulkId}')` : ''}`, 'invalidValue'));
      }
      break;
    }
    pending = waiting;
  }
  return { schemas: [BULK_RESPONSE], Operations: results.filter((r): r is Obj => r !== undefined) };
}

function runOne(op: BulkOp, ops: ResourceOps, ids: Map<string, string>, patchIgnored: boolean): Obj {
  const path = resolve(op.path, ids) as string;
  const data = op.data === undefined ? undefined : resolve(op.data, ids);
  const m = /^\/([^/?]+)(?:\/([^/?]+))?\/?$/.exec(path);
  const type: ResourceType | undefined = m ? ops.typeOf(m[1]!) : undefined;
  if (!m || !type) throw new ScimHttpError(404, `no such resource path ${path}`);
  let id: string | undefined;
  try {
    id = m[2] ? decodeURIComponent(m[2]) : undefined;
  } catch {
    throw new ScimHttpError(404, `no such resource path ${path}`);
  }
  const out: Obj = { method: op.method };
  if (op.bulkId) out.bulkId = op.bulkId;
  if (op.method === 'POST') {
    if (id) throw new ScimHttpError(400, 'POST goes to a collection such as /Users', 'invalidPath');
    const e = ops.create(type, data);
    ids.set(op.bulkId!, e.res.id!);
    return { ...out, location: e.res.meta?.location, ...(e.res.meta?.version ? { version: e.res.meta.version } : {}), status: '201' };
  }
  if (!id) throw new ScimHttpError(400, `${op.method} needs a resource path such as /Users/{id}`, 'invalidPath');
  if (op.method === 'DELETE') {
    const location = ops.locationOf(type, id);
    ops.delete(type, id, op.version);
    return { ...out, location, status: '204' };
  }
  // scimgateway: a Bulk PATCH is acknowledged and never applied.
  if (op.method === 'PATCH' && patchIgnored) return { ...out, location: ops.locationOf(type, id), status: '200' };
  const e = op.method === 'PUT' ? ops.replace(type, id, data, op.version) : ops.patch(type, id, data, op.version);
  return { ...out, location: e.res.meta?.location, ...(e.res.meta?.version ? { version: e.res.meta.version } : {}), status: '200' };
}

function failure(op: BulkOp, err: unknown): Obj {
  const e = err instanceof ScimHttpError ? err : err instanceof Unresolved ? new ScimHttpError(409, err.message, 'invalidValue') : new ScimHttpError(500, String((err as Error)?.message ?? err));
  return {
    method: op.method,
    ...(op.bulkId ? { bulkId: op.bulkId } : {}),
    ...(op.method !== 'POST' ? { location: op.path } : {}),
    status: String(e.status),
    response: errorBody(e.status, e.detail, e.scimType),
  };
}
