/**
 * The export part of a pipeline: for each table, a paged SCIM source, flatten,
 * and a CSV (or NDJSON) sink, composed with stream/promises pipeline() and the
 * run's AbortSignal.
 *
 * Tables: `<identifier>_<Entity>.csv` for each entity, plus
 * `<identifier>_members_<Entity>.csv` (entity `members: true`) and
 * `<identifier>_privilegedData_<Entity>.csv` (entity `privilegedData: true`).
 * Tables run one after the other; each one is renamed into place as soon as it
 * is complete. A table that fails leaves its previous file untouched, the
 * other tables still run, and the run reports failure (exit 1).
 */
import { ensureDir } from './ensure-dir.js';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ScimEtlError, isScimEtlError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { createProgress } from './progress.js';
import type { EntityExport, Pipeline } from './config/types.js';
import type { ScimClient } from './scim/client.js';
import { formatFilter } from './scim/filter.js';
import { toScimAttribute } from './scim/path.js';
import { scimListSource, type ListStats, type PagingMethod } from './streams/sources/scim-list-source.js';
import { membersSource, type MemberStats } from './streams/sources/members-source.js';
import { flatten } from './streams/transforms/flatten.js';
import { choosePaging } from './streams/sources/choose-paging.js';
import { tableFormatter, type TableFormat } from './streams/sinks/csv-table-sink.js';
import { atomicFile } from './streams/sinks/atomic-file.js';

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

/**
 * Hook for the incremental export (a later issue): it may narrow an entity's
 * filter and is told when the tables are committed, so that it can write its
 * cookie only then. Without one, every entity runs in complete mode.
 */
export interface IncrementalHook {
  filterFor(entity: EntityExport, full: boolean): string | undefined;
  committed(results: TableResult[]): Promise<void>;
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
  /** `--full`: ignore the incremental cookie. */
  full?: boolean;
  incremental?: IncrementalHook;
  signal?: AbortSignal;
  logger?: Logger;
  /** Progress on this stream when enabled. */
  progress?: { stream: NodeJS.WritableStream & { isTTY?: boolean }; enabled: boolean };
  /** Paging strategy for resource tables. Default: read from the server's ServiceProviderConfig (cursor when advertised, else index). */
  paging?: PagingMethod;
  now?: () => number;
}

