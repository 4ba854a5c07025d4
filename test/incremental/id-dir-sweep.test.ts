/**
 * The spill directories of deletion detection's id sets (`.scim-etl-ids-<pid>-…`)
 * that a killed run left are removed by the next run; a live run's are not.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdSorter, sweepStaleIdDirs } from '../../lib/incremental/id-set.js';
import { startSandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('incremental: stale id set spill directories', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'scim-etl-idsweep-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a sorter names its spill directory by its process', async () => {
    const sorter = new IdSorter(dir, 2);
    for (const id of ['b', 'a', 'c']) await sorter.add(id);
    expect(await readdir(dir)).to.satisfy((names: string[]) => names.length === 1 && names[0]!.startsWith(`.scim-etl-ids-${process.pid}-`));
    await sorter.dispose();
  });

  it('removes the directories of processes that are gone and old unnamed ones; keeps live, recent and foreign ones', async () => {
    const gone = `.scim-etl-ids-${deadPid()}-aB3dE9`;
    const live = `.scim-etl-ids-${process.pid}-Zz0a1b`;
    const oldUnnamed = '.scim-etl-ids-Qw3rty';
    const newUnnamed = '.scim-etl-ids-N3wOne';
    for (const n of [gone, live, oldUnnamed, newUnnamed, 'scim-etl-ids-123-abcdef', '.scim-etl-ids-not-ours']) {
      await mkdir(join(dir, n));
      await writeFile(join(dir, n, 'run-0'), 'a\nb\n');
    }
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await utimes(join(dir, oldUnnamed), twoDaysAgo, twoDaysAgo);
    expect((await sweepStaleIdDirs(dir)).sort()).to.deep.equal([gone, oldUnnamed].sort());
    expect((await readdir(dir)).sort()).to.deep.equal([live, newUnnamed, 'scim-etl-ids-123-abcdef', '.scim-etl-ids-not-ours'].sort());
  });

  it('the next incremental export removes a killed run\'s directory', async () => {
    const gone = `.scim-etl-ids-${deadPid()}-k1lled`;
    await mkdir(join(dir, gone));
    await writeFile(join(dir, gone, 'run-0'), 'u1\n');
    const sb = await startSandbox({ token: 't', generate: { users: 3, groups: 0, seed: 1 } });
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir; // os.tmpdir(), where the export spills
    try {
      await writeFile(join(dir, 'p.yaml'), `version: 1\nconnection: {identifier: I, server: "${sb.url}", oAuthToken: t}\nexport:\n  output: ${join(dir, 'out')}\n  entities:\n    Users: {columns: [id], incremental: true, detectDeletes: true}\n`);
      const r = await cli(['export', join(dir, 'p.yaml')]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('removed 1 id set spill directory');
      expect(await readdir(dir)).to.not.include(gone);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await sb.stop();
    }
  });
});
