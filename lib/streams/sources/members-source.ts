/**
 * Membership links `{value: <owner id>, MemberId: <member id>}` of every
 * resource of an endpoint, for one multi-valued attribute: `members` (Groups,
 * Salesforce Entitlements…) or CyberArk `privilegedData` (Containers).
 *
 * Replies are scanned byte by byte (./member-scanner.ts) and links are passed
 * on as they are read: a group's members are never held in memory.
 *
 * Two ways to get there (`mode`):
 * - inline:   list pages with `attributes=id,<attr>`; each link streams out
 *             of the list page itself.
 * - separate: list pages with `excludedAttributes=<attr>`, then one
 *             `GET <endpoint>/<id>?attributes=<attr>` per owner, streamed.
 *             For servers that time out or refuse big list pages.
 * - auto (default): inline, switching to separate when a list page fails with
 *             a server error (5xx, 413, 400 tooMany), a timeout or the
 *             request deadline.
 *
 * A reply cut mid-body is asked again (up to `retries` times) without
 * writing a link twice: owners completed in an earlier attempt are skipped,
 * and the owner that was cut skips the links already written (this assumes
 * the server lists an owner's members in the same order each time), also
 * when the repeat fails and the owner is then fetched separately.
 *
 * Owners are listed by startIndex; a server that refuses a deep startIndex
 * (Salesforce) is listed again from the start by keyset (./pagers.ts).
 */
import { Readable, finished } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { ScimEtlError, isScimEtlError } from '../../errors.js';
import { safeSnippet } from '../../scim/errors.js';
import { silentLogger, type Logger } from '../../log.js';
import type { ScimClient, ScimRequest } from '../../scim/client.js';
import type { MemberRow } from '../../types.js';
import { isCutBody } from './broken-body.js';
import { IdSet } from './id-set.js';
import { checkListShape, checkResourceShape, describePage, type ReplyShape } from './list-response.js';
import { DEFAULT_MAX_PAGES, ListingCounts, settleMismatch, type CountMismatch } from './listing-counts.js';
import { JsonScanError, MemberScanner, type WalkEvent } from './member-scanner.js';
import { keysetNext, keysetParams, type SearchParams } from './pagers.js';
import { isDeepPagingRefusal } from './scim-list-source.js';

export type MembersMode = 'auto' | 'inline' | 'separate';

export interface MemberStats {
  /** Requests answered (list pages and per-owner fetches). */
  pages: number;
  /** Owners (groups, containers) whose links were written. */
  owners: number;
  /** Links written. */
  rows: number;
  /** Owners listed twice (dropped). */
  duplicates: number;
  /** Replies asked again after a failure mid-body. */
  retries: number;
  /** totalResults of the owner listing, when known. */
  total?: number;
  /** The largest totalResults seen, set at the end when it was checked against the owners listed (absent when the server does not count the listing). */
  expected?: number;
  /** Distinct owners listed (set at the end): what `expected` is compared with. */
  listed?: number;
}

export interface MembersSourceOptions {
  endpoint: string;
  /** The multi-valued attribute whose `value`s are the member ids. Default 'members'. */
  attribute?: string;
  filter?: string;
  pageSize?: number;
  mode?: MembersMode;
  /** Links held for an owner whose id comes after its members in the JSON; past this the owner is fetched separately. */
  maxBufferedLinks?: number;
  /** Repeats of a reply cut mid-body. Default 2. */
  retries?: number;
  retryDelayMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  logger?: Logger;
  stats?: MemberStats;
  onPage?: (stats: MemberStats) => void;
  /** An owner count that does not match totalResults: fail the table (default) or warn and write it. */
  countMismatch?: CountMismatch;
  /** List requests a table may take (default 100,000). */
  maxPages?: number;
}

type Client = Pick<ScimClient, 'requestStream'>;

interface Normalized {
  endpoint: string;
  attribute: string;
  filter?: string;
  pageSize: number;
  mode: MembersMode;
  maxBufferedLinks: number;
  retries: number;
  retryDelayMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  logger: Logger;
  stats: MemberStats;
  onPage?: (stats: MemberStats) => void;
  countMismatch: CountMismatch;
  maxPages: number;
}

