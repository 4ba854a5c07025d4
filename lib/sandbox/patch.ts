/**
 * PATCH (RFC 7644 §3.5.2) applied atomically: attribute operations run on a
 * copy that is committed only when every operation succeeded; member changes
 * of a group run on the live member map with an undo log, so that a
 * million-member group is never copied.
 */
import type { ScimResource } from '../types.js';
import { matchesFilter, parsePatchPath, type FilterNode, type PatchPath } from '../scim/filter.js';
import { ScimEtlError } from '../errors.js';
import { badRequest, ScimHttpError } from './scim-error.js';
import type { Entry, MemberRef, SandboxStore } from './store.js';

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Op = 'add' | 'remove' | 'replace';
type Obj = Record<string, unknown>;

interface Operation {
  op: Op;
  path?: PatchPath;
  rawPath?: string;
  value: unknown;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const keyIn = (obj: Obj, name: string) => Object.keys(obj).find((k) => same(k, name));

/** Reads the PatchOp body into operations; 400 invalidSyntax / invalidPath on anything malformed. */
export function parsePatchBody(body: unknown): Operation[] {
  if (!isObj(body)) throw badRequest('the PATCH body must be a JSON object', 'invalidSyntax');
  const ops = body[keyIn(body, 'Operations') ?? 'Operations'];
  if (!Array.isArray(ops) || ops.length === 0) throw badRequest('the PATCH body needs a non-empty "Operations" array', 'invalidSyntax');
  return ops.map((raw, i) => {
    if (!isObj(raw)) throw badRequest(`Operations[${i}] must be an object`, 'invalidSyntax');
    const opText = raw[keyIn(raw, 'op') ?? 'op'];
    const op = typeof opText === 'string' ? opText.toLowerCase() : '';
    // Capitalised ops ("Replace") are what Entra sends: accepted.
    if (op !== 'add' && op !== 'remove' && op !== 'replace') throw badRequest(`Operations[${i}].op must be add, remove or replace, got ${JSON.stringify(opText)}`, 'invalidSyntax');
    const pathText = raw[keyIn(raw, 'path') ?? 'path'];
    const value = raw[keyIn(raw, 'value') ?? 'value'];
    const out: Operation = { op, value };
    if (pathText !== undefined && pathText !== null && pathText !== '') {
      if (typeof pathText !== 'string') throw badRequest(`Operations[${i}].path must be a string`, 'invalidPath');
      out.rawPath = pathText;
      out.path = parsePath(pathText);
    } else if (op === 'remove') {
      throw badRequest(`Operations[${i}]: remove needs a path`, 'noTarget');
    } else if (!isObj(value)) {
      throw badRequest(`Operations[${i}]: without a path the value must be an object`, 'invalidValue');
    }
    return out;
  });
}

function parsePath(text: string): PatchPath {
  try {
    return parsePatchPath(text);
  } catch (err) {
    const detail = err instanceof ScimEtlError ? err.message : String(err);
    throw badRequest(`invalid path '${text}': ${detail}`, 'invalidPath');
  }
}

export interface PatchOptions {
  knownSchemas: readonly string[];
  /** Salesforce: a pathed member add/replace must carry `{"members":[…]}`. */
  wrappedMembers?: boolean;
  /** ignoreDottedReplace quirk: `replace` of `name.givenName` is dropped, answered as if done. */
  ignoreDottedReplace?: boolean;
  /** memberPatchLimit quirk: more members named in one PATCH is a 400. */
  memberLimit?: number;
}

/** Applies a PATCH body to an entry and commits it; throws ScimHttpError, leaving the entry as it was. */
export function applyPatch(store: SandboxStore, e: Entry, body: unknown, opts: PatchOptions): void {
  const { knownSchemas, wrappedMembers = false } = opts;
  let ops = parsePatchBody(body);
  if (opts.memberLimit !== undefined && e.type === 'Groups') {
    const n = ops.reduce((sum, op) => sum + membersNamed(op), 0);
    if (n > opts.memberLimit) throw badRequest(`too many members in one PATCH: ${n}, at most ${opts.memberLimit}`, 'invalidValue');
  }
  // SCIMServer: a dotted replace path is taken for a key nobody reads; the reply is the unchanged resource.
  if (opts.ignoreDottedReplace) ops = ops.filter((op) => !(op.op === 'replace' && op.path?.path.sub && !op.path.filter));
  const draft = structuredClone(e.res) as Obj;
  const undo: Array<() => void> = [];
  let membersChanged = false;
  const ctx: Ctx = {
    knownSchemas,
    wrappedMembers,
    members:
      e.type === 'Groups'
        ? {
            add: (refs) => {
              for (const r of refs) {
                store.requireMember(r);
                if (store.addMember(e, r)) {
                  membersChanged = true;
                  undo.push(() => store.removeMember(e, r.value));
                }
              }
            },
            remove: (pred) => {
              for (const [id, type] of [...e.members!]) {
                if (pred(id, type) && store.removeMember(e, id)) {
                  membersChanged = true;
                  undo.push(() => store.addMember(e, { value: id, type }));
                }
              }
            },
            removeIds: (ids) => {
              for (const id of ids) {
                const type = e.members!.get(id);
                if (type && store.removeMember(e, id)) {
                  membersChanged = true;
                  undo.push(() => store.addMember(e, { value: id, type }));
                }
              }
            },
            refs: (v) => store.memberRefs(v),
          }
        : undefined,
  };
  try {
    for (const op of ops) applyOp(draft, op, ctx);
    const before = JSON.stringify(e.res);
    if (JSON.stringify(draft) !== before) store.commit(e, draft as ScimResource);
    else if (membersChanged) store.touch(e);
  } catch (err) {
    for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
    throw err;
  }
}

interface MemberOps {
  add(refs: MemberRef[]): void;
  remove(pred: (id: string, type: string) => boolean): void;
  removeIds(ids: string[]): void;
  refs(v: unknown): MemberRef[];
}

interface Ctx {
  knownSchemas: readonly string[];
  /** Salesforce: a pathed member add/replace must carry `{"members":[…]}`. */
  wrappedMembers?: boolean;
  members?: MemberOps;
}

function applyOp(res: Obj, op: Operation, ctx: Ctx): void {
  if (!op.path) {
    // No path: every key of the value is an attribute (or a schema URN holding attributes, or a dotted path).
    for (const [k, v] of Object.entries(op.value as Obj)) {
      const schema = ctx.knownSchemas.find((s) => same(s, k)) ?? (/^urn:/i.test(k) && isObj(v) && !ctx.knownSchemas.some((s) => k.toLowerCase().startsWith(s.toLowerCase() + ':')) ? k : undefined);
      if (schema && isObj(v)) {
        for (const [sk, sv] of Object.entries(v)) applyOp(res, { op: op.op, path: { path: { schema, attr: sk } }, value: sv }, ctx);
        addSchema(res, schema);
      } else {
        applyOp(res, { op: op.op, path: parsePath(k), rawPath: k, value: v }, ctx);
      }
    }
    return;
  }
  const { path, filter, sub } = op.path;
  const attrLower = path.attr.toLowerCase();
  if (!path.schema && (attrLower === 'id' || attrLower === 'meta' || attrLower === 'groups' || attrLower === 'schemas')) {
    if (attrLower === 'id' && op.value === res.id && op.op !== 'remove') return;
    throw new ScimHttpError(400, `'${path.attr}' is read-only`, 'mutability');
  }
  if (ctx.members && !path.schema && attrLower === 'members') {
    if (ctx.wrappedMembers && op.op !== 'remove' && !(isObj(op.value) && Array.isArray(op.value.members))) {
      throw badRequest('the members value must be wrapped: {"members":[{"value":"…"}]}', 'invalidValue');
    }
    return memberOp(op, ctx.members);
  }

  // A whole extension named as the path ("urn:…:enterprise:2.0:User").
  const whole = op.rawPath ? ctx.knownSchemas.find((s) => same(s, op.rawPath!)) : undefined;
  if (whole) {
    if (op.op === 'remove') {
      const k = keyIn(res, whole);
      if (k) delete res[k];
      return;
    }
    if (!isObj(op.value)) throw badRequest(`the value for '${whole}' must be an object`);
    for (const [sk, sv] of Object.entries(op.value)) applyOp(res, { op: op.op, path: { path: { schema: whole, attr: sk } }, value: sv }, ctx);
    addSchema(res, whole);
    return;
  }

  let holder = res;
  if (path.schema) {
    const sk = keyIn(res, path.schema);
    if (sk && isObj(res[sk])) holder = res[sk] as Obj;
    else if (op.op === 'remove') return;
    else {
      holder = {};
      res[path.schema] = holder;
      addSchema(res, path.schema);
    }
  }
  const ak = keyIn(holder, path.attr) ?? path.attr;
  const value = coerce(path.attr, op.value);

  if (filter) return filteredOp(holder, ak, filter, sub, op, value);

  if (path.sub) {
    const cur = holder[ak];
    const setSub = (el: Obj) => {
      const k = keyIn(el, path.sub!) ?? path.sub!;
      if (op.op === 'remove') delete el[k];
      else el[k] = value;
    };
    if (Array.isArray(cur)) cur.filter(isObj).forEach(setSub);
    else if (isObj(cur)) setSub(cur);
    else if (op.op !== 'remove') holder[ak] = { [path.sub]: value };
    if (isObj(holder[ak]) && Object.keys(holder[ak] as Obj).length === 0) delete holder[ak];
    return;
  }

  if (op.op === 'remove') {
    const cur = holder[ak];
    // remove with a value list on a multi-valued attribute: remove those elements only.
    if (Array.isArray(cur) && op.value !== undefined) {
      const drop = (Array.isArray(op.value) ? op.value : [op.value]).map((v) => JSON.stringify(isObj(v) ? v.value : v));
      holder[ak] = cur.filter((el) => !drop.includes(JSON.stringify(isObj(el) ? el.value : el)));
      if ((holder[ak] as unknown[]).length === 0) delete holder[ak];
    } else delete holder[ak];
    return;
  }
  const cur = holder[ak];
  if (Array.isArray(cur) || Array.isArray(value)) {
    const incoming = Array.isArray(value) ? value : [value];
    if (op.op === 'replace' || !Array.isArray(cur)) holder[ak] = [...incoming];
    else {
      const seen = new Set(cur.map((el) => JSON.stringify(el)));
      holder[ak] = [...cur, ...incoming.filter((el) => !seen.has(JSON.stringify(el)))];
    }
    onePrimary(holder[ak] as unknown[], incoming);
  } else if (isObj(cur) && isObj(value)) {
    // Complex single-valued: given sub-attributes replace, others stay (add and replace alike).
    holder[ak] = { ...cur, ...value };
  } else {
    holder[ak] = value;
  }
}

function filteredOp(holder: Obj, ak: string, filter: FilterNode, sub: string | undefined, op: Operation, value: unknown): void {
  const cur = holder[ak];
  const list = Array.isArray(cur) ? cur : cur === undefined ? [] : [cur];
  const hit = list.map((el) => isObj(el) && matchesFilter(el, filter));
  if (!hit.some(Boolean)) {
    if (op.op === 'remove') return; // nothing to remove is not an error: idempotent
    if (op.op === 'replace') throw badRequest(`no value of '${ak}' matches the filter`, 'noTarget');
    // add with a filter and no match: add a new element built from the filter's eq terms and the value.
    const el: Obj = { ...eqTerms(filter) };
    if (sub) el[sub] = value;
    else if (isObj(value)) Object.assign(el, value);
    holder[ak] = [...list, el];
    return;
  }
  if (op.op === 'remove' && !sub) {
    holder[ak] = list.filter((_, i) => !hit[i]);
    if ((holder[ak] as unknown[]).length === 0) delete holder[ak];
    return;
  }
  holder[ak] = list.map((el, i) => {
    if (!hit[i]) return el;
    const copy = { ...(el as Obj) };
    if (sub) {
      const k = keyIn(copy, sub) ?? sub;
      if (op.op === 'remove') delete copy[k];
      else copy[k] = value;
      return copy;
    }
    return isObj(value) ? { ...copy, ...value } : value;
  });
  if (isObj(value) && value.primary === true) onePrimary(holder[ak] as unknown[], [value]);
}

function memberOp(op: Operation, m: MemberOps): void {
  const { filter, sub } = op.path!;
  if (sub) throw new ScimHttpError(400, `members' sub-attributes are immutable`, 'mutability');
  if (op.op === 'add') return m.add(m.refs(unwrap(op.value)));
  if (op.op === 'replace') {
    if (filter) throw new ScimHttpError(400, 'replace of filtered members is not supported: remove and add', 'invalidPath');
    m.remove(() => true);
    return m.add(m.refs(unwrap(op.value)));
  }
  if (filter) {
    const ids = eqValues(filter);
    if (ids) return m.removeIds(ids);
    return m.remove((id, type) => matchesFilter({ value: id, type }, filter));
  }
  // remove "members" with a value list removes those; without one, all.
  if (op.value !== undefined && op.value !== null) return m.removeIds(m.refs(unwrap(op.value)).map((r) => r.value));
  m.remove(() => true);
}

/** How many members one operation names (the memberPatchLimit quirk counts them). */
function membersNamed(op: Operation): number {
  const count = (v: unknown) => {
    const list = unwrap(v);
    return Array.isArray(list) ? list.length : list === undefined || list === null ? 0 : 1;
  };
  if (!op.path) return isObj(op.value) ? count(op.value[keyIn(op.value, 'members') ?? 'members']) : 0;
  if (op.path.path.schema || !same(op.path.path.attr, 'members')) return 0;
  if (op.path.filter) return eqValues(op.path.filter)?.length ?? 1;
  return count(op.value);
}

/** A no-path add carries `{members:[…]}`; a pathed add carries the array itself. Both reach here. */
function unwrap(v: unknown): unknown {
  return isObj(v) && Array.isArray(v.members) ? v.members : v;
}

/** `value eq "a" or value eq "b"` → ['a','b'] (the fast path for member removal); undefined for anything else. */
function eqValues(f: FilterNode): string[] | undefined {
  if (f.type === 'compare' && f.op === 'eq' && !f.path.sub && same(f.path.attr, 'value') && typeof f.value === 'string') return [f.value];
  if (f.type === 'or') {
    const l = eqValues(f.left);
    const r = eqValues(f.right);
    return l && r ? [...l, ...r] : undefined;
  }
  return undefined;
}

function eqTerms(f: FilterNode): Obj {
  if (f.type === 'compare' && f.op === 'eq' && !f.path.sub) return { [f.path.attr]: f.value };
  if (f.type === 'and') return { ...eqTerms(f.left), ...eqTerms(f.right) };
  return {};
}

/** When a new element says primary:true, the others stop being primary (RFC 7643 §2.4). */
function onePrimary(list: unknown[], incoming: unknown[]): void {
  const newPrimary = incoming.find((el) => isObj(el) && el.primary === true);
  if (!newPrimary) return;
  for (const el of list) if (isObj(el) && el !== newPrimary && el.primary === true && JSON.stringify(el) !== JSON.stringify(newPrimary)) el.primary = false;
}

function coerce(attr: string, v: unknown): unknown {
  // Entra sends "True"/"False" strings for booleans.
  if ((same(attr, 'active') || same(attr, 'primary')) && typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return v;
}

function addSchema(res: Obj, schema: string): void {
  const list = Array.isArray(res.schemas) ? (res.schemas as string[]) : [];
  if (!list.some((s) => same(s, schema))) res.schemas = [...list, schema];
}
