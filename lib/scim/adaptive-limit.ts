/**
 * How many requests one connection keeps in flight, adapted to the server's
 * rate limit (AIMD): halve on a 429, grow back by one after a window of
 * successes as large as the current limit; never above the configured
 * concurrency, never below 1. Every request of a client passes through it, so
 * a rate-limited server is used at its limit instead of being stormed.
 */
import { ScimEtlError } from '../errors.js';

/** A slot held by one attempt; `epoch` tells whether a 429 it met is news or already answered. */
export interface Slot {
  readonly epoch: number;
  release(): void;
}

export interface LimitStats {
  /** Lowest limit the 429s brought it to (the configured concurrency when none came). */
  lowestLimit: number;
  /** Most requests actually in flight at once. */
  mostInFlight: number;
}

export class AdaptiveLimit {
  private limitNow: number;
  private inFlight = 0;
  private successes = 0;
  /** Bumped on each decrease: the 429s of requests started before it are the same burst, not a new signal. */
  private epoch = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly max: number,
    private readonly stats: LimitStats,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new ScimEtlError('ERR_INTERNAL_LIMIT', `adaptive limit: max must be an integer ≥ 1, got ${JSON.stringify(max)}`);
    this.limitNow = max;
    stats.lowestLimit = max;
  }

  get limit(): number {
    return this.limitNow;
  }

  get active(): number {
    return this.inFlight;
  }

  /** Waits for a free slot (first come, first served); rejects with the signal's reason when aborted. */
  async acquire(signal?: AbortSignal): Promise<Slot> {
    if (signal?.aborted) throw signal.reason;
    if (this.inFlight < this.limitNow && this.waiting.length === 0) {
      this.inFlight++;
      this.noteInFlight();
      return this.slot();
    }
    // The slot is counted by whoever grants it (wakeUp), so that no newcomer slips in between.
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
    return this.slot();
  }

  private slot(): Slot {
    let released = false;
    return {
      epoch: this.epoch,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.wakeUp();
      },
    };
  }

  /** A 429 on an attempt that held `slot`: halve, once per burst. */
  throttled(slot: Slot): void {
    this.successes = 0;
    if (slot.epoch !== this.epoch || this.limitNow === 1) return;
    this.epoch++;
    this.limitNow = Math.max(1, Math.floor(this.limitNow / 2));
    this.stats.lowestLimit = Math.min(this.stats.lowestLimit, this.limitNow);
  }

  /** A reply that was not a 429: after `limit` of them in a row, one more slot. */
  succeeded(): void {
    if (this.limitNow >= this.max) return;
    if (++this.successes < this.limitNow) return;
    this.successes = 0;
    this.limitNow++;
    this.wakeUp();
  }

  private noteInFlight(): void {
    if (this.inFlight > this.stats.mostInFlight) this.stats.mostInFlight = this.inFlight;
  }

  private wakeUp(): void {
    while (this.waiting.length > 0 && this.inFlight < this.limitNow) {
      this.inFlight++;
      this.noteInFlight();
      this.waiting.shift()!();
    }
  }
}
