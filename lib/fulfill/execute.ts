/**
 * Sending one planned operation as single requests and turning the answer
 * into outcomes: shared by the request sink (every operation) and the Bulk
 * sink (conflict follow-ups, retries of memberships whose reference failed).
 */
import { ScimEtlError, isScimEtlError } from '../errors.js';
import { getAttr } from '../scim/filter.js';
import { isScimHttpError } from '../scim/errors.js';
import { applyCells, complexPatchOperations, patchOperations } from '../scim/unflatten.js';
import type { Logger } from '../log.js';
import { isFatal } from './fatal.js';
import { deactivateUser } from './deactivate.js';
import { putMembers, putUpdate, writesByPut } from './get-put.js';
import { isLinkOp, writeLinkOnMember } from './link-on-member.js';
import { PRECONDITION_FAILED, PreconditionFailed, sendWithIfMatch, versionOf as etagOf } from './if-match.js';
import { NO_RESOURCE, disproves, idFromLocation, idOf, insertProof, lookupCreated } from './proof.js';
import { NOT_APPLIED, contradicted, describeCells, unverified, verifyOutcomes, type VerifyContext } from './verify.js';
import { memberOperations, patchBody, plannedRequest, resolveMembers, resourcePath, type RequestStyle } from './requests.js';
import { outcomeOf, refusedOutcome, type LineOutcome, type MemberChange, type OrderLine, type PlannedOp, type ScimRequester, type TypedCell } from './types.js';

export type ConflictPolicy = 'fail' | 'skip' | 'update';

export interface Capabilities {
  patch: boolean;
  etag: boolean;
}

/**
 * The ids of users inserted in this run, by orderId: what `@<orderId>`
 * member references resolve to. Holds one entry per insert (not per line).
 */
export class InsertRegistry {
  /**
   * A pending insert (someone may wait for it) is an entry with its promise; a
   * settled one shrinks to its id (null: failed), since a run may insert
   * hundreds of thousands of users and keeps each one for its `@orderId` references.
   */
  private readonly entries = new Map<string, Pending | string | null>();

  /**
   * @param keep which inserts a later line may name (by key); the others are
   * forgotten once settled (a waiter still gets the id), so that memory
   * stays flat however many users a run creates.
   */
  constructor(protected readonly keep: (key: string) => boolean = () => true) {}

  /** Inserts remembered now (pending or settled). */
  get size(): number {
    return this.entries.size;
  }

  private pending(orderId: string): Pending {
    let resolve!: (id: string | undefined) => void;
    const promise = new Promise<string | undefined>((r) => (resolve = r));
    const e: Pending = { promise, resolve };
    this.entries.set(orderId, e);
    return e;
  }

  /** The insert succeeded (id) or failed (undefined). */
  settle(orderId: string, id: string | undefined): void {
    const e = this.entries.get(orderId);
    if (typeof e === 'string' || e === null) return;
    if (this.keep(orderId)) this.entries.set(orderId, id ?? null);
    else this.entries.delete(orderId);
    e?.resolve(id);
  }

  wait(orderId: string): Promise<string | undefined> {
    const e = this.entries.get(orderId);
    if (e === undefined) return this.pending(orderId).promise;
    if (typeof e === 'string' || e === null) return Promise.resolve(e ?? undefined);
    return e.promise;
  }

  /** Settled state now: undefined when the insert has not finished yet. */
  peek(orderId: string): { id?: string } | undefined {
    const e = this.entries.get(orderId);
    if (typeof e === 'string') return { id: e };
    return e === null ? {} : undefined;
  }
}

interface Pending {
  promise: Promise<string | undefined>;
  resolve: (id: string | undefined) => void;
}

/** The first fatal error of a run: once set, sinks stop sending and report the remaining lines `skipped`. */
export interface FatalLatch {
  error?: ScimEtlError;
}

export interface ExecContext {
  client: ScimRequester;
  /** Shared by the sinks of one run. */
  fatal: FatalLatch;
  capabilities: Capabilities;
  onConflict: ConflictPolicy;
  style: RequestStyle;
  inserts: InsertRegistry;
  /** Read every change back and fail the lines whose effect is not on the server (fulfill.verify). */
  verify?: boolean;
  /** fulfill.ifMatch on a server with ETags: updates and deletes carry If-Match with the resource's version. */
  ifMatch?: boolean;
  /** A fresh verdict cache says the server ignores PATCH inside /Bulk: send PATCH singly from the start. */
  bulkPatchIgnored?: boolean;
  /** A fresh verdict cache says dotted PATCH paths (name.givenName) are ignored: send complex values from the start. */
  complexPatch?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
}

