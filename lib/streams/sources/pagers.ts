/**
 * Paging strategies for a SCIM list endpoint. A pager only decides which page
 * to ask for next and when to stop; fetching, de-duplication and repeated-page
 * detection live in the list source, so every strategy gets them.
 *
 * - index  (RFC 7644 startIndex/count): the default; concurrent once
 *          totalResults is known.
 * - cursor (RFC 9865 cursor/nextCursor).
 * - keyset (`id pr`, then `id gt "<last id>"`, for servers that refuse deep
 *          startIndex such as Salesforce); assumes the server returns
 *          filtered lists in id order.
 */
import { quoteLiteral } from '../../scim/filter.js';
import { ConcurrencyRamp } from './concurrency-ramp.js';
import type { ListPage } from './list-response.js';

export type SearchParams = Record<string, string | number | undefined>;

/** Fetches one page; the list source adds the base parameters (attributes, filter). */
export type FetchPage = (params: SearchParams, signal: AbortSignal) => Promise<ListPage>;

export interface Pager {
  readonly name: string;
  pages(fetch: FetchPage, signal: AbortSignal): AsyncGenerator<ListPage>;
}

export interface IndexPagerOptions {
  pageSize: number;
  /** Pages in flight at most after the first page told totalResults; how many really is adapted (concurrency-ramp.ts). */
  concurrency: number;
  /** Keep exactly `concurrency` in flight instead of ramping up from 1. */
  fixed?: boolean;
  /** First startIndex (a re-read from the middle); default 1. */
  from?: number;
  /** Called when a page is short of what was asked and the gap is fetched. */
  onGap?: (start: number, missing: number) => void;
  /** Called once when the end probe proves totalResults wrong; paging then goes on until an empty page. */
  onUntrustedTotal?: (why: string) => void;
}

interface Planned {
  start: number;
  /** How many items this request is meant to cover. */
  span: number;
  controller: AbortController;
  promise: Promise<ListPage>;
}

/**
 * Index paging. The first page is fetched alone: it tells totalResults and
 * how many items the server really gives per page (it may cap or ignore
 * `count`). Then up to `concurrency` pages are in flight (from 1, widened
 * while it makes the table go faster), consumed strictly in order; a page shorter than expected gets its gap fetched before the next
 * one, and an empty page ends the listing. Never more than `concurrency`
 * pages are held, so a slow consumer slows the fetching (backpressure).
 *
 * Reaching totalResults ends the listing, unless the last page gives reason
 * to doubt it: its item count equals totalResults (some servers count the
 * page, not the listing), or more items arrived than it said. Then one more
 * page is asked; items there prove totalResults wrong, and paging goes on
 * sequentially until an empty page. An honest table costs at most that one
 * extra request.
 */
