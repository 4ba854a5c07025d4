/**
 * Every resource of one SCIM endpoint (Users, Groups, any resource type), one
 * at a time, as an object-mode Readable. Pages come from a pager strategy
 * (index by default); this stage adds what every strategy needs: only the
 * attributes the columns use, the filter, de-duplication by id in bounded
 * memory, and the repeated-page check.
 */
import { Readable } from 'node:stream';
import { ScimEtlError, isScimEtlError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import type { ScimClient } from '../../scim/client.js';
import type { ScimResource } from '../../types.js';
import { isCutBody } from './broken-body.js';
import { IdSet } from './id-set.js';
import { describePage, readListResponse, type ListPage } from './list-response.js';
import { DEFAULT_MAX_PAGES, ListingCounts, settleMismatch, type CountMismatch } from './listing-counts.js';
import { cursorPager, indexPager, keysetPager, type Pager, type SearchParams } from './pagers.js';
import type { ListCheckpointHooks, ListPosition } from './list-position.js';

export type PagingMethod = 'index' | 'cursor' | 'keyset';

export interface ListStats {
  /** List requests answered (gap fills included). */
  pages: number;
  /** Resources passed on. */
  resources: number;
  /** Resources dropped because their id was already passed on. */
  duplicates: number;
  /** Pages asked again after a broken body. */
  retries?: number;
  /** totalResults of the first page, when the server said it. */
  total?: number;
  /** The largest totalResults seen, set at the end when it was checked against the rows (absent when the server does not count the listing). */
  expected?: number;
}

export interface ScimListSourceOptions {
  /** Endpoint name: 'Users', 'Groups', 'Containers'… */
  endpoint: string;
  /** `attributes=` values (id is added); absent: every attribute. */
  attributes?: readonly string[];
  excludedAttributes?: readonly string[];
  /** SCIM filter text, sent URL-encoded. */
  filter?: string;
  pageSize?: number;
  concurrency?: number;
  paging?: PagingMethod;
  /** A pager of your own (overrides `paging`). */
  pager?: Pager;
  signal?: AbortSignal;
  logger?: Logger;
  /** Filled in as pages arrive (the caller keeps the reference). */
  stats?: ListStats;
  /** Called after every page with what is known so far (for progress). */
  onPage?: (stats: ListStats) => void;
  /**
   * Repeats of a page whose body broke off or is not JSON (truncated). HTTP
   * failures are retried by the client already. Default 2.
   */
  retries?: number;
  /** A row count that does not match totalResults: fail the table (default) or warn and write it. */
  countMismatch?: CountMismatch;
  /** List requests a table may take (default 100,000). */
  maxPages?: number;
  /** Resumable exports (lib/resume/): start from a checkpoint, report each page's position. */
  checkpoint?: ListCheckpointHooks;
}

interface NormalizedListOptions {
  endpoint: string;
  pageSize: number;
  filter?: string;
  base: SearchParams;
  /** A caller's own pager; else index paging from makeIndexPager, or the chosen strategy. */
  pager?: Pager;
  makeIndexPager: (from: number, onUntrustedTotal: (why: string) => void) => Pager;
  signal: AbortSignal;
  logger: Logger;
  stats: ListStats;
  onPage?: (stats: ListStats) => void;
  retries: number;
  countMismatch: CountMismatch;
  maxPages: number;
}

const DEFAULT_PAGE_SIZE = 200;

export function normalizeListOptions(opts: ScimListSourceOptions): NormalizedListOptions {
  const bad = (what: string, got: unknown) =>
    new ScimEtlError('ERR_OPTION_LIST_SOURCE', `${what}, got ${JSON.stringify(got)}`, {});
  if (typeof opts.endpoint !== 'string' || !/^[A-Za-z][\w-]*$/.test(opts.endpoint)) {
    throw bad('endpoint must be a resource endpoint name such as "Users"', opts.endpoint);
  }
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw bad('pageSize must be a positive integer', opts.pageSize);
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw bad('concurrency must be an integer from 1 to 64', opts.concurrency);
  const paging = opts.paging ?? 'index';
  if (!['index', 'cursor', 'keyset'].includes(paging)) throw bad("paging must be 'index', 'cursor' or 'keyset'", opts.paging);
  const retries = opts.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0) throw bad('retries must be a non-negative integer', opts.retries);
  const countMismatch = opts.countMismatch ?? 'fail';
  if (countMismatch !== 'fail' && countMismatch !== 'warn') throw bad("countMismatch must be 'fail' or 'warn'", opts.countMismatch);
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isInteger(maxPages) || maxPages < 1) throw bad('maxPages must be a positive integer', opts.maxPages);

  const base: SearchParams = {};
  if (opts.attributes && opts.attributes.length > 0) base.attributes = attributeList(['id', ...opts.attributes]);
  if (opts.excludedAttributes && opts.excludedAttributes.length > 0) base.excludedAttributes = attributeList(opts.excludedAttributes);
  if (opts.filter && paging !== 'keyset') base.filter = opts.filter;

  const logger = opts.logger ?? silentLogger;
  const makeIndexPager = (from: number, onUntrustedTotal: (why: string) => void): Pager =>
    indexPager({
      pageSize,
      concurrency,
      from,
      onGap: (start, missing) => logger.debug(`${opts.endpoint}: page short by ${missing}, fetching from startIndex ${start}`),
      onUntrustedTotal,
    });
  const pager = opts.pager ?? (paging === 'cursor' ? cursorPager({ pageSize }) : paging === 'keyset' ? keysetPager({ pageSize, filter: opts.filter }) : undefined);
  const stats = opts.stats ?? { pages: 0, resources: 0, duplicates: 0 };
  return {
    endpoint: opts.endpoint,
    pageSize,
    filter: opts.filter,
    base,
    pager,
    makeIndexPager,
    signal: opts.signal ?? new AbortController().signal,
    logger,
    stats,
    onPage: opts.onPage,
    retries,
    countMismatch,
    maxPages,
  };
}

