/**
 * BatchItem → LineOutcome by `POST /Bulk`, one batch at a time (a later batch
 * may name users created by an earlier one).
 *
 * A member reference to a user inserted in the same batch is sent as
 * `bulkId:<orderId>`; one inserted in an earlier batch is replaced by the
 * created id. Per-operation answers are mapped back to the order lines of
 * their operation (by position, checked against bulkId), so a failing
 * operation fails its own lines only. Inserts meeting 409 follow onConflict
 * with single requests after the batch, and a membership that failed because
 * its same-batch insert failed is retried alone once the insert is resolved.
 *
 * A reply is doubted: results that do not map one-to-one onto the operations
 * sent fail the whole batch; a 2xx insert needs its id (response or
 * location, else a lookup by userName); with `verify` the batch is read back
 * before its outcomes leave, and a server found to ignore Bulk PATCH gets
 * its PATCHes as single requests for the rest of the run.
 */
import { Transform } from 'node:stream';
import { getAttr } from '../scim/filter.js';
import { parseScimError } from '../scim/errors.js';
import { bulkOperationOf, plannedRequest, resolveMembers, resourceKey, BULK_REQUEST_SCHEMA, type BulkOperation } from '../scim/requests.js';
import {
  executeOp,
  executeOrSkip,
  failedOutcome,
  goneAfterFailedDelete,
  isFatal,
  latchFatal,
  notSentOutcomes,
  notFoundOnDelete,
  provenInsert,
  putForUpdate,
  resolveConflict,
  unresolvedOutcome,
  verifyContext,
  type ExecContext,
} from './execute.js';
import { disproves, insertProof } from './proof.js';
import { NOT_APPLIED, contradicted, unverified, verifyOutcomes } from './verify.js';
import { outcomeOf, type BatchItem, type LineOutcome, type PlannedOp } from '../types.js';

export type BulkSinkOptions = ExecContext;

/** What one run's Bulk sink learnt about the server. */
export interface BulkState {
  /** The read-back showed a batch's PATCHes all ignored: PATCH goes as single requests from then on. */
  singlePatch: boolean;
}

/** One operation as it goes into the BulkRequest, with the lines it decides. */
interface Sent {
  op: PlannedOp;
  bulk: BulkOperation;
  /** Same-batch inserts it references (for the retry rule). */
  batchRefs: string[];
  /** For a membership: lines actually carried (unresolved ones already reported). */
  lines: LineOutcome['seq'][];
  preAttempts: number;
}

export function createBulkSink(opts: BulkSinkOptions): Transform {
  const state: BulkState = { singlePatch: false };
  return new Transform({
    objectMode: true,
    transform(item: BatchItem, _enc, done) {
      if (item.kind === 'outcome') {
        this.push(item.outcome);
        return done();
      }
      sendBatchOrSkip(item.ops, opts, state).then(
        (outcomes) => {
          for (const o of outcomes) this.push(o);
          done();
        },
        (err: Error) => done(err),
      );
    },
  });
}

/**
 * sendBatch, except that a fatal error latches (ctx.fatal) and the batch's
 * lines without an outcome come out `skipped`, as do all later batches.
 */
export async function sendBatchOrSkip(ops: readonly PlannedOp[], ctx: ExecContext, state: BulkState = { singlePatch: false }): Promise<LineOutcome[]> {
  if (ctx.fatal.error) return ops.flatMap((op) => notSentOutcomes(op, ctx.fatal.error!));
  const done: LineOutcome[] = [];
  try {
    return await sendBatch(ops, ctx, done, state);
  } catch (err) {
    const fatal = latchFatal(ctx.fatal, err, ctx.signal);
    const have = new Set(done.map((o) => o.seq));
    for (const op of ops) if (op.kind === 'insert') ctx.inserts.settle(op.bulkId, undefined);
    const rest = ops.flatMap((op) => notSentOutcomes(op, fatal)).filter((o) => !have.has(o.seq));
    return [...done, ...rest];
  }
}

