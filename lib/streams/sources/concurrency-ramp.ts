/**
 * How many list pages to keep in flight: start at 1, add one while the rate
 * at which pages are consumed (rows per second, measured where the table is
 * written, so a busy CPU counts) grows by a clear margin, and settle on the
 * best width as soon as one more page in flight stops paying. So the default
 * is never slower than one page at a time, and a slow server still gets the
 * configured concurrency. The client's adaptive limit (scim/adaptive-limit.ts)
 * still halves on 429s underneath.
 *
 * The first pages are not measured: they run while the process warms up
 * (code being compiled, buffers growing), at about half the speed of what
 * follows, and a window of them taken as the one-page rate made any width
 * look better (seen at 1M users: settled at 2–3 in flight, 10% slower and
 * 25 MB more than one page at a time).
 */
export interface RampOptions {
  /** The configured concurrency: the widest it goes. */
  max: number;
  /** Pages per measurement window. */
  window?: number;
  /** Pages consumed before the first window starts. */
  warmup?: number;
  /** Growth that counts as better (0.15 = 15 % more rows per second). */
  margin?: number;
  now?: () => number;
}

export class ConcurrencyRamp {
  private current = 1;
  private bestWidth = 1;
  private bestRate = 0;
  private settled: boolean;
  private started: number;
  private items = 0;
  private pages = 0;
  private warming: number;
  private readonly window: number;
  private readonly margin: number;
  private readonly now: () => number;

  constructor(opts: RampOptions) {
    this.window = opts.window ?? 5;
    this.warming = opts.warmup ?? 8;
    this.margin = opts.margin ?? 0.15;
    this.now = opts.now ?? (() => performance.now());
    this.settled = opts.max <= 1;
    this.max = Math.max(1, opts.max);
    this.started = this.now();
  }

  readonly max: number;

  /** Pages to keep in flight now. */
  get width(): number {
    return this.current;
  }

  /** A page of `items` rows was consumed. */
  consumed(items: number): void {
    if (this.settled) return;
    if (this.warming > 0) {
      if (--this.warming === 0) this.started = this.now();
      return;
    }
    this.items += items;
    if (++this.pages < this.window) return;
    const t = this.now();
    const rate = this.items / Math.max(t - this.started, 0.001);
    this.started = t;
    this.items = 0;
    this.pages = 0;
    if (rate > this.bestRate * (1 + this.margin)) {
      this.bestRate = rate;
      this.bestWidth = this.current;
      if (this.current < this.max) this.current++;
      else this.settled = true;
    } else {
      this.current = this.bestWidth;
      this.settled = true;
    }
  }
}
