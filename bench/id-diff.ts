/**
 * Deletion detection at scale: an incremental run's id listing (1,000,000 ids
 * by default, in server order, not sorted) sorted on disk, written as the new
 * id set and diffed with the previous run's set, through the export's own
 * stage (lib/incremental/deletes.ts: appendDeletes). The work runs in a child
 * process of its own, plain node on the built lib (id-diff-child.mjs, as an
 * installed scim-etl runs), whose peak RSS comes from the OS (measure.ts);
 * the target is the export's memory target, 120 MB.
 *
 *   node --import tsx bench/id-diff.ts [--ids 1000000]
 *
 * bench/run.ts calls benchIdDiff().
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, RSS_METHOD } from './measure.js';
// @ts-expect-error plain JS shared with the child (id-diff-child.mjs)
import { idOf, isGone } from './id-diff-ids.mjs';

/** The previous run's id set, sorted by UTF-16 code units as the export writes it; made here, outside the measured process. */
async function writePrevious(file: string, count: number): Promise<void> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) ids.push((idOf as (n: number) => string)(n));
  ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = createWriteStream(file);
  for (const id of ids) if (!out.write(id + '\n')) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

const ROOT = resolve(import.meta.dirname, '..');
export const ID_DIFF_RSS_TARGET_MIB = 120;

export interface IdDiffResult {
  ok: boolean;
  ids: number;
  deleted?: number;
  expectedDeleted: number;
  seconds: number;
  rssMiB: number;
  /** One line for the bench notes. */
  summary: string;
}

export async function benchIdDiff(opts: { ids?: number } = {}): Promise<IdDiffResult> {
  const ids = opts.ids ?? 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'scim-etl-iddiff-'));
  try {
    const out = join(dir, 'out.json');
    if (!existsSync(join(ROOT, 'dist/lib/incremental/deletes.js')) && spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
    await writePrevious(join(dir, 'previous.ids'), ids);
    const run = await measure({ argv: [process.execPath, join(ROOT, 'bench/id-diff-child.mjs'), String(ids), dir], cwd: ROOT, stdoutFile: out, timeoutMs: 600_000 });
    let expectedDeleted = 0;
    for (let n = 0; n < ids; n++) if ((isGone as (n: number) => boolean)(n)) expectedDeleted++;
    const deleted = run.ok ? (JSON.parse(await readFile(out, 'utf8')) as { deleted: number }).deleted : undefined;
    const ok = run.ok && deleted === expectedDeleted;
    const within = run.rssMiB <= ID_DIFF_RSS_TARGET_MIB;
    const summary = ok
      ? `Deletion detection (bench/id-diff.ts): ${ids.toLocaleString('en-US')} ids listed in server order, sorted on disk and diffed with the previous set, ${deleted!.toLocaleString('en-US')} deletions found, in ${run.seconds.toFixed(1)} s at ${run.rssMiB.toFixed(0)} MiB peak RSS (${RSS_METHOD}): ${within ? 'within' : '**over**'} the ${ID_DIFF_RSS_TARGET_MIB} MB target.`
      : `Deletion detection (bench/id-diff.ts) failed: ${run.error ?? `found ${deleted} deletions, expected ${expectedDeleted}`}.`;
    return { ok: ok && within, ids, deleted, expectedDeleted, seconds: run.seconds, rssMiB: run.rssMiB, summary };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { ids: { type: 'string' } } });
  const r = await benchIdDiff({ ids: Number(values.ids ?? 1_000_000) });
  console.log(r.summary);
  process.exitCode = r.ok ? 0 : 1;
}
