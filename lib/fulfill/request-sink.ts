/**
 * PlanItem → LineOutcome by single requests, at most `concurrency` in flight
 * over the client's keep-alive pool. Operations on the same resource
 * (`/Users/{id}`, `/Groups/{id}`) run one after the other in order-line order
 * ("add U to G, remove U from G" must end without U); operations on different
 * resources run in parallel. Outcomes leave in completion order; the
 * results sink puts them back in order-line order. A fatal error (refused
 * credentials, abort) is latched in `ctx.fatal`: the requests in flight finish,
 * nothing more is sent and the remaining lines come out `skipped`. Every
 * other error fails its own lines only.
 *
 * runFulfill does not use this stage: its executor (lib/fulfill/executor.ts)
 * sends, with the journal, a bounded reorder window and a drain on any
 * error; it shares KeyedChains and normalizeConcurrency from here. This
 * stream stays for library users composing their own pipelines.
 */
import { Transform } from 'node:stream';
import { ScimEtlError } from '../errors.js';
import { executeOrSkip, type ExecContext } from './execute.js';
import { resourceKey } from '../scim/requests.js';
import type { LineOutcome, PlanItem } from '../types.js';

export interface RequestSinkOptions extends ExecContext {
  /** Requests in flight (default 4). */
  concurrency?: number;
}

export function normalizeConcurrency(value: number | undefined): number {
  const n = value ?? 4;
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new ScimEtlError('ERR_OPTION_CONCURRENCY', `fulfill concurrency must be an integer from 1 to 256, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Runs tasks one after the other per key and in parallel across keys. Holds
 * one entry per key with a task pending or running, no more.
 */
export class KeyedChains {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** `task` starts once the previous task of `key` has settled (at once without a key). */
  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    if (key === undefined) return task();
    const prev = this.tails.get(key);
    const p = prev ? prev.then(task, task) : task();
    this.tails.set(key, p);
    const forget = () => {
      if (this.tails.get(key) === p) this.tails.delete(key);
    };
    p.then(forget, forget);
    return p;
  }

  get size(): number {
    return this.tails.size;
  }
}

export function createRequestSink(opts: RequestSinkOptions): Transform {
  const limit = normalizeConcurrency(opts.concurrency);
  const inFlight = new Set<Promise<void>>();
  const chains = new KeyedChains();
  let failure: unknown;

  const start = (stream: Transform, item: Extract<PlanItem, { kind: 'op' }>) => {
    // A chained operation waiting for its predecessor holds a slot: memory stays bounded by `concurrency`.
    const p: Promise<void> = chains.run(resourceKey(item.op), () => executeOrSkip(item.op, opts)).then(
      (outcomes: LineOutcome[]) => {
        for (const o of outcomes) stream.push(o);
      },
      // Only a bug gets here (executeOrSkip latches fatal errors).
      (err: unknown) => {
        failure ??= err;
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  return new Transform({
    objectMode: true,
    transform(item: PlanItem, _enc, done) {
      if (failure) return done(failure as Error);
      if (item.kind === 'outcome') {
        this.push(item.outcome);
        return done();
      }
      start(this, item);
      if (inFlight.size < limit) return done();
      // Backpressure: take the next item only when a slot frees.
      Promise.race(inFlight).then(() => done(failure as Error | undefined));
    },
    flush(done) {
      Promise.all(inFlight).then(() => done(failure as Error | undefined));
    },
  });
}
