/**
 * Checking that a change is on the server, not only that it was answered 2xx.
 *
 * - A PATCH/PUT reply that holds the resource can contradict the change
 *   (SCIMServer answers 200 with the old `name.givenName`): `contradicted`.
 * - With `verify: true`, the changed users and groups are read back after
 *   each Bulk batch (or single request) with `id eq "…" or id eq "…"`
 *   filters limited to the changed attributes, and each `ok` line whose
 *   effect is not there becomes `failed` with scimType `notApplied`
 *   (`verifyOutcomes`). Bulk replies carry no bodies: this is the only way
 *   to catch a Bulk no-op.
 */
import type { Dialect } from '../scim/dialects/index.js';
import { ScimEtlError } from '../errors.js';
import { getAttr, quoteLiteral } from '../scim/filter.js';
import { ScimHttpError, isScimHttpError } from '../scim/errors.js';
import { readColumnValue } from '../scim/read-column.js';
import { isFatal } from './fatal.js';
import { idOf } from './proof.js';
import { resourcePath } from './requests.js';
import type { LineOutcome, PlannedOp, ScimRequester, TypedCell } from './types.js';

/** scimType of a line whose change the server answered but does not show. */
export const NOT_APPLIED = 'notApplied';

/** Resources per read-back filter (a filter of `id eq` terms joined by `or`). */
export const READBACK_CHUNK = 50;

type Shown = 'same' | 'differs' | 'unknown';

/**
 * Whether a resource shows a cell's value. Strings compare trimmed and
 * case-insensitively (servers canonicalise case), dateTimes as instants,
 * numbers and booleans by their text; a whole complex value (JSON cell) is
 * not compared. `absent`: what a missing attribute means — in a reply that
 * need not carry it, nothing; in a read-back that asked for it, a difference.
 */
export function shows(resource: object, cell: Pick<TypedCell, 'path' | 'value'>, absent: Shown): Shown {
  const actual = readColumnValue(resource, cell.path);
  const expected = cell.value;
  if (expected === undefined) return 'unknown';
  const empty = actual === undefined || actual === null || actual === '' || (Array.isArray(actual) && actual.length === 0);
  if (expected === null) return empty ? 'same' : 'differs';
  if (typeof expected === 'object') return 'unknown';
  if (empty) return actual === undefined ? absent : 'differs';
  if (typeof actual === 'object') return 'unknown';
  return sameScalar(actual, expected) ? 'same' : 'differs';
}

function sameScalar(actual: unknown, expected: unknown): boolean {
  const a = String(actual).trim();
  const e = String(expected).trim();
  if (a.toLowerCase() === e.toLowerCase()) return true;
  const isDate = (s: string) => /^\d{4}-\d\d-\d\dT/.test(s);
  return isDate(a) && isDate(e) && Date.parse(a) === Date.parse(e);
}

/** Attributes a server never returns: nothing to compare. */
const NEVER_RETURNED = new Set(['password']);

function comparable(cell: TypedCell): boolean {
  return cell.value !== undefined && !(cell.path.schema === undefined && NEVER_RETURNED.has(cell.path.attr.toLowerCase()));
}

/** The cells a PATCH/PUT reply body contradicts (none when the body is no resource). */
export function contradicted(body: unknown, cells: readonly TypedCell[]): TypedCell[] {
  if (idOf(body) === undefined) return [];
  return cells.filter((c) => comparable(c) && shows(body as object, c, 'unknown') === 'differs');
}

export function describeCells(resource: unknown, cells: readonly TypedCell[]): string {
  return cells
    .map((c) => {
      const actual = resource && typeof resource === 'object' ? readColumnValue(resource, c.path) : undefined;
      const want = c.value === null ? 'cleared' : JSON.stringify(c.value);
      return `${c.path.text} is ${actual === undefined ? 'missing' : JSON.stringify(actual)}, not ${want}`;
    })
    .join('; ');
}

/** What one ok line claims is now on the server. */
type Expectation =
  | { kind: 'cell'; cell: TypedCell }
  | { kind: 'exists' }
  | { kind: 'gone' }
  /** `attribute`: the link attribute (`members`; CyberArk containers' `privilegedData`). */
  | { kind: 'member'; member: string; present: boolean; attribute: string };

interface Claim {
  outcome: LineOutcome;
  entity: string;
  id: string;
  expects: Expectation[];
}

export interface VerifyContext {
  client: ScimRequester;
  style: { dialect?: Dialect };
  /** The created id of an insert of this run (what `@orderId` names), if known. */
  insertedId: (ref: string) => string | undefined;
  signal?: AbortSignal;
}

