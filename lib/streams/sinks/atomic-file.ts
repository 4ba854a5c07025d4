/**
 * A byte Writable that writes `<dir>/.<name>.<random>.tmp` and, when the
 * stream finishes cleanly (`_final`), fsyncs it and renames it to
 * `<dir>/<name>`, then fsyncs the directory so that the rename survives a
 * crash. When the stream is destroyed instead (an upstream error, an abort),
 * the temp file is removed and the previous file at `path` is untouched. Same
 * directory, so the rename is atomic on POSIX file systems.
 *
 * With `deferRename`, finishing only makes the temp file durable; the rename is
 * left to `commit()` (or `discard()`), so that a run commits several files
 * together (see run-commit.ts).
 */
import { Writable } from 'node:stream';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ScimEtlError } from '../../errors.js';

export interface AtomicFileOptions {
  /** fsync the file before the rename and the directory after it (default true). */
  fsync?: boolean;
  /** Called after the rename. */
  onCommit?: (path: string) => void;
  /** Finish without renaming: the owner calls commit() or discard(). */
  deferRename?: boolean;
  /** A resumed export: go on writing this existing temp file, cut back to `bytes` (lib/resume/). */
  resume?: { tempPath: string; bytes: number };
}

/** `.<name>.<8 hex>.tmp`: the temp name of a final file name (run-commit.ts sweeps these). */
export const TEMP_NAME = /^\.(.+)\.[0-9a-f]{8}\.tmp$/;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Makes a directory's entries (a rename) durable; file systems that cannot fsync a directory are let be. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export class AtomicFileWriter extends Writable {
  readonly path: string;
  readonly tempPath: string;
  private handle?: FileHandle;
  /** The temp file is complete and synced (deferred mode). */
  private finalized = false;
  private committed = false;
  /** keep() or holdTemp(): the temp file stays when the stream is destroyed (a resumable run, lib/resume/). */
  private kept = false;
  private held = false;
  /** Bytes in the temp file so far (from the resume point on a resumed file). */
  private position = 0;
  private finalSync?: Promise<void>;
  private readonly opts: AtomicFileOptions;

  constructor(path: string, opts: AtomicFileOptions = {}) {
    super({ highWaterMark: 64 * 1024 });
    this.path = path;
    this.tempPath = opts.resume?.tempPath ?? tempPathFor(path);
    this.opts = opts;
  }

  get isCommitted(): boolean {
    return this.committed;
  }

  /** Bytes written to the temp file (emitted as 'written' after each write). */
  get bytesWritten(): number {
    return this.position;
  }

  /** fsyncs what is written so far (a checkpoint: the bytes it names must survive a crash). */
  async sync(): Promise<void> {
    if (this.opts.fsync === false) return;
    // Finishing: the final fsync covers it (and the handle is about to close).
    if (this.finalSync) return this.finalSync;
    await this.handle?.sync();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const resume = this.opts.resume;
    (resume ? this.reopen(resume.bytes) : open(this.tempPath, 'wx')).then(
      (h) => {
        this.handle = h;
        callback();
      },
      (err: NodeJS.ErrnoException) =>
        callback(new ScimEtlError('ERR_EXPORT_OUTPUT', `cannot write ${this.tempPath}: ${err.code ?? err.message}`, { path: this.path }, { cause: err })),
    );
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.writeAll(buf).then(() => callback(), callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    const buf = Buffer.concat(chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding) : c.chunk)));
    this.writeAll(buf).then(() => callback(), callback);
  }

  /** The resumed temp file, cut back to `bytes` (what the checkpoint says was written). */
  private async reopen(bytes: number): Promise<FileHandle> {
    const h = await open(this.tempPath, 'r+');
    try {
      const { size } = await h.stat();
      if (size < bytes) throw Object.assign(new Error(`${size} bytes, the checkpoint says ${bytes}`), { code: 'ESHORT' });
      await h.truncate(bytes);
      this.position = bytes;
      return h;
    } catch (err) {
      await h.close().catch(() => undefined);
      throw err;
    }
  }

  private async writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.handle!.write(buf, off, buf.length - off, this.position);
      off += bytesWritten;
      this.position += bytesWritten;
    }
    this.emit('written', this.position);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      const handle = this.handle!;
      this.finalSync = this.opts.fsync !== false ? handle.sync() : Promise.resolve();
      await this.finalSync;
      await handle.close();
      this.handle = undefined;
      this.finalized = true;
      if (!this.opts.deferRename) await this.commit();
    })().then(
      () => callback(),
      (err: unknown) => callback(this.outputError(err)),
    );
  }

  /** Renames the finished temp file into place (deferred mode; called by _final otherwise). */
  async commit(options: { syncDir?: boolean } = {}): Promise<void> {
    if (this.committed) return;
    if (!this.finalized) throw new ScimEtlError('ERR_EXPORT_OUTPUT', `cannot commit ${this.path}: the file was not written completely`, { path: this.path });
    try {
      await rename(this.tempPath, this.path);
      this.committed = true;
      if (options.syncDir !== false && this.opts.fsync !== false) await fsyncDir(dirname(this.path));
    } catch (err) {
      throw this.outputError(err);
    }
    this.opts.onCommit?.(this.path);
  }

  /**
   * A destroyed stream (pipeline() destroys it on an upstream error) leaves the
   * temp file: the owner then calls keep() or discard().
   */
  holdTemp(): void {
    this.held = true;
  }

  /** Stops writing and leaves the temp file for a resumed run to go on with. */
  async keep(): Promise<void> {
    if (this.committed) return;
    this.kept = true;
    if (!this.destroyed) this.destroy();
    if (!this.closed) await new Promise((r) => this.once('close', r));
  }

  /** Drops the temp file (and stops writing); the previous file stays. Safe to call more than once. */
  async discard(): Promise<void> {
    if (this.committed) return;
    if (!this.destroyed) this.destroy();
    if (!this.closed) await new Promise((r) => this.once('close', r));
    await unlink(this.tempPath).catch(() => undefined);
  }

  private outputError(err: unknown): ScimEtlError {
    if (err instanceof ScimEtlError) return err;
    const e = err as NodeJS.ErrnoException;
    return new ScimEtlError('ERR_EXPORT_OUTPUT', `cannot commit ${this.path}: ${e.code ?? e.message}`, { path: this.path }, { cause: err });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    (async () => {
      if (handle) await handle.close().catch(() => undefined);
      // A finished deferred file waits for commit() or discard(); anything else unfinished goes.
      if (!this.committed && !this.kept && !this.held && !(this.finalized && this.opts.deferRename && !error)) await unlink(this.tempPath).catch(() => undefined);
    })().then(() => callback(error));
  }
}

export function atomicFile(path: string, opts?: AtomicFileOptions): AtomicFileWriter {
  return new AtomicFileWriter(path, opts);
}
