import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { runCommit } from '../../lib/streams/sinks/run-commit.js';

async function write(w: NodeJS.WritableStream, text: string): Promise<void> {
  await pipeline(Readable.from([text]), w);
}

describe('runCommit (one commit per run)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-commit-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('puts no file in place before commit(), then all of them at once', async () => {
    await writeFile(join(dir, 'R_Users.csv'), 'old users');
    const run = runCommit(dir, { prefix: 'R_' });
    await write(run.open('R_Users.csv'), 'new users');
    await write(run.open('R_Groups.csv'), 'new groups');
    expect(await readFile(join(dir, 'R_Users.csv'), 'utf8')).to.equal('old users');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).to.have.length(2);
    const files = await run.commit();
    expect(files).to.deep.equal([join(dir, 'R_Users.csv'), join(dir, 'R_Groups.csv')]);
    expect((await readdir(dir)).sort()).to.deep.equal(['R_Groups.csv', 'R_Users.csv']);
    expect(await readFile(join(dir, 'R_Users.csv'), 'utf8')).to.equal('new users');
  });

  it('abort() removes finished and unfinished temp files and leaves every previous file as it was', async () => {
    await writeFile(join(dir, 'R_Users.csv'), 'old users');
    await writeFile(join(dir, 'R_Groups.csv'), 'old groups');
    const run = runCommit(dir, { prefix: 'R_' });
    await write(run.open('R_Users.csv'), 'new users');
    const half = run.open('R_Groups.csv');
    half.write('new gr');
    await run.abort();
    expect((await readdir(dir)).sort()).to.deep.equal(['R_Groups.csv', 'R_Users.csv']);
    expect(await readFile(join(dir, 'R_Users.csv'), 'utf8')).to.equal('old users');
    expect(await readFile(join(dir, 'R_Groups.csv'), 'utf8')).to.equal('old groups');
    await run.commit().then(
      () => expect.fail('commit after abort'),
      (e) => expect(e.code).to.equal('ERR_OPTION_RUN_COMMIT'),
    );
  });

  it('refuses to commit while a file is unfinished, and replaces nothing', async () => {
    await writeFile(join(dir, 'R_Users.csv'), 'old users');
    const run = runCommit(dir, { prefix: 'R_' });
    await write(run.open('R_Groups.csv'), 'new groups');
    run.open('R_Users.csv').write('partial');
    let err: any;
    await run.commit().catch((e) => (err = e));
    expect(err?.code).to.equal('ERR_EXPORT_OUTPUT');
    expect(await readdir(dir)).to.deep.equal(['R_Users.csv']);
    expect(await readFile(join(dir, 'R_Users.csv'), 'utf8')).to.equal('old users');
  });

  it('sweepStale() removes only the temp files of this prefix', async () => {
    for (const n of ['.R_Users.csv.0badc0de.tmp', '.R_members_Groups.csv.12345678.tmp', '.RX_Users.csv.0badc0de.tmp', '.R_Users.csv.tmp', 'R_Users.csv', 'notes.txt']) {
      await writeFile(join(dir, n), 'x');
    }
    const run = runCommit(dir, { prefix: 'R_' });
    expect((await run.sweepStale()).sort()).to.deep.equal(['.R_Users.csv.0badc0de.tmp', '.R_members_Groups.csv.12345678.tmp']);
    expect((await readdir(dir)).sort()).to.deep.equal(['.RX_Users.csv.0badc0de.tmp', '.R_Users.csv.tmp', 'R_Users.csv', 'notes.txt']);
  });

  it('rejects names outside the prefix or with a directory part', () => {
    const run = runCommit(dir, { prefix: 'R_' });
    expect(() => run.open('X_Users.csv')).to.throw().with.property('code', 'ERR_OPTION_RUN_COMMIT');
    expect(() => run.open('R_/../x')).to.throw().with.property('code', 'ERR_OPTION_RUN_COMMIT');
    expect(() => runCommit(dir, { prefix: '' })).to.throw().with.property('code', 'ERR_OPTION_RUN_COMMIT');
  });
});
