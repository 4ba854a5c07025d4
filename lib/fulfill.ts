/**
 * The fulfill part of a pipeline:
 *
 *   order CSVs ─source─▶ plan ─(batch)─▶ executor ─┬─▶ results CSVs (temp, committed together at the end)
 *                                                  └─▶ journal (append-only, fsynced: what survives a kill)
 *
 * Users files run before membership files, so that a membership may name a
 * user inserted in the same run (`@<orderId>`). Every order line gets exactly
 * one result row. Exit code: 0 all ok/skipped, 2 some line failed, 1 a fatal
 * error (refused credentials, orders unreadable, interrupt) — then the
 * previous results are left as they were and the journal holds what was done,
 * so that running the same orders again resumes.
 */
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline as pump } from 'node:stream/promises';
import { Transform, Writable, type Readable } from 'node:stream';
import { EXIT, ScimEtlError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { redact } from './redact.js';
import type { ClientStats, ScimClient } from './scim/client.js';
import type { Pipeline, Threshold } from './config/types.js';
import { checkOrderHeaders, classifyOrderFile, createOrderSource, orderFiles, readOrders, type OrderFile } from './streams/sources/csv-order-source.js';
import { createOrderPlanner, OrderPlanner, type PlanOptions } from './streams/transforms/plan-orders.js';
import { isReferenced, referencedInserts } from './fulfill/referenced-inserts.js';
import { Batcher, createBatcher } from './streams/transforms/batch.js';
import { normalizeConcurrency } from './fulfill/request-sink.js';
import { ResultsWriter, type ResultCounts } from './streams/sinks/results-sink.js';
import { pipeSafeWriter, ReaderGone, type PipeSafeWriter } from './streams/sinks/pipe-safe-writer.js';
import { defaultCapabilities, discoverCapabilities, type ServerCapabilities } from './fulfill/discover.js';
import { asFatal, type ExecContext } from './fulfill/execute.js';
import { writesByPut } from './fulfill/get-put.js';
import { executeOrders, normalizeWindow, RunInserts, type ExecutorOptions } from './fulfill/executor.js';
import { Journal, journalPath, orderFileKey } from './fulfill/journal.js';
import { fulfillProgress, type FulfillProgressOptions } from './fulfill/progress.js';
import { bulkOperationOf, plannedRequest, type RequestStyle } from './scim/requests.js';
import { dialectOf } from './scim/dialects/index.js';
import { fulfillServerSettings } from './fulfill/server-settings.js';
import { cachedDecisionsFor } from './discovery/cached-run.js';
import type { BatchItem, OrderLine, OrderRecord, PlanItem, ScimRequester } from './fulfill/types.js';

export interface FulfillOptions {
  /** Order directories or files, overriding the pipeline's (resolved against `cwd`). */
  orders?: string[];
  /** Results directory, overriding the pipeline's (resolved against `cwd`). */
  results?: string;
  /** Print the planned requests as NDJSON on `stdout`; send nothing at all. */
  dryRun?: boolean;
  /** Run even when maxDeletes / maxChanges would stop it. */
  force?: boolean;
  /** Ignore (and reset) the journal of earlier runs: every order line is sent again. */
  restart?: boolean;
  /** Outcomes that may wait for an earlier line before reading stops (default 1024). */
  reorderWindow?: number;
  /** The SCIM client (required unless dryRun). */
  client?: ScimRequester;
  logger?: Logger;
  stdout?: NodeJS.WritableStream;
  signal?: AbortSignal;
  cwd?: string;
  /** Progress on a stream (lines with a result / lines in the order files, rate, ETA, failures). */
  progress?: FulfillProgressOptions;
}

export interface FulfillReport {
  mode: 'bulk' | 'single';
  dryRun: boolean;
  /** Order files in processing order and their results files. */
  files: Array<{ orders: string; results?: string }>;
  counts: ResultCounts;
  /** Planned requests (dry run) . */
  planned: number;
  exitCode: number;
  /** Where the previous run's results files were moved (`<results>/runs/<time>/`), when there were any. */
  previous?: string[];
  /** The journal of this run (absent in a dry run). */
  journal?: string;
  /** The error that ended the run early, if any (then no results file was committed). */
  fatal?: ScimEtlError;
}

/**
 * Lists the order files: every regular `*.csv` file of a directory (by name),
 * or the files named. Every one must be readable now, before anything is sent:
 * a file found unreadable halfway through the run would leave users created
 * with no results row.
 */
export async function listOrderFiles(paths: readonly string[]): Promise<OrderFile[]> {
  const files: OrderFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new ScimEtlError('ERR_CONFIG_ORDERS_NOT_FOUND', `orders path ${p} does not exist`, { path: p });
    }
    if (st.isDirectory()) {
      for (const n of await csvNames(p)) {
        // A directory (or a socket…) named like an order file is not one.
        if (await isFile(join(p, n))) files.push(classifyOrderFile(join(p, n)));
      }
    } else if (st.isFile()) files.push(classifyOrderFile(p));
    else throw new ScimEtlError('ERR_CONFIG_ORDERS_NOT_FILE', `orders path ${p} is neither a file nor a directory`, { path: p });
  }
  const seen = new Set<string>();
  for (const f of files) {
    const name = basename(f.path).toLowerCase();
    if (seen.has(name)) throw new ScimEtlError('ERR_CONFIG_ORDERS_DUPLICATE', `two order files are named ${basename(f.path)}: their results would overwrite each other`, { path: f.path });
    seen.add(name);
  }
  for (const f of files) await checkReadable(f.path);
  return orderFiles(files);
}

