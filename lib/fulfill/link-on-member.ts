/**
 * A membership line written on the member (Salesforce: a members_Entitlements
 * line PATCHes the user's `entitlements`): the planned PATCH is sent as is,
 * and a reply that shows the member's links without (or still with) the
 * value proves the line was not applied.
 */
import { getAttr } from '../scim/filter.js';
import { sendWithIfMatch } from './if-match.js';
import type { Logger } from '../log.js';
import { disproves } from './proof.js';
import { NOT_APPLIED } from './verify.js';
import { patchBody, resourcePath } from './requests.js';
import { outcomeOf, type LineOutcome, type PlannedOp, type ScimRequester } from './types.js';

type LinkOp = Extract<PlannedOp, { kind: 'update' }> & { link: NonNullable<Extract<PlannedOp, { kind: 'update' }>['link']> };

export function isLinkOp(op: PlannedOp): op is LinkOp {
  return op.kind === 'update' && op.link !== undefined;
}

/** Does the resource's link attribute hold the value? undefined when the body does not show the attribute. */
export function showsLink(resource: unknown, attribute: string, value: string): boolean | undefined {
  const list = getAttr(resource, attribute);
  if (list === undefined) return undefined;
  return Array.isArray(list) && list.some((e) => String(getAttr(e, 'value')) === value);
}

export async function writeLinkOnMember(op: LinkOp, ctx: { client: ScimRequester; ifMatch?: boolean; logger?: Logger; signal?: AbortSignal }): Promise<LineOutcome> {
  const line = op.lines[0];
  const { attribute, value, present } = op.link;
  const res = await sendWithIfMatch(ctx.client, { method: 'PATCH', path: resourcePath(op.entity, op.id), json: patchBody(op.patch), signal: ctx.signal }, Boolean(ctx.ifMatch), ctx.logger);
  const no = disproves(res.status, res.body);
  const shown = no ? undefined : showsLink(res.body, attribute, value);
  const why = no ?? (shown === !present ? `the PATCH reply shows ${value} ${present ? 'not' : 'still'} in ${attribute}` : undefined);
  if (why) return outcomeOf(line, { outcome: 'failed', status: res.status, id: op.id, attempts: res.attempts, scimType: NOT_APPLIED, detail: why });
  return outcomeOf(line, { outcome: 'ok', status: res.status, id: op.id, attempts: res.attempts });
}