export { isFatal, idOf, idFromLocation };

/** Any thrown value as a ScimEtlError: an interrupt (aborted signal) gets its own code, anything else unknown is a bug. */
export function asFatal(err: unknown, signal?: AbortSignal): ScimEtlError {
  if (isScimEtlError(err)) return err;
  if (signal?.aborted) return new ScimEtlError('ERR_FULFILL_INTERRUPTED', 'interrupted', {}, { cause: err });
  return new ScimEtlError('ERR_INTERNAL', err instanceof Error ? err.message : String(err), {}, { cause: err });
}

/** Records a fatal error (the first one wins) as a ScimEtlError. */
export function latchFatal(latch: FatalLatch, err: unknown, signal?: AbortSignal): ScimEtlError {
  latch.error ??= asFatal(err, signal);
  return latch.error;
}

/** Outcomes for the lines of an operation that was not carried out because the run stopped. */
export function notSentOutcomes(op: PlannedOp, fatal: ScimEtlError): LineOutcome[] {
  return op.lines.map((line) => outcomeOf(line, { outcome: 'skipped', detail: `not sent: ${fatal.code} ${fatal.message}` }));
}

/**
 * executeOp for the sinks: a fatal error latches and turns the operation's
 * lines into `skipped`; after that, nothing more is sent.
 */
export async function executeOrSkip(op: PlannedOp, ctx: ExecContext): Promise<LineOutcome[]> {
  if (ctx.fatal.error) return notSentOutcomes(op, ctx.fatal.error);
  let outcomes: LineOutcome[] | undefined;
  try {
    outcomes = await executeOp(op, ctx);
    if (ctx.verify) await verifyOutcomes([op], outcomes, verifyContext(ctx));
    return outcomes;
  } catch (err) {
    if (outcomes) {
      // Answered, then the read-back met a fatal error: the answers stand, unproven.
      latchFatal(ctx.fatal, err, ctx.signal);
      unverified(outcomes, err);
      return outcomes;
    }
    if (op.kind === 'insert') ctx.inserts.settle(op.bulkId, undefined);
    return notSentOutcomes(op, latchFatal(ctx.fatal, err, ctx.signal));
  }
}

/** The failed outcome of a line for an error a request met. */
export function failedOutcome(line: OrderLine, err: unknown, attempts?: number): LineOutcome {
  if (err instanceof PreconditionFailed) return outcomeOf(line, { outcome: 'failed', status: err.status, attempts: err.attempts, scimType: PRECONDITION_FAILED, detail: err.detail });
  if (isScimHttpError(err)) {
    const o = outcomeOf(line, { outcome: 'failed', status: err.status, attempts: err.attempts, detail: err.detail ?? err.message });
    if (err.scimType) o.scimType = err.scimType;
    return o;
  }
  const e = err as ScimEtlError;
  return outcomeOf(line, { outcome: 'failed', attempts: attempts ?? Number(e.context?.attempts ?? 1), detail: `${e.code ?? 'ERR_INTERNAL'}: ${e.message}` });
}

/** What the read-back needs of a run's context. */
export function verifyContext(ctx: ExecContext): VerifyContext {
  return { client: ctx.client, style: ctx.style, insertedId: (ref) => ctx.inserts.peek(ref)?.id, ...(ctx.signal ? { signal: ctx.signal } : {}) };
}