export function indexPager(opts: IndexPagerOptions): Pager {
  const { pageSize } = opts;
  const concurrency = Math.max(1, opts.concurrency);
  const from = Math.max(1, opts.from ?? 1);
  return {
    name: 'index',
    async *pages(fetch, signal) {
      let last = await fetch({ startIndex: from, count: pageSize }, signal);
      yield last;
      const step = last.resources.length;
      if (step === 0) return;
      let next = from + step;
      let total = last.totalResults;
      let probed = false;
      let trusted = true;

      if (total !== undefined && next <= total && concurrency > 1) {
        // Known from here on; it may grow while we read (items inserted meanwhile).
        let known: number = total;
        const queue: Planned[] = [];
        let planFrom = next;
        const plan = (start: number, span: number, front = false): void => {
          const controller = new AbortController();
          const onAbort = () => controller.abort(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          const promise = fetch({ startIndex: start, count: Math.min(pageSize, Math.max(span, 1)) }, controller.signal).finally(() => signal.removeEventListener('abort', onAbort));
          // Rejections of pages we end up not awaiting must not be unhandled.
          promise.catch(() => undefined);
          const p: Planned = { start, span, controller, promise };
          if (front) queue.unshift(p);
          else queue.push(p);
        };
        const ramp = opts.fixed ? undefined : new ConcurrencyRamp({ max: concurrency });
        const width = () => ramp?.width ?? concurrency;
        const fill = () => {
          while (queue.length < width() && planFrom <= known) {
            plan(planFrom, step);
            planFrom += step;
          }
        };
        try {
          fill();
          while (queue.length > 0) {
            const head = queue.shift()!;
            const page = await head.promise;
            const got = page.resources.length;
            if (got === 0) return;
            if (page.totalResults !== undefined && page.totalResults > known) known = page.totalResults;
            // What this request should have covered, given the planned step.
            const expected = Math.min(head.span, known - head.start + 1);
            if (got < expected) {
              opts.onGap?.(head.start + got, expected - got);
              plan(head.start + got, expected - got, true);
            }
            yield page;
            ramp?.consumed(got);
            last = page;
            next = Math.max(next, head.start + got);
            fill();
          }
        } finally {
          for (const p of queue) p.controller.abort();
        }
        total = known;
      }

      // Sequential: the end is an empty page, or totalResults when it holds.
      for (;;) {
        if (trusted && total !== undefined && next > total) {
          const doubt = last.totalResults === last.resources.length ? 'equal to the items of one page' : next - 1 > total ? `lower than the ${next - 1} items already served` : undefined;
          if (probed || doubt === undefined) return;
          probed = true;
          const probe = await fetch({ startIndex: next, count: pageSize }, signal);
          // The same page again: a server that ignores startIndex, whose totalResults is all there is.
          if (probe.resources.length === 0 || samePage(probe, last)) return;
          trusted = false;
          opts.onUntrustedTotal?.(`totalResults (${total}) is ${doubt}, yet startIndex ${next} returned ${probe.resources.length} more: the server does not count the whole listing`);
          yield probe;
          next += probe.resources.length;
          last = probe;
          continue;
        }
        const page = await fetch({ startIndex: next, count: pageSize }, signal);
        if (page.resources.length === 0) return;
        yield page;
        next += page.resources.length;
        last = page;
        if (page.totalResults !== undefined) total = page.totalResults;
      }
    },
  };
}

/** Same ids in the same order (every resource with an id). */
function samePage(a: ListPage, b: ListPage): boolean {
  return a.resources.length === b.resources.length && a.resources.every((r, i) => typeof r.id === 'string' && r.id === b.resources[i]!.id);
}

export interface CursorPagerOptions {
  pageSize: number;
  /** Continue with this cursor (a resumed export); null: the listing was already done. */
  from?: string | null;
}

/** RFC 9865: `cursor` empty on the first request, then each page's `nextCursor`. */
export function cursorPager(opts: CursorPagerOptions): Pager {
  return {
    name: 'cursor',
    async *pages(fetch, signal) {
      if (opts.from === null) return;
      let cursor = opts.from ?? '';
      for (;;) {
        const page = await fetch({ cursor, count: opts.pageSize }, signal);
        if (page.resources.length > 0) yield page;
        if (!page.nextCursor || page.resources.length === 0) return;
        cursor = page.nextCursor;
      }
    },
  };
}

export interface KeysetPagerOptions {
  pageSize: number;
  /** The entity's own filter, combined with the id condition (always parenthesised: Salesforce has no and/or precedence). */
  filter?: string;
  /** Start after this id. */
  after?: string;
}

/**
 * The request of one keyset page. Every page carries an id condition, the
 * first one `id pr`: Salesforce lists in id order only when filtered, and a
 * first page in another order would make `id gt "<its last id>"` skip rows.
 */
export function keysetParams(pageSize: number, filter: string | undefined, after: string | undefined): SearchParams {
  const keyset = after === undefined ? 'id pr' : `id gt ${quoteLiteral(after)}`;
  return { startIndex: 1, count: pageSize, filter: filter ? `(${filter}) and ${keyset}` : keyset };
}

/** The id the next keyset page starts after; undefined when the listing is done (empty page, no id, no progress). */
export function keysetNext(ids: readonly unknown[], after: string | undefined): string | undefined {
  const last = ids[ids.length - 1];
  return typeof last === 'string' && last !== after ? last : undefined;
}

/** `filter=(<filter>) and id pr`, then `… and id gt "<last id>"`, startIndex always 1, until an empty page. */
export function keysetPager(opts: KeysetPagerOptions): Pager {
  return {
    name: 'keyset',
    async *pages(fetch, signal) {
      let last: string | undefined = opts.after;
      for (;;) {
        const page = await fetch(keysetParams(opts.pageSize, opts.filter, last), signal);
        if (page.resources.length === 0) return;
        yield page;
        last = keysetNext(page.resources.map((r) => r.id), last);
        if (last === undefined) return;
      }
    },
  };
}
