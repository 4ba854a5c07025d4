/** The record shapes the stages agree on, and nothing else. */

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
