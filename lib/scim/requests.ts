/**
 * PlannedOp → the SCIM request that carries it, as a single request, as a
 * Bulk operation, or as a --dry-run line. Member references to users
 * inserted in the run are resolved by the caller (`bulkId:<orderId>` inside
 * a Bulk batch, the created id after it, `@<orderId>` in a dry run).
 */
import { quoteLiteral } from './filter.js';
import { PATCH_OP_SCHEMA, type PatchOperation } from './unflatten.js';
import { rfc, type Dialect } from './dialects/index.js';
import type { MemberChange, PlannedOp, PlannedRequest } from '../types.js';

/** Returns the member value for a reference, or undefined when the referenced insert failed. */
export type RefResolver = (orderId: string) => string | undefined;

/** The server's dialect shapes some bodies (absent: RFC). */
export interface RequestStyle {
  dialect?: Dialect;
}

export function resourcePath(entity: string, id?: string): string {
  return id === undefined ? `/${entity}` : `/${entity}/${encodeURIComponent(id)}`;
}

/**
 * The existing resource an operation changes (`/Users/{id}`, `/Groups/{id}`),
 * or undefined for an insert: nothing names it before it exists (later
 * references wait for it through the insert registry).
 */
export function resourceKey(op: PlannedOp): string | undefined {
  switch (op.kind) {
    case 'insert':
      return undefined;
    case 'update':
    case 'delete':
      return resourcePath(op.entity, op.id);
    case 'members':
      return resourcePath(op.entity, op.group);
  }
}

export function patchBody(ops: PatchOperation[]): { schemas: string[]; Operations: PatchOperation[] } {
  return { schemas: [PATCH_OP_SCHEMA], Operations: ops };
}

/**
 * The PATCH operations of a membership change: consecutive adds share one
 * `add` with a list of values; each remove is its own filtered `remove`.
 * Order is kept, so "add X, remove X" means what it says.
 */
export function memberOperations(members: readonly { op: 'add' | 'remove'; value: string }[], style: RequestStyle = {}, attribute = 'members'): PatchOperation[] {
  const ops: PatchOperation[] = [];
  let adds: Array<{ value: string }> | undefined;
  for (const m of members) {
    if (m.op === 'add') {
      if (!adds) {
        adds = [];
        ops.push({ op: 'add', path: attribute, value: attribute === 'members' ? (style.dialect ?? rfc).membersAddValue(adds) : adds });
      }
      adds.push({ value: m.value });
    } else {
      adds = undefined;
      ops.push({ op: 'remove', path: `${attribute}[value eq ${quoteLiteral(m.value)}]` });
    }
  }
  return ops;
}

/** Members with their values resolved; the ones whose reference cannot be resolved are returned apart. */
export function resolveMembers(members: readonly MemberChange[], resolve: RefResolver): { ready: Array<MemberChange & { value: string }>; unresolved: MemberChange[] } {
  const ready: Array<MemberChange & { value: string }> = [];
  const unresolved: MemberChange[] = [];
  for (const m of members) {
    const value = m.ref !== undefined ? resolve(m.ref) : m.member;
    if (value === undefined) unresolved.push(m);
    else ready.push({ ...m, value });
  }
  return { ready, unresolved };
}

/** The request of one planned operation (PATCH form for updates; see execute.ts for GET+PUT). */
export function plannedRequest(op: PlannedOp, resolve: RefResolver, style: RequestStyle = {}): PlannedRequest {
  const orderRefs = op.lines.map((l) => l.orderId);
  switch (op.kind) {
    case 'insert':
      return { method: 'POST', path: resourcePath(op.entity), body: op.resource, bulkId: op.bulkId, orderRefs };
    case 'update':
      return { method: 'PATCH', path: resourcePath(op.entity, op.id), body: patchBody(op.patch), orderRefs };
    case 'delete':
      if (op.deactivate) return { method: 'PATCH', path: resourcePath(op.entity, op.id), body: patchBody((style.dialect ?? rfc).deactivateOperations()), orderRefs };
      return { method: 'DELETE', path: resourcePath(op.entity, op.id), orderRefs };
    case 'members': {
      const { ready } = resolveMembers(op.members, resolve);
      return { method: 'PATCH', path: resourcePath(op.entity, op.group), body: patchBody(memberOperations(ready, style, op.attribute)), orderRefs };
    }
  }
}

export interface BulkOperation {
  method: string;
  bulkId?: string;
  path: string;
  data?: unknown;
  version?: string;
}

export function bulkOperationOf(req: PlannedRequest, version?: string): BulkOperation {
  const out: BulkOperation = { method: req.method, path: req.path };
  if (req.bulkId !== undefined) out.bulkId = req.bulkId;
  if (req.body !== undefined) out.data = req.body;
  if (version !== undefined) out.version = version;
  return out;
}

export const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/**
 * Bytes one operation adds to a BulkRequest, measured with references written
 * as `bulkId:<orderId>`; each reference gets room for the longest id we
 * expect so that resolving it to a created id later cannot overflow the batch.
 */
export function bulkOperationSize(op: PlannedOp, style: RequestStyle = {}): number {
  const req = plannedRequest(op, (ref) => `bulkId:${ref}`, style);
  const refs = op.kind === 'members' ? op.members.filter((m) => m.ref !== undefined).length : 0;
  return Buffer.byteLength(JSON.stringify(bulkOperationOf(req))) + 1 + refs * 64;
}