/** Sends one batch and returns one outcome per order line of its operations (collected in `out`). */
export async function sendBatch(ops: readonly PlannedOp[], ctx: ExecContext, out: LineOutcome[] = [], state: BulkState = { singlePatch: false }): Promise<LineOutcome[]> {
  for (const part of splitForPut(ops, ctx)) {
    for (const seg of splitForSinglePatch(part, ctx, state)) {
      if (seg.length === 1 && state.singlePatch && isPatch(seg[0]!, ctx)) await sendSingly(seg, ctx, out);
      else await sendBulk(seg, ctx, out, state);
    }
  }
  return out;
}

/** Sent as PATCH: a membership change, an update where the server has PATCH. */
function isPatch(op: PlannedOp, ctx: Pick<ExecContext, 'capabilities'>): boolean {
  return op.kind === 'members' || (op.kind === 'update' && ctx.capabilities.patch);
}

/**
 * Once Bulk PATCH is known to be ignored: each PATCH alone (sent singly),
 * the runs of other operations between them as Bulk, order kept.
 */
export function splitForSinglePatch(ops: readonly PlannedOp[], ctx: Pick<ExecContext, 'capabilities'>, state: BulkState): PlannedOp[][] {
  if (!state.singlePatch) return [[...ops]];
  const parts: PlannedOp[][] = [];
  let run: PlannedOp[] = [];
  for (const op of ops) {
    if (!isPatch(op, ctx)) {
      run.push(op);
      continue;
    }
    if (run.length) parts.push(run);
    run = [];
    parts.push([op]);
  }
  if (run.length) parts.push(run);
  return parts;
}

/** Operations as single requests (then read back together with verify). */
async function sendSingly(ops: readonly PlannedOp[], ctx: ExecContext, out: LineOutcome[]): Promise<void> {
  const mine: LineOutcome[] = [];
  try {
    for (const op of ops) mine.push(...(await executeOp(op, ctx)));
    if (ctx.verify) await verifyOutcomes(ops, mine, verifyContext(ctx));
  } catch (err) {
    if (ctx.verify) unverified(mine, err);
    out.push(...mine);
    throw err;
  }
  out.push(...mine);
}

/**
 * The batch cut before each update sent as PUT (no PATCH) of a resource an
 * earlier operation of the same part changes: its body is read (GET) before
 * the request goes, so it must come after the earlier change is applied, or
 * it would undo it (and fail If-Match). Otherwise the batch as it is.
 */
export function splitForPut(ops: readonly PlannedOp[], ctx: Pick<ExecContext, 'capabilities'>): PlannedOp[][] {
  if (ctx.capabilities.patch) return [[...ops]];
  const parts: PlannedOp[][] = [[]];
  let touched = new Set<string>();
  for (const op of ops) {
    const key = resourceKey(op);
    if (op.kind === 'update' && key !== undefined && touched.has(key)) {
      parts.push([]);
      touched = new Set();
    }
    if (key !== undefined) touched.add(key);
    parts[parts.length - 1]!.push(op);
  }
  return parts;
}

/** One POST /Bulk for `ops`, then its follow-ups and read-back; outcomes collected in `out`. */
async function sendBulk(ops: readonly PlannedOp[], ctx: ExecContext, out: LineOutcome[], state: BulkState): Promise<void> {
  const mine: LineOutcome[] = [];
  try {
    const patched = await sendBulkRequest(ops, ctx, mine);
    if (ctx.verify) {
      const notApplied = await verifyOutcomes(ops, mine, verifyContext(ctx));
      await detectIgnoredPatch(ops, patched, notApplied, mine, ctx, state);
    }
  } catch (err) {
    // A fatal error: what was answered keeps its outcome, but an unproven ok is no ok.
    if (ctx.verify) unverified(mine, err);
    out.push(...mine);
    throw err;
  }
  out.push(...mine);
}

/**
 * scimgateway answers Bulk PATCH 200 and applies nothing. When the read-back
 * shows none of a batch's PATCHes, PATCH goes singly for the rest of the run
 * and the ignored ones are sent again now, singly (outcomes replaced in `mine`).
 */
