/**
 * `scim-etl export --resume`: the checkpoints of a run, and going on from
 * the checkpoint of an interrupted one.
 *
 * Every run of an export to files keeps a checkpoint (checkpoint.ts). After
 * each page of a resource table whose rows have all reached the temp file,
 * the temp file is fsynced and the checkpoint replaced: the listing's
 * position after that page and the byte count the rows end at. A finished
 * table is recorded as done. The checkpoint goes with the commit, or with a
 * failure nothing can be gone on from.
 *
 * A run that loses the network (an ERR_TRANSPORT_* error once the retries
 * are spent) keeps its temp files and checkpoint; so does one killed
 * outright (kill -9, power loss). Other failures and SIGINT/SIGTERM clean up
 * as before. `--resume` then keeps the done tables (not read again), cuts the
 * partial table's temp file back to the checkpointed bytes and lists on after
 * the checkpointed page; the files come out byte-identical to an
 * uninterrupted run's. Tables of `incremental: true` entities (their
 * watermark, id sets and membership scratch live in memory) and membership
 * tables not finished start over from their first page. Without --resume,
 * a run removes an interrupted run's checkpoint and temp files first.
 */
import { open, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ScimEtlError, isScimEtlError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AtomicFileWriter } from '../streams/sinks/atomic-file.js';
import type { RunCommit } from '../streams/sinks/run-commit.js';
import type { ListCheckpointHooks, ListPosition } from '../streams/sources/list-position.js';
import type { ScimResource } from '../types.js';
import { CHECKPOINT_VERSION, idsName, readCheckpoint, readIds, removeCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointTable } from './checkpoint.js';
import { RecordMeter } from './record-meter.js';

export interface ResumeOpenOptions {
  dir: string;
  identifier: string;
  /** Fingerprint of the settings that decide the files (resume-key.ts). */
  hash: string;
  /** --resume: go on from the checkpoint in `dir`, if there is one. */
  resume: boolean;
  logger: Logger;
}

export interface TrackOptions {
  format: 'csv' | 'ndjson';
  /** Byte length of the header the formatter writes first (0 for NDJSON). */
  headerBytes: number;
  /** Fingerprint of how the table is asked for. */
  shape: string;
  /** Rows the resources of a page make (a local filter drops some). */
  countRows?: (passed: readonly ScimResource[]) => number;
}

export class RunResume {
  private readonly state: Checkpoint;
  private readonly tracked = new Map<string, TableCheckpoint>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private warned = false;

  private constructor(
    readonly dir: string,
    private readonly identifier: string,
    hash: string,
    /** The interrupted run's checkpoint (--resume). */
    private readonly loaded: Checkpoint | undefined,
    private readonly logger: Logger,
  ) {
    this.state = { version: CHECKPOINT_VERSION, hash, tables: {} };
  }

  static async open(o: ResumeOpenOptions): Promise<RunResume> {
    let loaded: Checkpoint | undefined;
    if (o.resume) {
      loaded = await readCheckpoint(o.dir, o.identifier);
      if (!loaded) {
        o.logger.info(`--resume: no checkpoint of an interrupted run in ${o.dir}; exporting from the beginning`);
      } else if (loaded.hash !== o.hash) {
        throw new ScimEtlError(
          'ERR_RESUME_MISMATCH',
          `--resume: the checkpoint in ${o.dir} belongs to an export with other settings (server, tables, columns, filters, page size, format or output); run without --resume to start over`,
          { dir: o.dir },
          { category: 'config' },
        );
      } else if (!(await allExist(o.dir, loaded))) {
        // Committed just before a crash, or cleaned up by hand: nothing to go on with.
        o.logger.warn(`--resume: the temp files the checkpoint in ${o.dir} names are gone; exporting from the beginning`);
        await removeCheckpoint(o.dir, o.identifier);
        loaded = undefined;
      } else {
        const parts = Object.entries(loaded.tables).map(([name, t]) => (t.done ? `${name} done` : `${name} after ${t.rows} row(s)`));
        o.logger.info(`--resume: going on from the checkpoint of an interrupted run (${parts.join(', ') || 'no table started'})`);
      }
    } else {
      const removed = await removeCheckpoint(o.dir, o.identifier);
      if (removed.length > 0) o.logger.info(`removed the checkpoint of an interrupted earlier run in ${o.dir} (export --resume would have gone on from it)`, { files: removed });
    }
    return new RunResume(o.dir, o.identifier, o.hash, loaded, o.logger);
  }

  /** Temp file names the stale sweep must leave: the interrupted run's, which this run goes on with. */
  keep(): Set<string> {
    return new Set(Object.values(this.loaded?.tables ?? {}).map((t) => t.temp));
  }

  /** The interrupted run's finished table `name`, when it can be kept. */
  finished(name: string, resumable: boolean): CheckpointTable | undefined {
    const t = this.loaded?.tables[name];
    return resumable && t?.done ? t : undefined;
  }

