/**
 * The inverse of the export's column paths: a set of (column path, value)
 * cells becomes a SCIM resource (for POST/PUT) or PATCH operations (for an
 * update). The rules mirror read-column.ts so that an exported row, fed back
 * as an insert order, recreates the same resource:
 * - `name:givenName` → `{name:{givenName}}`;
 * - an extension column lives under its URN key, and the URN joins `schemas`;
 * - `emails[type eq "work"]:value` → the element built from the filter's
 *   `eq` terms (`{type:'work', value}`), found again by the same filter;
 * - `emails:value` (multi-valued, no filter) → the primary element, created
 *   with `primary: true` so that the export reads it back.
 */
import { ScimEtlError } from '../errors.js';
import { formatFilter, getAttr, matchesFilter, type FilterNode, type Literal } from './filter.js';
import type { ColumnPath } from './path.js';
import { USER_SCHEMA } from './schemas.js';

export interface Cell {
  path: ColumnPath;
  /** Already typed (string, number, boolean, object, array). */
  value: unknown;
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  /** Absent: the target is the resource itself (`value` holds the attributes). */
  path?: string;
  value?: unknown;
}

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * The attribute values a value filter pins down (`type eq "work" and primary eq true`
 * → `{type:'work', primary:true}`): what a new element must carry to match it.
 * Throws ERR_PATH_UNSUPPORTED for filters we cannot build an element from (or, ne, co…).
 */
export function templateFromFilter(filter: FilterNode): Record<string, Literal> {
  const out: Record<string, Literal> = {};
  const walk = (n: FilterNode): void => {
    if (n.type === 'and') {
      walk(n.left);
      walk(n.right);
    } else if (n.type === 'compare' && n.op === 'eq' && !n.path.sub && !n.path.schema) {
      out[n.path.attr] = n.value;
    } else {
      throw new ScimEtlError('ERR_PATH_UNSUPPORTED', `cannot write through the value filter [${formatFilter(filter)}]: only 'eq' terms joined by 'and' say what a new element holds`);
    }
  };
  walk(filter);
  return out;
}

/** Finds an own key case-insensitively, or returns the name as given (for a new key). */
function keyOf(obj: Record<string, unknown>, name: string): string {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower) ?? name;
}

function childObject(parent: Record<string, unknown>, name: string): Record<string, unknown> {
  const key = keyOf(parent, name);
  const cur = parent[key];
  if (cur && typeof cur === 'object' && !Array.isArray(cur)) return cur as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  parent[key] = fresh;
  return fresh;
}

function isPrimary(el: unknown): boolean {
  const p = getAttr(el, 'primary');
  return p === true || (typeof p === 'string' && p.toLowerCase() === 'true');
}

/**
 * Sets one column's value in a resource, creating what is missing.
 * `multiValued` says whether the attribute is a list (from the schema); it
 * matters only for a column with a sub-attribute and no filter.
 */
export function setColumnValue(resource: Record<string, unknown>, path: ColumnPath, value: unknown, multiValued = false): void {
  let container = resource;
  if (path.schema) {
    container = childObject(resource, path.schema);
    addSchema(resource, path.schema);
  }
  const key = keyOf(container, path.attr);
  if (path.filter) {
    const template = templateFromFilter(path.filter);
    const list = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
    container[key] = list;
    let el = list.find((e) => e && typeof e === 'object' && matchesFilter(e, path.filter!)) as Record<string, unknown> | undefined;
    if (!el) {
      el = { ...template };
      list.push(el);
    }
    if (path.sub) el[keyOf(el, path.sub)] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) Object.assign(el, value);
    return;
  }
  if (!path.sub) {
    container[key] = value;
    return;
  }
  if (multiValued || Array.isArray(container[key])) {
    const list = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
    container[key] = list;
    // Writing `emails:value` means the primary element. Never fall back to the
    // first one: it may be the element a value-filtered column just wrote.
    let el = list.find(isPrimary) as Record<string, unknown> | undefined;
    if (!el || typeof el !== 'object') {
      el = { primary: true };
      list.push(el);
    }
    el[keyOf(el, path.sub)] = value;
    return;
  }
  childObject(container, path.attr)[path.sub] = value;
}

function addSchema(resource: Record<string, unknown>, urn: string): void {
  const key = keyOf(resource, 'schemas');
  const list = Array.isArray(resource[key]) ? (resource[key] as string[]) : [];
  if (!list.some((s) => s.toLowerCase() === urn.toLowerCase())) list.push(urn);
  resource[key] = list;
}

/**
 * Builds a whole resource from cells. `isMultiValued(path)` answers from the
 * schema; `baseSchema` is the core schema of the resource type.
 */
export function unflatten(
  cells: readonly Cell[],
  opts: { baseSchema?: string; isMultiValued?: (p: ColumnPath) => boolean } = {},
): Record<string, unknown> {
  const resource: Record<string, unknown> = { schemas: [opts.baseSchema ?? USER_SCHEMA] };
  for (const c of cells) setColumnValue(resource, c.path, c.value, opts.isMultiValued?.(c.path) ?? false);
  return resource;
}

