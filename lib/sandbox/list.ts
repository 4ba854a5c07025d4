/**
 * List and search (RFC 7644 §3.4.2–3.4.3): filter, sort, index paging and
 * projection over the store, answered as chunks. Unfiltered, unsorted pages
 * are a slice of the id array, so page 1,000 of a million users costs the
 * same as page 1.
 */
import { matchesFilter, parseFilter, parseAttrPath, resolveAttr, type AttrPath, type FilterNode } from '../scim/filter.js';
import { ScimEtlError } from '../errors.js';
import { badRequest } from './scim-error.js';
import { attributeShare, isEmptyProjection, parseProjection, project, type Projection } from './project.js';
import { LARGE_GROUP, type Entry, type ResourceType, type SandboxStore } from './store.js';
import { LIST_SCHEMA } from './discovery.js';
import type { Reply } from './reply.js';
import type { NormalizedOptions } from './options.js';
import type { FiredFault } from './faults.js';
import { parseLeftToRight } from './left-to-right.js';
import { applyFilterQuirks } from './quirk-filter.js';

/** Query parameters or a SearchRequest body, as received. */
export interface ListParams {
  filter?: unknown;
  startIndex?: unknown;
  count?: unknown;
  sortBy?: unknown;
  sortOrder?: unknown;
  attributes?: unknown;
  excludedAttributes?: unknown;
  /** RFC 9865: present (even empty) asks for cursor paging. */
  cursor?: unknown;
}

interface CursorState {
  /** 0-based offset of the next page. */
  o: number;
  /** The query the cursor belongs to (filter, sort, types). */
  q: string;
  /** Issued at, ms. */
  t: number;
}

const encodeCursor = (c: CursorState) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(text: string, query: string, timeoutSeconds: number): number {
  if (text === '') return 0;
  let c: CursorState;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw badRequest(`invalid cursor '${text}'`, 'invalidCursor');
  }
  if (!c || typeof c.o !== 'number' || c.o < 0 || c.q !== query) throw badRequest(`invalid cursor '${text}' for this query`, 'invalidCursor');
  if (Date.now() - c.t > timeoutSeconds * 1000) throw badRequest('the cursor has expired: start again without one', 'expiredCursor');
  return c.o;
}

interface Selection {
  length: number;
  at(i: number): Entry;
}

/** Parses startIndex the way servers do: absent or < 1 means 1; junk is a 400. */
export function parseStartIndex(v: unknown): number {
  if (v === undefined || v === null || v === '') return 1;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw badRequest(`startIndex must be an integer, got ${JSON.stringify(v)}`);
  return n < 1 ? 1 : n;
}

function parseCount(v: unknown, o: NormalizedOptions): number {
  if (v === undefined || v === null || v === '') return o.defaultCount;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw badRequest(`count must be an integer, got ${JSON.stringify(v)}`);
  // Negative means 0 (RFC 7644 §3.4.2.4); above the cap is silently capped.
  return Math.min(Math.max(n, 0), o.maxResults);
}

/** The pageCap quirk: a cap the ServiceProviderConfig does not tell. */
function capped(count: number, o: NormalizedOptions): number {
  return o.quirks.pageCap === undefined ? count : Math.min(count, o.quirks.pageCap);
}

function listParam(v: unknown, name: string): string | string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw badRequest(`${name} must be a string or an array of strings`);
}

export function parseFilterParam(v: unknown, leftToRight = false): FilterNode | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw badRequest('filter must be a string', 'invalidFilter');
  try {
    return leftToRight ? parseLeftToRight(v) : parseFilter(v);
  } catch (err) {
    const msg = err instanceof ScimEtlError ? `${err.message} (offset ${String(err.context.offset)})` : String(err);
    throw badRequest(`invalid filter: ${msg}`, 'invalidFilter');
  }
}

/** Does a filter look at this top-level attribute? (decides whether computed attributes are needed) */
function mentions(node: FilterNode, attr: string): boolean {
  switch (node.type) {
    case 'and':
    case 'or':
      return mentions(node.left, attr) || mentions(node.right, attr);
    case 'not':
      return mentions(node.filter, attr);
    default:
      return !node.path.schema && node.path.attr.toLowerCase() === attr;
  }
}

function mentionsSub(node: FilterNode, attr: string, sub: string): boolean {
  switch (node.type) {
    case 'and':
    case 'or':
      return mentionsSub(node.left, attr, sub) || mentionsSub(node.right, attr, sub);
    case 'not':
      return mentionsSub(node.filter, attr, sub);
    default:
      return node.path.attr.toLowerCase() === attr && node.path.sub?.toLowerCase() === sub;
  }
}

