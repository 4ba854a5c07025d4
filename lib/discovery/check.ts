/**
 * The compatibility check: small probes of what a real server may get wrong,
 * each ending in a verdict (works / fails / unknown) and the workaround the
 * tool uses. Read-only by default; with `write` a throw-away user and group
 * are created, changed and deleted (cleaned up whatever happens).
 * Each probe compares the server's answer with a second, cheaper truth: the
 * full resource, the next page, the unfiltered count.
 */
import { randomBytes } from 'node:crypto';
import { isScimEtlError } from '../errors.js';
import type { ScimClient } from '../scim/client.js';
import { isScimHttpError } from '../scim/errors.js';
import { getAttr } from '../scim/filter.js';
import { ENTERPRISE_USER_SCHEMA } from '../scim/schemas.js';
import { capabilitiesOf, type Capabilities } from './model.js';

export type Verdict = 'works' | 'fails' | 'unknown';

export interface ProbeResult {
  /** Stable probe id, e.g. `paging.count`. */
  probe: string;
  verdict: Verdict;
  /** What was seen. */
  detail: string;
  /** What the tool does about a failure (or why it needs none). */
  workaround?: string;
}

export interface CheckReport {
  root: string;
  write: boolean;
  results: ProbeResult[];
}

type Client = Pick<ScimClient, 'request' | 'base'> & Partial<Pick<ScimClient, 'serviceProviderConfig'>>;
type Json = Record<string, unknown>;

export interface CheckOptions {
  /** The page size the pipeline asks for. */
  pageSize: number;
  write?: boolean;
  signal?: AbortSignal;
}

export async function runCheck(client: Client, opts: CheckOptions): Promise<CheckReport> {
  const ctx = new Probe(client, opts.signal);
  const results: ProbeResult[] = [];
  const spc = await client.serviceProviderConfig?.(opts.signal).catch(() => undefined);
  const caps = spc ? capabilitiesOf(spc) : undefined;
  results.push(...(await readProbes(ctx, opts.pageSize, caps)));
  if (opts.write) results.push(...(await writeProbes(ctx, caps)));
  return { root: client.base, write: Boolean(opts.write), results };
}

/** One request helper: a SCIM error is an answer to look at, not a failure of the check. */
class Probe {
  constructor(private client: Client, private signal?: AbortSignal) {}

  async send(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, extra: { searchParams?: Record<string, string | number>; json?: unknown } = {}) {
    try {
      const res = await this.client.request({ method, path, ...extra, signal: this.signal, retry: method === 'GET' ? undefined : false });
      return { ok: true as const, status: res.status, body: res.body as Json | undefined, headers: res.headers };
    } catch (err) {
      if (this.signal?.aborted) throw err;
      if (isScimHttpError(err)) return { ok: false as const, status: err.status, detail: err.detail ?? err.message, scimType: err.scimType };
      // Refused credentials or a dead server: no probe can say anything.
      if (isScimEtlError(err) && (err.category === 'auth' || err.category === 'transport')) throw err;
      return { ok: false as const, status: 0, detail: (err as Error).message };
    }
  }

  async list(params: Record<string, string | number>) {
    const r = await this.send('GET', 'Users', { searchParams: params });
    if (!r.ok) return r;
    const resources = Array.isArray(r.body?.Resources) ? (r.body!.Resources as Json[]) : [];
    const total = typeof r.body?.totalResults === 'number' ? r.body.totalResults : Number(r.body?.totalResults);
    return { ...r, resources, total: Number.isFinite(total) ? total : undefined };
  }
}

const ok = (probe: string, detail: string, workaround?: string): ProbeResult => ({ probe, verdict: 'works', detail, ...(workaround ? { workaround } : {}) });
const bad = (probe: string, detail: string, workaround: string): ProbeResult => ({ probe, verdict: 'fails', detail, workaround });
const unknown = (probe: string, detail: string): ProbeResult => ({ probe, verdict: 'unknown', detail });
const failed = (r: { status: number; detail?: string }) => `${r.status || 'error'}${r.detail ? ` ${JSON.stringify(r.detail.slice(0, 120))}` : ''}`;