/** The claims of the ok outcomes of these operations. */
function claimsOf(ops: readonly PlannedOp[], outcomes: readonly LineOutcome[], ctx: VerifyContext): Claim[] {
  const bySeq = new Map<number, LineOutcome>();
  for (const o of outcomes) if (o.outcome === 'ok') bySeq.set(o.seq, o);
  const claims: Claim[] = [];
  for (const op of ops) {
    if (op.kind === 'members') {
      for (const m of op.members) {
        const o = bySeq.get(m.line.seq);
        const member = m.member ?? (m.ref !== undefined ? ctx.insertedId(m.ref) : undefined);
        if (!o || member === undefined) continue;
        claims.push({ outcome: o, entity: op.entity, id: op.group, expects: [{ kind: 'member', member, present: m.op === 'add', attribute: op.attribute ?? 'members' }] });
      }
      continue;
    }
    const o = bySeq.get(op.lines[0].seq);
    if (!o) continue;
    if (op.kind === 'delete') claims.push({ outcome: o, entity: op.entity, id: op.id, expects: [{ kind: 'gone' }] });
    else if (op.kind === 'update' && op.link) {
      // A link written on the member (Salesforce entitlements): the member's attribute must show it (or not).
      claims.push({ outcome: o, entity: op.entity, id: op.id, expects: [{ kind: 'member', member: op.link.value, present: op.link.present, attribute: op.link.attribute }] });
    } else {
      const id = op.kind === 'insert' ? o.id : op.id;
      if (id === undefined) continue;
      claims.push({ outcome: o, entity: op.entity, id, expects: [{ kind: 'exists' }, ...op.cells.filter(comparable).map((cell) => ({ kind: 'cell' as const, cell }))] });
    }
  }
  return claims;
}

/** The key of what an expectation is about: a later one on the same key (or a delete of the resource) supersedes it. */
function aspect(e: Expectation): string {
  switch (e.kind) {
    case 'cell':
      return `cell:${e.cell.path.text.toLowerCase()}`;
    case 'member':
      return `member:${e.attribute}:${e.member}`;
    default:
      return 'exists';
  }
}