export function headerOf(res: { headers?: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const h = res.headers?.[name];
  return Array.isArray(h) ? h[0] : h;
}


/** Sends one operation and returns one outcome per order line it carries. Throws only fatal errors. */
export async function executeOp(op: PlannedOp, ctx: ExecContext): Promise<LineOutcome[]> {
  switch (op.kind) {
    case 'insert':
      return [await executeInsert(op, ctx)];
    case 'update':
      if (isLinkOp(op)) return [await guard(op.lines[0], () => writeLinkOnMember(op, ctx))];
      return [await guard(op.lines[0], () => updateUser(op.entity, op.id, op.cells, ctx, op.lines[0]))];
    case 'delete':
      return [await executeDelete(op, ctx)];
    case 'members':
      return executeMembers(op, ctx);
  }
}

async function guard(line: OrderLine, fn: () => Promise<LineOutcome>): Promise<LineOutcome> {
  try {
    return await fn();
  } catch (err) {
    if (isFatal(err)) throw err;
    return failedOutcome(line, err);
  }
}

async function executeInsert(op: Extract<PlannedOp, { kind: 'insert' }>, ctx: ExecContext): Promise<LineOutcome> {
  const line = op.lines[0];
  try {
    const res = await ctx.client.request({ method: 'POST', path: resourcePath(op.entity), json: op.resource, signal: ctx.signal });
    // Some servers answer 201 with only a Location header.
    return await provenInsert(op, ctx, res.status, res.body, headerOf(res, 'location'), res.attempts);
  } catch (err) {
    if (isFatal(err)) {
      ctx.inserts.settle(op.bulkId, undefined);
      throw err;
    }
    if (isConflict(err) && ctx.onConflict !== 'fail') {
      return resolveConflict(op, ctx, err.status, err.attempts);
    }
    ctx.inserts.settle(op.bulkId, undefined);
    return failedOutcome(line, err);
  }
}

/**
 * The outcome of an insert answered 2xx: ok with the created id when the
 * reply proves it (or a lookup by userName finds the user), else failed
 * `noResource`. Settles the insert either way.
 */
export async function provenInsert(op: Extract<PlannedOp, { kind: 'insert' }>, ctx: ExecContext, status: number, body: unknown, location: string | undefined, attempts: number): Promise<LineOutcome> {
  const line = op.lines[0];
  const proof = insertProof(op.entity, status, body, location);
  let id: string | undefined;
  let why: string;
  if ('id' in proof) id = proof.id;
  if ('fail' in proof) why = proof.fail;
  if ('lookup' in proof) {
    const found = await lookupCreated(ctx.client, op.entity, op.resource, ctx.signal);
    attempts += found.attempts;
    if ('id' in found) id = found.id;
    else why = `${proof.lookup} ${found.fail}`;
  }
  ctx.inserts.settle(op.bulkId, id);
  if (id !== undefined) return outcomeOf(line, { outcome: 'ok', status, attempts, id });
  return outcomeOf(line, { outcome: 'failed', status, attempts, scimType: NO_RESOURCE, detail: why! });
}

export function isConflict(err: unknown): err is { status: number; attempts: number; scimType?: string } & Error {
  return isScimHttpError(err) && err.status === 409 && (err.scimType === undefined || err.scimType.toLowerCase() === 'uniqueness');
}

/**
 * onConflict skip/update for an insert that met an existing user: find it by
 * userName, then report it (skip) or write the insert's columns to it (update).
 */
export async function resolveConflict(op: Extract<PlannedOp, { kind: 'insert' }>, ctx: ExecContext, status: number, attempts: number): Promise<LineOutcome> {
  const line = op.lines[0];
  try {
    const found = await lookupCreated(ctx.client, op.entity, op.resource, ctx.signal);
    if (!('id' in found)) throw new ScimEtlError('ERR_FULFILL_CONFLICT', `the insert met an existing user (409) ${found.fail}`, { attempts: attempts + found.attempts });
    const id = found.id;
    if (ctx.onConflict === 'skip') {
      ctx.inserts.settle(op.bulkId, id);
      return outcomeOf(line, { outcome: 'skipped', status, id, attempts: attempts + found.attempts, scimType: 'uniqueness', detail: 'user exists (onConflict: skip)' });
    }
    const updated = await updateUser(op.entity, id, op.cells, ctx, line);
    ctx.inserts.settle(op.bulkId, updated.outcome === 'ok' ? id : undefined);
    if (updated.outcome === 'ok') updated.detail = 'user existed: updated (onConflict: update)';
    updated.attempts += attempts + found.attempts;
    return updated;
  } catch (err) {
    ctx.inserts.settle(op.bulkId, undefined);
    if (isFatal(err)) throw err;
    return failedOutcome(line, err);
  }
}

/** An update: PATCH where the server (and dialect) has it, else GET + PUT (get-put.ts). */
async function updateUser(entity: string, id: string, cells: TypedCell[], ctx: ExecContext, line: OrderLine): Promise<LineOutcome> {
  const isMultiValued = (p: unknown) => cells.find((c) => c.path === p)?.multiValued ?? false;
  const path = resourcePath(entity, id);
  if (!writesByPut(entity, ctx)) {
    const ops = ctx.complexPatch ? complexFirst(cells, isMultiValued) : patchOperations(cells, { isMultiValued });
    const res = await sendWithIfMatch(ctx.client, { method: 'PATCH', path, json: patchBody(ops), signal: ctx.signal }, Boolean(ctx.ifMatch), ctx.logger);
    const no = disproves(res.status, res.body);
    if (no) return notAppliedOutcome(line, id, res.status, res.attempts, no);
    const wrong = contradicted(res.body, cells);
    if (wrong.length === 0) return outcomeOf(line, { outcome: 'ok', status: res.status, id, attempts: res.attempts });
    return resendComplex(path, id, wrong, res, ctx, line, isMultiValued);
  }
  return putUpdate(entity, id, cells, ctx, line);
}

/** Sub-attributes as complex values (`path: name`, `value: {givenName}`); what has no such form (filters, clears) as usual. */
function complexFirst(cells: TypedCell[], isMultiValued: (p: unknown) => boolean) {
  const { ops, unexpressible } = complexPatchOperations(cells, { isMultiValued });
  return [...ops, ...patchOperations(unexpressible, { isMultiValued })];
}

/**
 * The PATCH reply contradicts some cells: send those again in the
 * complex-value form; still contradicted (or no such form) → notApplied.
 */
async function resendComplex(path: string, id: string, wrong: TypedCell[], first: { status: number; body: unknown; attempts: number }, ctx: ExecContext, line: OrderLine, isMultiValued: (p: unknown) => boolean): Promise<LineOutcome> {
  const body = first.body;
  let attempts = first.attempts;
  const { ops, unexpressible } = complexPatchOperations(wrong, { isMultiValued });
  if (ops.length === 0) return notAppliedOutcome(line, id, first.status, attempts, `the PATCH reply shows ${describeCells(body, wrong)}`);
  ctx.logger?.debug(`PATCH ${path}: the reply contradicts ${wrong.map((c) => c.path.text).join(', ')}; sending them again as complex values`);
  const res = await sendWithIfMatch(ctx.client, { method: 'PATCH', path, json: patchBody(ops), signal: ctx.signal }, Boolean(ctx.ifMatch), ctx.logger);
  attempts += res.attempts;
  const no = disproves(res.status, res.body);
  if (no) return notAppliedOutcome(line, id, res.status, attempts, no);
  const still = [...unexpressible, ...contradicted(res.body, wrong.filter((c) => !unexpressible.includes(c)))];
  if (still.length > 0) return notAppliedOutcome(line, id, res.status, attempts, `the PATCH reply shows ${describeCells(res.body ?? body, still)}, also after sending it as a complex value`);
  return outcomeOf(line, { outcome: 'ok', status: res.status, id, attempts, detail: 'applied on the second try, as a complex value (the server ignored the sub-attribute path)' });
}

function notAppliedOutcome(line: OrderLine, id: string, status: number, attempts: number, detail: string): LineOutcome {
  return outcomeOf(line, { outcome: 'failed', status, id, attempts, scimType: NOT_APPLIED, detail });
}

/** A PUT body for a server without PATCH: the current resource with the cells applied, and its version. */
export async function putForUpdate(op: Extract<PlannedOp, { kind: 'update' }>, ctx: ExecContext): Promise<{ body: Record<string, unknown>; version?: string; attempts: number }> {
  const isMultiValued = (p: unknown) => op.cells.find((c) => c.path === p)?.multiValued ?? false;
  const current = await ctx.client.request({ method: 'GET', path: resourcePath(op.entity, op.id), signal: ctx.signal });
  const body = applyCells(current.body as Record<string, unknown>, op.cells, { isMultiValued });
  delete body.meta;
  const version = ctx.capabilities.etag ? etagOf(current) : undefined;
  return { body, attempts: current.attempts, ...(version ? { version } : {}) };
}

async function executeDelete(op: Extract<PlannedOp, { kind: 'delete' }>, ctx: ExecContext): Promise<LineOutcome> {
  const line = op.lines[0];
  if (op.deactivate) return guard(line, () => deactivateUser(op, ctx));
  const req = plannedRequest(op, () => undefined, ctx.style);
  try {
    const res = await sendWithIfMatch(ctx.client, { method: req.method, path: req.path, json: req.body, signal: ctx.signal }, Boolean(ctx.ifMatch), ctx.logger);
    const no = disproves(res.status, res.body);
    if (no) return notAppliedOutcome(line, op.id, res.status, res.attempts, no);
    return outcomeOf(line, { outcome: 'ok', status: res.status, id: op.id, attempts: res.attempts });
  } catch (err) {
    if (isFatal(err)) throw err;
    if (isScimHttpError(err) && err.status === 404) return notFoundOnDelete(line, err.attempts);
    const failed = failedOutcome(line, err);
    return (await goneAfterFailedDelete(op, ctx, failed)) ?? failed;
  }
}

/**
 * A DELETE that failed (scimgateway answers 500 for a user that is not
 * there): when a GET of the user says 404, it is gone, so `skipped`.
 * Undefined when the user is still there or the GET says nothing clear.
 */
export async function goneAfterFailedDelete(op: Extract<PlannedOp, { kind: 'delete' }>, ctx: ExecContext, failed: LineOutcome): Promise<LineOutcome | undefined> {
  try {
    await ctx.client.request({ method: 'GET', path: resourcePath(op.entity, op.id), searchParams: { attributes: 'id' }, signal: ctx.signal });
    return undefined;
  } catch (err) {
    if (isFatal(err)) throw err;
    if (!(isScimHttpError(err) && err.status === 404)) return undefined;
    const why = failed.status ? `HTTP ${failed.status}${failed.detail ? ` (${failed.detail})` : ''}` : (failed.detail ?? 'an error');
    return outcomeOf(op.lines[0], { outcome: 'skipped', status: 404, id: op.id, attempts: failed.attempts + err.attempts, detail: `the DELETE failed with ${why} but the user is not there: already deleted?` });
  }
}

/** A delete of a user that is not there: already done (a rerun), so skipped rather than failed. */
export function notFoundOnDelete(line: OrderLine, attempts: number): LineOutcome {
  return outcomeOf(line, { outcome: 'skipped', status: 404, attempts, detail: 'not found: already deleted?' });
}

export function unresolvedOutcome(line: OrderLine, ref: string): LineOutcome {
  return refusedOutcome(line, { code: 'ERR_ORDER_REFERENCE_FAILED', message: `the insert with orderId ${JSON.stringify(ref)} did not succeed, so its membership cannot be changed` });
}

async function executeMembers(op: Extract<PlannedOp, { kind: 'members' }>, ctx: ExecContext): Promise<LineOutcome[]> {
  // Single requests: wait for the inserts this PATCH names (they were sent earlier).
  const ids = new Map<string, string | undefined>();
  for (const m of op.members) if (m.ref !== undefined && !ids.has(m.ref)) ids.set(m.ref, await ctx.inserts.wait(m.ref));
  const { ready, unresolved } = resolveMembers(op.members, (ref) => ids.get(ref));
  const out: LineOutcome[] = unresolved.map((m) => unresolvedOutcome(m.line, m.ref!));
  if (ready.length === 0) return out;
  const attribute = op.attribute ?? 'members';
  if (writesByPut(op.entity, ctx)) out.push(...(await guardAll(ready, () => putMembers(op.entity, op.group, attribute, ready, ctx))));
  else out.push(...(await patchMembers(resourcePath(op.entity, op.group), op.group, ready, ctx, attribute)));
  return out;
}

async function guardAll(ready: ReadonlyArray<{ line: OrderLine }>, fn: () => Promise<LineOutcome[]>): Promise<LineOutcome[]> {
  try {
    return await fn();
  } catch (err) {
    if (isFatal(err)) throw err;
    return ready.map((m) => failedOutcome(m.line, err));
  }
}

/**
 * One membership PATCH. A PATCH is atomic: every line it carried shares its
 * fate, except that a 400 (or 413) on several members is split in halves
 * until the failing member is alone, so that one bad member fails one line
 * and a server with a per-PATCH member cap (better-auth: 100) gets them all.
 */
async function patchMembers(path: string, group: string, ready: Array<MemberChange & { value: string }>, ctx: ExecContext, attribute = 'members'): Promise<LineOutcome[]> {
  try {
    const res = await ctx.client.request({ method: 'PATCH', path, json: patchBody(memberOperations(ready, ctx.style, attribute)), signal: ctx.signal });
    const no = disproves(res.status, res.body);
    return ready.map((m) => (no ? notAppliedOutcome(m.line, group, res.status, res.attempts, no) : outcomeOf(m.line, { outcome: 'ok', status: res.status, id: group, attempts: res.attempts })));
  } catch (err) {
    if (isFatal(err)) throw err;
    if (ready.length > 1 && isScimHttpError(err) && (err.status === 400 || err.status === 413)) {
      const half = Math.ceil(ready.length / 2);
      const first = await patchMembers(path, group, ready.slice(0, half), ctx, attribute);
      return [...first, ...(await patchMembers(path, group, ready.slice(half), ctx, attribute))];
    }
    return ready.map((m) => failedOutcome(m.line, err));
  }
}
