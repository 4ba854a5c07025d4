/**
 * The projection probe: before a resource table is listed, one small request
 * (`count` = a few resources, the table's `attributes=` and filter) checks
 * that the server honours `attributes=`. Real servers do not always:
 *
 * - scimmy answers an extension URN in `attributes=` with HTTP 400;
 * - scimgateway drops extension attributes named in `attributes=`;
 * - python scim2-server answers `attributes=name,emails` with `{}` / `[{}]`
 *   (sub-attribute paths `name.givenName` work).
 *
 * Each symptom moves the table one step down a ladder — sub-attribute paths,
 * then `excludedAttributes=groups` (or `members`), then full resources — with
 * a warning naming what the server did. An attribute that is missing from
 * every probed resource, or hollow, costs a second request without
 * `attributes=`: only if the resources have it there was it the server's doing.
 *
 * A 400 `invalidFilter` on the entity's filter is the other thing the probe
 * finds: with `filterFallback: local` the table is listed without the filter
 * and the parsed filter is applied locally (the attributes it reads are
 * requested too); with `fail` the table stops with ERR_EXPORT_FILTER_UNSUPPORTED.
 */
import { ScimEtlError, isScimEtlError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { filterReads, getAttr, formatFilter, type FilterNode, type FilterRead } from './filter.js';
import type { ColumnPath } from './path.js';
import { attributeAt, type SchemaDefinition } from './schemas.js';
import type { ScimClient } from './client.js';

export type ProjectionMode = 'attributes' | 'subAttributes' | 'excluded' | 'full';
export type FilterFallback = 'local' | 'fail';

export interface Projection {
  mode: ProjectionMode;
  /** `attributes=` to send (id first); absent: none. */
  attributes?: string[];
  /** `excludedAttributes=` to send; absent: none. */
  excludedAttributes?: string[];
  /** The filter to send; absent when there is none or it is applied locally. */
  filter?: string;
  /** Set when the server refused the filter and it is applied after listing. */
  localFilter?: FilterNode;
  /** Requests the probe made. */
  requests: number;
}

export interface ProbeOptions {
  endpoint: string;
  columns: readonly ColumnPath[];
  /** The filter text to send. */
  filter?: string;
  /** The parsed filter, evaluated locally when the server refuses `filter`. */
  filterAst?: FilterNode;
  filterFallback?: FilterFallback;
  /** For sub-attribute paths (which sub-attributes a complex attribute has) and boolean types. */
  schemas: readonly SchemaDefinition[];
  /** Resources asked for by the probe (default 10). */
  count?: number;
  /** Paging parameters of a first page, e.g. `{cursor: ''}` on a cursor-paging server. */
  firstPage?: Record<string, string>;
  /** Where on the ladder to start (a cached `check` verdict already showed the steps above fail). Default `attributes`. */
  startMode?: ProjectionMode;
  signal?: AbortSignal;
  logger?: Logger;
}

type Resource = Record<string, unknown>;

/** Resources that can weigh more than the whole rest of the resource, left out in `excluded` mode. */
const HEAVY: Record<string, string> = { users: 'groups', groups: 'members' };

/** Any top-level attribute a column or a local filter needs: what the probe looks for in the reply. */
interface Needed {
  schema?: string;
  attr: string;
  sub?: string;
  filter?: FilterNode;
}

export async function probeProjection(client: Pick<ScimClient, 'request'>, opts: ProbeOptions): Promise<Projection> {
  const logger = opts.logger ?? silentLogger;
  const count = opts.count ?? 10;
  const fallback = opts.filterFallback ?? 'local';
  const table = opts.endpoint;
  let filter = opts.filter;
  let localFilter: FilterNode | undefined;
  let needed: Needed[] = [...opts.columns];
  let mode: ProjectionMode = opts.startMode ?? 'attributes';
  let requests = 0;
  let fullPage: Resource[] | undefined;

  const get = async (params: Record<string, string | number | undefined>): Promise<Resource[]> => {
    requests++;
    const res = await client.request({ path: opts.endpoint, searchParams: { ...opts.firstPage, ...params, count }, signal: opts.signal });
    const list = getAttr(res.body, 'Resources');
    // A reply that is not a list response is the list source's to report.
    return Array.isArray(list) ? list.filter((r): r is Resource => r !== null && typeof r === 'object' && !Array.isArray(r)) : [];
  };

  for (;;) {
    const shape = shapeFor(mode, needed, opts);
    if (shape === undefined) {
      mode = next(mode);
      continue;
    }
    let page: Resource[];
    try {
      page = await get({ ...shapeParams(shape), filter });
    } catch (err) {
      if (!isBadRequest(err)) throw err;
      if (filter !== undefined && isInvalidFilter(err)) {
        const ast = opts.filterAst;
        if (fallback === 'fail' || !ast) {
          throw new ScimEtlError(
            'ERR_EXPORT_FILTER_UNSUPPORTED',
            `${table}: the server refuses the filter ${JSON.stringify(filter)} (${detailOf(err)})${fallback === 'fail' ? '; filterFallback is fail' : ''}. Change the filter, or set export.filterFallback: local to filter after listing`,
            { table, filter },
            { cause: err },
          );
        }
        logger.warn(`${table}: the server refuses the filter (${detailOf(err)}); listing every resource and applying ${formatFilter(ast)} locally (export.filterFallback: local)`, { table });
        filter = undefined;
        localFilter = ast;
        needed = [...needed, ...filterReads(ast).map(asNeeded)];
        continue;
      }
      if (mode === 'full') throw err;
      const to: ProjectionMode = next(mode === 'attributes' ? 'subAttributes' : mode);
      logger.warn(`${table}: the server answers ${describeShape(shape)} with HTTP 400 (${detailOf(err)}); ${describeMode(to, opts.endpoint)} instead`, { table });
      mode = to;
      continue;
    }
    if (mode === 'full' || page.length === 0) break;

    // Only what the same page without attributes= has is the server's doing, not the data's.
    const plain = async () => (fullPage ??= await referencePage(get, filter, needed, opts, logger));
    let hollow = needed.filter((n) => page.some((r) => isHollow(valueOf(r, n))));
    if (hollow.length > 0) {
      const full = await plain();
      hollow = hollow.filter((n) => full.some((r) => isPresent(valueOf(r, n))));
    }
    if (hollow.length > 0) {
      const to: ProjectionMode = mode === 'attributes' ? 'subAttributes' : next(mode);
      logger.warn(`${table}: the server answers ${describeShape(shape)} with empty objects for ${names(hollow)}; ${describeMode(to, opts.endpoint)} instead`, { table });
      mode = to;
      continue;
    }
    const absent = needed.filter((n) => !page.some((r) => isPresent(valueOf(r, n))));
    if (absent.length > 0) {
      const full = await plain();
      const dropped = absent.filter((n) => full.some((r) => isPresent(valueOf(r, n))));
      if (dropped.length > 0) {
        const to: ProjectionMode = next(mode === 'attributes' ? 'subAttributes' : mode);
        logger.warn(`${table}: the server leaves ${names(dropped)} out of its answer to ${describeShape(shape)} although the resources have them; ${describeMode(to, opts.endpoint)} instead`, { table });
        mode = to;
        continue;
      }
    }
    break;
  }
  const shape = shapeFor(mode, needed, opts) ?? {};
  const out: Projection = { mode, requests, ...shape };
  if (filter !== undefined) out.filter = filter;
  if (localFilter) out.localFilter = localFilter;
  return out;
}

/**
 * The page to compare with: the same resources without `attributes=`, but
 * without the heavy attribute (a Groups page of ten big groups can time out).
 * A server that cannot answer it leaves nothing to compare: an empty page.
 */
async function referencePage(
  get: (params: Record<string, string | number | undefined>) => Promise<Resource[]>,
  filter: string | undefined,
  needed: readonly Needed[],
  opts: ProbeOptions,
  logger: Logger,
): Promise<Resource[]> {
  const shape = shapeFor('excluded', needed, opts) ?? {};
  try {
    return await get({ ...shapeParams(shape), filter });
  } catch (err) {
    if (opts.signal?.aborted || !isScimEtlError(err) || err.category === 'auth') throw err;
    logger.debug(`${opts.endpoint}: cannot read a page to compare the projection with (${(err as Error).message}); keeping the projection`);
    return [];
  }
}

function next(mode: ProjectionMode): ProjectionMode {
  return mode === 'attributes' ? 'subAttributes' : mode === 'subAttributes' ? 'excluded' : 'full';
}

type Shape = { attributes?: string[]; excludedAttributes?: string[] };

/** The query of a mode; undefined when the mode has nothing to offer for this table (try the next). */
function shapeFor(mode: ProjectionMode, needed: readonly Needed[], opts: ProbeOptions): Shape | undefined {
  switch (mode) {
    case 'attributes':
      return { attributes: unique(['id', ...needed.map(topName)]) };
    case 'subAttributes':
      return { attributes: unique(['id', ...needed.flatMap((n) => subPaths(n, opts))]) };
    case 'excluded': {
      const heavy = HEAVY[opts.endpoint.toLowerCase()];
      if (!heavy || needed.some((n) => !n.schema && n.attr.toLowerCase() === heavy)) return undefined;
      return { excludedAttributes: [heavy] };
    }
    case 'full':
      return {};
  }
}

function shapeParams(shape: Shape): Record<string, string | undefined> {
  return { attributes: shape.attributes?.join(','), excludedAttributes: shape.excludedAttributes?.join(',') };
}

function describeShape(shape: Shape): string {
  if (shape.attributes) return `attributes=${shape.attributes.join(',')}`;
  if (shape.excludedAttributes) return `excludedAttributes=${shape.excludedAttributes.join(',')}`;
  return 'a plain list request';
}

function describeMode(mode: ProjectionMode, endpoint: string): string {
  switch (mode) {
    case 'subAttributes':
      return 'asking for sub-attribute paths (name.givenName)';
    case 'excluded':
      return `listing with excludedAttributes=${HEAVY[endpoint.toLowerCase()] ?? ''}`;
    default:
      return 'listing full resources (no attributes=)';
  }
}

function topName(n: Needed): string {
  return `${n.schema ? n.schema + ':' : ''}${n.attr}`;
}

/**
 * Sub-attribute paths that still give every cell: the column's sub-attribute,
 * `primary` of a multi-valued attribute (the primary-else-first rule), what a
 * value filter reads, and every sub-attribute of a complex value written whole.
 * Where the schemas do not know the attribute, the whole attribute.
 */
function subPaths(n: Needed, opts: ProbeOptions): string[] {
  const base = topName(n);
  const def = attributeAt(opts.schemas, opts.endpoint, { ...(n.schema ? { schema: n.schema } : {}), attr: n.attr });
  const subs = def?.subAttributes?.map((s) => s.name);
  if (!def || def.type !== 'complex' || !subs || subs.length === 0) return [base];
  const wanted = new Set<string>();
  if (n.sub) wanted.add(n.sub);
  else for (const s of subs) wanted.add(s);
  if (n.filter) for (const r of filterReads(n.filter)) wanted.add(r.attr);
  if (def.multiValued && subs.some((s) => s.toLowerCase() === 'primary')) wanted.add('primary');
  return [...wanted].map((s) => `${base}.${s}`);
}

function unique(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => {
    const k = n.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function asNeeded(r: FilterRead): Needed {
  return r;
}

function valueOf(resource: Resource, n: Needed): unknown {
  return getAttr(n.schema ? getAttr(resource, n.schema) : resource, n.attr);
}

/** `{}` or a list of only `{}`: what scim2-server answers for a complex attribute named whole. */
function isHollow(v: unknown): boolean {
  const empty = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x as object).length === 0;
  if (Array.isArray(v)) return v.length > 0 && v.every(empty);
  return empty(v);
}

function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0 && !isHollow(v);
  return !isHollow(v);
}

function names(ns: readonly Needed[]): string {
  return unique(ns.map(topName)).join(', ');
}

function isBadRequest(err: unknown): boolean {
  return isScimEtlError(err) && err.context.status === 400;
}

function isInvalidFilter(err: unknown): boolean {
  const e = err as { scimType?: string; detail?: string };
  if (e.scimType) return e.scimType.toLowerCase() === 'invalidfilter';
  return /\bfilter/i.test(e.detail ?? '');
}

function detailOf(err: unknown): string {
  const e = err as { scimType?: string; detail?: string; message?: string };
  return [e.scimType, e.detail].filter(Boolean).join(': ') || (e.message ?? 'HTTP 400');
}
