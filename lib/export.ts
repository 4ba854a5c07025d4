/**
 * The export part of a pipeline: for each table, a paged SCIM source, flatten,
 * and a CSV (or NDJSON) sink, composed with stream/promises pipeline() and the
 * run's AbortSignal.
 *
 * Tables: `<identifier>_<Entity>.csv` for each entity, plus
 * `<identifier>_members_<Entity>.csv` (entity `members: true`) and
 * `<identifier>_privilegedData_<Entity>.csv` (entity `privilegedData: true`).
 * Tables run one after the other into temp files; the run commits them all
 * together at the end (run-commit.ts). A table that fails, an interrupt or the
 * `export.deadline` stops the run, commits nothing and leaves every previous
 * file as it was (exit 1).
 *
 * Entities with `incremental: true` keep a watermark in the cookie
 * (lib/incremental/): the cookie is staged after the last table and renamed
 * right after the tables, so a failed run leaves it unchanged too.
 *
 * Before each resource table a projection probe (scim/projection.ts) checks
 * that the server honours `attributes=` and the filter, and picks the request
 * shape and the local filter the table needs.
 */
import { ensureDir } from './ensure-dir.js';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ScimEtlError, isScimEtlError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { createProgress } from './progress.js';
import { columnTypes } from './scim/column-types.js';
import type { EntityExport, Pipeline } from './config/types.js';
import type { ScimClient } from './scim/client.js';
import { coerceBooleans, formatFilter, hasQuotedBoolean, matchesFilter, parseFilter, type FilterNode } from './scim/filter.js';
import { probeProjection, type ProjectionMode } from './scim/projection.js';
import { BUILTIN_SCHEMAS, attributeAt, readServerSchemas, type SchemaDefinition } from './scim/schemas.js';
import { scimListSource, scimPageSource, type ListStats, type PagingMethod } from './streams/sources/scim-list-source.js';
import { pageTable } from './streams/transforms/page-table.js';
import { membersBatchSource, membersSource, type MemberStats } from './streams/sources/members-source.js';
import { flatten } from './streams/transforms/flatten.js';
import { choosePaging } from './streams/sources/choose-paging.js';
import { batchFormatter, tableFormatter, type TableFormat } from './streams/sinks/csv-table-sink.js';
import { runCommit, type RunCommit } from './streams/sinks/run-commit.js';
import { localFilter, type LocalFilterStats } from './streams/transforms/local-filter.js';
import { parseColumnPath } from './scim/path.js';
import { openIncremental, type IncrementalRun, type TableMode } from './incremental/state.js';
import { COMMAND_COLUMN, trackChanges } from './incremental/changes.js';
import { appendDeletes } from './incremental/deletes.js';
import { countCommands, type CommandCounts } from './incremental/command-counts.js';
import { IdSorter, sweepStaleIdDirs } from './incremental/id-set.js';
import { membershipChanges, type MembershipScratch } from './incremental/memberships.js';
import { tmpdir } from 'node:os';
import { exportPageSize } from './scim/server-defaults.js';
import { cachedDecisionsFor, projectionStart } from './discovery/cached-run.js';
import { resolveAutoColumns } from './discovery/auto-columns.js';
import type { CachedDecisions } from './discovery/verdict-cache.js';
import { RunResume, type TableCheckpoint } from './resume/run-resume.js';
import { headerBytes, resumeKey } from './resume/resume-key.js';
import { fingerprint } from './resume/checkpoint.js';

/** Read besides the columns where a watermark is kept. */
const META_COLUMNS = [parseColumnPath('meta:lastModified'), parseColumnPath('meta:created')];

export type ExportClient = Pick<ScimClient, 'request' | 'requestStream' | 'stats'>;

/** One output table of a run. */
export interface TablePlan {
  /** `Users`, `members_Groups`, `privilegedData_Containers`: what `--entity` names. */
  name: string;
  kind: 'resources' | 'links';
  entity: EntityExport;
  /** For links tables: the multi-valued attribute (`members`, `privilegedData`). */
  attribute?: string;
  /** Header, in order. */
  columns: string[];
}

