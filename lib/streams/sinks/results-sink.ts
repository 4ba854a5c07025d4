/**
 * LineOutcome → `<results>/<order file name>`, one row per order line in
 * order-line order, written to temp files renamed on commit.
 *
 * Outcomes arrive out of order (concurrent requests, a membership PATCH that
 * waits for more rows of its group); a reorder buffer holds those ahead of
 * the next expected line. The writer does not bound it: the executor does, by
 * not taking more orders while `buffered` is at its window
 * (lib/fulfill/executor.ts). After a fatal error, `fillSkipped` writes the
 * lines that never got an outcome as `skipped`, so no line is left without a
 * result.
 *
 * All results files of a run are committed together by the project's one
 * committer (`commitTogether`, run-commit.ts): each file an AtomicFileWriter
 * finished and fsynced, then renamed, then the directory fsynced. A run that does not commit
 * leaves the previous results as they were; temp files of a run killed
 * before it could clean up are removed by the next run (`open`).
 */
import { Writable } from 'node:stream';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../../ensure-dir.js';
import { AtomicFileWriter } from './atomic-file.js';
import { commitTogether } from './run-commit.js';
import { archivePrevious } from './results-history.js';
import { stringify } from 'csv-stringify/sync';
import { ScimEtlError, isScimEtlError } from '../../errors.js';
import { redact } from '../../redact.js';
import type { Logger } from '../../log.js';
import type { LineOutcome, OrderLine } from '../../types.js';

export const RESULT_COLUMNS = ['orderId', 'command', 'id', 'status', 'outcome', 'scimType', 'detail', 'attempts'] as const;

export interface ResultCounts {
  ok: number;
  failed: number;
  skipped: number;
}

interface ResultFile {
  path: string;
  writer?: AtomicFileWriter;
  chunks: string[];
  bytes: number;
}

const FLUSH_BYTES = 64 * 1024;

export class ResultsWriter {
  readonly counts: ResultCounts = { ok: 0, failed: 0, skipped: 0 };
  /** Where commit() moved the previous run's results files (results-history.ts). */
  archived: string[] = [];
  /** Called after every row written (the progress display). */
  onRow?: () => void;
  private readonly files: ResultFile[];
  private readonly buffer = new Map<number, LineOutcome>();
  private next = 0;

  /** The results file of each order file, in order. */
  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  /** `names[i]` is the results file name of order file i (its own name). */
  constructor(readonly dir: string, names: readonly string[]) {
    this.files = names.map((name) => ({ path: join(dir, name), chunks: [], bytes: 0 }));
  }

  async open(): Promise<void> {
    try {
      await ensureDir(this.dir);
      await removeStaleTemps(this.dir);
      for (const f of this.files) {
        f.writer = new AtomicFileWriter(f.path, { deferRename: true });
        // Errors come through the write callbacks (and commit); this keeps them from being unhandled.
        f.writer.on('error', () => {});
        this.append(f, stringify([RESULT_COLUMNS as unknown as string[]]));
        await this.flush(f);
      }
    } catch (err) {
      await this.abort();
      throw outputError(this.dir, err);
    }
  }

  /** Outcomes held ahead of the next line to write. */
  get buffered(): number {
    return this.buffer.size;
  }

  /** The seq of the next line to be written. */
  get nextSeq(): number {
    return this.next;
  }

  async write(o: LineOutcome): Promise<void> {
    if (o.seq < this.next || this.buffer.has(o.seq)) {
      throw new ScimEtlError('ERR_INTERNAL_RESULTS', `two results for order line seq ${o.seq} (orderId ${o.orderId})`);
    }
    this.buffer.set(o.seq, o);
    while (this.buffer.has(this.next)) {
      const cur = this.buffer.get(this.next)!;
      this.buffer.delete(this.next);
      this.next++;
      await this.writeRow(cur);
    }
  }

