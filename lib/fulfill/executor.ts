/**
 * The fulfill executor: the one stage that sends. It pulls planned work
 * (single operations, or Bulk batches) from the order source, sends it, and
 * hands every outcome to the results writer and the journal.
 *
 * - Per-resource order: an operation on /Users/{id} or /Groups/{id} starts
 *   only once the previous one on the same resource has settled.
 * - Bounded: at most `concurrency` units in flight, and no new order is sent
 *   while `window` outcomes wait for an earlier line (one slow request stalls
 *   reading, past the 64 operations read ahead for their intents; it never
 *   buffers the rest of the file).
 * - On any error (a fatal answer latched in ctx.fatal, the order source
 *   failing), nothing more is sent; what is in flight is drained and its real
 *   outcomes recorded before the caller marks the rest `skipped`.
 * - Reruns: a line the journal has an outcome for is reported from it and not
 *   sent; an insert sent without a journaled outcome is looked up by userName
 *   first. An insert whose answer was lost in this run (connection cut, 5xx)
 *   is looked up the same way before it is reported failed.
 */
import { ScimEtlError } from '../errors.js';
import { getAttr, quoteLiteral } from '../scim/filter.js';
import { KeyedChains, normalizeConcurrency } from './request-sink.js';
import { sendBatchOrSkip, type BulkState } from './bulk-sink.js';
import { executeOrSkip, idOf, isFatal, latchFatal, notSentOutcomes, InsertRegistry, type ExecContext } from './execute.js';
import { resourceKey, resourcePath } from './requests.js';
import { outcomeOf, type BatchItem, type LineOutcome, type OrderLine, type PlanItem, type PlannedOp } from './types.js';
import type { Journal } from './journal.js';
import { intentsAhead } from './intents-ahead.js';

/** Where outcomes go, in any order; `buffered` counts those waiting for an earlier line. */
export interface OutcomeWriter {
  write(o: LineOutcome): Promise<void>;
  readonly buffered: number;
}

export interface ExecutorOptions {
  ctx: ExecContext & { inserts: RunInserts };
  /** Units (operations; Bulk: batches, always one at a time) in flight. */
  concurrency: number;
  /** Outcomes that may wait for an earlier line before reading stops. */
  window: number;
  writer: OutcomeWriter;
  journal?: Journal;
}

export const DEFAULT_REORDER_WINDOW = 1024;