function select(store: SandboxStore, types: ResourceType[], filter: FilterNode | undefined, o: NormalizedOptions): Selection {
  if (!filter && types.length === 1) {
    const ids = store.ids(types[0]!);
    const type = types[0]!;
    return { length: ids.length, at: (i) => store.entry(type, ids[i]!)! };
  }
  const out: Entry[] = [];
  const fast = filter && exactLookup(store, types, filter);
  if (fast) {
    for (const e of fast) if (matchesFilter(store.materialize(e), filter!)) out.push(e);
  } else {
    const needMembers = filter ? mentions(filter, 'members') : false;
    for (const type of types) {
      for (const id of store.ids(type)) {
        const e = store.entry(type, id)!;
        if (!filter || matchesFilter(type === 'Users' ? store.materialize(e) : store.materialize(e, needMembers), filter)) {
          out.push(e);
          if (o.tooManyLimit !== undefined && out.length > o.tooManyLimit) {
            throw badRequest(`the filter matches more than ${o.tooManyLimit} resources: narrow it`, 'tooMany');
          }
        }
      }
    }
  }
  return { length: out.length, at: (i) => out[i]! };
}

/** `id eq "x"` / `userName eq "x"` (possibly and-ed with more) answered from the indexes. */
function exactLookup(store: SandboxStore, types: ResourceType[], f: FilterNode): Entry[] | undefined {
  if (f.type === 'and') return exactLookup(store, types, f.left) ?? exactLookup(store, types, f.right);
  if (f.type !== 'compare' || f.op !== 'eq' || f.path.schema || f.path.sub || typeof f.value !== 'string') return undefined;
  const attr = f.path.attr.toLowerCase();
  if (attr === 'id') return types.map((t) => store.entry(t, f.value as string)).filter((e): e is Entry => e !== undefined);
  if (attr === 'username' && types.includes('Users')) {
    const id = store.userIdByName(f.value);
    return id ? [store.entry('Users', id)!] : [];
  }
  return undefined;
}

function sortSelection(store: SandboxStore, sel: Selection, sortBy: AttrPath, descending: boolean): Selection {
  const keyed: Array<[string | number | undefined, Entry]> = [];
  // Identifiers order case-exactly, as `id gt "…"` compares them: keyset paging relies on the two agreeing.
  const caseExact = !sortBy.sub && ['id', 'externalid'].includes(sortBy.attr.toLowerCase());
  for (let i = 0; i < sel.length; i++) {
    const e = sel.at(i);
    const v = resolveAttr(store.materialize(e, false), sortBy)[0];
    const text = (x: unknown) => (caseExact ? String(x) : String(x).toLowerCase());
    const key = v === undefined || v === null ? undefined : typeof v === 'number' ? v : typeof v === 'object' ? String((v as Record<string, unknown>).value ?? '') : text(v);
    keyed.push([key, e]);
  }
  keyed.sort((a, b) => {
    // Missing values sort last either way (RFC 7644 §3.4.2.3).
    if (a[0] === undefined) return b[0] === undefined ? 0 : 1;
    if (b[0] === undefined) return -1;
    const c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
    return descending ? -c : c;
  });
  return { length: keyed.length, at: (i) => keyed[i]![1] };
}

/** Serializes one resource for a list or a GET, honouring the projection; large groups are streamed. */
export function* resourceChunks(store: SandboxStore, e: Entry, p: Projection): Generator<string> {
  const large = e.members !== undefined && e.members.size > LARGE_GROUP;
  if (isEmptyProjection(p) && !large) {
    yield store.json(e);
    return;
  }
  if (e.type === 'Users') {
    yield JSON.stringify(project(store.materialize(e), p));
    return;
  }
  const share = attributeShare(p, 'members');
  const base = JSON.stringify(project(store.materialize(e, false), p));
  if (share === 'none' || !e.members || e.members.size === 0) {
    yield base;
    return;
  }
  yield base.slice(0, -1) + (base.length > 2 ? ',' : '') + '"members":[';
  let first = true;
  let buf = '';
  for (const [id, type] of e.members) {
    const m = store.memberObject(id, type, share === 'all' ? undefined : share);
    buf += (first ? '' : ',') + JSON.stringify(m);
    first = false;
    if (buf.length > 32_768) {
      yield buf;
      buf = '';
    }
  }
  yield buf + ']}';
}