export function normalizeMembersOptions(opts: MembersSourceOptions): Normalized {
  const bad = (what: string, got: unknown) => new ScimEtlError('ERR_OPTION_MEMBERS_SOURCE', `${what}, got ${JSON.stringify(got)}`, {});
  if (typeof opts.endpoint !== 'string' || !/^[A-Za-z][\w-]*$/.test(opts.endpoint)) throw bad('endpoint must be a resource endpoint name such as "Groups"', opts.endpoint);
  const attribute = opts.attribute ?? 'members';
  if (!/^[A-Za-z$][\w$-]*$/.test(attribute)) throw bad('attribute must be an attribute name such as "members"', opts.attribute);
  const pageSize = opts.pageSize ?? 200;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw bad('pageSize must be a positive integer', opts.pageSize);
  const mode = opts.mode ?? 'auto';
  if (!['auto', 'inline', 'separate'].includes(mode)) throw bad("mode must be 'auto', 'inline' or 'separate'", opts.mode);
  const retries = opts.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0) throw bad('retries must be a non-negative integer', opts.retries);
  const maxBufferedLinks = opts.maxBufferedLinks ?? 10_000;
  if (!Number.isInteger(maxBufferedLinks) || maxBufferedLinks < 0) throw bad('maxBufferedLinks must be a non-negative integer', opts.maxBufferedLinks);
  const countMismatch = opts.countMismatch ?? 'fail';
  if (countMismatch !== 'fail' && countMismatch !== 'warn') throw bad("countMismatch must be 'fail' or 'warn'", opts.countMismatch);
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isInteger(maxPages) || maxPages < 1) throw bad('maxPages must be a positive integer', opts.maxPages);
  return {
    endpoint: opts.endpoint,
    attribute,
    filter: opts.filter,
    pageSize,
    mode,
    maxBufferedLinks,
    retries,
    retryDelayMs: opts.retryDelayMs ?? 200,
    sleep: opts.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
    signal: opts.signal ?? new AbortController().signal,
    logger: opts.logger ?? silentLogger,
    stats: opts.stats ?? { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 },
    onPage: opts.onPage,
    countMismatch,
    maxPages,
  };
}

/**
 * Streams the walk events of one reply, in batches. Each chunk of the body
 * is scanned in the body's 'data' handler (./member-scanner.ts; an await per
 * event would cost more than the scanning); the body is paused while a few
 * batches wait to be consumed, so backpressure reaches the socket. Errors of
 * the body or of the JSON surface after the events read before them.
 */
async function* replyEvents(client: Client, req: ScimRequest, shape: 'list' | 'resource', attribute: string | undefined, where: string): AsyncGenerator<WalkEvent[]> {
  const res = await client.requestStream(req);
  const body = res.body as Readable;
  // An HTML page (a login or maintenance page) gets a message that shows it; other odd types are judged by parsing.
  const type = String(res.headers['content-type'] ?? '');
  if (/html/i.test(type)) {
    const head = await readHead(body);
    throw notScim(where, `the server answered 2xx with ${type.split(';')[0]} instead of SCIM JSON: ${safeSnippet(head, 120)}`);
  }
  const scanner = new MemberScanner(shape, attribute);
  const queue: WalkEvent[][] = [];
  let batch: WalkEvent[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const flush = () => {
    if (batch.length > 0) {
      queue.push(batch);
      batch = [];
    }
    wake?.();
  };
  const fail = (err: unknown) => {
    // Unparseable from the first byte (an HTML page, text): not JSON at all, not a body cut short.
    // Anything else thrown by the scanner is our own bug: it surfaces as it is, never as a cut reply to ask again.
    failure ??= err instanceof JsonScanError && !scanner.started ? notScim(where, `the reply is not JSON (${err.message})`) : err;
    ended = true;
    body.destroy();
    flush();
  };
  body.on('data', (chunk: Buffer | string) => {
    if (failure !== undefined) return;
    try {
      scanner.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, batch);
    } catch (err) {
      return fail(err);
    }
    if (batch.length >= EVENT_BATCH) {
      flush();
      if (queue.length >= MAX_QUEUED_BATCHES) body.pause();
    }
  });
  body.once('end', () => {
    if (failure !== undefined) return;
    try {
      scanner.end();
    } catch (err) {
      return fail(err);
    }
    ended = true;
    flush();
  });
  // An error of the body, or a body closed before its end (ERR_STREAM_PREMATURE_CLOSE): a cut.
  finished(body, (err) => {
    if (!err) return;
    failure ??= err;
    ended = true;
    flush();
  });
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        if (queue.length < MAX_QUEUED_BATCHES && body.isPaused() && !ended) body.resume();
        yield next;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    // A reply left early (consumer gone, error) releases its request and its abort listener.
    body.destroy();
  }
}