/** Checks the executor's numbers (the pipeline's fulfill.concurrency is checked on load as well). */
export function normalizeWindow(value: number | undefined): number {
  const n = value ?? DEFAULT_REORDER_WINDOW;
  if (!Number.isInteger(n) || n < 1) throw new ScimEtlError('ERR_OPTION_REORDER_WINDOW', `the reorder window must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The run's insert registry, able to hold back a failure: an insert whose
 * answer was lost is looked up before members waiting for it learn that it
 * failed (single requests only; a Bulk batch's own follow-ups must not wait).
 * `correct` gives a later lookup's id to those who ask afterwards.
 */
export class RunInserts extends InsertRegistry {
  private readonly held = new Set<string>();
  private readonly corrected = new Map<string, string>();

  hold(key: string): void {
    this.held.add(key);
  }

  release(key: string, id: string | undefined): void {
    this.held.delete(key);
    this.settleOrCorrect(key, id);
  }

  override settle(key: string, id: string | undefined): void {
    if (id === undefined && this.held.has(key)) return;
    super.settle(key, id);
  }

  /** Settles, or replaces an earlier "failed" by the id found since. */
  settleOrCorrect(key: string, id: string | undefined): void {
    const now = super.peek(key);
    if (now && now.id === undefined && id !== undefined) this.corrected.set(key, id);
    else super.settle(key, id);
  }

  override peek(key: string): { id?: string } | undefined {
    const c = this.corrected.get(key);
    return c !== undefined ? { id: c } : super.peek(key);
  }

  override async wait(key: string): Promise<string | undefined> {
    const id = await super.wait(key);
    return this.corrected.get(key) ?? id;
  }
}

type Unit = { kind: 'op'; op: PlannedOp } | { kind: 'batch'; ops: PlannedOp[] };
type InsertOp = Extract<PlannedOp, { kind: 'insert' }>;

/**
 * Sends all planned work from `items`. Resolves when every unit is done and
 * recorded; rejects with the source's error only after draining what was in
 * flight (the caller then writes the lines never read as skipped).
 */
export async function executeOrders(items: AsyncIterable<PlanItem | BatchItem>, opts: ExecutorOptions): Promise<void> {
  const limit = normalizeConcurrency(opts.concurrency);
  const window = normalizeWindow(opts.window);
  const { ctx, writer, journal } = opts;
  const chains = new KeyedChains();
  // Once a batch shows the server ignores Bulk PATCH, PATCH goes singly for the rest of the run.
  const bulk: BulkState = { singlePatch: Boolean(ctx.bulkPatchIgnored) };
  const inFlight = new Set<Promise<void>>();
  let bug: unknown;
  // Seqs of insert lines whose intent intentsAhead() already wrote.
  const intended = new Set<number>();
  const work = journal ? intentsAhead(items, journal, intended) : items;

  // One writer at a time: rows and journal lines keep their order.
  let recording: Promise<void> = Promise.resolve();
  const record = (outs: LineOutcome[], lines: readonly OrderLine[], journalThem: boolean) => {
    recording = recording.then(async () => {
      if (journal && journalThem) journal.record(outs.filter(isFinal), lines);
      for (const o of outs) await writer.write(o);
    });
    return recording;
  };

  const track = (p: Promise<void>) => {
    const t = p.catch((err) => {
      bug ??= err;
      latchFatal(ctx.fatal, err, ctx.signal);
    });
    inFlight.add(t);
    void t.finally(() => inFlight.delete(t));
  };

  let sourceError: unknown;
  try {
    for await (const item of work) {
      if (item.kind === 'outcome') {
        await record([item.outcome], [], false);
        continue;
      }
      const unit: Unit = item;
      // Bounded: wait for a slot, and for the head of the line when the window is full.
      while (inFlight.size >= limit || (inFlight.size > 0 && writer.buffered >= window)) await Promise.race(inFlight);
      if (ctx.fatal.error) {
        await recordNotSent(unit, ctx, journal, record);
        continue;
      }
      if (unit.kind === 'batch') {
        track(runBatch(unit.ops, opts, bulk).then(({ outs, lines }) => record(outs, lines, true)));
      } else {
        const op = unit.op;
        track(chains.run(resourceKey(op), () => runOp(op, opts, intended)).then(({ outs, lines }) => record(outs, lines, true)));
      }
    }
  } catch (err) {
    sourceError = err;
    latchFatal(ctx.fatal, err, ctx.signal);
  }
  // Drain: whatever was sent gets its real outcome before anything is marked skipped.
  while (inFlight.size > 0) await Promise.all(inFlight);
  await recording;
  if (bug) throw bug;
  if (sourceError) throw sourceError;
}

/**
 * Inserts and deletes must be known as sent before they go: a rerun cannot
 * simply send them again (duplicate user; 404 reported for a done delete).
 * Updates and membership changes can be.
 */
function needsIntent(op: PlannedOp): boolean {
  return op.kind === 'insert' || op.kind === 'delete';
}

/** A line outcome worth keeping for a rerun: the server's answer, not "not sent" or "no answer". */
export function isFinal(o: LineOutcome): boolean {
  if (o.outcome === 'skipped') return !(o.attempts === 0 && o.detail?.startsWith('not sent:'));
  if (o.outcome === 'failed') return !isUnanswered(o);
  return true;
}

/** A failed request whose effect on the server is unknown or that may succeed later (no answer, 5xx, 408, 429). */
function isUnanswered(o: LineOutcome): boolean {
  if (o.outcome !== 'failed' || o.attempts === 0) return false;
  return o.status === undefined || o.status >= 500 || o.status === 408 || o.status === 429;
}

/** Lines the journal already has an outcome for, and the operation for the rest (undefined: nothing left). */
function fromJournal(op: PlannedOp, ctx: ExecutorOptions['ctx'], journal: Journal | undefined): { done: LineOutcome[]; rest?: PlannedOp } {
  if (!journal) return { done: [], rest: op };
  const done: LineOutcome[] = [];
  const doneSeqs = new Set<number>();
  for (const line of op.lines) {
    const o = journal.outcomeOf(line);
    if (!o) continue;
    done.push({ ...o, seq: line.seq, fileIndex: line.fileIndex });
    doneSeqs.add(line.seq);
  }
  if (done.length === 0) return { done, rest: op };
  if (op.kind === 'insert') {
    // `@orderId` memberships resolve to the id the earlier run created.
    const o = done[0]!;
    ctx.inserts.settleOrCorrect(op.bulkId, o.outcome !== 'failed' ? o.id : undefined);
  }
  if (doneSeqs.size === op.lines.length) return { done };
  // Only a membership PATCH carries several lines: send the ones not done.
  if (op.kind !== 'members') return { done };
  const rest: PlannedOp = { ...op, lines: op.lines.filter((l) => !doneSeqs.has(l.seq)), members: op.members.filter((m) => !doneSeqs.has(m.line.seq)) };
  return { done, rest };
}

/** One operation by single requests, journal first. */
async function runOp(op: PlannedOp, opts: ExecutorOptions, intended: Set<number>): Promise<{ outs: LineOutcome[]; lines: readonly OrderLine[] }> {
  const { ctx, journal } = opts;
  const { done, rest } = fromJournal(op, ctx, journal);
  if (!rest) return { outs: done, lines: op.lines };
  if (ctx.fatal.error) return { outs: [...done, ...notSent(rest, ctx)], lines: op.lines };
  const uncertain = rest.lines.some((l) => journal?.sentWithoutOutcome(l));
  if (rest.kind === 'insert' && uncertain) {
    const found = await findCreated(rest, ctx, 0);
    if (found) return { outs: [...done, found], lines: op.lines };
  }
  if (needsIntent(rest) && !takeIntended(rest.lines, intended)) await journal?.intend(rest.lines);
  if (rest.kind === 'insert') ctx.inserts.hold(rest.bulkId);
  let outs: LineOutcome[];
  try {
    outs = await executeOrSkip(rest, ctx);
    if (rest.kind === 'insert') outs = await afterInsert(rest, outs[0]!, ctx);
    if (rest.kind === 'delete' && uncertain) outs = outs.map(deletedBefore);
  } finally {
    if (rest.kind === 'insert') ctx.inserts.release(rest.bulkId, undefined);
  }
  return { outs: [...done, ...outs], lines: op.lines };
}

/** Whether every line's intent was written ahead (each is forgotten here: the set stays as small as what is read ahead). */
function takeIntended(lines: readonly OrderLine[], intended: Set<number>): boolean {
  let all = true;
  for (const line of lines) if (!intended.delete(line.seq)) all = false;
  return all;
}

/** One Bulk batch: journaled lines left out, uncertain inserts looked up first, lost answers after. */
async function runBatch(ops: readonly PlannedOp[], opts: ExecutorOptions, bulk: BulkState): Promise<{ outs: LineOutcome[]; lines: readonly OrderLine[] }> {
  const { ctx, journal } = opts;
  const outs: LineOutcome[] = [];
  const toSend: PlannedOp[] = [];
  const uncertainDeletes = new Set<number>();
  for (const op of ops) {
    const { done, rest } = fromJournal(op, ctx, journal);
    outs.push(...done);
    if (!rest) continue;
    if (ctx.fatal.error) {
      outs.push(...notSent(rest, ctx));
      continue;
    }
    const uncertain = rest.lines.some((l) => journal?.sentWithoutOutcome(l));
    if (rest.kind === 'insert' && uncertain) {
      const found = await findCreated(rest, ctx, 0);
      if (found) {
        outs.push(found);
        continue;
      }
    }
    if (rest.kind === 'delete' && uncertain) uncertainDeletes.add(rest.lines[0].seq);
    toSend.push(rest);
  }
  const lines = ops.flatMap((op) => op.lines);
  if (toSend.length === 0) return { outs, lines };
  await journal?.intend(toSend.filter(needsIntent).flatMap((op) => op.lines));
  const sent = await sendBatchOrSkip(toSend, ctx, bulk);
  const bySeq = new Map(sent.map((o) => [o.seq, o]));
  for (const op of toSend) {
    if (op.kind !== 'insert') continue;
    const o = bySeq.get(op.lines[0].seq);
    if (o) bySeq.set(o.seq, (await afterInsert(op, o, ctx))[0]!);
  }
  for (const o of bySeq.values()) outs.push(uncertainDeletes.has(o.seq) ? deletedBefore(o) : o);
  return { outs, lines };
}

/**
 * An insert that failed without an answer may have been created all the same:
 * look it up by userName; found → ok with its id; absent → send it once more
 * (the lookup proved it was not created), and look again if that answer is
 * lost too. Still unknown: the failure stands (and is not journaled, so a
 * rerun tries again).
 */
async function afterInsert(op: InsertOp, o: LineOutcome, ctx: ExecutorOptions['ctx']): Promise<LineOutcome[]> {
  if (!isUnanswered(o) || ctx.fatal.error) return [o];
  const found = await findCreated(op, ctx, o.attempts);
  if (found) return [found];
  if (found === null || ctx.fatal.error) return [o];
  const again = (await executeOrSkip(op, ctx))[0]!;
  again.attempts += o.attempts;
  if (again.outcome !== 'failed' && again.id !== undefined) ctx.inserts.settleOrCorrect(op.bulkId, again.id);
  if (!isUnanswered(again) || ctx.fatal.error) return [again];
  return [(await findCreated(op, ctx, again.attempts)) ?? again];
}

/**
 * The user an earlier attempt of this insert created, by userName: its `ok`
 * outcome (registry settled), undefined when there is none, null when the
 * lookup could not tell (no userName, lookup failed, several users).
 */
async function findCreated(op: InsertOp, ctx: ExecutorOptions['ctx'], attemptsBefore: number): Promise<LineOutcome | undefined | null> {
  const userName = getAttr(op.resource, 'userName');
  if (typeof userName !== 'string') return null;
  let res;
  try {
    res = await ctx.client.request({
      method: 'GET',
      path: resourcePath(op.entity),
      searchParams: { filter: `userName eq ${quoteLiteral(userName)}`, attributes: 'id,userName' },
      signal: ctx.signal,
    });
  } catch (err) {
    if (isFatal(err)) latchFatal(ctx.fatal, err, ctx.signal);
    return null;
  }
  const list = getAttr(res.body, 'Resources');
  if (!Array.isArray(list)) return null;
  // Doubt the filter: keep only exact (case-insensitive, as userName is) matches.
  const same = list.filter((r) => String(getAttr(r, 'userName') ?? '').toLowerCase() === userName.toLowerCase());
  if (same.length === 0) return list.length === 0 ? undefined : null;
  if (same.length > 1) return null;
  const id = idOf(same[0]);
  if (id === undefined) return null;
  ctx.inserts.settleOrCorrect(op.bulkId, id);
  return outcomeOf(op.lines[0], { outcome: 'ok', id, attempts: attemptsBefore + res.attempts, detail: 'created by an earlier attempt whose answer was lost (found by userName)' });
}

/** A delete re-sent after a lost answer finds the user gone: the earlier attempt deleted it. */
function deletedBefore(o: LineOutcome): LineOutcome {
  if (o.outcome !== 'skipped' || o.status !== 404) return o;
  return { ...o, outcome: 'ok', detail: 'deleted by an earlier attempt whose answer was lost' };
}

/** After a fatal error: journaled lines keep their outcome, the rest is `skipped` (not sent). */
async function recordNotSent(unit: Unit, ctx: ExecutorOptions['ctx'], journal: Journal | undefined, record: (o: LineOutcome[], l: readonly OrderLine[], j: boolean) => Promise<void>): Promise<void> {
  const ops = unit.kind === 'batch' ? unit.ops : [unit.op];
  for (const op of ops) {
    const { done, rest } = fromJournal(op, ctx, journal);
    await record([...done, ...(rest ? notSent(rest, ctx) : [])], op.lines, false);
  }
}

/** `skipped` (not sent) for an operation the run stopped before; an insert's members learn it failed. */
function notSent(op: PlannedOp, ctx: ExecutorOptions['ctx']): LineOutcome[] {
  if (op.kind === 'insert') ctx.inserts.settle(op.bulkId, undefined);
  return notSentOutcomes(op, ctx.fatal.error!);
}
