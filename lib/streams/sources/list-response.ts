/**
 * A SCIM ListResponse, read tolerantly (DIALECTS.md) but not blindly: a 2xx
 * list reply must show that it is one — the ListResponse schema, or for
 * lenient servers a `Resources` array or `totalResults: 0`. An Error body
 * served with 200, an HTML page, or `totalResults > 0` with no `Resources`
 * where items are due fail the table: taken as an empty page they would end
 * the listing and commit a short table.
 *
 * `totalResults` may be a string or missing (cursor paging); `itemsPerPage`
 * and `startIndex` are ignored on purpose — we advance by what arrived.
 */
import { ScimEtlError } from '../../errors.js';
import { parseScimError, safeSnippet } from '../../scim/errors.js';
import { getAttr } from '../../scim/filter.js';
import type { ScimResource } from '../../types.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface ListPage {
  resources: ScimResource[];
  totalResults?: number;
  /** RFC 9865: present on every page but the last. */
  nextCursor?: string;
  /** The startIndex this page was asked at (index and keyset pages). */
  start?: number;
}

/** What a reply showed of itself: from a parsed body, or gathered by the token walk of the members source. */
export interface ReplyShape {
  /** `schemas` values, as sent. */
  schemas: string[];
  hasResources: boolean;
  totalResults?: number;
  /** A Slack-style `Errors` member, or root `status`/`detail` that only an Error body has. */
  errorLike: boolean;
  /** status / scimType / detail for the message, when the body is an error. */
  status?: string;
  detail?: string;
}

/** Where a page sits, for messages: `GET Users (startIndex 41)`, `GET Users (cursor "c2")`. */
export function describePage(endpoint: string, params: Record<string, unknown>): string {
  const parts: string[] = [];
  if (params.cursor !== undefined) parts.push(params.cursor === '' ? 'first cursor page' : `cursor ${JSON.stringify(params.cursor)}`);
  else if (params.startIndex !== undefined) parts.push(`startIndex ${params.startIndex}`);
  const after = /\bid gt ("(?:[^"\\]|\\.)*")\s*$/.exec(String(params.filter ?? ''));
  if (after) parts.push(`after id ${after[1]}`);
  return `GET ${endpoint}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * Throws ERR_EXPORT_BAD_LIST unless the shape is a ListResponse. `start` is
 * the startIndex asked (1 for the first cursor page): a reply claiming items
 * at or past it must carry them.
 */
export function checkListShape(shape: ReplyShape, where: string, start: number | undefined): void {
  const lower = shape.schemas.map((s) => s.toLowerCase());
  const isList = lower.includes(LIST_RESPONSE_SCHEMA.toLowerCase());
  if (lower.includes(ERROR_SCHEMA.toLowerCase()) || (!isList && !shape.hasResources && shape.errorLike)) {
    const said = [shape.status && `status ${shape.status}`, shape.detail].filter(Boolean).join(': ');
    throw badList(where, `the server answered 2xx with a SCIM Error instead of a ListResponse${said ? ` (${said})` : ''}`);
  }
  if (!isList && !shape.hasResources && shape.totalResults !== 0) {
    throw badList(where, `the reply is not a SCIM ListResponse (no ListResponse schema, no Resources, totalResults ${shape.totalResults ?? 'missing'})`);
  }
  const total = shape.totalResults;
  if (!shape.hasResources && total !== undefined && total > 0 && (start === undefined || start <= total)) {
    throw badList(where, `totalResults is ${total} but the reply has no Resources${start !== undefined ? ` at startIndex ${start}` : ''}`);
  }
}

/** A single resource read on its own (`GET Groups/{id}`) must not be an Error body served with 2xx. */
export function checkResourceShape(shape: ReplyShape, id: string | undefined, where: string): void {
  const isError = shape.schemas.some((s) => s.toLowerCase() === ERROR_SCHEMA.toLowerCase()) || (shape.errorLike && id === undefined);
  if (!isError) return;
  const said = [shape.status && `status ${shape.status}`, shape.detail].filter(Boolean).join(': ');
  throw badList(where, `the server answered 2xx with a SCIM Error instead of the resource${said ? ` (${said})` : ''}`);
}

export function readListResponse(body: unknown, where: string, start?: number): ListPage {
  if (typeof body === 'string') throw badList(where, `the reply is not JSON but text: ${safeSnippet(body, 120)}`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badList(where, `the server's reply is not a SCIM ListResponse object (got ${body === undefined ? 'an empty body' : Array.isArray(body) ? 'an array' : typeof body})`);
  }
  const raw = getAttr(body, 'Resources');
  let resources: ScimResource[];
  if (raw === undefined || raw === null) resources = [];
  else if (Array.isArray(raw)) resources = raw.filter((r): r is ScimResource => r !== null && typeof r === 'object' && !Array.isArray(r));
  else throw badList(where, "'Resources' is not an array");
  const total = toCount(getAttr(body, 'totalResults'));
  checkListShape(shapeOf(body, Array.isArray(raw), total), where, start);
  const page: ListPage = { resources };
  if (total !== undefined) page.totalResults = total;
  const next = getAttr(body, 'nextCursor');
  if (typeof next === 'string' && next !== '') page.nextCursor = next;
  return page;
}

function shapeOf(body: object, hasResources: boolean, totalResults: number | undefined): ReplyShape {
  const schemas = getAttr(body, 'schemas');
  const shape: ReplyShape = {
    schemas: Array.isArray(schemas) ? schemas.filter((s): s is string => typeof s === 'string') : [],
    hasResources,
    errorLike: getAttr(body, 'Errors') !== undefined || getAttr(body, 'status') !== undefined || getAttr(body, 'detail') !== undefined,
  };
  if (totalResults !== undefined) shape.totalResults = totalResults;
  if (shape.errorLike) {
    const info = parseScimError(body);
    if (info.status !== undefined) shape.status = String(info.status);
    if (info.detail !== undefined) shape.detail = info.detail;
  }
  return shape;
}

function badList(where: string, why: string): ScimEtlError {
  return new ScimEtlError('ERR_EXPORT_BAD_LIST', `${where}: ${why}; the table is not written`, { where });
}

export function toCount(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
