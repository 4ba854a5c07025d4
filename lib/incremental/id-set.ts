/**
 * The id set of deletion detection: the ids an entity had at the last
 * committed run, one per line, sorted (by UTF-16 code units, as `<` compares),
 * kept beside the cookie and replaced in the same commit.
 *
 * Memory stays flat however many ids: `IdSorter` keeps at most `runSize` ids,
 * spills each full batch as a sorted run file, and `sorted()` merges the runs;
 * `diffSorted` walks the old file and the new ids together.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

// 20k ids a run: bigger batches outlive the young generation and the old one swells (1M ids peaked at 236 MB RSS with 100k; see bench/id-diff.ts).
export const DEFAULT_RUN_SIZE = 20_000;
const MERGE_READ_BYTES = 4 * 1024;

/** `.scim-etl-ids-<pid>-XXXXXX`: the spill directory of a sorter, named by the process that made it. */
export const ID_DIR_PREFIX = '.scim-etl-ids-';
const ID_DIR = /^\.scim-etl-ids-(?:(\d+)-)?[A-Za-z0-9]{6}$/;
/** A directory of the older, pid-less naming is stale after this long. */
const UNNAMED_STALE_MS = 24 * 3600 * 1000;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a process of another user has that pid: not ours to judge, keep it.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the spill directories that runs killed outright (kill -9, a crash)
 * left in `parent`: those of processes that are gone. A live run's, this
 * process's included, are left alone. Returns the names removed.
 */
export async function sweepStaleIdDirs(parent: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const stale: string[] = [];
  for (const n of names) {
    const m = ID_DIR.exec(n);
    if (!m) continue;
    if (m[1] !== undefined ? !alive(Number(m[1])) : await stat(join(parent, n)).then((st) => now - st.mtimeMs > UNNAMED_STALE_MS, () => false)) stale.push(n);
  }
  await Promise.all(stale.map((n) => rm(join(parent, n), { recursive: true, force: true })));
  return stale;
}

/** Lines of a sorted id file; an absent file is an empty set. */
export async function* readIdFile(file: string): AsyncGenerator<string> {
  for await (const ids of readIdChunks(file)) yield* ids;
}

/**
 * The ids of a file a chunk at a time (one array per read): the merge of many
 * runs walks arrays and awaits once per chunk, not once per id, which keeps
 * the garbage of a million-id merge small.
 */
export async function* readIdChunks(file: string, readBytes = 64 * 1024): AsyncGenerator<string[]> {
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: readBytes });
  let rest = '';
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      const ids = lines.filter((l) => l !== '');
      if (ids.length > 0) yield ids;
    }
    if (rest !== '') yield [rest];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  } finally {
    input.destroy();
  }
}

/**
 * The batch is kept as bytes (`id\n` after `id\n`), not as an array of
 * strings: strings held across thousands of awaits outlive the young
 * generation and pile up in the old one (1M ids peaked at 173 MiB RSS that
 * way); bytes are one buffer, and the strings made to sort a batch die at once.
 */
export class IdSorter {
  private batch = Buffer.allocUnsafe(1024 * 1024);
  private used = 0;
  private count = 0;
  private runs: string[] = [];
  private dir?: string;

  constructor(
    private readonly tmpParent: string,
    private readonly runSize = DEFAULT_RUN_SIZE,
  ) {}

  async add(id: string): Promise<void> {
    const need = this.used + Buffer.byteLength(id) + 1;
    if (need > this.batch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.batch.length * 2));
      this.batch.copy(bigger, 0, 0, this.used);
      this.batch = bigger;
    }
    this.used += this.batch.write(id, this.used);
    this.batch[this.used++] = 0x0a;
    if (++this.count >= this.runSize) await this.spill();
  }

  /** The batch's ids, sorted, each once; the batch is emptied. */
  private takeBatch(): string[] {
    const ids = this.used === 0 ? [] : this.batch.toString('utf8', 0, this.used - 1).split('\n');
    this.used = 0;
    this.count = 0;
    return uniqueSorted(ids);
  }

  /** Every id added, sorted, each once; then the run files are removed. */
  async *sorted(): AsyncGenerator<string> {
    const last = this.takeBatch();
    try {
      if (this.runs.length === 0) {
        yield* last;
        return;
      }
      // Each source a chunk at a time: the head is chunk[at]; a source is done when its chunk is undefined.
      // Small reads: with many runs each chunk is held while all the others advance, long enough to be promoted if it is big.
      const sources: AsyncIterator<string[]>[] = [...this.runs.map((f) => readIdChunks(f, MERGE_READ_BYTES)), arrayIterator([last])];
      const chunks: Array<string[] | undefined> = await Promise.all(sources.map((src) => nextChunk(src)));
      const at = chunks.map(() => 0);
      let previous: string | undefined;
      for (;;) {
        let min = -1;
        for (let i = 0; i < chunks.length; i++) if (chunks[i] !== undefined && (min < 0 || chunks[i]![at[i]!]! < chunks[min]![at[min]!]!)) min = i;
        if (min < 0) break;
        const id = chunks[min]![at[min]!]!;
        if (++at[min]! >= chunks[min]!.length) {
          chunks[min] = await nextChunk(sources[min]!);
          at[min] = 0;
        }
        if (id === previous) continue;
        previous = id;
        yield id;
      }
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.runs = [];
  }

  private async spill(): Promise<void> {
    this.dir ??= await mkdtemp(join(this.tmpParent, `${ID_DIR_PREFIX}${process.pid}-`));
    const file = join(this.dir, `run-${this.runs.length}`);
    // Written at once, so that the sorted strings die young (see the class comment).
    writeFileSync(file, this.takeBatch().join('\n') + '\n');
    this.runs.push(file);
  }
}

function uniqueSorted(ids: string[]): string[] {
  ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ids.filter((id, i) => i === 0 || id !== ids[i - 1]);
}

async function* arrayIterator<T>(a: T[]): AsyncGenerator<T> {
  yield* a;
}

/** The next non-empty chunk of a source, undefined when it is done. */
async function nextChunk(src: AsyncIterator<string[]>): Promise<string[] | undefined> {
  for (;;) {
    const r = await src.next();
    if (r.done) return undefined;
    if (r.value.length > 0) return r.value;
  }
}

/** Ids of `previous` that are not in `current` (both sorted); `onCurrent` sees every current id, in order. */
export async function* diffSorted(previous: AsyncIterable<string>, current: AsyncIterable<string>, onCurrent: (id: string) => Promise<void> | void): AsyncGenerator<string> {
  const old = previous[Symbol.asyncIterator]();
  let o = await old.next();
  for await (const id of current) {
    await onCurrent(id);
    while (!o.done && o.value < id) {
      yield o.value;
      o = await old.next();
    }
    if (!o.done && o.value === id) o = await old.next();
  }
  while (!o.done) {
    yield o.value;
    o = await old.next();
  }
}