async function readProbes(p: Probe, pageSize: number, caps: Capabilities | undefined): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  const first = await p.list({ startIndex: 1, count: pageSize });
  if (!first.ok) return [unknown('paging.count', `GET /Users answered ${failed(first)}: nothing else can be checked`)];
  const total = first.total;
  const expected = total === undefined ? undefined : Math.min(pageSize, total);
  if (total === undefined) out.push(bad('paging.count', 'the list reply has no totalResults', 'the export pages until an empty page'));
  else if (first.resources.length < expected!) {
    const advertised = caps?.filter.maxResults ?? caps?.pagination?.maxPageSize;
    out.push(bad('paging.count', `count=${pageSize} returned ${first.resources.length} of ${total} (capped${advertised !== undefined && advertised <= first.resources.length ? '' : ', not advertised'})`, 'the export advances startIndex by what each page returned'));
  } else out.push(ok('paging.count', `count=${pageSize} returned ${first.resources.length} of ${total}`));

  // totalResults honesty: a one-resource page must not claim the whole set is one resource.
  const one = await p.list({ startIndex: 1, count: 1 });
  const two = await p.list({ startIndex: 2, count: 1 });
  if (!one.ok || !two.ok) out.push(unknown('paging.totalResults', `count=1 answered ${failed(one.ok ? two as never : one)}`));
  else if (one.total !== undefined && one.total <= 1 && two.resources.length > 0) {
    out.push(bad('paging.totalResults', `totalResults is ${one.total} but startIndex=2 returned another resource (totalResults counts the page)`, 'do not trust totalResults: the export checks its row count against it (countMismatch)'));
  } else out.push(ok('paging.totalResults', `totalResults ${one.total ?? 'absent'}; the pages agree with it`));

  const again = await p.list({ startIndex: 1, count: 2 });
  const ids = (rs: Json[]) => rs.slice(0, 2).map((r) => String(r.id)).join(',');
  if (again.ok && ids(again.resources) === ids(first.resources)) out.push(ok('paging.stable', 'the same page twice has the same resources in the same order'));
  else out.push(bad('paging.stable', 'the same page read twice differs', 'the export de-duplicates by id and detects repeated pages'));

  const sample = first.resources.find((r) => getAttr(getAttr(r, 'name'), 'givenName') !== undefined) ?? first.resources[0];
  if (!sample || typeof sample.id !== 'string') {
    out.push(unknown('projection', 'no user to compare with: the server lists no users'));
    return out;
  }
  const full = await p.send('GET', `Users/${encodeURIComponent(sample.id)}`);
  const user: Json = full.ok && full.body ? full.body : sample;
  out.push(...(await projectionProbes(p, user)));
  out.push(...(await filterProbes(p, user, total)));
  const version = getAttr(getAttr(user, 'meta'), 'version');
  const etagHeader = full.ok ? full.headers.etag : undefined;
  if (caps?.etag === false) out.push(ok('etag', 'not advertised: no If-Match is sent'));
  else if (version !== undefined || etagHeader !== undefined) out.push(ok('etag', `meta.version ${version !== undefined ? 'present' : 'absent'}, ETag header ${etagHeader !== undefined ? 'present' : 'absent'}`));
  else out.push(bad('etag', 'advertised but neither meta.version nor an ETag header came back', 'no If-Match is sent'));
  return out;
}

async function projectionProbes(p: Probe, user: Json): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  const id = String(user.id);
  const filter = `id eq ${JSON.stringify(id)}`;
  const given = getAttr(getAttr(user, 'name'), 'givenName');
  const pick = async (attributes: string) => {
    const r = await p.list({ filter, attributes });
    return r.ok ? { ok: true as const, resource: r.resources[0] } : r;
  };
  if (given === undefined) out.push(unknown('projection.subAttribute', 'the sample user has no name.givenName'));
  else {
    const sub = await pick('name.givenName');
    const parent = await pick('name');
    const subOk = sub.ok && getAttr(getAttr(sub.resource, 'name'), 'givenName') === given;
    const parentOk = parent.ok && getAttr(getAttr(parent.resource, 'name'), 'givenName') === given;
    if (!sub.ok) out.push(bad('projection.subAttribute', `attributes=name.givenName answered ${failed(sub)}`, 'the export asks for whole resources (projection probe)'));
    else out.push(subOk ? ok('projection.subAttribute', 'attributes=name.givenName returns the value') : bad('projection.subAttribute', 'attributes=name.givenName leaves the value out', 'the export asks for whole resources (projection probe)'));
    if (parent.ok && !parentOk) out.push(bad('projection.parent', 'attributes=name returns name without its sub-attributes', 'the export names sub-attributes (attributes=name.givenName)'));
    else if (!parent.ok) out.push(bad('projection.parent', `attributes=name answered ${failed(parent)}`, 'the export names sub-attributes'));
    else out.push(ok('projection.parent', 'attributes=name returns its sub-attributes'));
  }
  const ext = getAttr(user, ENTERPRISE_USER_SCHEMA) as Json | undefined;
  const extAttr = ext && Object.keys(ext).find((k) => typeof ext[k] === 'string');
  if (!extAttr) out.push(unknown('projection.extension', 'the sample user has no enterprise extension value'));
  else {
    const r = await pick(`${ENTERPRISE_USER_SCHEMA}:${extAttr}`);
    if (!r.ok) out.push(bad('projection.extension', `attributes=<extension URN>:${extAttr} answered ${failed(r)}`, 'the export asks for whole resources (projection probe)'));
    else if (getAttr(getAttr(r.resource, ENTERPRISE_USER_SCHEMA), extAttr) === ext[extAttr]) out.push(ok('projection.extension', `attributes=<extension URN>:${extAttr} returns the value`));
    else out.push(bad('projection.extension', `attributes=<extension URN>:${extAttr} leaves the value out`, 'the export asks for whole resources (projection probe)'));
  }
  return out;
}

