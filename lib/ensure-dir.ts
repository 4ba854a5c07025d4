/**
 * Creates a directory and the missing ones above it, or fails at once with
 * ERR_OUTPUT_DIR. Node's `mkdir(path, { recursive: true })` is not used: on a
 * path whose parent exists but refuses new entries (/proc/self/xx) it gets
 * ENOENT, creates the parent (EEXIST), and tries again forever at 100% CPU
 * without yielding to a signal. Here each level is tried at most twice, so
 * the work is bounded by the depth of the path.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ScimEtlError } from './errors.js';

export async function ensureDir(path: string, signal?: AbortSignal): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  // Walk up to the nearest existing ancestor…
  for (let dir = target; ; dir = dirname(dir)) {
    signal?.throwIfAborted();
    const kind = await kindOf(dir);
    if (kind === 'dir') break;
    if (kind === 'other') throw failure(target, `${dir} exists and is not a directory`, 'ENOTDIR');
    if (dirname(dir) === dir) throw failure(target, `its root ${dir} does not exist`, 'ENOENT');
    missing.push(dir);
  }
  // …then create each level below it, once.
  for (const dir of missing.reverse()) {
    signal?.throwIfAborted();
    try {
      await mkdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      // Made meanwhile by someone else: fine if it is a directory.
      if (code === 'EEXIST' && (await kindOf(dir)) === 'dir') continue;
      const what = dir === target ? 'mkdir' : `mkdir ${dir}`;
      // ENOENT with the parent there: a virtual file system (/proc) taking no new entries.
      throw failure(target, `${what} failed with ${code}${code === 'ENOENT' ? ' although its parent exists' : ''}`, code, err);
    }
  }
}

async function kindOf(path: string): Promise<'dir' | 'other' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a file on the way up, which the walk then meets.
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw failure(path, `${path} cannot be read (${code ?? (err as Error).message})`, code ?? 'EIO', err);
  }
}

function failure(target: string, why: string, errno: string, cause?: unknown): ScimEtlError {
  return new ScimEtlError('ERR_OUTPUT_DIR', `cannot create the directory ${target}: ${why}`, { path: target, errno }, cause === undefined ? {} : { cause });
}