export interface ExportOptions {
  client: ExportClient;
  /** `--entity`: table or entity names (case-insensitive). Absent: every table. */
  entities?: readonly string[];
  /** `--output`: overrides the pipeline's output directory. */
  output?: string;
  /** `--stdout`: write the single selected table here instead of a file. */
  stdout?: NodeJS.WritableStream;
  format?: TableFormat;
  /** `--full`: ignore the incremental cookie (complete runs) and reset it. */
  full?: boolean;
  /** `--resume`: go on from the checkpoint of an interrupted run (lib/resume/). */
  resume?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  /** Progress on this stream when enabled. */
  progress?: { stream: NodeJS.WritableStream & { isTTY?: boolean }; enabled: boolean; format?: 'text' | 'json' };
  /** Paging strategy for resource tables. Default: read from the server's ServiceProviderConfig (cursor when advertised, else index). */
  paging?: PagingMethod;
  now?: () => number;
  /** Overrides `export.deadline` (ms). */
  deadlineMs?: number;
}

export interface TableResult {
  table: string;
  /** The committed file; absent with --stdout or on failure. */
  file?: string;
  ok: boolean;
  rows: number;
  /** The server's totalResults the table was checked against (absent when it gave none or it proved wrong)… */
  expected?: number;
  /** …and what arrived: resources before any local filter, or for a links table the owners (groups) listed. */
  received?: number;
  pages: number;
  retries: number;
  /** Of the retries, waits the server asked for (429/503 Retry-After), and their ms; absent with a client that does not count them. */
  throttled?: number;
  throttledMs?: number;
  /** The connection's concurrency when the table ended: lowest limit 429s brought it to, most requests in flight. */
  lowestLimit?: number;
  mostInFlight?: number;
  duplicates: number;
  seconds: number;
  /** Resources listed but dropped by the local filter (the server refused the filter). */
  filteredLocally?: number;
  /** Incremental entities: `changes` (rows since the watermark, with `command`) or `complete`. */
  incremental?: 'changes' | 'complete';
  /** detectDeletes: `delete` rows written (counted in rows). */
  deleted?: number;
  /** Incremental tables with a `command` column: rows per command (insert/update/delete; replace/delete for members). */
  commands?: CommandCounts;
  /** How the resources were asked for, when the probe had to step away from `attributes=`. */
  projection?: ProjectionMode;
  error?: ScimEtlError;
}

export interface ExportResult {
  tables: TableResult[];
  failed: number;
}

/** The tables a pipeline defines, in order. */
export function planTables(pipeline: Pipeline): TablePlan[] {
  const plans: TablePlan[] = [];
  for (const entity of pipeline.export?.entities ?? []) {
    plans.push({ name: entity.name, kind: 'resources', entity, columns: entity.columns.map((c) => c.text) });
    if (entity.members) plans.push({ name: `members_${entity.name}`, kind: 'links', entity, attribute: 'members', columns: ['value', 'MemberId'] });
    if (entity.privilegedData) {
      plans.push({ name: `privilegedData_${entity.name}`, kind: 'links', entity, attribute: 'privilegedData', columns: ['value', 'MemberId'] });
    }
  }
  return plans;
}

/**
 * Applies `--entity` and `--stdout`. A name selects the table of that name;
 * an entity name also selects its links tables, except with --stdout, which
 * takes exactly one table (`--entity members_Groups` for a membership table).
 */
export function selectTables(plans: TablePlan[], names: readonly string[] | undefined, toStdout: boolean): TablePlan[] {
  const known = plans.map((p) => p.name);
  if (toStdout && (!names || names.length !== 1)) {
    throw new ScimEtlError(
      'ERR_OPTION_STDOUT',
      `--stdout writes exactly one table: name it with one --entity (one of ${known.join(', ')})`,
      {},
    );
  }
  if (!names || names.length === 0) return plans;
  const chosen = new Set<TablePlan>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    const matches = plans.filter((p) => p.name.toLowerCase() === name || (!toStdout && p.entity.name.toLowerCase() === name));
    if (matches.length === 0) {
      throw new ScimEtlError('ERR_OPTION_ENTITY', `--entity ${JSON.stringify(raw)} is not a table of this pipeline (tables: ${known.join(', ')})`, { entity: raw });
    }
    for (const m of matches) chosen.add(m);
  }
  return plans.filter((p) => chosen.has(p));
}

