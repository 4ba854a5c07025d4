/**
 * A 2xx is a success only with proof. An insert is proven by a resource with
 * an `id` in the body or a `Location` naming one; where a 201/204 carries
 * neither, the user is looked up by `userName`. Servers have answered 200 with
 * an HTML page or a SCIM Error body, and 201 with `Location: …/Users/undefined`:
 * none of these may become an `ok` line with no (or a made-up) id.
 */
import { getAttr, quoteLiteral } from '../scim/filter.js';
import { parseScimError, safeSnippet } from '../scim/errors.js';
import { isFatal } from './fatal.js';
import { resourcePath } from './requests.js';
import type { ScimRequester } from './types.js';

/** scimType of a line whose 2xx did not show the resource it claims to have created. */
export const NO_RESOURCE = 'noResource';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** An id as a server may hand it back: a non-empty string or a number, never a placeholder printed by a bug. */
export function validId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  if (t === '' || /^(undefined|null|nan|\[object object\])$/i.test(t)) return undefined;
  return value;
}

/** The id of a resource body (not of an error), if it has a valid one. */
export function idOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body) || isErrorBody(body)) return undefined;
  return validId(getAttr(body, 'id'));
}

export function isErrorBody(body: unknown): boolean {
  const schemas = getAttr(body, 'schemas');
  return Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === ERROR_SCHEMA.toLowerCase());
}

/**
 * The id at the end of a created resource's Location (`…/Users/<id>`),
 * decoded. Not the collection itself (`…/Users/`), and, when `entity` is
 * given, only a segment right under it.
 */
export function idFromLocation(location: string | undefined, entity?: string): string | undefined {
  if (!location) return undefined;
  const path = location.replace(/[?#].*$/, '');
  const segments = path.replace(/\/+$/, '').split('/');
  const last = segments.pop();
  if (!last) return undefined;
  if (entity !== undefined) {
    if (last.toLowerCase() === entity.toLowerCase()) return undefined;
    if ((segments.pop() ?? '').toLowerCase() !== entity.toLowerCase()) return undefined;
  }
  let id = last;
  try {
    id = decodeURIComponent(last);
  } catch {
    // A stray '%' is not an escape: the id as written.
  }
  return validId(id);
}

export type InsertProof =
  /** The created resource's id. */
  | { id: string }
  /** No proof in the reply, but a reply that may come without one (201/204): look the user up. */
  | { lookup: string }
  /** A reply that is no resource at all (an HTML page, a SCIM Error, JSON without an id). */
  | { fail: string };

/** What a 2xx reply to `POST /<entity>` (single or inside Bulk) proves. */
export function insertProof(entity: string, status: number, body: unknown, location: string | undefined): InsertProof {
  const id = idOf(body) ?? idFromLocation(location, entity);
  if (id !== undefined) return { id };
  const where = location ? ` (Location: ${safeSnippet(location, 120)})` : '';
  const empty = body === undefined || body === null || body === '';
  if (status === 201 || status === 204 || empty) return { lookup: `the server answered ${status} without the created resource's id${where}` };
  return { fail: `the server answered ${status} but ${describeBody(body)}${where}: nothing shows the user was created` };
}

/**
 * Why a 2xx reply to a change (PATCH, PUT, DELETE) cannot be a success: an
 * HTML page (a proxy or login page answering for the server) or a SCIM
 * Error body. Undefined for anything else, a 204 included.
 */
export function disproves(status: number, body: unknown): string | undefined {
  if (typeof body === 'string' && /^\s*</.test(body)) return `the server answered ${status} ${describeBody(body)}`;
  if (isErrorBody(body)) return `the server answered ${status} ${describeBody(body)}`;
  return undefined;
}

function describeBody(body: unknown): string {
  if (typeof body === 'string') return `with no SCIM resource (${safeSnippet(body, 80)})`;
  if (isErrorBody(body)) return `with a SCIM Error (${parseScimError(body).detail ?? 'no detail'})`;
  return 'with a body that has no id';
}

/**
 * Finds the user an unproven insert may have created by its userName: exactly
 * one user whose userName matches (checked here too: a server that ignores
 * the filter returns everyone) proves it. Fatal errors are thrown.
 */
export async function lookupCreated(
  client: ScimRequester,
  entity: string,
  resource: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<{ id: string; attempts: number } | { fail: string; attempts: number }> {
  const userName = getAttr(resource, 'userName');
  if (typeof userName !== 'string') return { fail: 'and the insert has no userName to look it up by', attempts: 0 };
  const filter = `userName eq ${quoteLiteral(userName)}`;
  let res;
  try {
    res = await client.request({ method: 'GET', path: resourcePath(entity), searchParams: { filter, attributes: 'id,userName' }, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (isFatal(err)) throw err;
    const e = err as { message: string; context?: { attempts?: unknown } };
    return { fail: `and looking it up by ${filter} failed (${e.message})`, attempts: Number(e.context?.attempts ?? 1) };
  }
  const list = getAttr(res.body, 'Resources');
  const wanted = userName.toLowerCase();
  const found = (Array.isArray(list) ? list : []).filter((r) => {
    const u = getAttr(r, 'userName');
    return typeof u === 'string' && u.toLowerCase() === wanted && idOf(r) !== undefined;
  });
  if (found.length === 1) return { id: idOf(found[0])!, attempts: res.attempts };
  return { fail: `and ${filter} found ${found.length} users`, attempts: res.attempts };
}
