/**
 * Insert intents written ahead, in groups. An insert's intent must be on disk
 * before its request goes (a rerun looks it up by userName instead of
 * creating a duplicate), and an fsync per request or per round of
 * concurrent requests costs more than the request itself on most disks.
 * So the planned work is read up to `ahead` operations in advance, the
 * intents of the single-request inserts among them are written with one
 * fsync, and only then are those units handed on; the next group is read and
 * written while this one is sent. (A Bulk batch writes its own intents, one
 * fsync per batch, and makes a group on its own.)
 *
 * What it changes for a run that dies: up to two groups of inserts may have
 * an intent without having been sent. A rerun looks each of them up by
 * userName (one GET each) and, absent, sends it: nothing is duplicated or
 * lost. Deletes keep their intent per request, because a rerun reports a
 * 404 on a delete with an intent as deleted by the earlier attempt.
 */
import type { Journal } from './journal.js';
import type { BatchItem, OrderLine, PlanItem } from './types.js';

/** Operations read ahead per group: one fsync per this many inserts at most. */
export const INTENTS_AHEAD = 32;

type Item = PlanItem | BatchItem;

/**
 * Yields `items` unchanged and in order; the `seq` of every insert line
 * whose intent is on disk is added to `written` before its unit is yielded.
 */
export async function* intentsAhead(items: AsyncIterable<Item>, journal: Journal, written: Set<number>, ahead = INTENTS_AHEAD): AsyncGenerator<Item> {
  const it = items[Symbol.asyncIterator]();
  let ended = false;
  // The source's failure, raised once the units read before it have been handed on.
  let failure: { err: unknown } | undefined;
  const group = async (): Promise<Item[]> => {
    const units: Item[] = [];
    // Counted in operations: a Bulk batch fills a group on its own.
    let ops = 0;
    try {
      while (ops < ahead) {
        const r = await it.next();
        if (r.done) {
          ended = true;
          break;
        }
        units.push(r.value);
        ops += r.value.kind === 'batch' ? r.value.ops.length : 1;
      }
    } catch (err) {
      failure = { err };
      ended = true;
    }
    const lines: OrderLine[] = [];
    for (const u of units) {
      if (u.kind !== 'op' || u.op.kind !== 'insert') continue;
      // A line the journal already has an outcome for is not sent again.
      for (const line of u.op.lines) if (!journal.outcomeOf(line)) lines.push(line);
    }
    if (lines.length > 0) {
      await journal.intend(lines);
      for (const line of lines) written.add(line.seq);
    }
    return units;
  };
  let next: Promise<Item[]> | undefined = group();
  try {
    while (next) {
      const units: Item[] = await next;
      next = ended ? undefined : group();
      // A failed journal write surfaces when that group is awaited, after this group's units.
      next?.catch(() => {});
      yield* units;
    }
    if (failure) throw failure.err;
  } finally {
    // A group still being read is let go once its read ends; the source is closed after.
    if (next) await next.catch(() => {});
    if (!ended) await it.return?.();
  }
}
