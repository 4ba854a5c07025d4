/**
 * The fulfill journal: `<results>/.<identifier>.journal.ndjson`, append-only,
 * what survives a crash or a kill. It records, per order line,
 *   - `{"f":…,"l":…,"i":1}`  the request was about to be sent (fsynced before it goes),
 *   - `{"f":…,"l":…,"o":{…}}` its outcome, once the server answered.
 * `f` names the order file by name and content hash, so an entry applies only
 * to the very same order file: an edited file starts afresh. A rerun reports
 * the lines with an outcome from here and does not send them again; a line
 * sent without an outcome (the run died waiting) is checked before it is sent
 * again.
 *
 * Only the intents of inserts and deletes must be on disk before their
 * request goes (a rerun looks those up instead of sending them blindly);
 * outcomes are written in batches (a lost one only means the line is done
 * again, and every re-done request is safe: updates and membership changes
 * are idempotent, inserts and deletes have their intent). Writes are grouped:
 * one write + fsync for everything appended while the previous one ran.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ScimEtlError } from '../errors.js';
import type { Outcome } from '../types.js';
import type { LineOutcome, OrderLine } from './types.js';
import { fsyncDir } from '../streams/sinks/atomic-file.js';

/** What the journal keeps of an outcome: the results row, without the run's positions. */
export type JournaledOutcome = Outcome;

interface Entry {
  sent: boolean;
  outcome?: JournaledOutcome;
}

export function journalPath(resultsDir: string, identifier: string): string {
  return join(resultsDir, `.${identifier}.journal.ndjson`);
}

/** `<name>@<sha256 prefix>`: the key of one order file's content. */
export async function orderFileKey(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ScimEtlError('ERR_FULFILL_ORDERS_READ', `cannot read order file ${path}: ${e.code ?? e.message}`, { path }, { cause: err });
  }
  return `${basename(path)}@${hash.digest('hex').slice(0, 20)}`;
}

/** Outcome records written (and fsynced) together. */
const OUTCOME_BATCH = 256;

export class Journal {
  /** Lines a run before this one sent or finished, by `<file key>\n<line>`. */
  private readonly entries = new Map<string, Entry>();
  private pending: string[] = [];
  private writing: Promise<void> | undefined;
  private failure: ScimEtlError | undefined;

  private constructor(
    readonly path: string,
    private readonly fileKeys: readonly string[],
    private handle: FileHandle,
  ) {}

  /**
   * Opens the journal for a run over order files whose keys are `fileKeys`
   * (by fileIndex). `restart` forgets every earlier entry. Entries for other
   * file contents are dropped (the journal is rewritten without them).
   */
  static async open(path: string, fileKeys: readonly string[], opts: { restart?: boolean } = {}): Promise<Journal> {
    const dir = join(path, '..');
    try {
      await mkdir(dir, { recursive: true });
      const wanted = new Set(fileKeys);
      const kept: string[] = [];
      let dropped = 0;
      const entries = new Map<string, Entry>();
      if (!opts.restart) {
        const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return '';
          throw err;
        });
        for (const raw of text.split('\n')) {
          if (!raw) continue;
          const rec = parseRecord(raw);
          // A torn last line (killed mid-write) or another content's entry.
          if (!rec || !wanted.has(rec.f)) {
            dropped++;
            continue;
          }
          kept.push(raw);
          const key = `${rec.f}\n${rec.l}`;
          const e = entries.get(key) ?? { sent: false };
          if (rec.i) e.sent = true;
          if (rec.o) e.outcome = rec.o;
          entries.set(key, e);
        }
      }
      if (opts.restart || dropped > 0) await rewrite(path, kept);
      const handle = await open(path, 'a');
      await fsyncDir(dir);
      const j = new Journal(path, fileKeys, handle);
      for (const [k, v] of entries) j.entries.set(k, v);
      return j;
    } catch (err) {
      throw journalError(path, err);
    }
  }

  /** Lines known from earlier runs. */
  get size(): number {
    return this.entries.size;
  }

  /** The outcome an earlier run journaled for this line. */
  outcomeOf(line: OrderLine): JournaledOutcome | undefined {
    return this.entries.get(this.key(line))?.outcome;
  }

  /** An earlier run sent this line's request and died before its outcome was journaled. */
  sentWithoutOutcome(line: OrderLine): boolean {
    const e = this.entries.get(this.key(line));
    return e !== undefined && e.sent && !e.outcome;
  }

  /** Records that these lines' request is about to go; resolves once that is on disk. */
  async intend(lines: readonly OrderLine[]): Promise<void> {
    for (const line of lines) this.pending.push(JSON.stringify({ f: this.fileKeys[line.fileIndex], l: line.line, i: 1 }));
    await this.flush();
  }

  /** Records outcomes; they reach the disk with the next grouped write (at the latest every OUTCOME_BATCH records). */
  record(outcomes: readonly LineOutcome[], lines: readonly OrderLine[]): void {
    for (const o of outcomes) {
      const line = lines.find((l) => l.seq === o.seq);
      if (!line) continue;
      const { seq: _s, fileIndex: _f, ...row } = o;
      this.pending.push(JSON.stringify({ f: this.fileKeys[line.fileIndex], l: line.line, o: row }));
    }
    if (this.pending.length >= OUTCOME_BATCH) void this.flush().catch(() => {});
  }

  /** Writes and fsyncs everything appended so far (grouped with concurrent callers). */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.writing) {
      if (this.failure) throw this.failure;
      if (this.writing) {
        await this.writing;
        continue;
      }
      const data = this.pending.join('\n') + '\n';
      this.pending = [];
      this.writing = (async () => {
        await this.handle.write(data);
        await this.handle.sync();
      })()
        .catch((err) => {
          this.failure ??= journalError(this.path, err);
        })
        .finally(() => (this.writing = undefined));
      await this.writing;
    }
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close().catch(() => {});
    }
  }

  private key(line: OrderLine): string {
    return `${this.fileKeys[line.fileIndex]}\n${line.line}`;
  }
}

interface JournalRecord {
  f: string;
  l: number;
  i?: 1;
  o?: JournaledOutcome;
}

function parseRecord(raw: string): JournalRecord | undefined {
  try {
    const r = JSON.parse(raw) as JournalRecord;
    if (typeof r?.f !== 'string' || typeof r.l !== 'number') return undefined;
    if (r.o !== undefined && (typeof r.o !== 'object' || typeof r.o.outcome !== 'string')) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

/** The journal with only `lines`, atomically (temp, fsync, rename, fsync the directory). */
async function rewrite(path: string, lines: readonly string[]): Promise<void> {
  const dir = join(path, '..');
  const temp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const h = await open(temp, 'wx');
  try {
    if (lines.length) await h.write(lines.join('\n') + '\n');
    await h.sync();
  } finally {
    await h.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

function journalError(path: string, err: unknown): ScimEtlError {
  if (err instanceof ScimEtlError) return err;
  const e = err as NodeJS.ErrnoException;
  return new ScimEtlError('ERR_FULFILL_JOURNAL', `cannot write the journal ${path}: ${e.code ?? e.message}`, { path }, { cause: err });
}
