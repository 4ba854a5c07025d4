/**
 * A byte Writable that writes `<dir>/.<name>.<random>.tmp` and renames it to
 * `<dir>/<name>` only when the stream finishes cleanly (`_final`). When the
 * stream is destroyed instead (an upstream error, an abort), the temp file is
 * removed and the previous file at `path` is untouched. Same directory, so
 * the rename is atomic on POSIX file systems.
 */
import { Writable } from 'node:stream';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ScimEtlError } from '../../errors.js';

export interface AtomicFileOptions {
  /** fsync before rename (default true): a crash never leaves a half-written final file. */
  fsync?: boolean;
  /** Called after the rename. */
  onCommit?: (path: string) => void;
}

export class AtomicFileWriter extends Writable {
  readonly path: string;
  readonly tempPath: string;
  private handle?: FileHandle;
  private committed = false;
  private readonly opts: AtomicFileOptions;

  constructor(path: string, opts: AtomicFileOptions = {}) {
    super({ highWaterMark: 64 * 1024 });
    this.path = path;
    this.tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    this.opts = opts;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.tempPath, 'wx').then(
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

  private async writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.handle!.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      if (this.opts.fsync !== false) await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      await rename(this.tempPath, this.path);
      this.committed = true;
      this.opts.onCommit?.(this.path);
    })().then(
      () => callback(),
      (err: NodeJS.ErrnoException) =>
        callback(new ScimEtlError('ERR_EXPORT_OUTPUT', `cannot commit ${this.path}: ${err.code ?? err.message}`, { path: this.path }, { cause: err })),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    (async () => {
      if (handle) await handle.close().catch(() => undefined);
      if (!this.committed) await unlink(this.tempPath).catch(() => undefined);
    })().then(() => callback(error));
  }
}

export function atomicFile(path: string, opts?: AtomicFileOptions): AtomicFileWriter {
  return new AtomicFileWriter(path, opts);
}