/** Drops the expectations a later line of the same window overrides ("add U, remove U": only the remove is checked). */
function dropSuperseded(claims: Claim[]): void {
  const seen = new Set<string>();
  const deleted = new Set<string>();
  for (let i = claims.length - 1; i >= 0; i--) {
    const c = claims[i]!;
    const res = `${c.entity}/${c.id}`;
    c.expects = c.expects.filter((e) => {
      if (deleted.has(res) && e.kind !== 'gone') return false;
      const key = `${res}|${aspect(e)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (c.expects.some((e) => e.kind === 'gone')) deleted.add(res);
  }
}

function attributeOf(e: Expectation): string | undefined {
  if (e.kind === 'cell') return e.cell.path.schema ? `${e.cell.path.schema}:${e.cell.path.attr}` : e.cell.path.attr;
  if (e.kind === 'member') return e.attribute;
  if (e.kind === 'gone') return 'active';
  return undefined;
}

/**
 * Reads back the resources the ok outcomes changed and turns every outcome
 * whose effect is missing into `failed` / `notApplied` (in place). Returns
 * the seqs so failed. A read-back that cannot be done fails the lines it
 * should have proven. Throws only fatal errors.
 */
export async function verifyOutcomes(ops: readonly PlannedOp[], outcomes: readonly LineOutcome[], ctx: VerifyContext): Promise<Set<number>> {
  const claims = claimsOf(ops, outcomes, ctx);
  dropSuperseded(claims);
  const notApplied = new Set<number>();
  const byEntity = new Map<string, Map<string, Set<string>>>();
  for (const c of claims) {
    const ids = byEntity.get(c.entity) ?? new Map<string, Set<string>>();
    byEntity.set(c.entity, ids);
    const attrs = ids.get(c.id) ?? new Set<string>();
    ids.set(c.id, attrs);
    for (const e of c.expects) {
      const a = attributeOf(e);
      if (a) attrs.add(a);
    }
  }
  const found = new Map<string, Map<string, unknown>>();
  const unreadable = new Map<string, string>();
  for (const [entity, ids] of byEntity) {
    const res = new Map<string, unknown>();
    found.set(entity, res);
    const all = [...ids.keys()];
    for (let i = 0; i < all.length; i += READBACK_CHUNK) {
      const chunk = all.slice(i, i + READBACK_CHUNK);
      const attrs = new Set<string>();
      for (const id of chunk) for (const a of ids.get(id)!) attrs.add(a);
      try {
        for (const [id, r] of await readBack(entity, chunk, [...attrs], ctx)) res.set(id, r);
      } catch (err) {
        if (isFatal(err)) throw err;
        for (const id of chunk) unreadable.set(`${entity}/${id}`, (err as Error).message);
      }
    }
  }
  for (const c of claims) {
    const problem = unreadable.get(`${c.entity}/${c.id}`);
    if (problem !== undefined) {
      fail(c.outcome, `ERR_FULFILL_VERIFY: could not read ${c.entity}/${c.id} back to prove the change: ${problem}`, false);
      notApplied.add(c.outcome.seq);
      continue;
    }
    const why = unmet(c, found.get(c.entity)!.get(c.id), ctx.style.dialect);
    if (why !== undefined) {
      fail(c.outcome, `read back: ${why}`, true);
      notApplied.add(c.outcome.seq);
    }
  }
  return notApplied;
}

/** The ok outcomes a fatal error kept from being read back: failed, as verify asks for proof. */
export function unverified(outcomes: LineOutcome[], err: unknown): void {
  const why = err instanceof ScimEtlError ? `${err.code} ${err.message}` : String(err);
  for (const o of outcomes) if (o.outcome === 'ok') fail(o, `ERR_FULFILL_VERIFY: answered ${o.status ?? ''} but not read back (${why})`, false);
}

function fail(o: LineOutcome, detail: string, notApplied: boolean): void {
  o.outcome = 'failed';
  o.detail = detail;
  if (notApplied) o.scimType = NOT_APPLIED;
}

/** Why a claim does not hold for the resource read back (undefined = it holds). */
function unmet(c: Claim, resource: unknown, dialect: Dialect | undefined): string | undefined {
  const what = `${c.entity}/${c.id}`;
  const problems: string[] = [];
  for (const e of c.expects) {
    if (e.kind === 'gone') {
      // A DELETE that deactivates (Salesforce, Slack, some RFC servers) leaves the user inactive.
      const active = getAttr(resource, 'active');
      if (resource !== undefined && !(active === false || String(active).toLowerCase() === 'false')) {
        problems.push(`${what} is still there${dialect?.deleteDeactivatesUsers ? ' and active' : ''}`);
      }
      continue;
    }
    if (resource === undefined) return `${what} is not on the server`;
    if (e.kind === 'cell') {
      if (shows(resource as object, e.cell, 'differs') === 'differs') problems.push(describeCells(resource, [e.cell]));
    } else if (e.kind === 'member') {
      const members = getAttr(resource, e.attribute);
      const has = Array.isArray(members) && members.some((m) => String(getAttr(m, 'value')) === e.member);
      if (has !== e.present) problems.push(`${e.member} is ${has ? 'still' : 'not'} a member of ${what}`);
    }
  }
  return problems.length ? problems.join('; ') : undefined;
}

/**
 * The resources with these ids (at most READBACK_CHUNK), limited to `attrs`:
 * one `id eq … or …` filter; where the server refuses the filter (400), or
 * shows it ignored it (a resource not asked for), one GET per id.
 */
async function readBack(entity: string, ids: string[], attrs: string[], ctx: VerifyContext): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const wanted = new Set(ids);
  const attributes = ['id', ...attrs].join(',');
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  try {
    const res = await ctx.client.request({
      method: 'GET',
      path: resourcePath(entity),
      searchParams: { filter: ids.map((id) => `id eq ${quoteLiteral(id)}`).join(' or '), attributes, count: ids.length },
      ...signal,
    });
    const list = getAttr(res.body, 'Resources');
    if (list !== undefined && !Array.isArray(list)) throw new ScimEtlError('ERR_FULFILL_VERIFY', `GET ${resourcePath(entity)} answered no ListResponse`);
    if (list === undefined && !Number.isInteger(getAttr(res.body, 'totalResults'))) throw new ScimEtlError('ERR_FULFILL_VERIFY', `GET ${resourcePath(entity)} answered no ListResponse`);
    const got = (list ?? []) as unknown[];
    // A resource not asked for: the server ignored the filter, and what it left out proves nothing.
    if (got.some((r) => !wanted.has(idOf(r) ?? ''))) throw new ScimHttpError({ method: 'GET', path: resourcePath(entity) }, 400, { detail: 'the id filter was ignored' }, res.attempts);
    for (const r of got) out.set(idOf(r)!, r);
    return out;
  } catch (err) {
    if (isFatal(err) || !(isScimHttpError(err) && (err.status === 400 || err.status === 501 || err.status === 403))) throw err;
  }
  for (const id of ids) {
    try {
      const res = await ctx.client.request({ method: 'GET', path: resourcePath(entity, id), searchParams: { attributes }, ...signal });
      if (idOf(res.body) === id) out.set(id, res.body);
      else throw new ScimEtlError('ERR_FULFILL_VERIFY', `GET ${resourcePath(entity, id)} answered no resource with that id`);
    } catch (err) {
      if (isScimHttpError(err) && err.status === 404) continue;
      throw err;
    }
  }
  return out;
}