async function detectIgnoredPatch(ops: readonly PlannedOp[], patched: Set<PlannedOp>, notApplied: Set<number>, mine: LineOutcome[], ctx: ExecContext, state: BulkState): Promise<void> {
  if (state.singlePatch || patched.size === 0) return;
  const ignored = [...patched].filter((op) => op.lines.some((l) => notApplied.has(l.seq)));
  const applied = [...patched].filter((op) => op.lines.some((l) => mine.some((o) => o.seq === l.seq && o.outcome === 'ok')));
  if (ignored.length === 0 || applied.length > 0) return;
  state.singlePatch = true;
  ctx.logger?.warn(`the server answered ${ignored.length} Bulk PATCH operation(s) 2xx but the read-back shows none applied: sending PATCH as single requests for the rest of the run`);
  const again = ops
    .filter((op) => ignored.includes(op))
    .map((op) => (op.kind === 'members' ? { ...op, lines: op.lines.filter((l) => notApplied.has(l.seq)), members: op.members.filter((m) => notApplied.has(m.line.seq)) } : op));
  const redone: LineOutcome[] = [];
  await sendSingly(again, ctx, redone);
  const bySeq = new Map(redone.map((o) => [o.seq, o]));
  for (let i = 0; i < mine.length; i++) {
    const o = bySeq.get(mine[i]!.seq);
    if (o) mine[i] = { ...o, attempts: o.attempts + mine[i]!.attempts };
  }
}

/**
 * The POST /Bulk itself and its follow-ups; returns the PATCH operations the
 * server answered 2xx (for the ignored-PATCH check).
 */
