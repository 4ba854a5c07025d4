import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdSorter, diffSorted, readIdFile } from '../../lib/incremental/id-set.js';

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('incremental id set', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'scim-etl-ids-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('sorts across spilled runs, drops repeats, and removes its run files', async () => {
    const sorter = new IdSorter(dir, 3);
    const ids = ['k', 'b', 'z', 'a', 'b', 'Q', 'm', 'a', 'é', '10', '9'];
    for (const id of ids) await sorter.add(id);
    expect((await readdir(dir)).length).to.equal(1); // the run directory
    expect(await collect(sorter.sorted())).to.deep.equal([...new Set(ids)].sort());
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('merges run files larger than one read, ids cut across reads, multi-byte ids included, in the order < gives', async () => {
    const sorter = new IdSorter(dir, 2_000);
    const ids: string[] = [];
    // 12,000 ids of ~40 bytes: each run file passes the 64 KiB read size, so lines are cut between reads.
    for (let n = 0; n < 12_000; n++) ids.push(`${(n * 7919) % 12_000}-${'é'.repeat(n % 5)}-00000000-0000-4000-8000-${String(n % 997).padStart(12, '0')}`);
    ids.push(ids[5]!, ids[11_999]!);
    for (const id of ids) await sorter.add(id);
    const expected = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(await collect(sorter.sorted())).to.deep.equal(expected);
  });

  it('diffs the previous set with the current one: the ids that are gone', async () => {
    const file = join(dir, 'old.ids');
    await writeFile(file, ['a', 'b', 'c', 'e', 'g'].join('\n') + '\n');
    const seen: string[] = [];
    const gone = await collect(diffSorted(readIdFile(file), (async function* () { yield* ['b', 'd', 'e', 'f']; })(), (id) => void seen.push(id)));
    expect(gone).to.deep.equal(['a', 'c', 'g']);
    expect(seen).to.deep.equal(['b', 'd', 'e', 'f']);
    expect(await collect(readIdFile(join(dir, 'absent.ids')))).to.deep.equal([]);
  });
});