async function filterProbes(p: Probe, user: Json, total: number | undefined): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  const userName = user.userName;
  if (typeof userName === 'string') {
    const r = await p.list({ filter: `userName eq ${JSON.stringify(userName)}`, count: 10 });
    if (!r.ok) out.push(bad('filter.eq', `userName eq answered ${failed(r)}`, 'export: filterFallback: local filters after listing; fulfill lookups fail'));
    else if (r.resources.length === 1 && r.resources[0]!.id === user.id) out.push(ok('filter.eq', 'userName eq "<name>" returns exactly that user'));
    else out.push(bad('filter.eq', `userName eq "<name>" returned ${r.resources.length} users`, 'fulfill checks every user a lookup returns against the filter'));
  }
  const bare = await p.list({ filter: 'active eq true', count: 1 });
  const quoted = await p.list({ filter: 'active eq "true"', count: 1 });
  if (!bare.ok) out.push(bad('filter.boolean', `active eq true answered ${failed(bare)}`, 'a filter on active is applied locally (filterFallback: local)'));
  else if (!quoted.ok || (quoted.total ?? quoted.resources.length) < (bare.total ?? bare.resources.length)) {
    out.push(bad('filter.booleanQuoted', `active eq "true" matches ${quoted.ok ? quoted.total : failed(quoted)}, active eq true matches ${bare.total}`, 'the export sends booleans unquoted'));
  } else out.push(ok('filter.boolean', `active eq true and active eq "true" both match ${bare.total}`));

  const since = await p.list({ filter: 'meta.lastModified gt "1970-01-01T00:00:00Z"', count: 1 });
  if (!since.ok) out.push(bad('filter.lastModified', `meta.lastModified gt answered ${failed(since)}`, 'set incremental: false (a filter the server refuses or ignores hides changes)'));
  else if ((since.total ?? since.resources.length) === 0 && (total ?? 0) > 0) out.push(bad('filter.lastModified', 'meta.lastModified gt "1970-01-01T00:00:00Z" matches nothing', 'set incremental: false (a filter the server refuses or ignores hides changes)'));
  else out.push(ok('filter.lastModified', `meta.lastModified gt "1970-01-01T00:00:00Z" matches ${since.total}`));

  const broken = await p.list({ filter: 'userName eq', count: 1 });
  if (broken.ok) out.push(bad('errors.status', 'a broken filter was accepted', 'filters are parsed locally before they are sent'));
  else if (broken.status >= 500) out.push(bad('errors.status', `a broken filter answered ${broken.status} (a client error as a server error)`, 'a reply carrying a scimType is not retried (the request is at fault)'));
  else out.push(ok('errors.status', `a broken filter answered ${broken.status}${broken.scimType ? ` ${broken.scimType}` : ''}`));
  return out;
}

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patch = (ops: unknown[]) => ({ schemas: [PATCH_OP], Operations: ops });