export function tableFileName(identifier: string, table: string, format: TableFormat): string {
  return `${identifier}_${table}.${format === 'ndjson' ? 'ndjson' : 'csv'}`;
}

export async function runExport(pipe: Pipeline, opts: ExportOptions): Promise<ExportResult> {
  // `columns: auto` entities get their columns from the server's /Schemas before anything is planned.
  pipe = await resolveAutoColumns(pipe, opts.client, opts.logger ?? silentLogger, opts.signal);
  const exp = pipe.export;
  if (!exp) throw new ScimEtlError('ERR_CONFIG_NO_EXPORT', `${pipe.file}: the pipeline has no export section`, { file: pipe.file }, { category: 'config' });
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  const format = opts.format ?? exp.format ?? 'csv';
  const tables = selectTables(planTables(pipe), opts.entities, Boolean(opts.stdout));
  const conn = pipe.connection;
  const outDir = resolve(opts.output ?? exp.output);
  let commit: RunCommit | undefined;
  let resume: RunResume | undefined;
  if (opts.resume && opts.stdout) throw new ScimEtlError('ERR_OPTION_RESUME', '--resume goes on with the temp files of an interrupted export to files; it cannot be used with --stdout', {});
  if (!opts.stdout) {
    await ensureDir(outDir, opts.signal);
    commit = runCommit(outDir, { prefix: `${conn.identifier}_` });
    resume = await RunResume.open({ dir: outDir, identifier: conn.identifier, hash: resumeKey(pipe, tables, format, outDir), resume: Boolean(opts.resume), logger });
    const stale = await commit.sweepStale(resume.keep()).catch((err: Error) => {
      logger.debug(`cannot look for stale temp files in ${outDir}: ${err.message}`);
      return [] as string[];
    });
    if (stale.length > 0) logger.emit('info', 'export.stale_removed', { dir: outDir, count: stale.length, files: stale }, { msg: `removed ${stale.length} temp file(s) an interrupted earlier run left in ${outDir}`, append: { files: stale } });
  }
  const deadline = runDeadline(opts.signal, opts.deadlineMs ?? exp.deadline);
  const signal = deadline.signal;
  let inc: IncrementalRun | undefined;
  /** Entities in an incremental run whose members table follows: the changed and deleted group ids. */
  const memberships = new Map<string, { mode: TableMode; scratch: MembershipScratch }>();
  try {
    const incrementalEntities = new Set(tables.filter((t) => t.kind === 'resources' && t.entity.incremental).map((t) => t.entity.name));
    if (incrementalEntities.size > 0 && opts.stdout) {
      logger.info(`${[...incrementalEntities].join(', ')}: complete export to stdout; the incremental cookie is neither read nor written`);
    } else if (incrementalEntities.size > 0) {
      // Spill directories of id sets that killed runs could not remove.
      const staleIds = await sweepStaleIdDirs(tmpdir());
      if (staleIds.length > 0) logger.info(`removed ${staleIds.length} id set spill directory(ies) an interrupted earlier run left in ${tmpdir()}`, { dirs: staleIds });
      inc = await openIncremental({
        file: exp.syncCookiesFile ?? join(outDir, `${conn.identifier}.cookie.json`),
        full: Boolean(opts.full),
        overlapSeconds: exp.incrementalOverlap ?? 60,
        now,
        logger,
      });
    }
    return await exportTables();
  } catch (err) {
    const keep = resume?.keeps(err, signal) ?? false;
    await commit?.abort({ keep });
    await resume?.stopped(keep);
    await inc?.abort();
    // Stopped before the first table (reading the paging settings): say why.
    if (deadline.expired() && !(isScimEtlError(err) && err.code === 'ERR_EXPORT_DEADLINE')) {
      throw new ScimEtlError('ERR_EXPORT_DEADLINE', `export stopped by export.deadline (${deadline.ms} ms): nothing committed, the previous files are left as they were`, { deadlineMs: deadline.ms }, { cause: err });
    }
    throw err;
  } finally {
    deadline.clear();
    await Promise.all([...memberships.values()].flatMap(({ scratch }) => [scratch.changed, scratch.gone, scratch.owners].map((x) => x.dispose())));
  }

  async function exportTables(): Promise<ExportResult> {
    let paging = opts.paging;
    const client = opts.client as ExportClient & Partial<Pick<ScimClient, 'base' | 'serviceProviderConfig'>>;
    let pageSize = tables.length > 0 ? await exportPageSize(client, conn.pageSize, Boolean(conn.setInPipeline?.includes('pageSize')), logger, signal) : conn.pageSize;
    const cached = tables.some((t) => t.kind === 'resources') ? await cachedDecisionsFor(pipe, client, undefined, logger, ['subAttributeProjection', 'extensionProjection'], signal) : {};
    if (paging === undefined && tables.length > 0) {
      const choice = await choosePaging(opts.client, pageSize, { signal, logger });
      paging = choice.paging;
      pageSize = choice.pageSize;
    }
    const schemas = schemaSource(opts.client, signal);
    const results: TableResult[] = [];
    for (const plan of tables) {
      if (signal.aborted) break;
      // One commit per run: after a failed table nothing will be committed, so stop.
      if (results.some((r) => !r.ok)) break;
      const label = tableFileName(conn.identifier, plan.name, format);
      // Tables of incremental entities start over in a resumed run (their change state is not checkpointed).
      const kept = commit && resume?.finished(plan.name, !plan.entity.incremental);
      if (kept) {
        results.push({ ...(await resume!.adopt(plan.name, label, commit!, kept)), table: plan.name, ok: true } as TableResult);
        continue;
      }
      const result = await exportTable(plan, label, { paging, pageSize, schemas, cached });
      results.push(result);
      if (result.error) {
        const failure = `table failed${opts.stdout ? '' : '; nothing committed, the previous files are left as they were'}: ${result.error.format()}`;
        logger.emit('error', 'export.table_failed', { code: result.error.code, ...summaryFields(label, result) }, (f) => ({ msg: failure, append: f }));
      } else if (opts.stdout) {
        logger.emit('info', 'export.table', summaryFields(label, result), (f) => ({ msg: 'exported', append: f }));
      }
    }
    const failed = results.filter((r) => !r.ok).length + (tables.length - results.length);
    const stopped = signal.aborted;
    if (stopped || failed > 0) {
      const keep = resume?.keeps(results.find((r) => r.error)?.error, signal) ?? false;
      await commit?.abort({ keep });
      await resume?.stopped(keep);
      await inc?.abort();
    } else if (commit) {
      await inc?.stage();
      await commit.commit();
      await resume?.committed();
      // The cookie right after the CSVs (SPEC §5): a crash between the two renames re-exports the changes (at-least-once).
      await inc?.commit();
      for (const r of results) {
        r.file = join(outDir, tableFileName(conn.identifier, r.table, format));
        logger.emit('info', 'export.table', { ...summaryFields(tableFileName(conn.identifier, r.table, format), r), file: r.file }, (f) => ({ msg: 'exported', append: f }));
      }
    }
    // An interrupt that comes during the commit is too late to undo it: the run succeeded.
    if (stopped && deadline.expired()) {
      throw new ScimEtlError(
        'ERR_EXPORT_DEADLINE',
        `export stopped by export.deadline (${deadline.ms} ms) after ${results.filter((r) => r.ok).length} of ${tables.length} table(s): nothing committed, the previous files are left as they were`,
        { deadlineMs: deadline.ms },
      );
    }
    if (stopped) {
      const done = results.filter((r) => r.ok).length;
      throw new ScimEtlError('ERR_EXPORT_ABORTED', `export interrupted after ${done} of ${tables.length} table(s): nothing committed, the previous files are left as they were`, {});
    }
    if (results.length < tables.length) {
      const skipped = tables.slice(results.length).map((t) => t.name);
      logger.emit('error', 'export.tables_skipped', { tables: skipped, count: skipped.length }, `${skipped.length} table(s) not attempted after the error above: ${skipped.join(', ')}`);
    }
    return { tables: results, failed };
  }

  async function exportTable(
    plan: TablePlan,
    label: string,
    run: { paging?: PagingMethod; pageSize: number; schemas: SchemaSource; cached: CachedDecisions },
  ): Promise<TableResult> {
    const started = now();
    const retriesBefore = opts.client.stats.retries;
    const throttledBefore = { n: opts.client.stats.throttled, ms: opts.client.stats.throttledMs };
    const progress = createProgress({ stream: opts.progress?.stream ?? process.stderr, enabled: Boolean(opts.progress?.enabled), format: opts.progress?.format, label, now });
    let counts = (): { rows: number; expected?: number; received?: number; pages: number; duplicates: number; retries: number } => ({ rows: 0, pages: 0, duplicates: 0, retries: 0 });
    const checks = { countMismatch: plan.entity.countMismatch ?? exp!.countMismatch, maxPages: exp!.maxPages };
    let projection: ProjectionMode | undefined;
    const dropped: LocalFilterStats = { dropped: 0 };
    const deletes = { deleted: 0 };
    let error: ScimEtlError | undefined;
    const from = plan.kind === 'resources' ? resume?.partial(plan.name, !plan.entity.incremental) : undefined;
    const writer = commit?.open(label, from ? { resume: { tempPath: join(outDir, from.temp), bytes: from.bytes } } : undefined);
    let checkpoint: TableCheckpoint | undefined;
    let commands: CommandCounts | undefined;
    let mode: TableMode | undefined;
    let columns = plan.columns;
    try {
      if (inc && plan.kind === 'resources' && plan.entity.incremental) mode = await inc.plan(plan.entity, opts.client, signal);
      if (mode?.since !== undefined) columns = [COMMAND_COLUMN, ...plan.columns];
      let scratch: MembershipScratch | undefined;
      if (mode?.since !== undefined && tables.some((t) => t.kind === 'links' && t.attribute === 'members' && t.entity === plan.entity)) {
        scratch = { changed: new IdSorter(tmpdir()), gone: new IdSorter(tmpdir()), owners: new IdSorter(tmpdir()) };
        memberships.set(plan.entity.name, { mode, scratch });
      }
      const membership = plan.kind === 'links' && plan.attribute === 'members' ? memberships.get(plan.entity.name) : undefined;
      if (membership) {
        columns = [COMMAND_COLUMN, ...plan.columns];
        mode = membership.mode;
      }
      const { filter, filterAst } = await serverFilter(plan.entity, mode?.filter, run.schemas);
      const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [];
      let byPageTable = false;
      let byBatch = false;
      // NDJSON is typed by the schema (server's, else built-in); link tables are all strings.
      const types = format === 'ndjson' && plan.kind === 'resources' ? columnTypes(await run.schemas.get(), plan.entity.name, plan.entity.columns) : undefined;
      if (plan.kind === 'resources') {
        const start = projectionStart(run.cached, plan.entity.columns);
        if (start) logger.debug(`${plan.name}: projection starts at ${start.mode} (cached verdict from ${run.cached.cacheFile}: ${start.why})`);
        const shape = await probeProjection(opts.client, {
          ...(start ? { startMode: start.mode } : {}),
          endpoint: plan.entity.name,
          columns: mode?.tracker ? [...plan.entity.columns, ...META_COLUMNS] : plan.entity.columns,
          filter,
          filterAst,
          filterFallback: exp!.filterFallback,
          schemas: run.schemas.loaded() ?? BUILTIN_SCHEMAS,
          count: Math.min(run.pageSize, 10),
          ...(run.paging === 'cursor' ? { firstPage: { cursor: '' } } : {}),
          signal,
          logger,
        });
        if (shape.mode !== 'attributes') projection = shape.mode;
        if (resume && writer && !plan.entity.incremental) {
          const asked = { attributes: shape.attributes, excludedAttributes: shape.excludedAttributes, filter: shape.filter, localFilter: shape.localFilter ? formatFilter(shape.localFilter) : undefined, paging: run.paging, pageSize: run.pageSize };
          const local = shape.localFilter;
          checkpoint = resume.track(plan.name, writer, {
            format,
            headerBytes: await headerBytes(columns, format, exp!.escapeFormulas),
            shape: fingerprint(asked),
            ...(local ? { countRows: (passed) => passed.filter((r) => matchesFilter(r as never, local)).length } : {}),
          }, from);
        }
        const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
        // Plain tables go page by page (one string per page); filters here and incremental tables per row.
        const byPage = !shape.localFilter && !mode;
        byPageTable = byPage;
        stages.push(
          (byPage ? scimPageSource : scimListSource)(opts.client, {
            endpoint: plan.entity.name,
            attributes: shape.attributes,
            excludedAttributes: shape.excludedAttributes,
            filter: shape.filter,
            pageSize: run.pageSize,
            concurrency: conn.concurrency,
            paging: run.paging,
            signal,
            logger,
            stats,
            onPage: (s) => progress.update(s.resources - dropped.dropped, s.total),
            ...checks,
            ...(checkpoint ? { checkpoint: checkpoint.hooks() } : {}),
          }),
        );
        if (byPage) stages.push(pageTable({ columns: plan.entity.columns, format, escapeFormulas: exp!.escapeFormulas, ...(types ? { types } : {}), nulls: Boolean(exp!.nulls) }));
        if (shape.localFilter) stages.push(localFilter(shape.localFilter, dropped));
        if (!byPage) stages.push(mode?.tracker ? trackChanges(plan.entity.columns, mode.tracker, mode.since, mode.since === undefined ? mode.ids?.sorter : scratch?.changed) : flatten(plan.entity.columns));
        if (mode?.ids) {
          const idColumn = plan.entity.columns.find((c) => c.text.toLowerCase() === 'id')?.text ?? 'id';
          const incremental = mode.since !== undefined;
          const base = incremental ? await serverFilter(plan.entity, undefined, run.schemas) : {};
          // The server refused the narrowed filter: it will refuse the entity's own too; list all, filter here.
          const local = shape.localFilter ? base.filterAst : undefined;
          const idStats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
          const listIds = async function* (): AsyncGenerator<string> {
            const source = scimListSource(opts.client, {
              endpoint: plan.entity.name,
              ...(local ? { attributes: shape.attributes, excludedAttributes: shape.excludedAttributes } : { attributes: ['id'] }),
              filter: local ? undefined : base.filter,
              pageSize: run.pageSize,
              concurrency: conn.concurrency,
              paging: run.paging,
              signal,
              logger,
              stats: idStats,
              ...checks,
            });
            for await (const r of source as AsyncIterable<{ id?: unknown }>) {
              if (local && !matchesFilter(r as never, local)) continue;
              if (typeof r.id === 'string') yield r.id;
            }
          };
          stages.push(appendDeletes({ ids: mode.ids, idColumn, stats: deletes, ...(incremental ? { listIds } : {}), ...(scratch ? { gone: scratch.gone } : {}) }) as never);
        }
        // A resumed table's rows include the interrupted run's (its local filter drops are not in `dropped`).
        counts = () => ({ rows: checkpoint ? checkpoint.rowCount : stats.resources - dropped.dropped + deletes.deleted, expected: stats.expected, received: stats.resources, pages: stats.pages, duplicates: stats.duplicates, retries: stats.retries ?? 0 });
      } else {
        const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
        // A plain links table goes a batch of links at a time (one string per batch); membership changes per link.
        byBatch = !membership && columns[0] !== COMMAND_COLUMN;
        stages.push(
          (byBatch ? membersBatchSource : membersSource)(opts.client, {
            endpoint: plan.entity.name,
            attribute: plan.attribute,
            filter,
            pageSize: run.pageSize,
            retryDelayMs: conn.retry.backoffMs,
            signal,
            logger,
            stats,
            onPage: (s) => progress.update(s.rows),
            ...checks,
          }),
        );
        if (membership) stages.push(membershipChanges(membership.scratch) as never);
        // A links table is checked by owners: expected and received count groups, not links.
        counts = () => ({ rows: stats.rows, expected: stats.expected, received: stats.listed, pages: stats.pages, duplicates: stats.duplicates, retries: stats.retries });
      }
      if (columns[0] === COMMAND_COLUMN) {
        commands = plan.kind === 'links' ? { replace: 0, delete: 0 } : { insert: 0, update: 0, delete: 0 };
        stages.push(countCommands(commands));
      }
      if (byBatch) stages.push(batchFormatter({ columns, format, escapeFormulas: exp!.escapeFormulas, nulls: Boolean(exp!.nulls) }));
      else if (!byPageTable) stages.push(...tableFormatter({ columns, format, escapeFormulas: exp!.escapeFormulas, ...(types ? { types } : {}), nulls: Boolean(exp!.nulls) }));
      if (checkpoint) stages.push(checkpoint.meter);
      if (opts.stdout) {
        // end: false — stdout belongs to the process, not to this table.
        await pipeline([...stages, opts.stdout], { signal, end: false });
      } else {
        await pipeline([...stages, writer!], { signal });
      }
    } catch (err) {
      if (opts.stdout && (err as NodeJS.ErrnoException).code === 'EPIPE') {
        // The reader closed the pipe (`… | head`): it wants no more rows; not a failure.
        logger.debug(`${plan.name}: stdout closed by the reader; stopped`);
      } else {
        error = asExportError(err, plan, signal, deadline);
      }
      await resume?.tableFailed(plan.name);
      // pipeline() settles before the writer's async clean-up; wait for the temp file to go (or stay, for --resume).
      if (writer) await (checkpoint && resume!.keeps(error, signal) ? writer.keep() : writer.discard());
    }
    progress.finish();
    const c = counts();
    const result: TableResult = {
      table: plan.name,
      ok: !error,
      rows: c.rows,
      pages: c.pages,
      retries: opts.client.stats.retries - retriesBefore + c.retries,
      duplicates: c.duplicates,
      seconds: Math.round((now() - started) / 10) / 100,
    };
    if (c.expected !== undefined) Object.assign(result, { expected: c.expected, received: c.received });
    const st = opts.client.stats;
    if (st.throttled !== undefined && throttledBefore.n !== undefined) Object.assign(result, { throttled: st.throttled - throttledBefore.n, throttledMs: (st.throttledMs ?? 0) - (throttledBefore.ms ?? 0) });
    if (st.mostInFlight !== undefined) Object.assign(result, { lowestLimit: st.lowestLimit, mostInFlight: st.mostInFlight });
    if (dropped.dropped > 0) result.filteredLocally = dropped.dropped;
    if (projection) result.projection = projection;
    if (mode?.tracker) result.incremental = mode.since !== undefined ? 'changes' : 'complete';
    if (deletes.deleted > 0) result.deleted = deletes.deleted;
    if (commands) {
      result.commands = commands;
      // What was written: a members table's replace rows for emptied groups and delete rows are not member links.
      if (!error) result.rows = Object.values(commands).reduce((a, b) => a + (b ?? 0), 0);
    }
    if (error) result.error = error;
    // Recorded as done: a later --resume keeps it (tables of incremental entities start over).
    else if (writer && resume && !plan.entity.incremental) await resume.tableDone(plan.name, writer, result.rows, { ...result });
    return result;
  }
}

