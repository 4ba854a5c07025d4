/**
 * A fixed-window rate limiter like the ones SaaS SCIM APIs apply (Slack:
 * 1,000 reads and 600 writes per minute): over the limit a request gets 429
 * with Retry-After in seconds until the window ends. The client must slow
 * down, not fail.
 */
export interface RateLimitOptions {
  /** Requests with GET (and POST …/.search) per window. */
  reads: number;
  /** POST, PUT, PATCH, DELETE per window. */
  writes: number;
  /** Window length, ms (default 60,000); below 1,000 Retry-After is given in hundredths of a second. */
  windowMs?: number;
  /**
   * Slack's burst allowance: after `writes` writes in a row the next write is
   * a 429 (Retry-After `pauseMs`), and so is every write in the pause; then
   * the count starts again. It fires after a count, not a rate, so a test
   * meets it however slow the machine is.
   */
  burst?: { writes: number; pauseMs: number };
}

export class RateLimiter {
  private windowStart = 0;
  private reads = 0;
  private writes = 0;
  /** Writes let through since the last burst pause. */
  private inRow = 0;
  private pauseUntil = 0;
  private readonly windowMs: number;

  constructor(
    private readonly o: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = o.windowMs ?? 60_000;
  }

  /** Counts the request; undefined when allowed, else the seconds to wait. */
  take(method: string, path: string): number | undefined {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.reads = 0;
      this.writes = 0;
    }
    const read = isRead(method, path);
    const burst = this.o.burst;
    if (!read && burst) {
      if (t < this.pauseUntil) return seconds(this.pauseUntil - t, burst.pauseMs);
      if (this.inRow >= burst.writes) {
        this.inRow = 0;
        this.pauseUntil = t + burst.pauseMs;
        return seconds(burst.pauseMs, burst.pauseMs);
      }
    }
    if (read ? this.reads >= this.o.reads : this.writes >= this.o.writes) return seconds(this.windowStart + this.windowMs - t, this.windowMs);
    if (read) this.reads++;
    else {
      this.writes++;
      this.inRow++;
    }
    return undefined;
  }
}

/**
 * Retry-After for a wait of `ms`: whole seconds, as servers send; where the
 * period is under a second (a test's), hundredths (clients read decimals).
 */
function seconds(ms: number, period: number): number {
  return period < 1000 ? Math.max(0.01, Math.ceil(ms / 10) / 100) : Math.max(1, Math.ceil(ms / 1000));
}

function isRead(method: string, path: string): boolean {
  return method === 'GET' || (method === 'POST' && /\/\.search$/i.test(path));
}