export interface TableResult {
  table: string;
  /** The committed file; absent with --stdout or on failure. */
  file?: string;
  ok: boolean;
  rows: number;
  pages: number;
  retries: number;
  duplicates: number;
  seconds: number;
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
  const exp = pipe.export;
  if (!exp) throw new ScimEtlError('ERR_CONFIG_NO_EXPORT', `${pipe.file}: the pipeline has no export section`, { file: pipe.file }, { category: 'config' });
  const logger = opts.logger ?? silentLogger;
  const signal = opts.signal ?? new AbortController().signal;
  const now = opts.now ?? Date.now;
  const format = opts.format ?? exp.format ?? 'csv';
  const tables = selectTables(planTables(pipe), opts.entities, Boolean(opts.stdout));
  const outDir = resolve(opts.output ?? exp.output);
  if (!opts.stdout) {
    try {
      await ensureDir(outDir, signal);
    } catch (err) {
      throw new ScimEtlError('ERR_EXPORT_OUTPUT', `cannot create the output directory ${outDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { path: outDir }, { cause: err });
    }
  }

  const conn = pipe.connection;
  if (!opts.incremental) {
    for (const e of new Set(tables.filter((t) => t.kind === 'resources' && t.entity.incremental).map((t) => t.entity.name))) {
      logger.warn(`${e}: incremental export is not available in this version; running a complete export`);
    }
  }
  let paging = opts.paging;
  let pageSize = conn.pageSize;
  if (paging === undefined && tables.length > 0) {
    const choice = await choosePaging(opts.client, conn.pageSize, { signal, logger });
    paging = choice.paging;
    pageSize = choice.pageSize;
  }
  const results: TableResult[] = [];
  for (const plan of tables) {
    if (signal.aborted) break;
    // Refused credentials or a bad setting would fail every other table the same way.
    const fatal = results.find((r) => r.error && (r.error.category === 'auth' || r.error.category === 'config'));
    if (fatal) break;
    const file = opts.stdout ? undefined : join(outDir, tableFileName(conn.identifier, plan.name, format));
    const label = tableFileName(conn.identifier, plan.name, format);
    const started = now();
    const retriesBefore = opts.client.stats.retries;
    const progress = createProgress({ stream: opts.progress?.stream ?? process.stderr, enabled: Boolean(opts.progress?.enabled), label, now });
    const filter = opts.incremental?.filterFor(plan.entity, Boolean(opts.full)) ?? entityFilter(plan.entity);

    let source: Readable;
    let counts: () => { rows: number; pages: number; duplicates: number; retries: number };
    if (plan.kind === 'resources') {
      const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
      source = scimListSource(opts.client, {
        endpoint: plan.entity.name,
        attributes: plan.entity.columns.map(toScimAttribute),
        filter,
        pageSize,
        concurrency: conn.concurrency,
        paging,
        signal,
        logger,
        stats,
        onPage: (s) => progress.update(s.resources, s.total),
      });
      counts = () => ({ rows: stats.resources, pages: stats.pages, duplicates: stats.duplicates, retries: stats.retries ?? 0 });
    } else {
      const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
      source = membersSource(opts.client, {
        endpoint: plan.entity.name,
        attribute: plan.attribute,
        filter,
        pageSize,
        retryDelayMs: conn.retry.backoffMs,
        signal,
        logger,
        stats,
        onPage: (s) => progress.update(s.rows),
      });
      counts = () => ({ rows: stats.rows, pages: stats.pages, duplicates: stats.duplicates, retries: stats.retries });
    }

    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [source];
    if (plan.kind === 'resources') stages.push(flatten(plan.entity.columns));
    stages.push(...tableFormatter({ columns: plan.columns, format, escapeFormulas: exp.escapeFormulas }));
    let error: ScimEtlError | undefined;
    const writer = file ? atomicFile(file) : undefined;
    try {
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
        error = asExportError(err, plan, signal);
      }
      // pipeline() settles before the writer's async clean-up; wait for the temp file to go.
      if (writer && !writer.closed) await new Promise((r) => writer.once('close', r));
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
    if (!error && file) result.file = file;
    if (error) result.error = error;
    results.push(result);
    const fields = { table: label, rows: result.rows, pages: result.pages, retries: result.retries, duplicates: result.duplicates, seconds: result.seconds };
    if (error) {
      logger.error(`table failed${file ? ' (previous file left untouched)' : ''}: ${error.format()}`, { code: error.code, ...fields });
    } else {
      logger.info('exported', { ...fields, ...(file ? { file } : {}) });
    }
  }
  const failed = results.filter((r) => !r.ok).length + (tables.length - results.length);
  if (failed === 0 && opts.incremental && !opts.stdout) await opts.incremental.committed(results);
  if (signal.aborted) {
    const done = results.filter((r) => r.ok).length;
    throw new ScimEtlError('ERR_EXPORT_ABORTED', `export interrupted: ${done} of ${tables.length} table(s) written; the unfinished ones were left as they were`, {});
  }
  if (results.length < tables.length) {
    logger.error(`${tables.length - results.length} table(s) not attempted after the error above: ${tables.slice(results.length).map((t) => t.name).join(', ')}`);
  }
  return { tables: results, failed };
}

/** The filter sent for an entity: the validated AST printed canonically (every and/or parenthesised). */
function entityFilter(entity: EntityExport): string | undefined {
  if (entity.filterAst) return formatFilter(entity.filterAst);
  return entity.filter || undefined;
}

function asExportError(err: unknown, plan: TablePlan, signal: AbortSignal): ScimEtlError {
  if (isScimEtlError(err)) return err;
  if (signal.aborted) return new ScimEtlError('ERR_EXPORT_ABORTED', `${plan.name}: interrupted`, { table: plan.name }, { cause: err });
  const e = err as NodeJS.ErrnoException;
  return new ScimEtlError('ERR_EXPORT_READ', `${plan.name}: ${e.code ? e.code + ' ' : ''}${e.message ?? String(err)}`, { table: plan.name }, { cause: err, category: 'transport' });
}
