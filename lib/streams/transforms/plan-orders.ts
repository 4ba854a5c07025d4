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
import type { MemberWrite } from '../../scim/dialects/index.js';
import { outcomeOf, refusedOutcome, type OrderRecord, type PlanItem, type PlannedOp } from '../../types.js';

export interface PlanOptions {
  /** Member adds/removes per PATCH (default 1000). */
  maxMembersPerPatch?: number;
  /** What a users `delete` line becomes (default `delete`; fulfill passes the dialect's default). */
  deprovision?: 'delete' | 'deactivate';
  /** Membership files written on the member (the dialect's memberWrites, by lower-case entity). */
  memberWrites?: Readonly<Record<string, MemberWrite>>;
  /**
   * The names membership lines use after `@` (fulfill reads them first,
   * lib/fulfill/referenced-inserts.ts). Given, only the inserts they name are
   * remembered for references, the others only by key for the duplicate
   * check; absent, every insert is.
   */
  referenced?: ReadonlySet<string>;
}

export type NormalizedPlanOptions = Required<Omit<PlanOptions, 'referenced'>> & Pick<PlanOptions, 'referenced'>;

export function normalizePlanOptions(opts: PlanOptions): NormalizedPlanOptions {
  const max = opts.maxMembersPerPatch ?? 1000;
  if (!Number.isInteger(max) || max < 1) {
    throw new ScimEtlError('ERR_OPTION_MAX_MEMBERS', `maxMembersPerPatch must be a positive integer, got ${JSON.stringify(max)}`);
  }
  const deprovision = opts.deprovision ?? 'delete';
  if (deprovision !== 'delete' && deprovision !== 'deactivate') {
    throw new ScimEtlError('ERR_OPTION_DEPROVISION', `deprovision must be "delete" or "deactivate", got ${JSON.stringify(deprovision)}`);
  }
  return { maxMembersPerPatch: max, deprovision, memberWrites: opts.memberWrites ?? {}, referenced: opts.referenced };
}

/** The planning logic, free of streams: push records, collect the items to emit. */
export class OrderPlanner {
  private readonly opts: NormalizedPlanOptions;
  /** Keys of the inserts planned so far (orderId, else `f<file>-l<line>`): one bulkId each. */
  private readonly inserts = new Set<string>();
  /** orderIds of the inserts that have one: what `@<orderId>` names first. */
  private readonly named = new Set<string>();
  /** Keys of the inserts without an orderId, by line number: what `@<line>` may name. */
  private readonly byLine = new Map<string, string[]>();
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
        case 'insert': {
          const key = line.key ?? line.orderId;
          if (this.inserts.has(key)) {
            out.push({ kind: 'outcome', outcome: refusedOutcome(line, { code: 'ERR_ORDER_DUPLICATE_ORDER_ID', message: `orderId ${JSON.stringify(line.orderId)} is already used by another insert in this run` }) });
            break;
          }
          this.inserts.add(key);
          // Remembered for `@` only when a membership line may name it (without a key, the orderId is the line number).
          if (!this.opts.referenced || this.opts.referenced.has(line.orderId)) {
            if (line.key) this.byLine.set(line.orderId, [...(this.byLine.get(line.orderId) ?? []), key]);
            else this.named.add(key);
          }
          out.push({
            kind: 'op',
            op: { kind: 'insert', lines: [line], entity: rec.entity, bulkId: key, cells: rec.cells, resource: unflatten(rec.cells, { baseSchema: USER_SCHEMA, isMultiValued: multi(rec.cells) }) },
          });
          break;
        }
        case 'update':
          if (rec.cells.length === 0) {
            out.push({ kind: 'outcome', outcome: outcomeOf(line, { outcome: 'skipped', detail: 'nothing to change: every attribute cell is empty' }) });
            break;
          }
          out.push({ kind: 'op', op: { kind: 'update', lines: [line], entity: rec.entity, id: rec.id!, cells: rec.cells, patch: patchOperations(rec.cells, { isMultiValued: multi(rec.cells) }) } });
          break;
        case 'delete':
          out.push({ kind: 'op', op: { kind: 'delete', lines: [line], entity: rec.entity, id: rec.id!, ...(this.opts.deprovision === 'deactivate' ? { deactivate: true as const } : {}) } });
          break;
      }
      return out;
    }
    // Membership.
    const via = this.opts.memberWrites[rec.entity.toLowerCase()];
    if (via) {
      out.push(...this.flush());
      out.push(linkOnMember(rec, via));
      return out;
    }
    let ref: string | undefined;
    if (rec.member.startsWith('@')) {
      const found = this.reference(rec.member.slice(1));
      if ('error' in found) {
        out.push({ kind: 'outcome', outcome: refusedOutcome(rec.line, found.error) });
        return out;
      }
      ref = found.key;
    }
    const p = this.pending;
    if (p && (p.group !== rec.group || p.entity !== rec.entity || p.attribute !== rec.attribute || p.members.length >= this.opts.maxMembersPerPatch)) out.push(...this.flush());
    this.pending ??= { kind: 'members', lines: [], entity: rec.entity, group: rec.group, members: [], ...(rec.attribute ? { attribute: rec.attribute } : {}) };
    this.pending.lines.push(rec.line);
    this.pending.members.push(ref !== undefined ? { line: rec.line, op: rec.command, ref } : { line: rec.line, op: rec.command, member: rec.member });
    return out;
  }

  /**
   * The insert `@<name>` names: an orderId, else the line number of an insert
   * without one — in a single users file only, as line numbers repeat across files.
   */
  private reference(name: string): { key: string } | { error: { code: string; message: string } } {
    if (this.named.has(name)) return { key: name };
    const keys = this.byLine.get(name) ?? [];
    if (keys.length === 1) return { key: keys[0]! };
    if (keys.length > 1) {
      return { error: { code: 'ERR_ORDER_AMBIGUOUS_REFERENCE', message: `MemberId @${name} could name line ${name} of ${keys.length} users files: give those inserts an orderId` } };
    }
    return { error: { code: 'ERR_ORDER_UNKNOWN_REFERENCE', message: `MemberId @${name} names no valid insert order in this run` } };
  }

  flush(): PlanItem[] {
    const p = this.pending;
    this.pending = undefined;
    return p ? [{ kind: 'op', op: p }] : [];
  }
}

/** A membership line written on the member: one PATCH of the member, or the refusal the dialect gives. */
function linkOnMember(rec: Extract<OrderRecord, { kind: 'member' }>, via: MemberWrite): PlanItem {
  if (rec.member.startsWith('@')) {
    return { kind: 'outcome', outcome: refusedOutcome(rec.line, { code: 'ERR_ORDER_REFERENCE_UNSUPPORTED', message: `${rec.entity} are assigned on the user: MemberId must be an existing user's id, not a reference (${rec.member}); assign it in a second run` }) };
  }
  const ops = via.operations(rec.command, rec.group);
  if (!Array.isArray(ops)) return { kind: 'outcome', outcome: refusedOutcome(rec.line, { code: 'ERR_ORDER_INVALID_LINK', message: ops.refused }) };
  return {
    kind: 'op',
    op: { kind: 'update', lines: [rec.line], entity: via.memberEntity, id: rec.member, cells: [], patch: ops, link: { attribute: via.attribute, value: rec.group, present: rec.command === 'add' } },
  };
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