async function sendBulkRequest(ops: readonly PlannedOp[], ctx: ExecContext, out: LineOutcome[]): Promise<Set<PlannedOp>> {
  const patched = new Set<PlannedOp>();
  // Follow-ups are single requests, read back with the batch (not on their own).
  const single: ExecContext = { ...ctx, verify: false };
  const inBatch = new Set(ops.filter((o) => o.kind === 'insert').map((o) => (o as Extract<PlannedOp, { kind: 'insert' }>).bulkId));
  const sent: Sent[] = [];

  for (const op of ops) {
    const batchRefs: string[] = [];
    const resolve = (ref: string): string | undefined => {
      if (inBatch.has(ref)) {
        batchRefs.push(ref);
        return `bulkId:${ref}`;
      }
      return ctx.inserts.peek(ref)?.id;
    };
    let preAttempts = 0;
    let req = plannedRequest(op, resolve, ctx.style);
    let version: string | undefined;
    if (op.kind === 'members') {
      const { ready, unresolved } = resolveMembers(op.members, (ref) => (inBatch.has(ref) ? `bulkId:${ref}` : ctx.inserts.peek(ref)?.id));
      for (const m of unresolved) out.push(unresolvedOutcome(m.line, m.ref!));
      if (ready.length === 0) continue;
      sent.push({ op, bulk: bulkOperationOf(req), batchRefs, lines: ready.map((m) => m.line.seq), preAttempts });
      continue;
    }
    if (op.kind === 'update' && !ctx.capabilities.patch) {
      // No PATCH: read the user now and send a PUT of the changed resource.
      try {
        const put = await putForUpdate(op, ctx);
        req = { method: 'PUT', path: req.path, body: put.body, orderRefs: req.orderRefs };
        version = put.version;
        preAttempts = put.attempts;
      } catch (err) {
        if (isFatal(err)) throw err;
        out.push(failedOutcome(op.lines[0], err));
        continue;
      }
    }
    sent.push({ op, bulk: bulkOperationOf(req, version), batchRefs, lines: op.lines.map((l) => l.seq), preAttempts });
  }
  if (sent.length === 0) return patched;

  let res;
  try {
    res = await ctx.client.request({
      method: 'POST',
      path: '/Bulk',
      json: { schemas: [BULK_REQUEST_SCHEMA], Operations: sent.map((s) => s.bulk) },
      signal: ctx.signal,
    });
  } catch (err) {
    if (isFatal(err)) {
      for (const s of sent) if (s.op.kind === 'insert') ctx.inserts.settle(s.op.bulkId, undefined);
      throw err;
    }
    // The whole request failed: every line it carried shares the error.
    for (const s of sent) {
      if (s.op.kind === 'insert') ctx.inserts.settle(s.op.bulkId, undefined);
      for (const line of linesOf(s)) out.push(failedOutcome(line, err));
    }
    return patched;
  }

  const mapped = mapResults(bulkResults(res.body), sent);
  if (typeof mapped === 'string') {
    // Nothing of this reply can be trusted: which line succeeded is unknown.
    for (const s of sent) {
      if (s.op.kind === 'insert') ctx.inserts.settle(s.op.bulkId, undefined);
      for (const line of linesOf(s)) out.push(outcomeOf(line, { outcome: 'failed', status: res.status, attempts: res.attempts + s.preAttempts, detail: `ERR_FULFILL_BULK_RESULT: ${mapped}; no line of this batch is known to be done` }));
    }
    return patched;
  }
  const followUps: Array<() => Promise<LineOutcome[]>> = [];
  const createdInBatch = new Set<string>();
  sent.forEach((s, i) => {
    const r = mapped[i]!;
    const attempts = res.attempts + s.preAttempts;
    const lines = linesOf(s);
    if (r.status >= 200 && r.status < 300) {
      const op = s.op;
      if (op.kind === 'insert') {
        const proof = insertProof(op.entity, r.status, r.response, r.location);
        if ('id' in proof) {
          ctx.inserts.settle(op.bulkId, proof.id);
          createdInBatch.add(op.bulkId);
          out.push(outcomeOf(op.lines[0], { outcome: 'ok', status: r.status, attempts, id: proof.id }));
        } else followUps.unshift(async () => [await provenInsert(op, ctx, r.status, r.response, r.location, attempts)]);
        return;
      }
      const no = disproves(r.status, r.response);
      if (no) {
        for (const line of lines) out.push(outcomeOf(line, { outcome: 'failed', status: r.status, attempts, scimType: NOT_APPLIED, detail: no }));
        return;
      }
      if (op.kind === 'update' && contradicted(r.response, op.cells).length > 0) {
        // The response shows the old values: alone, where the reply is checked and the complex form tried.
        followUps.push(() => executeOrSkip(op, single));
        return;
      }
      if (s.bulk.method === 'PATCH') patched.add(op);
      if (op.kind === 'members' && s.batchRefs.length > 0) {
        // Ok only where the user it names was created: a server has answered 200 for a bulkId it could not resolve.
        followUps.push(async () =>
          op.members
            .filter((m) => s.lines.includes(m.line.seq))
            .map((m) => (m.ref !== undefined && s.batchRefs.includes(m.ref) && ctx.inserts.peek(m.ref)?.id === undefined ? unresolvedOutcome(m.line, m.ref) : outcomeOf(m.line, { outcome: 'ok', status: r.status, attempts }))),
        );
        return;
      }
      for (const line of lines) out.push(outcomeOf(line, { outcome: 'ok', status: r.status, attempts }));
      return;
    }
    const info = parseScimError(r.response);
    const op = s.op;
    if (op.kind === 'insert' && r.status === 409 && (info.scimType === undefined || info.scimType.toLowerCase() === 'uniqueness') && ctx.onConflict !== 'fail') {
      followUps.unshift(async () => [await resolveConflict(op, ctx, r.status, attempts)]);
      return;
    }
    if (op.kind === 'insert') ctx.inserts.settle(op.bulkId, undefined);
    if (op.kind === 'delete' && r.status === 404) {
      out.push(notFoundOnDelete(op.lines[0], attempts));
      return;
    }
    if (op.kind === 'delete') {
      const failed = bulkFailure(op.lines[0], r.status, info, attempts);
      followUps.push(async () => [(await goneAfterFailedDelete(op, ctx, failed)) ?? failed]);
      return;
    }
    if (op.kind === 'members') {
      const carried = new Set(s.lines);
      const alone = () => executeOrSkip({ ...op, members: op.members.filter((m) => carried.has(m.line.seq)), lines }, single);
      // Possibly failed only because a same-batch insert did: retry alone once the inserts are settled.
      // A 400 on several members: alone, where it is split until the bad member is found.
      const split = lines.length > 1 && (r.status === 400 || r.status === 413);
      if (s.batchRefs.length > 0 || split) {
        followUps.push(async () => (split || s.batchRefs.some((ref) => !createdInBatch.has(ref)) ? alone() : lines.map((line) => bulkFailure(line, r.status, info, attempts))));
        return;
      }
    }
    for (const line of lines) out.push(bulkFailure(line, r.status, info, attempts));
  });
  // Conflicts and lookups first (unshift), so that the membership retries see their ids.
  for (const f of followUps) out.push(...(await f()));
  return patched;
}