/**
 * The PATCH path of a column: dot syntax for sub-attributes, the value filter
 * kept, extension attributes prefixed with their URN (RFC 7644 §3.5.2).
 * A multi-valued attribute without a filter is addressed through its primary
 * element (`emails[primary eq true].value`), the one the export reads.
 */
export function patchPathOf(path: ColumnPath, multiValued = false): string {
  let out = path.schema ? `${path.schema}:${path.attr}` : path.attr;
  if (path.filter) out += `[${formatFilter(path.filter)}]`;
  else if (path.sub && multiValued) out += '[primary eq true]';
  if (path.sub) out += `.${path.sub}`;
  return out;
}

/**
 * PATCH operations for an update: `replace` for each given value (`add`
 * through a value filter), `remove` for a cleared one (`value === null`). Cells whose value is undefined
 * ("unchanged") produce nothing.
 */
export function patchOperations(cells: readonly Cell[], opts: { isMultiValued?: (p: ColumnPath) => boolean } = {}): PatchOperation[] {
  const ops: PatchOperation[] = [];
  for (const c of cells) {
    if (c.value === undefined) continue;
    const multi = opts.isMultiValued?.(c.path) ?? false;
    const path = patchPathOf(c.path, multi);
    if (c.value === null) ops.push({ op: 'remove', path });
    // Through a value filter, `add` also creates the element when none matches
    // (where `replace` would fail with noTarget); on a match both set the value.
    else ops.push({ op: c.path.filter || (multi && c.path.sub) ? 'add' : 'replace', path, value: c.value });
  }
  return ops;
}

/**
 * The same changes in the complex-value form, for servers that answer a
 * sub-attribute `replace` (`name.givenName`) 200 and keep the old value but
 * apply `{"op":"replace","path":"name","value":{"givenName":…}}`. Sub-attributes
 * of one attribute share one operation; attributes without a sub-attribute go
 * in one path-less `replace` (the form Entra and Okta send). A cleared cell, a
 * value filter or a multi-valued attribute has no such form: `unexpressible`.
 */
export function complexPatchOperations<C extends Cell>(cells: readonly C[], opts: { isMultiValued?: (p: ColumnPath) => boolean } = {}): { ops: PatchOperation[]; unexpressible: C[] } {
  const ops: PatchOperation[] = [];
  const unexpressible: C[] = [];
  const bare: Record<string, unknown> = {};
  const byParent = new Map<string, Record<string, unknown>>();
  for (const c of cells) {
    if (c.value === undefined) continue;
    if (c.value === null || c.path.filter || (opts.isMultiValued?.(c.path) ?? false)) {
      unexpressible.push(c);
      continue;
    }
    if (!c.path.sub) {
      const holder = c.path.schema ? childObject(bare, c.path.schema) : bare;
      holder[c.path.attr] = c.value;
      continue;
    }
    const parent = c.path.schema ? `${c.path.schema}:${c.path.attr}` : c.path.attr;
    let value = byParent.get(parent);
    if (!value) {
      value = {};
      byParent.set(parent, value);
      ops.push({ op: 'replace', path: parent, value });
    }
    value[c.path.sub] = c.value;
  }
  if (Object.keys(bare).length > 0) ops.push({ op: 'replace', value: bare });
  return { ops, unexpressible };
}

/**
 * Applies cells to a resource read with GET, for servers without PATCH (the
 * result is PUT back). A cleared cell deletes the value.
 */
export function applyCells(resource: Record<string, unknown>, cells: readonly Cell[], opts: { isMultiValued?: (p: ColumnPath) => boolean } = {}): Record<string, unknown> {
  const out = structuredClone(resource);
  for (const c of cells) {
    if (c.value === undefined) continue;
    if (c.value === null) clearColumn(out, c.path, opts.isMultiValued?.(c.path) ?? false);
    else setColumnValue(out, c.path, c.value, opts.isMultiValued?.(c.path) ?? false);
  }
  return out;
}

function clearColumn(resource: Record<string, unknown>, path: ColumnPath, multiValued: boolean): void {
  const container = path.schema ? (getAttr(resource, path.schema) as Record<string, unknown> | undefined) : resource;
  if (!container || typeof container !== 'object') return;
  const key = keyOf(container, path.attr);
  const cur = container[key];
  if (path.filter) {
    if (!Array.isArray(cur)) return;
    const keep = cur.filter((e) => !(e && typeof e === 'object' && matchesFilter(e, path.filter!)));
    if (path.sub) {
      for (const e of cur) if (e && typeof e === 'object' && matchesFilter(e, path.filter)) delete (e as Record<string, unknown>)[keyOf(e as Record<string, unknown>, path.sub)];
    } else container[key] = keep;
    return;
  }
  if (!path.sub) {
    delete container[key];
    return;
  }
  if (Array.isArray(cur) || multiValued) {
    const list = Array.isArray(cur) ? cur : [];
    const el = (list.find(isPrimary) ?? list[0]) as Record<string, unknown> | undefined;
    if (el && typeof el === 'object') delete el[keyOf(el, path.sub)];
    return;
  }
  if (cur && typeof cur === 'object') delete (cur as Record<string, unknown>)[keyOf(cur as Record<string, unknown>, path.sub)];
}