/** The first bytes of a reply that is not JSON, for the message. */
async function readHead(body: Readable): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      if (text.length >= 200) break;
    }
  } catch {
    // What arrived is enough for the message.
  } finally {
    body.destroy();
  }
  return text;
}

function notScim(where: string, why: string): ScimEtlError {
  return new ScimEtlError('ERR_EXPORT_BAD_LIST', `${where}: ${why}; the table is not written`, { where });
}

const EVENT_BATCH = 512;
const MAX_QUEUED_BATCHES = 4;

/** What one reply (list page or single owner) told, once read to the end. */
interface ReplySummary {
  /** Owners in the reply (duplicates included): how far index paging advances. */
  owners: number;
  ids: string[];
  total?: number;
  /** Owners whose links could not be streamed inline (id after a long members array). */
  refetch: string[];
}

/**
 * Survives across attempts of one list page (and its switch to separate
 * fetching or keyset paging), so that a repeat writes nothing twice.
 */
interface AttemptState {
  completed: Set<string>;
  partialId?: string;
  partialWritten: number;
}

/** Did the server refuse or fail a big list page (so listing owners separately may help)? */
function isBigPageFailure(err: unknown): boolean {
  if (!isScimEtlError(err)) return false;
  // An idle timeout, or a page of big groups that could not be read within connection.requestDeadline.
  if (err.code === 'ERR_TRANSPORT_TIMEOUT' || err.code === 'ERR_TRANSPORT_DEADLINE') return true;
  const status = err.context.status;
  if (typeof status !== 'number') return false;
  return status >= 500 || status === 413 || (status === 400 && err.context.scimType === 'tooMany');
}

/** Errors worth asking the same reply again: the body or its JSON broke off (the client already retried HTTP failures). */
function isCutReply(err: unknown, signal: AbortSignal): boolean {
  return !signal.aborted && isCutBody(err);
}

/** The links, one at a time. */
export async function* memberLinks(client: Client, opts: MembersSourceOptions): AsyncGenerator<MemberRow> {
  for await (const batch of memberLinkBatches(client, opts)) yield* batch;
}

/**
 * The links in batches (those of one batch of a reply's events, a few
 * hundred): per-link generator steps cost more than reading the links.
 */