async function csvNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /\.csv$/i.test(n) && !n.startsWith('.')).sort();
}

/** Follows links; a dangling link is a file that cannot be read (checkReadable says so). */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return true;
  }
}

async function checkReadable(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    await handle.close();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ScimEtlError('ERR_CONFIG_ORDERS_UNREADABLE', `cannot read order file ${path}: ${e.code ?? e.message}`, { path }, { cause: err });
  }
}

/** Results named like their order files would overwrite them, and be read as orders next time. */
export async function checkResultsDir(resultsDir: string, files: readonly OrderFile[]): Promise<void> {
  const results = await realDir(resultsDir);
  for (const f of files) {
    if ((await realDir(dirname(f.path))) !== results) continue;
    throw new ScimEtlError('ERR_CONFIG_RESULTS_IN_ORDERS', `the results directory ${resultsDir} holds the order file ${basename(f.path)}: its results would overwrite it. Use another results directory`, { path: resultsDir });
  }
}

/** The directory with links resolved, or as given when it does not exist yet. */
async function realDir(dir: string): Promise<string> {
  return realpath(dir).catch(() => resolve(dir));
}

/** How many lines a threshold allows, given the number of order lines. */
export function thresholdLimit(t: Threshold, totalLines: number): number {
  return 'count' in t ? t.count : Math.floor((t.percent / 100) * totalLines);
}

