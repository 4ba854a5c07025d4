/**
 * A users `delete` line under `fulfill.deprovision: deactivate`: the user is
 * read first (its `active` only), so that a rerun on a user already inactive
 * is `skipped` with a reason instead of a second PATCH reported `ok`; then
 * `PATCH active=false` in the dialect's shape. A user not there is `skipped`,
 * as for a DELETE.
 */
import { getAttr } from '../scim/filter.js';
import { isScimHttpError } from '../scim/errors.js';
import { isFatal } from './fatal.js';
import { sendWithIfMatch } from './if-match.js';
import type { Logger } from '../log.js';
import { disproves } from './proof.js';
import { NOT_APPLIED } from './verify.js';
import { plannedRequest, resourcePath } from './requests.js';
import { outcomeOf, type LineOutcome, type PlannedOp, type ScimRequester } from './types.js';
import type { RequestStyle } from '../scim/requests.js';

export interface DeactivateContext {
  client: ScimRequester;
  style: RequestStyle;
  /** fulfill.ifMatch: the PATCH carries If-Match (a change in between is a 412, re-read once). */
  ifMatch?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
}

/** `active` as the server wrote it: false, "false" (some send strings) → false. */
export function isInactive(resource: unknown): boolean {
  const a = getAttr(resource, 'active');
  return a === false || (typeof a === 'string' && a.toLowerCase() === 'false');
}

/** Failed (non-fatal) answers come back as thrown ScimHttpErrors; the caller turns them into failed outcomes. */
export async function deactivateUser(op: Extract<PlannedOp, { kind: 'delete' }>, ctx: DeactivateContext): Promise<LineOutcome> {
  const line = op.lines[0];
  const path = resourcePath(op.entity, op.id);
  let attempts = 0;
  try {
    const current = await ctx.client.request({ method: 'GET', path, searchParams: { attributes: 'active' }, signal: ctx.signal });
    attempts += current.attempts;
    if (isInactive(current.body)) {
      return outcomeOf(line, { outcome: 'skipped', status: current.status, id: op.id, attempts, detail: 'already inactive (fulfill.deprovision: deactivate): nothing sent' });
    }
    const req = plannedRequest(op, () => undefined, ctx.style);
    const res = await sendWithIfMatch(ctx.client, { method: 'PATCH', path, json: req.body, signal: ctx.signal }, Boolean(ctx.ifMatch), ctx.logger);
    attempts += res.attempts;
    const no = disproves(res.status, res.body);
    // A 200 reply that still shows the user active did not take the change.
    const why = no ?? (res.body !== undefined && getAttr(res.body, 'active') !== undefined && !isInactive(res.body) ? 'the PATCH reply shows the user still active' : undefined);
    if (why) return outcomeOf(line, { outcome: 'failed', status: res.status, id: op.id, attempts, scimType: NOT_APPLIED, detail: why });
    return outcomeOf(line, { outcome: 'ok', status: res.status, id: op.id, attempts, detail: 'deactivated (active=false)' });
  } catch (err) {
    if (!isFatal(err) && isScimHttpError(err) && err.status === 404) {
      return outcomeOf(line, { outcome: 'skipped', status: 404, attempts: attempts + err.attempts, detail: 'not found: already deleted?' });
    }
    throw err;
  }
}