function bulkFailure(line: Parameters<typeof outcomeOf>[0], status: number, info: ReturnType<typeof parseScimError>, attempts: number): LineOutcome {
  const o = outcomeOf(line, { outcome: 'failed', status, attempts, detail: info.detail ?? `HTTP ${status}` });
  if (info.scimType) o.scimType = info.scimType;
  return o;
}

function linesOf(s: Sent) {
  const carried = new Set(s.lines);
  return s.op.lines.filter((l) => carried.has(l.seq));
}

export interface BulkResult {
  bulkId?: string;
  method?: string;
  location?: string;
  status: number;
  response?: unknown;
}

/** The per-operation results of a BulkResponse; `status` may be "201", 201 or {code: "201"} (SCIM 1.1). */
export function bulkResults(body: unknown): BulkResult[] {
  const ops = getAttr(body, 'Operations');
  if (!Array.isArray(ops)) return [];
  return ops.map((o) => {
    let status = getAttr(o, 'status');
    if (status && typeof status === 'object') status = getAttr(status, 'code');
    const r: BulkResult = { status: Number(status) || 0 };
    const bulkId = getAttr(o, 'bulkId');
    if (typeof bulkId === 'string') r.bulkId = bulkId;
    const method = getAttr(o, 'method');
    if (typeof method === 'string') r.method = method;
    const location = getAttr(o, 'location');
    if (typeof location === 'string') r.location = location;
    const response = getAttr(o, 'response');
    if (response !== undefined) r.response = response;
    return r;
  });
}

/**
 * The result of each operation sent, or why the reply does not map one-to-one
 * onto them: a count that differs, a bulkId not sent or given twice, a
 * method that is not the one sent. Results are taken by position unless
 * their bulkIds show another order; then POSTs are found by bulkId, the
 * others by method and location.
 */
export function mapResults(results: readonly BulkResult[], sent: readonly Pick<Sent, 'bulk'>[]): BulkResult[] | string {
  if (results.length !== sent.length) return `the BulkResponse has ${results.length} operation result(s) for the ${sent.length} operation(s) sent`;
  const sentIds = new Set(sent.flatMap((s) => (s.bulk.bulkId !== undefined ? [s.bulk.bulkId] : [])));
  const byId = new Map<string, number>();
  for (const [i, r] of results.entries()) {
    if (r.bulkId === undefined) continue;
    if (!sentIds.has(r.bulkId)) return `the BulkResponse answers bulkId ${JSON.stringify(r.bulkId)}, which was not sent`;
    if (byId.has(r.bulkId)) return `the BulkResponse answers bulkId ${JSON.stringify(r.bulkId)} twice`;
    byId.set(r.bulkId, i);
  }
  const inOrder = sent.every((s, i) => results[i]!.bulkId === undefined || results[i]!.bulkId === s.bulk.bulkId);
  const used = new Set<number>();
  const out: BulkResult[] = [];
  for (const [i, s] of sent.entries()) {
    let j: number | undefined;
    if (inOrder) j = i;
    else if (s.bulk.bulkId !== undefined) j = byId.get(s.bulk.bulkId);
    else {
      const path = s.bulk.path.toLowerCase();
      const fits = results.flatMap((r, k) => (r.bulkId === undefined && !used.has(k) && r.method?.toUpperCase() === s.bulk.method && (r.location ?? '').replace(/\/+$/, '').toLowerCase().endsWith(path) ? [k] : []));
      if (fits.length === 1) j = fits[0];
    }
    const what = `${s.bulk.method} ${s.bulk.path}${s.bulk.bulkId !== undefined ? ` (bulkId ${JSON.stringify(s.bulk.bulkId)})` : ''}`;
    if (j === undefined || used.has(j)) return `the BulkResponse has no result that is clearly for ${what}`;
    const r = results[j]!;
    if (r.method !== undefined && r.method.toUpperCase() !== s.bulk.method.toUpperCase()) return `the BulkResponse answers ${what} with a result for ${r.method}`;
    used.add(j);
    out.push(r);
  }
  return out;
}
