/**
 * Reruns keep history: before a run's results replace the previous ones, the
 * previous results files are moved to `<results>/runs/<time>/`, where <time>
 * is when that earlier run committed them (their modification time, UTC, as
 * `2026-12-02T00-37-06.123Z`). A previous file with exactly the new content
 * is not kept twice: a rerun that resumes from the journal reports the same
 * rows. The journal (`.<identifier>.journal.ndjson`) stays where it is, in
 * the results directory: history is only the results CSVs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsyncDir } from './atomic-file.js';

export const HISTORY_DIR = 'runs';

/**
 * Moves the files at `files[i].path` that the temp files `files[i].tempPath`
 * are about to replace into one `runs/<time>/` folder; returns the paths
 * they were moved to.
 */
export async function archivePrevious(dir: string, files: ReadonlyArray<{ path: string; tempPath: string }>): Promise<string[]> {
  const previous: Array<{ path: string; mtimeMs: number }> = [];
  for (const f of files) {
    const st = await stat(f.path).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (await sameContent(f.path, st.size, f.tempPath)) continue;
    previous.push({ path: f.path, mtimeMs: st.mtimeMs });
  }
  if (previous.length === 0) return [];
  const stamp = new Date(Math.max(...previous.map((p) => p.mtimeMs))).toISOString().replace(/:/g, '-');
  const target = await freshDir(join(dir, HISTORY_DIR), stamp);
  const moved: string[] = [];
  for (const p of previous) {
    const to = join(target, basename(p.path));
    await rename(p.path, to);
    moved.push(to);
  }
  await fsyncDir(target);
  return moved;
}

/** `runs/<stamp>`, or `runs/<stamp>-2`… when a run with the same stamp is kept already. */
async function freshDir(root: string, stamp: string): Promise<string> {
  await mkdir(root, { recursive: true });
  for (let n = 1; ; n++) {
    const dir = join(root, n === 1 ? stamp : `${stamp}-${n}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

async function sameContent(a: string, sizeA: number, b: string): Promise<boolean> {
  const st = await stat(b).catch(() => undefined);
  if (!st || st.size !== sizeA) return false;
  const [ha, hb] = await Promise.all([digest(a), digest(b)]);
  return ha === hb;
}

async function digest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