export async function* memberLinkBatches(client: Client, opts: MembersSourceOptions): AsyncGenerator<MemberRow[]> {
  const o = normalizeMembersOptions(opts);
  const seen = new IdSet();
  let mode: 'inline' | 'separate' = o.mode === 'separate' ? 'separate' : 'inline';
  /** What `attributes=` asks for: the attribute, or `<attr>.value` on a server that projects it hollow (`[{}]`). */
  let projection = o.attribute;
  /** Owners listed again after the switch to keyset paging: already done, not server duplicates. */
  let rereading = false;

  /** One reply, with repeats after a cut; yields batches of links, returns the summary. */
  async function* readReply(req: ScimRequest, shape: 'list' | 'resource', state: AttemptState, knownId?: string): AsyncGenerator<MemberRow[], ReplySummary> {
    const wantLinks = shape === 'resource' || mode === 'inline';
    const where = shape === 'list' ? describePage(o.endpoint, req.searchParams ?? {}) : `GET ${req.path}`;
    for (let attempt = 0; ; attempt++) {
      const summary: ReplySummary = { owners: 0, ids: [], refetch: [] };
      const reply: ReplyShape = { schemas: [], hasResources: false, errorLike: false };
      let replyId: string | undefined;
      try {
        let id: string | undefined;
        let skip = false;
        let toSkip = 0;
        let written = 0;
        let buffer: string[] | undefined;
        let overflow = false;
        const setId = (value: string) => {
          id = value;
          written = 0;
          toSkip = 0;
          if (state.completed.has(value)) skip = true; // done in an earlier attempt of this reply
          else if (seen.has(value)) {
            skip = true;
            if (!rereading) o.stats.duplicates++;
          } else if (state.partialId === value) toSkip = state.partialWritten;
        };
        const link = (value: string): MemberRow | undefined => {
          if (skip) return undefined;
          if (toSkip > 0) {
            toSkip--;
            written++;
            return undefined;
          }
          written++;
          state.partialId = id;
          state.partialWritten = written;
          return { value: id!, MemberId: value };
        };
        for await (const events of replyEvents(client, { ...req, signal: o.signal }, shape, wantLinks ? o.attribute : undefined, where)) {
          // Counted as written when made: a batch is yielded before the reply's next events (and so before any failure of the reply) are read.
          let rows: MemberRow[] = [];
          for (const ev of events) switch (ev.t) {
            case 'total':
              summary.total = reply.totalResults = ev.n;
              break;
            case 'resources':
              reply.hasResources = true;
              break;
            case 'schema':
              reply.schemas.push(ev.urn);
              break;
            case 'error':
              reply.errorLike = true;
              if (ev.key === 'status') reply.status = ev.value;
              else if (ev.key === 'detail') reply.detail = ev.value && safeSnippet(ev.value);
              break;
            case 'start':
              id = undefined;
              skip = false;
              buffer = undefined;
              overflow = false;
              if (knownId !== undefined) setId(knownId);
              break;
            case 'id':
              replyId ??= ev.id;
              if (knownId !== undefined || id !== undefined) break;
              setId(ev.id);
              if (buffer) {
                for (const v of buffer) {
                  const row = link(v);
                  if (row) {
                    o.stats.rows++;
                    rows.push(row);
                  }
                }
                buffer = undefined;
              }
              break;
            case 'hollow':
              if (rows.length > 0) yield rows;
              rows = [];
              throw new ScimEtlError(
                'ERR_EXPORT_HOLLOW_MEMBERS',
                `${where}: the server returned ${o.attribute} elements without a value (${JSON.stringify(`${o.attribute}: [{}]`)}) for attributes=${projection}`,
                { where, projection, written: written },
              );
            case 'member': {
              if (id === undefined) {
                if (overflow) break;
                buffer ??= [];
                if (buffer.length >= o.maxBufferedLinks) {
                  overflow = true;
                  buffer = undefined;
                } else buffer.push(ev.value);
                break;
              }
              const row = link(ev.value);
              if (row) {
                o.stats.rows++;
                rows.push(row);
              }
              break;
            }
            case 'end':
              summary.owners++;
              if (id === undefined) {
                o.logger.warn(`${o.endpoint}: a resource without an id was skipped`);
                break;
              }
              summary.ids.push(id);
              // Listing ids only: the links (and a cut owner's partial count) are the separate fetch's business.
              if (skip || !wantLinks) break;
              if (overflow) {
                summary.refetch.push(id);
                break;
              }
              seen.add(id);
              o.stats.owners++;
              state.completed.add(id);
              state.partialId = undefined;
              state.partialWritten = 0;
              break;
          }
          if (rows.length > 0) yield rows;
        }
        o.stats.pages++;
        if (shape === 'list') {
          const start = req.searchParams?.startIndex;
          checkListShape(reply, where, typeof start === 'number' ? start : undefined);
        } else checkResourceShape(reply, replyId, where);
        return summary;
      } catch (err) {
        if (!isCutReply(err, o.signal)) throw err;
        if (attempt >= o.retries) {
          throw new ScimEtlError('ERR_EXPORT_CUT_REPLY', `${where}: the reply broke off ${attempt + 1} time(s) (${(err as Error).message}); the table is not written`, { where, attempts: attempt + 1 }, { cause: err, category: 'transport' });
        }
        o.stats.retries++;
        o.logger.debug(`${o.endpoint}: reply cut (${(err as Error).message}); asking again (${attempt + 1}/${o.retries})`);
        await o.sleep(o.retryDelayMs * (attempt + 1), o.signal);
      }
    }
  }

  /**
   * One owner's links on their own: `GET <endpoint>/<id>?attributes=<attr>`.
   * An owner cut in an inline attempt of the list page skips the links written then.
   */
  async function* ownerLinks(id: string, page: AttemptState): AsyncGenerator<MemberRow[]> {
    if (seen.has(id)) return;
    const state: AttemptState = page.partialId === id ? { completed: new Set(), partialId: id, partialWritten: page.partialWritten } : { completed: new Set(), partialWritten: 0 };
    try {
      yield* readReply({ path: `${o.endpoint}/${encodeURIComponent(id)}`, searchParams: { attributes: projection } }, 'resource', state, id);
    } catch (err) {
      // Deleted between the listing and now: it has no links any more.
      if (isScimEtlError(err) && err.context.status === 404) {
        o.logger.warn(`${o.endpoint}/${id}: gone since it was listed (404); no links written for it`);
        return;
      }
      throw err;
    }
  }

  // Owners are listed by startIndex; past a deep-paging refusal (Salesforce), by keyset.
  const counts = new ListingCounts(o.endpoint, o.pageSize, o.maxPages);
  /** Distinct owners listed (whatever became of their links): what totalResults counts. */
  const listed = new IdSet();
  let idless = 0;
  let keyset: { after?: string } | undefined;
  /** Owners of this keyset pass so far: a keyset page's totalResults counts only what is left after them. */
  let keysetOwners = 0;
  let start = 1;
  let total: number | undefined;
  let previous: string[] = [];
  let page = newAttemptState();
  let probed = false;
  let probing = false;
  let trusted = true;
  let rereadDone = false;
  passes: for (;;) {
    for (;;) {
      const params: SearchParams = keyset ? keysetParams(o.pageSize, o.filter, keyset.after) : { startIndex: start, count: o.pageSize };
      if (!keyset && o.filter) params.filter = o.filter;
      if (mode === 'inline') params.attributes = `id,${projection}`;
      else params.excludedAttributes = o.attribute;
      let summary: ReplySummary;
      try {
        counts.request();
        summary = yield* readReply({ path: o.endpoint, searchParams: params }, 'list', page);
      } catch (err) {
        if (isScimEtlError(err) && err.code === 'ERR_EXPORT_HOLLOW_MEMBERS' && projection === o.attribute && err.context.written === 0 && o.stats.rows === 0) {
          // Seen on python scim2-server: the parent comes back as [{}] while the sub-attribute path works.
          o.logger.warn(`${o.endpoint}: ${err.message}: asking for ${o.attribute}.value instead`);
          projection = `${o.attribute}.value`;
          page = newAttemptState();
          continue;
        }
        if (mode === 'inline' && o.mode === 'auto' && isBigPageFailure(err)) {
          o.logger.warn(`${o.endpoint}: listing with ${o.attribute} failed (${(err as Error).message}); listing ids and fetching each one's ${o.attribute} separately`);
          mode = 'separate';
          continue;
        }
        if (!keyset && isDeepPagingRefusal(err)) {
          // The index pages came in list order, not id order: read again from the start, id-ordered; `seen` skips owners done.
          o.logger.warn(`${o.endpoint}: the server refuses deep startIndex (${(err as Error).message}); listing again from the start by keyset paging (id pr, then id gt "<last id>"), skipping the ${o.stats.owners} owner(s) already written`);
          keyset = {};
          keysetOwners = 0;
          rereading = true;
          previous = [];
          counts.newPass();
          continue;
        }
        throw err;
      }
      if (summary.total !== undefined) {
        total = summary.total;
        o.stats.total ??= summary.total;
      }
      counts.observe(summary.total === undefined ? undefined : keyset ? keysetOwners + summary.total : summary.total, keyset ? undefined : start, summary.owners);
      for (const id of summary.ids) listed.add(id);
      idless += summary.owners - summary.ids.length;
      const repeated = summary.ids.length > 0 && summary.ids.length === previous.length && summary.ids.every((v, i) => v === previous[i]);
      // The probe got the same page again: a server that ignores startIndex, whose totalResults is all there is.
      if (probing && repeated) break;
      if (probing && summary.owners > 0) {
        trusted = false;
        const why = `totalResults (${total}) was doubted and startIndex ${start} returned ${summary.owners} more owner(s): the server does not count the whole listing`;
        counts.distrust(why);
        o.logger.warn(`${o.endpoint}: ${why}; paging on until an empty page, and the owner count is not checked against totalResults`);
      }
      probing = false;
      if (summary.owners === 0) break;
      if (repeated) {
        throw new ScimEtlError(
          'ERR_EXPORT_REPEATED_PAGE',
          `${o.endpoint}: the server returned the same page twice (${summary.ids.length} resources starting with id ${JSON.stringify(summary.ids[0])}); it probably ignores ${keyset ? 'the id filter' : 'startIndex'}. Export stopped so that no rows are missed silently.`,
          { endpoint: o.endpoint },
        );
      }
      previous = summary.ids;
      const separately = mode === 'separate' ? summary.ids : summary.refetch;
      for (const id of separately) yield* ownerLinks(id, page);
      o.onPage?.(o.stats);
      page = newAttemptState();
      if (keyset) {
        keysetOwners += summary.owners;
        const after = keysetNext(summary.ids, keyset.after);
        if (after === undefined) break;
        keyset.after = after;
        continue;
      }
      start += summary.owners;
      if (trusted && total !== undefined && start > total) {
        // As the resource pager (./pagers.ts): a total equal to one page's owners, or below what arrived, is asked once more.
        const doubt = summary.total === summary.owners || start - 1 > total;
        if (probed || !doubt) break;
        probed = probing = true;
      }
    }
    const received = listed.size + idless;
    const verdict = counts.verdict(received, !keyset && !rereadDone);
    if (verdict.kind === 'reread') {
      o.logger.warn(`${o.endpoint}: totalResults dropped during the run and ${received} owner(s) were listed; listing again from startIndex ${verdict.from} so that no shifted owner is missed (owners already written are skipped)`);
      rereadDone = rereading = true;
      start = verdict.from;
      previous = [];
      page = newAttemptState();
      probed = false;
      counts.newPass();
      continue passes;
    }
    o.stats.expected = counts.expected;
    o.stats.listed = received;
    if (verdict.kind === 'mismatch') {
      settleMismatch(verdict.message.replace('distinct resources', 'distinct owners'), o.countMismatch, (t) => o.logger.warn(t), { endpoint: o.endpoint, expected: counts.expected, received });
    }
    break;
  }
}