export function listResources(store: SandboxStore, types: ResourceType[], params: ListParams, o: NormalizedOptions, fired: FiredFault[] = []): Reply {
  const parsed = parseFilterParam(params.filter, o.profile.leftToRightLogic);
  if (parsed && !o.profile.lastModified && mentionsSub(parsed, 'meta', 'lastmodified')) {
    throw badRequest(`this server (${o.profile.name}) has no meta.lastModified to filter on`, 'invalidFilter');
  }
  const filter = applyFilterQuirks(parsed, o.quirks);
  let startIndex = parseStartIndex(params.startIndex);
  const lc = o.profile.listCap;
  const cap = lc && !filter && types.length === 1 && types[0]!.toLowerCase() === lc.type.toLowerCase() ? lc.max : undefined;
  const maxStart = Math.min(o.profile.maxStartIndex ?? Infinity, cap ?? Infinity);
  if (startIndex > maxStart) {
    throw badRequest(`Start index too big (over ${maxStart}): page large sets with a filter such as id gt "<last id>"`, 'invalidValue');
  }
  const cursorMode = o.cursor !== undefined && params.cursor !== undefined && params.cursor !== null;
  if (cursorMode && params.count !== undefined && params.count !== '' && !(Number.isInteger(Number(params.count)) && Number(params.count) >= 0)) {
    throw badRequest(`count must be an integer >= 0, got ${JSON.stringify(params.count)}`, 'invalidCount');
  }
  let count = capped(parseCount(params.count, o), o);
  const proj = parseProjection(listParam(params.attributes, 'attributes'), listParam(params.excludedAttributes, 'excludedAttributes'), o.quirks);
  let sel = select(store, types, filter, o);
  if (filter && o.profile.filteredById && (params.sortBy === undefined || params.sortBy === '')) sel = sortSelection(store, sel, { attr: 'id' }, false);
  if (params.sortBy !== undefined && params.sortBy !== '' && o.profile.sort) {
    if (typeof params.sortBy !== 'string') throw badRequest('sortBy must be a string');
    let sortBy: AttrPath;
    try {
      sortBy = parseAttrPath(params.sortBy);
    } catch {
      throw badRequest(`invalid sortBy '${params.sortBy}'`, 'invalidPath');
    }
    const order = typeof params.sortOrder === 'string' ? params.sortOrder.toLowerCase() : 'ascending';
    if (order !== 'ascending' && order !== 'descending') throw badRequest(`sortOrder must be ascending or descending, got ${JSON.stringify(params.sortOrder)}`);
    sel = sortSelection(store, sel, sortBy, order === 'descending');
  }

  let total = sel.length;
  let reportedStart = startIndex;
  for (const f of fired) {
    const size = f.spec.pageSize ?? 10;
    if (f.spec.kind === 'ignoreCount') count = size;
    else if (f.spec.kind === 'capCount') count = Math.min(count, size);
    else if (f.spec.kind === 'repeatPage') startIndex = Math.max(1, startIndex - count);
    else if (f.spec.kind === 'shiftItems') {
      // As if `shift` resources had been inserted before the cursor since the first page.
      startIndex = Math.max(1, startIndex - f.shift);
      total += f.shift;
    }
  }
  const query = JSON.stringify([types, params.filter ?? '', params.sortBy ?? '', params.sortOrder ?? '']);
  const from = cursorMode ? decodeCursor(String(params.cursor), query, o.cursor!.timeoutSeconds) : startIndex - 1;
  const n = count === 0 ? 0 : Math.max(0, Math.min(count, sel.length - from, cap === undefined ? Infinity : cap - from));
  // scim2-server: totalResults is what this page holds, so a client that trusts it stops after page one.
  if (o.quirks.totalIsPageLength) total = n;
  const cursors = !cursorMode
    ? ''
    : (from + n < sel.length && n > 0 ? `,"nextCursor":"${encodeCursor({ o: from + n, q: query, t: Date.now() })}"` : '') +
      (from > 0 ? `,"previousCursor":"${encodeCursor({ o: Math.max(0, from - count), q: query, t: Date.now() })}"` : '');
  const head = cursorMode
    ? `{"schemas":["${LIST_SCHEMA}"],"totalResults":${total},"itemsPerPage":${n}${cursors}`
    : o.profile.omitListPagingFields
    ? `{"schemas":["${LIST_SCHEMA}"],"totalResults":${total}`
    : `{"schemas":["${LIST_SCHEMA}"],"totalResults":${total},"itemsPerPage":${n},"startIndex":${reportedStart}`;
  const omit = count === 0 || (n === 0 && o.omitEmptyResources);
  function* chunks(): Generator<string> {
    if (omit) {
      yield head + '}';
      return;
    }
    yield head + ',"Resources":[';
    for (let i = 0; i < n; i++) {
      if (i > 0) yield ',';
      yield* resourceChunks(store, sel.at(from + i), proj);
    }
    yield ']}';
  }
  return { status: 200, chunks: chunks() };
}
