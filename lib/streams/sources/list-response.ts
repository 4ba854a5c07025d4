/**
 * A SCIM ListResponse, read tolerantly (DIALECTS.md): `Resources` may be
 * absent when empty, `totalResults` may be a string or missing (cursor
 * paging), `itemsPerPage` and `startIndex` are ignored on purpose — we
 * advance by what actually arrived.
 */
import { ScimEtlError } from '../../errors.js';
import { getAttr } from '../../scim/filter.js';
import type { ScimResource } from '../../types.js';

export interface ListPage {
  resources: ScimResource[];
  totalResults?: number;
  /** RFC 9865: present on every page but the last. */
  nextCursor?: string;
}

export function readListResponse(body: unknown, where: string): ListPage {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ScimEtlError('ERR_EXPORT_BAD_LIST', `${where}: the server's reply is not a SCIM ListResponse object`, { where });
  }
  const raw = getAttr(body, 'Resources');
  let resources: ScimResource[];
  if (raw === undefined || raw === null) resources = [];
  else if (Array.isArray(raw)) resources = raw.filter((r): r is ScimResource => r !== null && typeof r === 'object' && !Array.isArray(r));
  else throw new ScimEtlError('ERR_EXPORT_BAD_LIST', `${where}: 'Resources' is not an array`, { where });
  const page: ListPage = { resources };
  const total = toCount(getAttr(body, 'totalResults'));
  if (total !== undefined) page.totalResults = total;
  const next = getAttr(body, 'nextCursor');
  if (typeof next === 'string' && next !== '') page.nextCursor = next;
  return page;
}

export function toCount(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