  /** After a fatal error: every line from the next expected one gets its known outcome, else `skipped`. */
  async fillSkipped(lines: AsyncIterable<OrderLine>, reason: string): Promise<void> {
    for await (const line of lines) {
      if (line.seq < this.next) continue;
      const known = this.buffer.get(line.seq);
      await this.write(
        known ?? {
          seq: line.seq,
          fileIndex: line.fileIndex,
          orderId: line.orderId,
          command: line.command,
          ...(line.id ? { id: line.id } : {}),
          outcome: 'skipped',
          attempts: 0,
          detail: `not sent: ${reason}`,
        },
      );
    }
    // Outcomes of lines the second reading did not reach (a file unreadable by
    // now): requests were sent for them, so they are written all the same.
    const rest = [...this.buffer.values()].sort((a, b) => a.seq - b.seq);
    this.buffer.clear();
    for (const o of rest) {
      this.next = o.seq;
      await this.write(o);
    }
  }

  /** Writes out what is buffered and renames every temp file into place. */
  async commit(): Promise<string[]> {
    if (this.buffer.size > 0) {
      throw new ScimEtlError('ERR_INTERNAL_RESULTS', `${this.buffer.size} result(s) wait for order line seq ${this.next}, which never got one`);
    }
    try {
      for (const f of this.files) {
        await this.flush(f);
        await finish(f.writer!);
      }
      // An earlier run's results are kept under runs/<time>/, never overwritten silently.
      this.archived = await archivePrevious(this.dir, this.files.map((f) => f.writer!));
      await commitTogether(this.dir, this.files.map((f) => f.writer!));
    } catch (err) {
      throw outputError(this.dir, err);
    }
    return this.files.map((f) => f.path);
  }

  async abort(): Promise<void> {
    for (const f of this.files) await f.writer?.discard().catch(() => {});
  }

  private async writeRow(o: LineOutcome): Promise<void> {
    const f = this.files[o.fileIndex];
    if (!f) throw new ScimEtlError('ERR_INTERNAL_RESULTS', `result for unknown order file #${o.fileIndex}`);
    this.counts[o.outcome]++;
    const row = [o.orderId, o.command, o.id ?? '', o.status === undefined ? '' : String(o.status), o.outcome, o.scimType ?? '', redact(o.detail ?? ''), String(o.attempts)];
    this.append(f, stringify([row]));
    this.onRow?.();
    if (f.bytes >= FLUSH_BYTES) await this.flush(f);
  }

  private append(f: ResultFile, text: string): void {
    f.chunks.push(text);
    f.bytes += text.length;
  }

  private async flush(f: ResultFile): Promise<void> {
    if (!f.chunks.length || !f.writer) return;
    const data = f.chunks.join('');
    f.chunks = [];
    f.bytes = 0;
    const w = f.writer;
    await new Promise<void>((res, rej) => w.write(data, (err) => (err ? rej(err) : res())));
  }
}

/** Ends a writer and waits until its temp file is complete and synced. */
function finish(w: AtomicFileWriter): Promise<void> {
  return new Promise((res, rej) => {
    w.once('error', rej);
    w.end(() => {
      w.off('error', rej);
      res();
    });
  });
}


/** Our temp files: `.<name>.<8 hex>.tmp` (results, journal rewrites). */
const TEMP_NAME = /^\..+\.[0-9a-f]{8}\.tmp$/;

/** Removes the temp files a hard-killed run left in `dir`. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const stale = (await readdir(dir)).filter((n) => TEMP_NAME.test(n));
  for (const n of stale) await unlink(join(dir, n)).catch(() => {});
  return stale;
}

function outputError(dir: string, err: unknown): ScimEtlError {
  // ensureDir already says what is wrong with the directory (ERR_OUTPUT_DIR).
  if (isScimEtlError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  const why = err instanceof ScimEtlError ? err.message : (e.code ?? e.message);
  return new ScimEtlError('ERR_FULFILL_RESULTS_WRITE', `cannot write results in ${dir}: ${why}`, { path: dir }, { cause: err });
}

/** The writer as the pipeline's last stage; failed lines are also logged (debug: one line each). */
export function createResultsSink(writer: ResultsWriter, logger?: Logger): Writable {
  return new Writable({
    objectMode: true,
    write(o: LineOutcome, _enc, done) {
      if (o.outcome === 'failed' && logger?.enabled('debug')) {
        logger.emit('debug', 'order.failed', { orderId: o.orderId, command: o.command, status: o.status, scimType: o.scimType, detail: o.detail }, (f) => ({ msg: `order ${f.orderId} (${f.command}) failed`, append: { status: f.status, scimType: f.scimType, detail: f.detail } }));
      }
      writer.write(o).then(() => done(), done);
    },
  });
}