function summaryFields(label: string, r: TableResult): Record<string, unknown> {
  return {
    table: label,
    rows: r.rows,
    ...(r.expected !== undefined ? { expected: r.expected, received: r.received } : {}),
    pages: r.pages,
    retries: r.retries,
    ...(r.throttled !== undefined ? { throttled: r.throttled, throttledMs: r.throttledMs } : {}),
    ...(r.mostInFlight !== undefined ? { lowestLimit: r.lowestLimit, mostInFlight: r.mostInFlight } : {}),
    duplicates: r.duplicates,
    seconds: r.seconds,
    ...(r.filteredLocally !== undefined ? { filteredLocally: r.filteredLocally } : {}),
    ...(r.projection ? { projection: r.projection } : {}),
    ...(r.commands ?? {}),
  };
}

interface Deadline {
  signal: AbortSignal;
  ms?: number;
  expired(): boolean;
  clear(): void;
}

/** The run's signal, aborted also `ms` after the start when a deadline is set. */
function runDeadline(outer: AbortSignal | undefined, ms: number | undefined): Deadline {
  const base = outer ?? new AbortController().signal;
  if (!ms) return { signal: base, expired: () => false, clear: () => undefined };
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new ScimEtlError('ERR_EXPORT_DEADLINE', `export.deadline of ${ms} ms reached`, { deadlineMs: ms })), ms);
  return { signal: AbortSignal.any([base, timer.signal]), ms, expired: () => timer.signal.aborted, clear: () => clearTimeout(handle) };
}