  /** The interrupted run's partial table `name`, when it can be gone on with. */
  partial(name: string, resumable: boolean): CheckpointTable | undefined {
    const t = this.loaded?.tables[name];
    return resumable && t && !t.done && t.list ? t : undefined;
  }

  /** A finished table of the interrupted run, into this run's commit as it is; returns its summary. */
  async adopt(name: string, label: string, commit: RunCommit, t: CheckpointTable): Promise<Record<string, unknown>> {
    const writer = commit.open(label, { resume: { tempPath: join(this.dir, t.temp), bytes: t.bytes } });
    await new Promise<void>((res, rej) => {
      writer.once('error', rej);
      writer.end(() => res());
    });
    this.state.tables[name] = { ...t, temp: writer.tempPath.slice(this.dir.length + 1) };
    await this.save();
    this.logger.info(`${label}: kept as the interrupted run wrote it (${t.rows} row(s)); not read again`);
    return t.result ?? {};
  }

  /** Checkpoints a resource table page by page; `from` goes on from the interrupted run's state. */
  track(name: string, writer: AtomicFileWriter, o: TrackOptions, from?: CheckpointTable): TableCheckpoint {
    if (from && from.shape !== o.shape) {
      throw new ScimEtlError(
        'ERR_RESUME_MISMATCH',
        `--resume: ${name} would be asked for differently than in the interrupted run (the server answers the projection probe or the paging settings differently now); run without --resume to start over`,
        { table: name },
        { category: 'config' },
      );
    }
    // Whether a failure keeps the temp file is decided after pipeline() has destroyed the writer.
    writer.holdTemp();
    // Until its first checkpoint in this run, the interrupted run's one stands.
    if (from) this.state.tables[name] = from;
    const tc = new TableCheckpoint(this, name, writer, o, from);
    this.tracked.set(name, tc);
    return tc;
  }

  /** A table read to its end: recorded as done (a later --resume keeps it). */
  async tableDone(name: string, writer: AtomicFileWriter, rows: number, result: Record<string, unknown>): Promise<void> {
    const tc = this.tracked.get(name);
    await tc?.stop();
    const entry: CheckpointTable = { temp: writer.tempPath.slice(this.dir.length + 1), bytes: writer.bytesWritten, records: tc?.meter.records ?? 0, rows, done: true, ...(tc ? { shape: tc.shape } : {}), result };
    await this.enqueue(async () => {
      this.state.tables[name] = entry;
      await this.writeNow();
    });
    if (tc) await unlink(join(this.dir, idsName(this.identifier, name))).catch(() => undefined);
  }

  /** A table that failed: no more checkpoints from it. */
  async tableFailed(name: string): Promise<void> {
    await this.tracked.get(name)?.stop();
  }

  /** Whether a run stopped by `err` keeps its temp files and checkpoint for --resume. */
  keeps(err: unknown, signal: AbortSignal): boolean {
    if (signal.aborted || Object.keys(this.state.tables).length === 0) return false;
    // The network went (reset, timeout, refused): a later run may well get through. A server's
    // 5xx or a bad listing is reported and cleaned up as before: resuming would meet it again.
    return isScimEtlError(err) && err.category === 'transport' && err.code !== 'ERR_TRANSPORT_TLS';
  }

  /** After the commit: the checkpoint has served. */
  async committed(): Promise<void> {
    await this.close();
    await removeCheckpoint(this.dir, this.identifier);
  }

  /** A failed run: `keep` leaves the checkpoint for --resume, else it goes. */
  async stopped(keep: boolean): Promise<void> {
    await this.close();
    if (keep) this.logger.info(`the checkpoint and temp files are kept in ${this.dir}: \`scim-etl export --resume\` goes on from where this run stopped`);
    else await removeCheckpoint(this.dir, this.identifier);
  }

  /** Writes the checkpoint (serialized with every other write). */
  save(): Promise<void> {
    return this.enqueue(() => this.writeNow());
  }

  /** Writes the checkpoint now: only from inside a queued task. */
  writeNow(): Promise<void> {
    return writeCheckpoint(this.dir, this.identifier, this.state);
  }

  /** Runs checkpoint work one at a time; a failure stops checkpointing (the last checkpoint stays valid), not the export. */
  enqueue(task: () => Promise<void>): Promise<void> {
    if (this.closed) return this.chain;
    this.chain = this.chain.then(
      () => (this.closed ? undefined : task()),
    ).catch((err: Error) => {
      this.closed = true;
      if (!this.warned) this.logger.warn(`cannot write the checkpoint in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? err.message}); this run goes on, but --resume would go on from an earlier point`);
      this.warned = true;
    });
    return this.chain;
  }

  setTable(name: string, t: CheckpointTable): void {
    this.state.tables[name] = t;
  }

  idsPath(name: string): string {
    return join(this.dir, idsName(this.identifier, name));
  }

  private async close(): Promise<void> {
    await Promise.all([...this.tracked.values()].map((t) => t.stop()));
    await this.chain;
    this.closed = true;
  }
}

