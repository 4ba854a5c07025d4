/** The record shapes the stages agree on, and nothing else. */
import type { ScimEtlError } from './errors.js';
import { maskValues } from './redact.js';
import type { ColumnPath } from './scim/path.js';
import type { PatchOperation } from './scim/unflatten.js';
import type { ScimClient } from './scim/client.js';

/** The parsed JSON object of one SCIM resource. */
export type ScimResource = { id?: string; schemas?: string[]; meta?: ScimMeta } & Record<string, unknown>;

export interface ScimMeta {
  resourceType?: string;
  created?: string;
  lastModified?: string;
  version?: string;
  location?: string;
}

/** One output row after flatten: cell text keyed by column path, in column order. */
export type Row = Record<string, string>;

/** One membership link: `value` = the group's id, `MemberId` = the member's id. */
export interface MemberRow {
  value: string;
  MemberId: string;
}

export type OrderCommand = 'insert' | 'update' | 'delete' | 'add' | 'remove';

/** One parsed order line. `line` is the 1-based line of the CSV record in its file. */
export interface Order {
  file: string;
  line: number;
  orderId: string;
  command: OrderCommand | string;
  id?: string;
  /** Attribute cells keyed by column path, as written in the file (empty cells kept). */
  attributes: Record<string, string>;
}

/** One planned SCIM request. `orderRefs` are the order keys whose outcome it decides. */
export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  bulkId?: string;
  orderRefs: string[];
}

export type OutcomeKind = 'ok' | 'failed' | 'skipped';

/** One result per order line. */
export interface Outcome {
  orderId: string;
  command: string;
  id?: string;
  status?: number;
  outcome: OutcomeKind;
  scimType?: string;
  detail?: string;
  attempts: number;
}

/*
 * The records that flow through the fulfill pipeline:
 *   order CSVs → OrderRecord → (plan) PlanItem → (batch) BatchItem → LineOutcome → results CSVs
 * Every record carries the global sequence number of the order line(s) it
 * decides, so that the results sink can write them back in order-line order.
 */

/** Where one order line sits: `seq` is global across the run's files, `line` is 1-based in its file. */
export interface OrderLine {
  seq: number;
  /** Index of the order file in the run (results go to the matching results file). */
  fileIndex: number;
  file: string;
  line: number;
  orderId: string;
  command: string;
  id?: string;
  /**
   * The run-wide key of an insert when the line has no orderId (`f<fileIndex>-l<line>`):
   * line numbers repeat across files. Absent: the orderId is the key.
   */
  key?: string;
  /**
   * The line's own secret cells (a `password` column): masked from this
   * line's outcome, and never added to the run-wide set of secrets.
   */
  secrets?: string[];
}

export type UserCommand = 'insert' | 'update' | 'delete';
export type MemberCommand = 'add' | 'remove';

/** One attribute cell of a users order, typed from the schema. `undefined` = unchanged, `null` = clear. */
export interface TypedCell {
  path: ColumnPath;
  value: unknown;
  multiValued: boolean;
}

export type OrderRecord =
  | { kind: 'user'; line: OrderLine; command: UserCommand; entity: string; id?: string; cells: TypedCell[] }
  /** `attribute`: where the links live when not in `members` (CyberArk containers' `privilegedData`). */
  | { kind: 'member'; line: OrderLine; command: MemberCommand; entity: string; group: string; member: string; attribute?: string }
  | { kind: 'invalid'; line: OrderLine; error: ScimEtlError };

/** A member change inside a membership PATCH; `ref` is the orderId of a user inserted in this run. */
export interface MemberChange {
  line: OrderLine;
  op: MemberCommand;
  /** A member id, or undefined when `ref` names an insert. */
  member?: string;
  ref?: string;
}

export type PlannedOp =
  | { kind: 'insert'; lines: [OrderLine]; entity: string; bulkId: string; resource: Record<string, unknown>; cells: TypedCell[] }
  /**
   * `link`: a membership line written on the member (Salesforce entitlements): `patch` is sent as
   * is (no cells), and the member's `attribute` must then hold `value` (or not).
   */
  | { kind: 'update'; lines: [OrderLine]; entity: string; id: string; cells: TypedCell[]; patch: PatchOperation[]; link?: { attribute: string; value: string; present: boolean } }
  /** `deactivate`: fulfill.deprovision says PATCH active=false instead of DELETE. */
  | { kind: 'delete'; lines: [OrderLine]; entity: string; id: string; deactivate?: true }
  | { kind: 'members'; lines: OrderLine[]; entity: string; group: string; members: MemberChange[]; attribute?: string };

/** The result of one order line, ready for the results file. */
export interface LineOutcome extends Outcome {
  seq: number;
  fileIndex: number;
}

export type PlanItem = { kind: 'op'; op: PlannedOp } | { kind: 'outcome'; outcome: LineOutcome };

export type BatchItem = { kind: 'batch'; ops: PlannedOp[] } | { kind: 'outcome'; outcome: LineOutcome };

/** What a sink needs of the SCIM client. */
export type ScimRequester = Pick<ScimClient, 'request'>;

/** One planned request as printed by --dry-run. */
export interface PlannedRequest {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'GET';
  path: string;
  body?: unknown;
  bulkId?: string;
  orderRefs: string[];
}

/** Turns an OrderLine into the failed/skipped/ok outcome row. */
export function outcomeOf(line: OrderLine, fields: Partial<Omit<LineOutcome, 'seq' | 'fileIndex' | 'orderId' | 'command'>> & { outcome: LineOutcome['outcome'] }): LineOutcome {
  const out: LineOutcome = {
    seq: line.seq,
    fileIndex: line.fileIndex,
    orderId: line.orderId,
    command: line.command,
    attempts: 0,
    ...fields,
  };
  if (out.id === undefined && line.id !== undefined) out.id = line.id;
  // A server may echo the request (and its password) in its error detail.
  if (out.detail && line.secrets) out.detail = maskValues(out.detail, line.secrets);
  return out;
}

/** The outcome of a line refused before sending: `CODE: message` in detail (scimType is left to servers). */
export function refusedOutcome(line: OrderLine, error: { code: string; message: string }): LineOutcome {
  return outcomeOf(line, { outcome: 'failed', detail: `${error.code}: ${error.message}` });
}