/** Comma-separated, each name once (case-insensitively), order kept. */
export function attributeList(names: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    const k = n.toLowerCase();
    if (!seen.has(k)) {
      seen.add(k);
      out.push(n);
    }
  }
  return out.join(',');
}

/** The ids of a page, for the repeated-page check (null when a resource has none). */
function pageIds(page: ListPage): Array<string | undefined> {
  return page.resources.map((r) => (typeof r.id === 'string' ? r.id : undefined));
}

function sameIds(a: Array<string | undefined>, b: Array<string | undefined>): boolean {
  if (a.length === 0 || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] === undefined || a[i] !== b[i]) return false;
  return true;
}

export async function* listResources(client: Pick<ScimClient, 'request'>, opts: ScimListSourceOptions): AsyncGenerator<ScimResource> {
  for await (const page of listPages(client, opts)) yield* page;
}

/**
 * The listing page by page: each page's resources after de-duplication, in
 * order, one array per page (never an empty one). The export's fast path
 * encodes a page at a time (transforms/page-table.ts).
 */
export async function* listPages(client: Pick<ScimClient, 'request'>, opts: ScimListSourceOptions): AsyncGenerator<ScimResource[]> {
  const o = normalizeListOptions(opts);
  const seen = new IdSet();
  const counts = new ListingCounts(o.endpoint, o.pageSize, o.maxPages);
  const fetch = async (params: SearchParams, signal: AbortSignal): Promise<ListPage> => {
    const searchParams = { ...o.base, ...params };
    const where = describePage(o.endpoint, params);
    // A first cursor page (cursor "") must hold what its totalResults says; later ones may not tell where they are.
    const start = typeof params.startIndex === 'number' && params.cursor === undefined ? params.startIndex : params.cursor === '' ? 1 : undefined;
    for (let attempt = 0; ; attempt++) {
      counts.request();
      try {
        const res = await client.request({ path: o.endpoint, searchParams, signal });
        o.stats.pages++;
        const page = readListResponse(res.body, where, start);
        if (typeof params.startIndex === 'number') page.start = params.startIndex;
        return page;
      } catch (err) {
        if (signal.aborted || attempt >= o.retries || !isCutBody(err)) throw err;
        o.stats.retries = (o.stats.retries ?? 0) + 1;
        o.logger.debug(`${where}: the body broke off (${(err as Error).message}); asking again`);
      }
    }
  };
  let previous: Array<string | undefined> = [];
  let missingIds = 0;
  const onUntrustedTotal = (why: string) => {
    counts.distrust(why);
    o.logger.warn(`${o.endpoint}: ${why}; paging on until an empty page, and the row count is not checked against totalResults`);
  };
  let pager = o.pager ?? o.makeIndexPager(1, onUntrustedTotal);
  /** Rows read again after the switch to keyset paging or for a re-read: already written, not server duplicates. */
  let rereading = false;
  let reread = 0;
  /** Items of this keyset pass so far: a keyset page's totalResults counts only what is left after them. */
  let keysetItems = 0;
  let rereadDone = false;
  // A caller's own pager has a position only it knows.
  const hooks = opts.pager ? undefined : opts.checkpoint;
  if (hooks?.from) {
    // A resumed export: the state after the checkpointed page, then the pager from where it stood.
    const p = hooks.from.position;
    if (p.stats.total !== undefined) seen.reserve(p.stats.total);
    for await (const id of hooks.from.seen()) seen.add(id);
    Object.assign(o.stats, p.stats);
    counts.restore(p.counts);
    ({ rereading, rereadDone, keysetItems, missingIds, reread } = p);
    previous = p.previous.map((id) => id ?? undefined);
    if (p.pager === 'index') pager = o.makeIndexPager(p.next as number, onUntrustedTotal);
    else if (p.pager === 'cursor') pager = cursorPager({ pageSize: o.pageSize, from: p.next as string | null });
    else pager = p.next === null ? { name: 'keyset', pages: async function* () {} } : keysetPager({ pageSize: o.pageSize, filter: o.filter, after: p.next as string });
  }
  for (;;) {
    try {
      for await (const page of pager.pages(fetch, o.signal)) {
        const kept = pageResources(page);
        // Before the page goes on: its checkpoint is kept once its rows have reached the file.
        if (hooks) hooks.onPage(position(page), kept);
        if (kept.length > 0) yield kept;
        o.onPage?.(o.stats);
      }
    } catch (err) {
      if (pager.name !== 'index' || !isDeepPagingRefusal(err)) throw err;
      // Salesforce-like servers refuse a deep startIndex and point to `id gt`. The
      // index pages came in list order, not id order, so no id tells where to go
      // on: read again from the start by keyset; the id set drops rows written.
      o.logger.warn(`${o.endpoint}: the server refuses deep startIndex (${(err as Error).message}); reading again from the start by keyset paging (id pr, then id gt "<last id>"), skipping the ${o.stats.resources} row(s) already written`);
      pager = keysetPager({ pageSize: o.pageSize, filter: o.filter });
      rereading = true;
      previous = [];
      keysetItems = 0;
      counts.newPass();
      continue;
    }
    const received = o.stats.resources;
    const verdict = counts.verdict(received, pager.name === 'index' && o.pager === undefined && !rereadDone);
    if (verdict.kind === 'reread') {
      // totalResults dropped mid-run: a deletion shifts later items one place to the front, past a page boundary already read.
      o.logger.warn(`${o.endpoint}: totalResults dropped during the run and ${received} resource(s) arrived; reading again from startIndex ${verdict.from} so that no shifted resource is missed (rows already written are skipped)`);
      rereadDone = true;
      rereading = true;
      previous = [];
      counts.newPass();
      pager = o.makeIndexPager(verdict.from, onUntrustedTotal);
      continue;
    }
    o.stats.expected = counts.expected;
    if (verdict.kind === 'mismatch') {
      settleMismatch(verdict.message, o.countMismatch, (t) => o.logger.warn(t), { endpoint: o.endpoint, expected: counts.expected, received });
    }
    break;
  }
  if (missingIds > 0) o.logger.warn(`${o.endpoint}: ${missingIds} resource(s) without an id (kept, not de-duplicated)`);
  if (reread > 0) o.logger.debug(`${o.endpoint}: ${reread} resource(s) read again (skipped)`);
  if (o.stats.duplicates > 0) o.logger.debug(`${o.endpoint}: ${o.stats.duplicates} duplicate resource(s) dropped`);

  /** The page's resources to pass on: the array itself unless some are dropped. */
  function pageResources(page: ListPage): ScimResource[] {
    if (o.stats.total === undefined && page.totalResults !== undefined) {
      o.stats.total = page.totalResults;
      // Sized once for the listing instead of doubling through it (bounded: the number may be wrong).
      seen.reserve(page.totalResults);
    }
    const whole = page.totalResults === undefined ? undefined : pager.name === 'keyset' ? keysetItems + page.totalResults : page.totalResults;
    counts.observe(whole, pager.name === 'index' ? page.start : undefined, page.resources.length);
    if (pager.name === 'keyset') keysetItems += page.resources.length;
    const ids = pageIds(page);
    if (sameIds(ids, previous)) {
      throw new ScimEtlError(
        'ERR_EXPORT_REPEATED_PAGE',
        `${o.endpoint}: the server returned the same page twice (${ids.length} resources starting with id ${JSON.stringify(ids[0])}); it probably ignores ${pager.name === 'index' ? 'startIndex' : pager.name === 'cursor' ? 'cursor' : 'the id filter'}. Export stopped so that no rows are missed silently.`,
        { endpoint: o.endpoint, pages: o.stats.pages },
      );
    }
    previous = ids;
    let kept: ScimResource[] | undefined;
    const all = page.resources;
    for (let i = 0; i < all.length; i++) {
      const resource = all[i]!;
      const id = resource.id;
      let keep = true;
      if (typeof id === 'string') {
        if (!seen.add(id)) {
          if (rereading) reread++;
          else o.stats.duplicates++;
          keep = false;
        }
      } else if (rereading) {
        // Cannot tell whether it was written already: a broken server's row is not worth a duplicate.
        reread++;
        keep = false;
      } else missingIds++;
      if (keep) {
        o.stats.resources++;
        kept?.push(resource);
      } else {
        kept ??= all.slice(0, i);
      }
    }
    return kept ?? all;
  }

  function position(page: ListPage): ListPosition {
    const name = pager.name as ListPosition['pager'];
    const last = page.resources[page.resources.length - 1]?.id;
    const next = name === 'index' ? page.start! + page.resources.length : name === 'cursor' ? (page.nextCursor || null) : typeof last === 'string' ? last : null;
    const { pages, resources, duplicates, retries, total } = o.stats;
    return {
      pager: name,
      next,
      rereading,
      rereadDone,
      keysetItems,
      missingIds,
      reread,
      previous: previous.map((id) => id ?? null),
      counts: counts.snapshot(),
      stats: { pages, resources, duplicates, retries, total },
    };
  }
}

/** A 400 that says the start index is too big (Salesforce: "Start index too big… filter with id gt"). */
export function isDeepPagingRefusal(err: unknown): boolean {
  if (!isScimEtlError(err) || err.context.status !== 400) return false;
  const text = `${(err as { detail?: string }).detail ?? ''} ${err.message}`;
  return /start\s*index|\bid gt\b/i.test(text);
}

/** Object-mode Readable of ScimResource; pulls pages only as fast as it is read. */
export function scimListSource(client: Pick<ScimClient, 'request'>, opts: ScimListSourceOptions): Readable {
  normalizeListOptions(opts); // fail at construction on bad options
  return Readable.from(listResources(client, opts), { objectMode: true, highWaterMark: 16 });
}

/** Object-mode Readable of pages (ScimResource[]); one page read ahead at most, beside the pager's in-flight ones. */
export function scimPageSource(client: Pick<ScimClient, 'request'>, opts: ScimListSourceOptions): Readable {
  normalizeListOptions(opts);
  return Readable.from(listPages(client, opts), { objectMode: true, highWaterMark: 1 });
}
