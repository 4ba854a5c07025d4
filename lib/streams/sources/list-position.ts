/**
 * Where a listing stands after a page, as JSON: what a resumed export
 * (lib/resume/) needs to go on after that page exactly as the interrupted run
 * would have — the pager and its next position, the count checks learnt so
 * far, the stats, and the last page's ids for the repeated-page check. The
 * ids already passed on (the de-duplication set) travel separately: they can
 * be many.
 */
import type { ScimResource } from '../../types.js';
import type { CountsState } from './listing-counts.js';

export interface ListStatsState {
  pages: number;
  resources: number;
  duplicates: number;
  retries?: number;
  total?: number;
}

export interface ListPosition {
  pager: 'index' | 'cursor' | 'keyset';
  /** index: the next startIndex; cursor: the next cursor (null: done); keyset: the last id (null: done). */
  next: number | string | null;
  /** Reading again after the keyset switch or a re-read (rows seen are skipped silently). */
  rereading: boolean;
  rereadDone: boolean;
  keysetItems: number;
  missingIds: number;
  reread: number;
  previous: Array<string | null>;
  counts: CountsState;
  stats: ListStatsState;
}

export interface ListCheckpointHooks {
  /** Go on from here instead of page 1, with these ids already passed on. */
  from?: { position: ListPosition; seen: () => AsyncIterable<string> };
  /**
   * After every page: the position after it, and the resources passed on from
   * it, in order. Called synchronously between pages; must not block.
   */
  onPage(position: ListPosition, passed: readonly ScimResource[]): void;
}