async function allExist(dir: string, cp: Checkpoint): Promise<boolean> {
  const sizes = await Promise.all(Object.values(cp.tables).map((t) => stat(join(dir, t.temp)).then((st) => st.size >= t.bytes, () => false)));
  return sizes.every(Boolean);
}

interface Reached {
  bytes: number;
  records: number;
  rows: number;
  list: ListPosition;
}

/** The checkpoints of one resource table. */
export class TableCheckpoint {
  /** Between the formatter and the temp file. */
  readonly meter: RecordMeter;
  readonly shape: string;
  private rows: number;
  private readonly headerRecords: number;
  /** The id-file text of the pages whose rows have reached the file since the last checkpoint. */
  private unsavedIds = '';
  private latest?: Reached;
  private scheduled = false;
  private stopping = false;
  private ids?: FileHandle;
  private idsBytes: number;

  constructor(
    private readonly run: RunResume,
    private readonly name: string,
    private readonly writer: AtomicFileWriter,
    private readonly o: TrackOptions,
    private readonly from?: CheckpointTable,
  ) {
    this.shape = o.shape;
    this.headerRecords = o.format === 'csv' ? 1 : 0;
    this.rows = from?.rows ?? 0;
    this.idsBytes = from?.ids?.bytes ?? 0;
    this.meter = new RecordMeter({ format: o.format, startBytes: from?.bytes, startRecords: from?.records, skip: from ? o.headerBytes : 0 });
  }

  /** Rows of the table so far, the interrupted run's included. */
  get rowCount(): number {
    return this.rows;
  }

  hooks(): ListCheckpointHooks {
    const from = this.from;
    const ids = this.run.idsPath(this.name);
    return {
      ...(from ? { from: { position: from.list!, seen: () => readIds(ids, from.ids?.bytes ?? 0) } } : {}),
      onPage: (position, passed) => this.onPage(position, passed),
    };
  }

  private onPage(list: ListPosition, passed: readonly ScimResource[]): void {
    if (this.stopping) return;
    this.rows += this.o.countRows ? this.o.countRows(passed) : passed.length;
    const rows = this.rows;
    const records = this.headerRecords + rows;
    const pageIds = idLines(passed);
    this.meter.when(records, (bytes) => {
      this.unsavedIds += pageIds;
      this.latest = { bytes, records, rows, list };
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.stopping) return;
    this.scheduled = true;
    void this.run.enqueue(async () => {
      this.scheduled = false;
      const at = this.latest;
      const ids = this.unsavedIds;
      this.latest = undefined;
      this.unsavedIds = '';
      if (!at || this.stopping) return;
      // A table stopped meanwhile (failed, or done: its done entry follows) wants no more checkpoints.
      if (!(await written(this.writer, at.bytes)) || this.stopping) return;
      await this.appendIds(ids);
      await this.writer.sync();
      this.run.setTable(this.name, {
        temp: this.writer.tempPath.slice(this.run.dir.length + 1),
        bytes: at.bytes,
        records: at.records,
        rows: at.rows,
        done: false,
        shape: this.shape,
        list: at.list,
        ids: { file: basename(this.run.idsPath(this.name)), bytes: this.idsBytes },
      });
      // Inside a queued task already: write directly.
      await this.run.writeNow();
    });
  }

  private async appendIds(text: string): Promise<void> {
    if (!this.ids) {
      const path = this.run.idsPath(this.name);
      if (this.from) await truncate(path, this.idsBytes).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' || this.idsBytes > 0) throw err;
      });
      this.ids = await open(path, 'a');
    }
    if (text === '') return;
    await this.ids.write(text);
    this.idsBytes += Buffer.byteLength(text);
    await this.ids.sync();
  }

  /** No more checkpoints from this table; waits for the one being written. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.run.enqueue(async () => undefined);
    const h = this.ids;
    this.ids = undefined;
    await h?.close().catch(() => undefined);
  }
}

/** Characters JSON.stringify would escape in a string (lone surrogates among the surrogates): those ids take the slow path. */
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The id-file lines of a page's resources with a string id: JSON.stringify(id) each, one a line. */
export function idLines(resources: readonly ScimResource[]): string {
  let text = '';
  for (let i = 0; i < resources.length; i++) {
    const id = resources[i]!.id;
    if (typeof id !== 'string') continue;
    text += JSON_ESCAPED.test(id) ? `${JSON.stringify(id)}\n` : `"${id}"\n`;
  }
  return text;
}

/** Resolves true once `writer` has written `bytes`, false when it closes first. */
function written(writer: AtomicFileWriter, bytes: number): Promise<boolean> {
  if (writer.bytesWritten >= bytes) return Promise.resolve(true);
  if (writer.closed || writer.destroyed) return Promise.resolve(false);
  return new Promise((res) => {
    const check = (n: number) => {
      if (n < bytes) return;
      done(true);
    };
    const onClose = () => done(writer.bytesWritten >= bytes);
    const done = (v: boolean) => {
      writer.off('written', check);
      writer.off('close', onClose);
      res(v);
    };
    writer.on('written', check);
    writer.on('close', onClose);
  });
}