async function writeProbes(p: Probe, caps: Capabilities | undefined): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  const tag = `scim-etl-check-${randomBytes(4).toString('hex')}`;
  let userId: string | undefined;
  let groupId: string | undefined;
  try {
    const created = await p.send('POST', 'Users', { json: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `${tag}(probe)`, name: { givenName: 'Check', familyName: 'Probe' }, active: false } });
    if (!created.ok) return [bad('write.create', `POST /Users answered ${failed(created)}`, 'nothing else was written')];
    userId = typeof created.body?.id === 'string' ? created.body.id : undefined;
    if (!userId) {
      const found = await p.list({ filter: `userName eq ${JSON.stringify(`${tag}(probe)`)}` });
      userId = found.ok && typeof found.resources[0]?.id === 'string' ? found.resources[0].id : undefined;
      out.push(bad('write.create', `POST /Users answered ${created.status} without an id`, 'fulfill looks the new user up by userName'));
      if (!userId) return out;
    } else out.push(ok('write.create', `POST /Users answered ${created.status} with the id`));
    const given = async () => {
      const r = await p.send('GET', `Users/${encodeURIComponent(userId!)}`);
      return r.ok ? getAttr(getAttr(r.body, 'name'), 'givenName') : undefined;
    };
    if (caps?.patch === false) out.push(ok('patch', 'PATCH not advertised', 'fulfill uses GET + PUT'));
    else {
      const dotted = await p.send('PATCH', `Users/${encodeURIComponent(userId)}`, { json: patch([{ op: 'replace', path: 'name.givenName', value: 'Dotted' }]) });
      const afterDotted = await given();
      if (dotted.ok && afterDotted === 'Dotted') out.push(ok('patch.dotted', 'replace name.givenName takes effect'));
      else out.push(bad('patch.dotted', dotted.ok ? `replace name.givenName answered ${dotted.status} and changed nothing` : `replace name.givenName answered ${failed(dotted)}`, 'fulfill sees the reply contradict the change and resends it as a complex value'));
      const complex = await p.send('PATCH', `Users/${encodeURIComponent(userId)}`, { json: patch([{ op: 'replace', path: 'name', value: { givenName: 'Complex', familyName: 'Probe' } }]) });
      const afterComplex = await given();
      if (complex.ok && afterComplex === 'Complex') out.push(ok('patch.complex', 'replace name with an object value takes effect'));
      else out.push(bad('patch.complex', `replace name with an object answered ${complex.ok ? complex.status : failed(complex)}`, 'fulfill uses GET + PUT'));
    }
    const group = await p.send('POST', 'Groups', { json: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: tag } });
    groupId = group.ok && typeof group.body?.id === 'string' ? group.body.id : undefined;
    if (!groupId) out.push(unknown('members', `POST /Groups answered ${group.ok ? `${group.status} without an id` : failed(group)}`));
    else {
      const members = async () => {
        const r = await p.send('GET', `Groups/${encodeURIComponent(groupId!)}`);
        const m = r.ok ? getAttr(r.body, 'members') : undefined;
        return Array.isArray(m) ? m.map((x) => String(getAttr(x, 'value'))) : [];
      };
      const add = await p.send('PATCH', `Groups/${encodeURIComponent(groupId)}`, { json: patch([{ op: 'add', path: 'members', value: [{ value: userId }] }]) });
      out.push(add.ok && (await members()).includes(userId) ? ok('members.add', 'PATCH add members takes effect') : bad('members.add', `PATCH add members answered ${add.ok ? add.status : failed(add)} without effect`, 'none built in: check scimSyntax (Salesforce wraps the member value)'));
      const rm = await p.send('PATCH', `Groups/${encodeURIComponent(groupId)}`, { json: patch([{ op: 'remove', path: `members[value eq ${JSON.stringify(userId)}]` }]) });
      out.push(rm.ok && !(await members()).includes(userId) ? ok('members.remove', 'PATCH remove members[value eq …] takes effect') : bad('members.remove', `PATCH remove answered ${rm.ok ? rm.status : failed(rm)} without effect`, 'none built in: check scimSyntax'));
    }
    if (caps?.bulk.supported !== true) out.push(ok('bulk', 'Bulk not advertised', 'fulfill sends single requests'));
    else {
      const bulk = await p.send('POST', 'Bulk', { json: { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [{ method: 'PATCH', path: `/Users/${userId}`, data: patch([{ op: 'replace', path: 'name', value: { givenName: 'Bulk', familyName: 'Probe' } }]) }] } });
      const effect = await given();
      if (bulk.ok && effect === 'Bulk') out.push(ok('bulk.patch', 'a PATCH in /Bulk takes effect'));
      else out.push(bad('bulk.patch', bulk.ok ? `/Bulk answered ${bulk.status} and the PATCH changed nothing` : `/Bulk answered ${failed(bulk)}`, 'fulfill sends PATCH as single requests once Bulk PATCH is seen ignored'));
    }
  } finally {
    if (groupId) await p.send('DELETE', `Groups/${encodeURIComponent(groupId)}`);
    if (userId) {
      const del = await p.send('DELETE', `Users/${encodeURIComponent(userId)}`);
      out.push(del.ok ? ok('write.delete', `DELETE /Users answered ${del.status}`) : bad('write.delete', `DELETE /Users answered ${failed(del)}; delete ${userId} by hand`, 'none'));
      const missing = await p.send('DELETE', `Users/${encodeURIComponent(userId)}`);
      if (!missing.ok && missing.status === 404) out.push(ok('write.deleteMissing', 'DELETE of a missing user answers 404'));
      else out.push(bad('write.deleteMissing', `DELETE of a missing user answered ${missing.ok ? missing.status : failed(missing)}`, 'none built in: a repeated delete order may be reported failed'));
    }
  }
  return out;
}
