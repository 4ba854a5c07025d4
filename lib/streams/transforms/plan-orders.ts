/**
 * OrderRecord → PlanItem: each valid user order becomes one request; the
 * membership orders of one group are gathered into one PATCH.
 *
 * Grouping is done on consecutive rows in bounded memory: rows for the same
 * group (and entity) join the pending PATCH until the group changes, a user
 * order comes, or `maxMembersPerPatch` is reached. Sort membership files by
 * group for the fewest requests. Invalid rows become outcomes at once and do
 * not break a group.
 */
import { Transform } from 'node:stream';
import { ScimEtlError } from '../../errors.js';
import { unflatten, patchOperations } from '../../scim/unflatten.js';
import { USER_SCHEMA } from '../../scim/schemas.js';
import { outcomeOf, refusedOutcome, type OrderRecord, type PlanItem, type PlannedOp } from '../../fulfill/types.js';

export interface PlanOptions {
  /** Member adds/removes per PATCH (default 1000). */
  maxMembersPerPatch?: number;
}

export function normalizePlanOptions(opts: PlanOptions): Required<PlanOptions> {
  const max = opts.maxMembersPerPatch ?? 1000;
  if (!Number.isInteger(max) || max < 1) {
    throw new ScimEtlError('ERR_OPTION_MAX_MEMBERS', `maxMembersPerPatch must be a positive integer, got ${JSON.stringify(max)}`);
  }
  return { maxMembersPerPatch: max };
}

/** The planning logic, free of streams: push records, collect the items to emit. */
export class OrderPlanner {
  private readonly opts: Required<PlanOptions>;
  /** orderIds of the inserts planned so far: what `@<orderId>` may name. */
  private readonly inserts = new Set<string>();
  private pending: Extract<PlannedOp, { kind: 'members' }> | undefined;

  constructor(opts: PlanOptions = {}) {
    this.opts = normalizePlanOptions(opts);
  }

  push(rec: OrderRecord): PlanItem[] {
    const out: PlanItem[] = [];
    if (rec.kind === 'invalid') {
      out.push({ kind: 'outcome', outcome: refusedOutcome(rec.line, rec.error) });
      return out;
    }
    if (rec.kind === 'user') {
      out.push(...this.flush());
      const { line } = rec;
      switch (rec.command) {
        case 'insert':
          if (this.inserts.has(line.orderId)) {
            out.push({ kind: 'outcome', outcome: refusedOutcome(line, { code: 'ERR_ORDER_DUPLICATE_ORDER_ID', message: `orderId ${JSON.stringify(line.orderId)} is already used by another insert in this run` }) });
            break;
          }
          this.inserts.add(line.orderId);
          out.push({
            kind: 'op',
            op: { kind: 'insert', lines: [line], entity: rec.entity, bulkId: line.orderId, cells: rec.cells, resource: unflatten(rec.cells, { baseSchema: USER_SCHEMA, isMultiValued: multi(rec.cells) }) },
          });
          break;
        case 'update':
          if (rec.cells.length === 0) {
            out.push({ kind: 'outcome', outcome: outcomeOf(line, { outcome: 'skipped', detail: 'nothing to change: every attribute cell is empty' }) });
            break;
          }
          out.push({ kind: 'op', op: { kind: 'update', lines: [line], entity: rec.entity, id: rec.id!, cells: rec.cells, patch: patchOperations(rec.cells, { isMultiValued: multi(rec.cells) }) } });
          break;
        case 'delete':
          out.push({ kind: 'op', op: { kind: 'delete', lines: [line], entity: rec.entity, id: rec.id! } });
          break;
      }
      return out;
    }
    // Membership.
    let ref: string | undefined;
    if (rec.member.startsWith('@')) {
      ref = rec.member.slice(1);
      if (!this.inserts.has(ref)) {
        out.push({ kind: 'outcome', outcome: refusedOutcome(rec.line, { code: 'ERR_ORDER_UNKNOWN_REFERENCE', message: `MemberId ${rec.member} names no valid insert order in this run` }) });
        return out;
      }
    }
    const p = this.pending;
    if (p && (p.group !== rec.group || p.entity !== rec.entity || p.members.length >= this.opts.maxMembersPerPatch)) out.push(...this.flush());
    this.pending ??= { kind: 'members', lines: [], entity: rec.entity, group: rec.group, members: [] };
    this.pending.lines.push(rec.line);
    this.pending.members.push(ref !== undefined ? { line: rec.line, op: rec.command, ref } : { line: rec.line, op: rec.command, member: rec.member });
    return out;
  }

  flush(): PlanItem[] {
    const p = this.pending;
    this.pending = undefined;
    return p ? [{ kind: 'op', op: p }] : [];
  }
}

function multi(cells: readonly { path: unknown; multiValued: boolean }[]) {
  return (p: unknown) => cells.find((c) => c.path === p)?.multiValued ?? false;
}

/** The planner as an object-mode Transform. */
export function createOrderPlanner(opts: PlanOptions = {}): Transform {
  const planner = new OrderPlanner(opts);
  return new Transform({
    objectMode: true,
    transform(rec: OrderRecord, _enc, done) {
      for (const item of planner.push(rec)) this.push(item);
      done();
    },
    flush(done) {
      for (const item of planner.flush()) this.push(item);
      done();
    },
  });
}
