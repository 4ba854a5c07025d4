/**
 * What a listing's `totalResults` told, checked rather than trusted. Both
 * list sources (resources and membership owners) feed it every page and ask
 * it two things:
 *
 * - before each request: is the page budget spent? A listing may take at
 *   most `maxPages` requests, and at most 2 × what totalResults and the page
 *   size actually served imply (+2 for the end probe and a gap fill), so a
 *   server that serves one item per page of a huge or endless listing stops
 *   with a message instead of running for days.
 * - at the end: do the rows received match? totalResults dropping between
 *   pages means resources were deleted mid-run, which shifts later items
 *   to the front past a page boundary already read and can skip a live
 *   resource; the caller then reads again from where the count first
 *   dropped (insertions shift items back: duplicates, dropped by id, never
 *   a gap). The rows must end between the smallest and the largest
 *   totalResults seen; else the table fails (or warns, with
 *   `countMismatch: warn`).
 */
import { ScimEtlError } from '../../errors.js';

export type CountMismatch = 'fail' | 'warn';

export const DEFAULT_MAX_PAGES = 100_000;

export type CountVerdict =
  | { kind: 'ok' }
  /** Read again by index from this startIndex (once). */
  | { kind: 'reread'; from: number }
  | { kind: 'mismatch'; message: string };

/** What a ListingCounts has learnt, as JSON (a resumed export's checkpoint, lib/resume/). */
export interface CountsState {
  first?: number;
  min?: number;
  max?: number;
  movedAt?: number;
  step?: number;
  passPages: number;
  untrusted?: string;
}

export class ListingCounts {
  private first?: number;
  private min?: number;
  private max?: number;
  /** Lowest startIndex of a page whose totalResults is below one seen before it (resources deleted mid-run). */
  private movedAt?: number;
  /** Items on the first non-empty page: the page size the server really serves. */
  private step?: number;
  private passPages = 0;
  /** Why totalResults is known to be wrong for this listing (set once). */
  untrusted?: string;

  constructor(
    private readonly endpoint: string,
    private readonly pageSize: number,
    private readonly maxPages: number,
  ) {}

  /** The largest totalResults seen, while it is trusted. */
  get expected(): number | undefined {
    return this.untrusted ? undefined : this.max;
  }

  snapshot(): CountsState {
    const { first, min, max, movedAt, step, passPages, untrusted } = this;
    return { first, min, max, movedAt, step, passPages, untrusted };
  }

  restore(s: CountsState): void {
    Object.assign(this, { first: s.first, min: s.min, max: s.max, movedAt: s.movedAt, step: s.step, passPages: s.passPages, untrusted: s.untrusted });
  }

  /** A new pass over the listing (re-read, keyset restart): its own page budget. */
  newPass(): void {
    this.passPages = 0;
  }

  /** Call before each list request; throws ERR_EXPORT_PAGE_BUDGET when the budget is spent. */
  request(): void {
    this.passPages++;
    if (this.passPages > this.maxPages) {
      throw this.budgetError(`${this.maxPages} list requests without reaching the end (export.maxPages)`);
    }
    const derived = this.derivedBudget();
    if (derived !== undefined && this.passPages > derived) {
      throw this.budgetError(
        `${this.passPages - 1} list requests for totalResults ${this.max} at ${this.step} per page, more than twice the ${Math.ceil(this.max! / this.step!)} expected; the server serves ever smaller pages or does not advance`,
      );
    }
  }

  /**
   * One page read: its totalResults as a count of the whole listing (the
   * caller turns a keyset "what is left" into that), the startIndex asked
   * (undefined for cursor and keyset pages), and its item count.
   */
  observe(total: number | undefined, start: number | undefined, items: number): void {
    if (this.step === undefined && items > 0) this.step = items;
    if (total !== undefined) {
      if (this.first === undefined) {
        this.first = this.min = this.max = total;
      } else {
        // Only a drop can hide a resource (deletions shift later items to the front); insertions shift them back, giving duplicates.
        if (total < this.max! && start !== undefined) this.movedAt = Math.min(this.movedAt ?? Infinity, start);
        this.min = Math.min(this.min!, total);
        this.max = Math.max(this.max!, total);
      }
    }
    if (this.step !== undefined && this.max !== undefined && !this.untrusted) {
      const projected = Math.ceil(this.max / this.step);
      if (projected > this.maxPages) {
        throw this.budgetError(
          `the server reports totalResults ${this.max} and serves ${this.step} per page (asked ${this.pageSize}): ${projected} requests, more than export.maxPages (${this.maxPages}). Raise export.maxPages if that is right`,
        );
      }
    }
  }

  /** totalResults proved wrong (more items than it said): page to the end by what arrives, no count check. */
  distrust(why: string): void {
    this.untrusted ??= why;
  }

  /** The end of a pass with `received` distinct resources. `canReread`: index paging, and no re-read yet. */
  verdict(received: number, canReread: boolean): CountVerdict {
    if (this.untrusted || this.max === undefined) return { kind: 'ok' };
    const said = this.min === this.max ? `totalResults ${this.max}` : `totalResults between ${this.min} and ${this.max} (it changed during the run)`;
    if (received > this.max) {
      return { kind: 'mismatch', message: `${this.endpoint}: ${received} distinct resources arrived but the server said ${said}` };
    }
    if (received < this.max) {
      if (canReread && this.movedAt !== undefined) {
        // Deletions shift later items towards the front by up to (max - min) places: start that much earlier.
        return { kind: 'reread', from: Math.max(1, this.movedAt - (this.max - this.min!)) };
      }
      if (received < this.min!) {
        return { kind: 'mismatch', message: `${this.endpoint}: only ${received} distinct resources arrived but the server said ${said}` };
      }
    }
    return { kind: 'ok' };
  }

  private derivedBudget(): number | undefined {
    if (this.untrusted || this.max === undefined || !this.step) return undefined;
    return 2 * Math.ceil(this.max / this.step) + 2;
  }

  private budgetError(why: string): ScimEtlError {
    return new ScimEtlError('ERR_EXPORT_PAGE_BUDGET', `${this.endpoint}: stopped after ${why}; the table is not written`, { endpoint: this.endpoint, pages: this.passPages });
  }
}

/** Fails the table, or warns and lets it be written (`countMismatch: warn`). */
export function settleMismatch(message: string, mode: CountMismatch, warn: (text: string) => void, context: Record<string, unknown>): void {
  if (mode === 'warn') {
    warn(`${message}; writing the table anyway (countMismatch: warn)`);
    return;
  }
  throw new ScimEtlError('ERR_EXPORT_COUNT_MISMATCH', `${message}; the table is not written (set countMismatch: warn to write it anyway)`, context);
}