export async function runFulfill(pipe: Pipeline, opts: FulfillOptions = {}): Promise<FulfillReport> {
  const cfg = pipe.fulfill;
  if (!cfg) throw new ScimEtlError('ERR_CONFIG_NO_FULFILL', `${pipe.file} has no fulfill section`, { file: pipe.file }, { category: 'config' });
  const logger = opts.logger ?? silentLogger;
  const base = dirname(pipe.file);
  const cwd = opts.cwd ?? process.cwd();
  const orderPaths = opts.orders?.length ? opts.orders.map((p) => resolve(cwd, p)) : cfg.orders.map((p) => resolve(base, p));
  const resultsDir = opts.results ? resolve(cwd, opts.results) : resolve(base, cfg.results);
  const files = await listOrderFiles(orderPaths);
  await checkResultsDir(resultsDir, files);
  const dryRun = Boolean(opts.dryRun);

  if (!dryRun && !opts.client) throw new ScimEtlError('ERR_INTERNAL_NO_CLIENT', 'runFulfill needs a SCIM client unless dryRun');
  let caps: ServerCapabilities;
  try {
    caps = dryRun ? defaultCapabilities() : await discoverCapabilities(opts.client!, logger, opts.signal);
  } catch (err) {
    throw asFatal(err, opts.signal);
  }
  const cached = dryRun ? {} : await cachedDecisionsFor(pipe, opts.client as Partial<ScimClient>, caps.spc, logger, ["bulkPatchEffective", "etagWorks", "dottedPatchEffective"], opts.signal);
  const server = fulfillServerSettings(cfg, caps, cached, logger);
  const { bulk: bulkOn, maxOperations, maxPayloadSize } = server;
  const style: RequestStyle = { dialect: dialectOf(pipe.connection.scimSyntax) };
  const planOpts: PlanOptions = { maxMembersPerPatch: cfg.maxMembersPerPatch, deprovision: cfg.deprovision ?? style.dialect!.deprovision, memberWrites: style.dialect!.memberWrites };
  const mode = bulkOn ? 'bulk' : 'single';
  const startText = `fulfill: ${files.length} order file(s), ${mode} mode${dryRun ? ' (dry run)' : ''}`;
  logger.emit('info', 'fulfill.start', {
    files: files.length,
    mode,
    dryRun,
    patch: caps.patch,
    schemas: caps.schemaSource,
    ...(bulkOn ? { maxOperations, maxPayloadSize } : { concurrency: cfg.concurrency }),
  }, ({ files: _f, mode: _m, dryRun: _d, ...rest }) => ({ msg: startText, append: rest }));

  const sourceOpts = { files, schemas: caps.schemas, nullMarker: cfg.nullMarker, logger, cannotWrite: style.dialect!.cannotWrite, ...(opts.signal ? { signal: opts.signal } : {}) };
  // A bad header (a column twice, bytes that are not UTF-8) refuses the whole run, dry or not, before anything is sent.
  const headerProblems = await checkOrderHeaders(sourceOpts);
  if (headerProblems.length > 0) {
    throw new ScimEtlError(headerProblems[0]!.code, `${headerProblems.map((e) => e.message).join('; ')}; nothing was sent`, { files: headerProblems.length }, { category: 'config' });
  }
  // Only the inserts a membership line names are remembered through the run (a pass over the membership files).
  const referenced = await referencedInserts(sourceOpts);
  planOpts.referenced = referenced;
  const report: FulfillReport = {
    mode,
    dryRun,
    files: files.map((f) => ({ orders: f.path })),
    counts: { ok: 0, failed: 0, skipped: 0 },
    planned: 0,
    exitCode: EXIT.ok,
  };

  // Thresholds: a first streaming pass counts the changes, before anything is sent.
  if ((cfg.maxDeletes || cfg.maxChanges) && !opts.force) {
    let total = 0;
    let deletes = 0;
    let changes = 0;
    for await (const rec of readOrders(sourceOpts)) {
      total++;
      if (rec.kind === 'invalid') continue;
      changes++;
      if (rec.kind === 'user' && rec.command === 'delete') deletes++;
    }
    const check = (name: string, t: Threshold | undefined, n: number) => {
      if (!t) return;
      const limit = thresholdLimit(t, total);
      if (n > limit) {
        const what = 'count' in t ? `${t.count}` : `${t.percent}% of ${total} order lines = ${limit}`;
        throw new ScimEtlError('ERR_FULFILL_THRESHOLD', `the orders hold ${n} ${name === 'maxDeletes' ? 'deletes' : 'changes'}, more than ${name} allows (${what}); nothing was sent. Use --force to run anyway`, { [name]: t, count: n, limit });
      }
    };
    check('maxDeletes', cfg.maxDeletes, deletes);
    check('maxChanges', cfg.maxChanges, changes);
  }

  if (dryRun) {
    const out = pipeSafeWriter(opts.stdout ?? process.stdout);
    const stages: Array<Readable | Transform | Writable> = [createOrderSource(sourceOpts), createOrderPlanner(planOpts)];
    if (bulkOn) stages.push(createBatcher({ maxOperations, maxPayloadSize, style }));
    stages.push(dryRunPrinter(out, logger, bulkOn, style, report));
    try {
      await pump(stages as unknown as [Readable, Writable]);
    } catch (err) {
      if (!(err instanceof ReaderGone)) throw err;
      // `fulfill --dry-run | head`: the reader has what it wanted; not a failure.
      logger.debug('dry run: stdout closed by the reader; stopped');
      report.exitCode = EXIT.ok;
      return report;
    }
    report.exitCode = report.counts.failed > 0 ? EXIT.partial : EXIT.ok;
    logger.emit('info', 'fulfill.dry_run', { planned: report.planned, refused: report.counts.failed }, (f) => `dry run: ${f.planned} request(s) planned, ${f.refused} order line(s) refused; nothing was sent`);
    return report;
  }

  // Every order file's content key, before anything is sent: journal entries apply to that content only.
  const fileKeys: string[] = [];
  for (const f of files) fileKeys.push(await orderFileKey(f.path));
  const ctx: ExecContext & { inserts: RunInserts } = {
    client: opts.client!,
    fatal: {},
    capabilities: { patch: caps.patch, etag: caps.etag },
    ...(server.ifMatch ? { ifMatch: true } : {}),
    ...(server.singlePatch ? { bulkPatchIgnored: true } : {}),
    ...(server.complexPatch ? { complexPatch: true } : {}),
    onConflict: cfg.onConflict,
    style,
    inserts: new RunInserts((key) => isReferenced(referenced, key)),
    verify: Boolean(cfg.verify),
    logger,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const concurrency = bulkOn ? 1 : normalizeConcurrency(cfg.concurrency);
  const window = normalizeWindow(opts.reorderWindow);
  const planner = new OrderPlanner(planOpts);
  const batcher = bulkOn ? new Batcher({ maxOperations, maxPayloadSize, style }) : undefined;
  // Opened once every option is checked (a bad one throws above): no temp file left behind.
  const writer = new ResultsWriter(resultsDir, files.map((f) => basename(f.path)));
  await writer.open();
  let journal: Journal;
  try {
    journal = await Journal.open(journalPath(resultsDir, pipe.connection.identifier), fileKeys, { restart: Boolean(opts.restart) });
  } catch (err) {
    await writer.abort();
    throw err;
  }
  report.journal = journal.path;
  if (journal.size > 0) logger.emit('info', 'fulfill.resume', { known: journal.size, journal: journal.path }, (f) => `fulfill: resuming: ${f.known} order line(s) known from the journal ${f.journal} are not sent again (--restart sends everything)`);
  else if (opts.restart) logger.emit('info', 'fulfill.restart', { journal: journal.path }, (f) => `fulfill: --restart: the journal ${f.journal} was reset`);

  const progress = await fulfillProgress(opts.progress, files.map((f) => f.path), writer, opts.signal);
  try {
    await sendAndRecord(plannedWork(readOrders(sourceOpts), planner, batcher, (entity) => writesByPut(entity, ctx)), { ctx, concurrency, window, writer, journal }, sourceOpts, report, logger, opts.signal);
  } catch (err) {
    await journal.close().catch(() => {});
    await writer.abort();
    throw err;
  } finally {
    // Ends the progress line before the summary is logged.
    progress.finish();
  }
  report.counts = { ...writer.counts };
  if (report.fatal) {
    await writer.abort();
    report.exitCode = EXIT.failure;
    logger.emit('warn', 'fulfill.stopped', { ...report.counts, code: report.fatal.code, results: resultsDir, journal: journal.path }, (f) => `fulfill stopped: ${f.ok} ok, ${f.failed} failed, ${f.skipped} skipped (not sent); the results in ${f.results} are left as they were. What was done is in the journal ${f.journal}: run the same orders again to resume`);
    return report;
  }
  await writer.commit();
  report.files.forEach((f, i) => (f.results = writer.paths[i]));
  if (writer.archived.length > 0) {
    report.previous = writer.archived;
    const kept = dirname(writer.archived[0]!);
    logger.emit('info', 'fulfill.history', { dir: kept, files: writer.archived.length }, `fulfill: the previous results were moved to ${kept}`);
  }
  report.exitCode = report.counts.failed > 0 ? EXIT.partial : EXIT.ok;
  const summary = `fulfill: ${report.counts.ok} ok, ${report.counts.failed} failed, ${report.counts.skipped} skipped; results in ${resultsDir}`;
  const traffic = transportSummary((opts.client as { stats?: ClientStats }).stats) ?? {};
  const failedHint = report.counts.failed > 0 ? ' (--verbose lists the failed lines)' : '';
  logger.emit(report.counts.failed > 0 ? 'warn' : 'info', 'fulfill.summary', { ...report.counts, results: resultsDir, ...traffic }, { msg: `${summary}${failedHint}`, append: traffic });
  return report;
}

/**
 * Operations that read before they write go alone, not in a Bulk batch: a
 * deactivation (a rerun on an inactive user is skipped) and a membership
 * change of a resource written by GET + PUT.
 */
function readsFirst(item: PlanItem, put: (entity: string) => boolean): boolean {
  if (item.kind !== 'op') return false;
  return (item.op.kind === 'delete' && item.op.deactivate === true) || (item.op.kind === 'members' && put(item.op.entity));
}

/** Order records → planned work (operations, or Bulk batches), pulled one at a time. */
async function* plannedWork(records: AsyncIterable<OrderRecord>, planner: OrderPlanner, batcher: Batcher | undefined, put: (entity: string) => boolean): AsyncGenerator<PlanItem | BatchItem> {
  function* emit(items: PlanItem[]): Generator<PlanItem | BatchItem> {
    for (const item of items) {
      if (batcher && readsFirst(item, put)) {
        // Alone, after what came before it.
        yield* batcher.flush();
        yield item;
      } else if (batcher) yield* batcher.push(item);
      else yield item;
    }
  }
  for await (const rec of records) yield* emit(planner.push(rec));
  yield* emit(planner.flush());
  if (batcher) yield* batcher.flush();
}

/**
 * Runs the executor; when it stops early (fatal answer, orders unreadable,
 * interrupt) it has drained the requests in flight and recorded their real
 * outcomes: the lines never read are then filled in as `skipped`. The journal
 * is closed (fsynced) either way.
 */
async function sendAndRecord(
  work: AsyncIterable<PlanItem | BatchItem>,
  exec: ExecutorOptions & { journal: Journal; writer: ResultsWriter },
  sourceOpts: Parameters<typeof readOrders>[0],
  report: FulfillReport,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { ctx, writer, journal } = exec;
  try {
    await executeOrders(work, exec);
    // A fatal error met by a request was latched: the lines after it are already `skipped`.
    if (ctx.fatal.error) report.fatal = ctx.fatal.error;
  } catch (err) {
    const fatal = ctx.fatal.error ?? asFatal(err, signal);
    report.fatal = fatal;
    const { signal: _aborted, ...again } = sourceOpts as typeof sourceOpts & { signal?: AbortSignal };
    const onUnreadable = (f: OrderFile, e: ScimEtlError) => logger.error(`${e.code} ${e.message}: the lines that could not be read get no result`, { file: f.path });
    await writer.fillSkipped(orderLines({ ...again, onUnreadable }), `${fatal.code} ${redact(fatal.message)}`);
  }
  try {
    await journal.close();
  } catch (err) {
    report.fatal ??= asFatal(err, signal);
  }
}

async function* orderLines(sourceOpts: Parameters<typeof readOrders>[0]): AsyncGenerator<OrderLine> {
  for await (const rec of readOrders(sourceOpts)) yield rec.line;
}

/** The last stage of a dry run: one NDJSON line per planned request, refused lines logged. */
function dryRunPrinter(out: PipeSafeWriter, logger: Logger, bulk: boolean, style: RequestStyle, report: FulfillReport): Writable {
  let batchNo = 0;
  const print = (obj: unknown): Promise<void> => out.write(redact(JSON.stringify(obj)) + '\n');
  const refused = (o: Extract<PlanItem, { kind: 'outcome' }>['outcome']) => {
    if (o.outcome === 'failed') report.counts.failed++;
    else report.counts[o.outcome]++;
    logger.emit('warn', 'order.refused', { orderId: o.orderId, command: o.command, outcome: o.outcome, detail: o.detail }, `order ${o.orderId} (${o.command || 'no command'}) would be ${o.outcome === 'failed' ? 'refused' : o.outcome}: ${o.detail ?? ''}`);
  };
  return new Writable({
    objectMode: true,
    write(item: PlanItem | BatchItem, _enc, done) {
      (async () => {
        if (item.kind === 'outcome') return refused(item.outcome);
        if (item.kind === 'batch') {
          batchNo++;
          const inBatch = new Set(item.ops.flatMap((o) => (o.kind === 'insert' ? [o.bulkId] : [])));
          for (const op of item.ops) {
            const req = plannedRequest(op, (ref) => (inBatch.has(ref) ? `bulkId:${ref}` : `@${ref}`), style);
            report.planned++;
            await print({ batch: batchNo, ...bulkOperationOf(req), orderRefs: req.orderRefs });
          }
          return;
        }
        const req = plannedRequest(item.op, (ref) => `@${ref}`, style);
        report.planned++;
        await print(bulk ? req : { method: req.method, path: req.path, ...(req.body !== undefined ? { body: req.body } : {}), orderRefs: req.orderRefs });
      })().then(() => done(), done);
    },
  });
}

/** What the connection went through (retries, throttled waits, concurrency reached), for the summary line. */
function transportSummary(st: ClientStats | undefined): Record<string, number> | undefined {
  if (!st) return undefined;
  const out: Record<string, number> = { requests: st.requests, retries: st.retries };
  for (const k of ['throttled', 'throttledMs', 'lowestLimit', 'mostInFlight'] as const) if (st[k] !== undefined) out[k] = st[k]!;
  return out;
}
