/**
 * One commit per run: every file of a run is written to a temp file in the
 * target directory, and only `commit()` puts them all in place — each file
 * fsynced, renamed, then the directory fsynced once. `abort()` removes every
 * temp file, so a failed or interrupted run leaves each previous file as it
 * was. `sweepStale()` removes temp files that a hard-killed earlier run (kill
 * -9, power loss) could not remove.
 *
 * The window in which a crash leaves some files new and some old is the
 * renames in commit() only: no network, no data, a few syscalls.
 *
 * Usage: `const run = runCommit(dir, {prefix: 'SCIMExport_'})`, then
 * `run.open('SCIMExport_Users.csv')` gives a Writable per file; after the
 * writers have finished, `await run.commit()`; on any failure `await run.abort()`.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ScimEtlError } from '../../errors.js';
import { AtomicFileWriter, TEMP_NAME, fsyncDir, type AtomicFileOptions } from './atomic-file.js';
import { listDirOrNone } from '../../list-dir.js';

export interface RunCommitOptions {
  /** Final file names of this run start with this (the sweep touches only those). */
  prefix: string;
  /** fsync files and the directory (default true). */
  fsync?: boolean;
}

export interface RunCommit {
  readonly dir: string;
  /** A Writable for `<dir>/<name>`; the file appears only at commit(). */
  open(name: string, opts?: Pick<AtomicFileOptions, 'resume'>): AtomicFileWriter;
  /** Renames every file into place and fsyncs the directory; returns the final paths. */
  commit(): Promise<string[]>;
  /** Removes every temp file of this run (`keep`: leaves them for `export --resume`); the previous files stay. */
  abort(opts?: { keep?: boolean }): Promise<void>;
  /** Removes `.<prefix>….<hex>.tmp` files left in the directory, except `keep` (names a resumed run goes on with); returns their names. */
  sweepStale(keep?: ReadonlySet<string>): Promise<string[]>;
}

export function runCommit(dir: string, opts: RunCommitOptions): RunCommit {
  if (typeof opts.prefix !== 'string' || opts.prefix === '' || /[/\\]/.test(opts.prefix)) {
    throw new ScimEtlError('ERR_OPTION_RUN_COMMIT', `prefix must be a non-empty file name prefix, got ${JSON.stringify(opts.prefix)}`, {});
  }
  const writers = new Map<string, AtomicFileWriter>();
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const fsync = opts.fsync !== false;

  return {
    dir,
    open(name, fileOpts) {
      if (state !== 'open') throw new ScimEtlError('ERR_OPTION_RUN_COMMIT', `cannot open ${name}: the run is already ${state}`, {});
      if (!name.startsWith(opts.prefix) || /[/\\]/.test(name)) {
        throw new ScimEtlError('ERR_OPTION_RUN_COMMIT', `file name must be a plain name starting with ${JSON.stringify(opts.prefix)}, got ${JSON.stringify(name)}`, {});
      }
      if (writers.has(name)) throw new ScimEtlError('ERR_OPTION_RUN_COMMIT', `${name} is already open in this run`, {});
      const w = new AtomicFileWriter(join(dir, name), { fsync, deferRename: true, ...(fileOpts?.resume ? { resume: fileOpts.resume } : {}) });
      writers.set(name, w);
      return w;
    },
    async commit() {
      if (state !== 'open') throw new ScimEtlError('ERR_OPTION_RUN_COMMIT', `cannot commit: the run is already ${state}`, {});
      const unfinished = [...writers.values()].filter((w) => !w.writableFinished);
      if (unfinished.length > 0) {
        await this.abort();
        throw new ScimEtlError('ERR_EXPORT_OUTPUT', `cannot commit: ${unfinished.map((w) => w.path).join(', ')} not written completely; nothing was replaced`, {});
      }
      try {
        const done = await commitTogether(dir, [...writers.values()], fsync);
        state = 'committed';
        return done;
      } catch (err) {
        state = 'aborted';
        throw err;
      }
    },
    async abort(abortOpts) {
      if (state === 'committed') return;
      state = 'aborted';
      await Promise.all([...writers.values()].map((w) => (abortOpts?.keep ? w.keep() : w.discard())));
    },
    async sweepStale(keep) {
      const names = await listDirOrNone(dir);
      const mine = new Set([...writers.values()].map((w) => w.tempPath));
      const stale = names.filter((n) => {
        const m = TEMP_NAME.exec(n);
        return m !== null && m[1]!.startsWith(opts.prefix) && !mine.has(join(dir, n)) && !keep?.has(n);
      });
      await Promise.all(stale.map((n) => unlink(join(dir, n)).catch(() => undefined)));
      return stale;
    },
  };
}

/**
 * The commit itself, shared by every multi-file output (export tables,
 * fulfill results): renames each finished writer's temp file into place, then
 * fsyncs the directory once. On a failure the rest are discarded and the
 * error names the files already replaced (renames are not undoable).
 */
export async function commitTogether(dir: string, writers: readonly AtomicFileWriter[], fsync = true): Promise<string[]> {
  const done: string[] = [];
  try {
    for (const w of writers) {
      await w.commit({ syncDir: false });
      done.push(w.path);
    }
    if (fsync && done.length > 0) await fsyncDir(dir);
  } catch (err) {
    await Promise.all(writers.map((w) => w.discard()));
    const e = err as ScimEtlError;
    throw new ScimEtlError('ERR_EXPORT_OUTPUT', `${e.message}${done.length ? ` (already replaced: ${done.join(', ')})` : ''}`, { ...(e.context ?? {}), replaced: done }, { cause: err });
  }
  return done;
}
