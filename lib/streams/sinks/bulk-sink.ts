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
 */
import { Transform } from 'node:stream';
import { getAttr } from '../../scim/filter.js';
import { parseScimError } from '../../scim/errors.js';
import { bulkOperationOf, plannedRequest, resolveMembers, resourceKey, BULK_REQUEST_SCHEMA, type BulkOperation } from '../../fulfill/requests.js';
import {
  executeOrSkip,
  failedOutcome,
  idFromLocation,
  idOf,
  isFatal,
  latchFatal,
  notSentOutcomes,
  notFoundOnDelete,
  putForUpdate,
  resolveConflict,
  unresolvedOutcome,
  type ExecContext,
} from '../../fulfill/execute.js';
import { outcomeOf, type BatchItem, type LineOutcome, type PlannedOp } from '../../fulfill/types.js';

export type BulkSinkOptions = ExecContext;

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
  return new Transform({
    objectMode: true,
    transform(item: BatchItem, _enc, done) {
      if (item.kind === 'outcome') {
        this.push(item.outcome);
        return done();
      }
      sendBatchOrSkip(item.ops, opts).then(
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
export async function sendBatchOrSkip(ops: readonly PlannedOp[], ctx: ExecContext): Promise<LineOutcome[]> {
  if (ctx.fatal.error) return ops.flatMap((op) => notSentOutcomes(op, ctx.fatal.error!));
  const done: LineOutcome[] = [];
  try {
    return await sendBatch(ops, ctx, done);
  } catch (err) {
    const fatal = latchFatal(ctx.fatal, err, ctx.signal);
    const have = new Set(done.map((o) => o.seq));
    for (const op of ops) if (op.kind === 'insert') ctx.inserts.settle(op.bulkId, undefined);
    const rest = ops.flatMap((op) => notSentOutcomes(op, fatal)).filter((o) => !have.has(o.seq));
    return [...done, ...rest];
  }
}

/** Sends one batch and returns one outcome per order line of its operations (collected in `out`). */
export async function sendBatch(ops: readonly PlannedOp[], ctx: ExecContext, out: LineOutcome[] = []): Promise<LineOutcome[]> {
  for (const part of splitForPut(ops, ctx)) await sendBulk(part, ctx, out);
  return out;
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

/** One POST /Bulk for `ops`, then its follow-ups; outcomes collected in `out`. */
async function sendBulk(ops: readonly PlannedOp[], ctx: ExecContext, out: LineOutcome[]): Promise<LineOutcome[]> {
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
  if (sent.length === 0) return out;

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
    return out;
  }

  const results = bulkResults(res.body);
  const followUps: Array<() => Promise<LineOutcome[]>> = [];
  const createdInBatch = new Set<string>();
  sent.forEach((s, i) => {
    const r = matchResult(results, s, i);
    const attempts = res.attempts + s.preAttempts;
    const lines = linesOf(s);
    if (!r) {
      if (s.op.kind === 'insert') ctx.inserts.settle(s.op.bulkId, undefined);
      for (const line of lines) out.push(outcomeOf(line, { outcome: 'failed', attempts, detail: 'ERR_FULFILL_BULK_RESULT: the BulkResponse has no result for this operation' }));
      return;
    }
    if (r.status >= 200 && r.status < 300) {
      let id: string | undefined;
      if (s.op.kind === 'insert') {
        id = idOf(r.response) ?? idFromLocation(r.location);
        ctx.inserts.settle(s.op.bulkId, id);
        createdInBatch.add(s.op.bulkId);
      }
      for (const line of lines) out.push(outcomeOf(line, { outcome: 'ok', status: r.status, attempts, ...(id ? { id } : {}) }));
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
    if (op.kind === 'members' && s.batchRefs.length > 0) {
      // Possibly failed only because a same-batch insert did: retry alone once the inserts are settled.
      followUps.push(async () => {
        if (s.batchRefs.some((ref) => !createdInBatch.has(ref))) {
          const carried = new Set(s.lines);
          return executeOrSkip({ ...op, members: op.members.filter((m) => carried.has(m.line.seq)), lines: lines }, ctx);
        }
        return lines.map((line) => bulkFailure(line, r.status, info, attempts));
      });
      return;
    }
    for (const line of lines) out.push(bulkFailure(line, r.status, info, attempts));
  });
  // Conflicts first (unshift), so that the membership retries see their ids.
  for (const f of followUps) out.push(...(await f()));
  return out;
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

interface BulkResult {
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
    const location = getAttr(o, 'location');
    if (typeof location === 'string') r.location = location;
    const response = getAttr(o, 'response');
    if (response !== undefined) r.response = response;
    return r;
  });
}

/** The result at the same position, unless its bulkId says it belongs to another operation. */
function matchResult(results: BulkResult[], s: Sent, index: number): BulkResult | undefined {
  const at = results[index];
  if (s.bulk.bulkId === undefined) return at;
  if (at && (at.bulkId === undefined || at.bulkId === s.bulk.bulkId)) return at;
  return results.find((r) => r.bulkId === s.bulk.bulkId);
}
