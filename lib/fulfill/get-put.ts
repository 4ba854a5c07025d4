/**
 * The update path without PATCH: GET the resource, change it, PUT it back
 * (with If-Match when the server has ETags, so that a change made in between
 * is a 412, not lost). Used where the server's ServiceProviderConfig says
 * `patch.supported: false`, and for the resource types a dialect writes only
 * by PUT (CyberArk containers). The PUT reply is checked like a PATCH reply.
 */
import { getAttr } from '../scim/filter.js';
import { applyCells } from '../scim/unflatten.js';
import { versionOf } from './if-match.js';
import { disproves } from './proof.js';
import { contradicted, describeCells, NOT_APPLIED } from './verify.js';
import { resourcePath, type RequestStyle } from './requests.js';
import { outcomeOf, type LineOutcome, type MemberChange, type OrderLine, type ScimRequester, type TypedCell } from './types.js';

export interface PutContext {
  client: ScimRequester;
  capabilities: { patch: boolean; etag: boolean };
  style: RequestStyle;
  signal?: AbortSignal;
}

/** Writes to this entity go GET + PUT: the server has no PATCH, or the dialect says this type takes none. */
export function writesByPut(entity: string, ctx: Pick<PutContext, 'capabilities' | 'style'>): boolean {
  return !ctx.capabilities.patch || (ctx.style.dialect?.putOnly.includes(entity.toLowerCase()) ?? false);
}


/** GETs the resource, lets `change` edit it, PUTs it back; returns the PUT's answer and the attempts of both. */
async function getChangePut(path: string, ctx: PutContext, change: (resource: Record<string, unknown>) => Record<string, unknown>) {
  const current = await ctx.client.request({ method: 'GET', path, signal: ctx.signal });
  const body = change(structuredClone(current.body as Record<string, unknown>));
  delete body.meta;
  const version = ctx.capabilities.etag ? versionOf(current) : undefined;
  const res = await ctx.client.request({ method: 'PUT', path, json: body, signal: ctx.signal, ...(version ? { headers: { 'If-Match': version } } : {}) });
  return { res, attempts: current.attempts + res.attempts };
}

function notApplied(line: OrderLine, id: string, status: number, attempts: number, detail: string): LineOutcome {
  return outcomeOf(line, { outcome: 'failed', status, id, attempts, scimType: NOT_APPLIED, detail });
}

/** A users update line by GET + PUT. Non-fatal HTTP errors are thrown for the caller to report. */
export async function putUpdate(entity: string, id: string, cells: TypedCell[], ctx: PutContext, line: OrderLine): Promise<LineOutcome> {
  const isMultiValued = (p: unknown) => cells.find((c) => c.path === p)?.multiValued ?? false;
  const { res, attempts } = await getChangePut(resourcePath(entity, id), ctx, (r) => applyCells(r, cells, { isMultiValued }));
  const no = disproves(res.status, res.body);
  if (no) return notApplied(line, id, res.status, attempts, no);
  const wrong = contradicted(res.body, cells);
  if (wrong.length > 0) return notApplied(line, id, res.status, attempts, `the PUT reply shows ${describeCells(res.body, wrong)}`);
  return outcomeOf(line, { outcome: 'ok', status: res.status, id, attempts });
}

/**
 * Membership lines of one resource by GET + PUT of its link attribute
 * (`members`, `privilegedData`), applied in order. The PUT is atomic: the
 * lines share its fate, except that a reply showing a link wrong fails that line.
 */
export async function putMembers(entity: string, group: string, attribute: string, ready: Array<MemberChange & { value: string }>, ctx: PutContext): Promise<LineOutcome[]> {
  const { res, attempts } = await getChangePut(resourcePath(entity, group), ctx, (r) => {
    const key = Object.keys(r).find((k) => k.toLowerCase() === attribute.toLowerCase()) ?? attribute;
    let links = Array.isArray(r[key]) ? (r[key] as unknown[]) : [];
    for (const m of ready) {
      const has = links.some((l) => String(getAttr(l, 'value')) === m.value);
      if (m.op === 'add' && !has) links = [...links, { value: m.value }];
      if (m.op === 'remove') links = links.filter((l) => String(getAttr(l, 'value')) !== m.value);
    }
    r[key] = links;
    return r;
  });
  const no = disproves(res.status, res.body);
  const shown = getAttr(res.body, attribute);
  const final = new Map(ready.map((m) => [m.value, m.op === 'add']));
  return ready.map((m) => {
    if (no) return notApplied(m.line, group, res.status, attempts, no);
    if (Array.isArray(shown)) {
      const has = shown.some((l) => String(getAttr(l, 'value')) === m.value);
      if (has !== final.get(m.value)) return notApplied(m.line, group, res.status, attempts, `the PUT reply shows ${m.value} ${has ? 'still' : 'not'} in ${attribute}`);
    }
    return outcomeOf(m.line, { outcome: 'ok', status: res.status, id: group, attempts });
  });
}