function newAttemptState(): AttemptState {
  return { completed: new Set(), partialWritten: 0 };
}

/** Object-mode Readable of MemberRow. */
export function membersSource(client: Client, opts: MembersSourceOptions): Readable {
  normalizeMembersOptions(opts);
  const batches = memberLinkBatches(client, opts);
  let reading = false;
  // The links of a batch are pushed in one go (as far as the buffer takes them): no promise per link.
  let held: MemberRow[] = [];
  let at = 0;
  return new Readable({
    objectMode: true,
    highWaterMark: 256,
    read() {
      while (at < held.length) if (!this.push(held[at++])) return;
      if (reading) return;
      reading = true;
      batches.next().then(
        (r) => {
          reading = false;
          if (r.done) return void this.push(null);
          held = r.value;
          at = 0;
          this._read(0);
        },
        (err: unknown) => {
          reading = false;
          this.destroy(err as Error);
        },
      );
    },
    destroy(err, done) {
      // The consumer left early: close the reply being read.
      batches.return(undefined).then(
        () => done(err),
        () => done(err),
      );
    },
  });
}

/** Object-mode Readable of MemberRow[] (one batch per chunk), for a table that is encoded a batch at a time. */
export function membersBatchSource(client: Client, opts: MembersSourceOptions): Readable {
  normalizeMembersOptions(opts);
  return Readable.from(memberLinkBatches(client, opts), { objectMode: true, highWaterMark: 2 });
}