interface SchemaSource {
  /** Server schemas (else built-in), read once, only when asked. */
  get(): Promise<readonly SchemaDefinition[]>;
  loaded(): readonly SchemaDefinition[] | undefined;
}

function schemaSource(client: ExportClient, signal: AbortSignal): SchemaSource {
  let promise: Promise<readonly SchemaDefinition[]> | undefined;
  let value: readonly SchemaDefinition[] | undefined;
  return {
    get() {
      promise ??= readServerSchemas(client, signal).then((r) => (value = r.schemas));
      return promise;
    },
    loaded: () => value,
  };
}

/**
 * The filter sent for an entity: the incremental hook's text or the validated
 * filter, printed canonically (every and/or parenthesised), with quoted
 * "true"/"false" compared with a boolean attribute turned into booleans
 * (strict servers match nothing otherwise). The AST is what a local filter
 * evaluates when the server refuses the text.
 */
async function serverFilter(
  entity: EntityExport,
  hookText: string | undefined,
  schemas: SchemaSource,
): Promise<{ filter?: string; filterAst?: FilterNode }> {
  let ast = entity.filterAst;
  if (hookText !== undefined) {
    try {
      ast = parseFilter(hookText);
    } catch {
      return { filter: hookText }; // not ours to rewrite: sent as the hook wrote it
    }
  }
  if (!ast) return entity.filter ? { filter: entity.filter } : {};
  if (hasQuotedBoolean(ast)) {
    const defs = await schemas.get();
    ast = coerceBooleans(ast, (path, parent) => {
      const def = attributeAt(defs, entity.name, path, parent) ?? attributeAt(BUILTIN_SCHEMAS, entity.name, path, parent);
      return def?.type === 'boolean';
    });
  }
  return { filter: formatFilter(ast), filterAst: ast };
}

function asExportError(err: unknown, plan: TablePlan, signal: AbortSignal, deadline: Deadline): ScimEtlError {
  if (deadline.expired()) return new ScimEtlError('ERR_EXPORT_DEADLINE', `${plan.name}: stopped by export.deadline (${deadline.ms} ms)`, { table: plan.name }, { cause: err });
  if (isScimEtlError(err)) return err;
  if (signal.aborted) return new ScimEtlError('ERR_EXPORT_ABORTED', `${plan.name}: interrupted`, { table: plan.name }, { cause: err });
  const e = err as NodeJS.ErrnoException;
  return new ScimEtlError('ERR_EXPORT_READ', `${plan.name}: ${e.code ? e.code + ' ' : ''}${e.message ?? String(err)}`, { table: plan.name }, { cause: err, category: 'transport' });
}
