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
   * Writes in flight at once (Slack's "burst"): one more is a 429 at once,
   * whatever the window's count — so that a test meets the limit however slow the machine is.
   */
  burst?: number;
}

export class RateLimiter {
  private windowStart = 0;
  private reads = 0;
  private writes = 0;
  private writesInFlight = 0;
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
    if (!read && this.o.burst !== undefined && this.writesInFlight >= this.o.burst) return this.windowMs < 1000 ? 0.01 : 1;
    if (read ? this.reads >= this.o.reads : this.writes >= this.o.writes) {
      const left = (this.windowStart + this.windowMs - t) / 1000;
      // Whole seconds, as servers send; a test's sub-second window gets hundredths (clients read decimals).
      return this.windowMs < 1000 ? Math.max(0.01, Math.ceil(left * 100) / 100) : Math.max(1, Math.ceil(left));
    }
    if (read) this.reads++;
    else {
      this.writes++;
      this.writesInFlight++;
    }
    return undefined;
  }

  /** A request `take` let through has been answered. */
  done(method: string, path: string): void {
    if (!isRead(method, path)) this.writesInFlight = Math.max(0, this.writesInFlight - 1);
  }
}

function isRead(method: string, path: string): boolean {
  return method === 'GET' || (method === 'POST' && /\/\.search$/i.test(path));
}
