/**
 * Reruns keep history: a fulfill never overwrites an earlier run's results
 * silently. The previous results move to <results>/runs/<time>/; a rerun that
 * resumes from the journal (same rows) keeps no duplicate; the journal stays
 * in the results directory and still drives the rerun.
 */
import { expect } from 'chai';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'sandbox-token-for-history';

describe('fulfill results history (reruns)', function () {
  let sb: Sandbox;
  let dir: string;
  let env: Record<string, string>;
  const results = () => join(dir, 'pipelines/results');
  const fulfill = (...extra: string[]) => cli(['fulfill', 'pipelines/fulfill-users.yaml', '--no-progress', ...extra], { env, cwd: dir });

  beforeEach(async () => {
    // A fresh clone's layout: the shipped pipeline and its sample orders.
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-history-'));
    cpSync(join(ROOT, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    cpSync(join(ROOT, 'samples'), join(dir, 'samples'), { recursive: true });
    sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
    env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  });
  afterEach(async () => {
    await sb?.stop();
  });

  it('rerunning the sample fulfill exits 0, resumes from the journal and keeps no duplicate history', async () => {
    const first = await fulfill();
    expect(first.code, first.stderr).to.equal(0);
    const firstUsers = readFileSync(join(results(), 'SCIMExport_Users.csv'), 'utf8');
    const writes = sb.requests.filter((r) => r.method !== 'GET').length;
    const second = await fulfill();
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).to.match(/resuming: 10 order line\(s\) known from the journal/);
    // Nothing sent again, the same results: nothing to keep twice.
    expect(sb.requests.filter((r) => r.method !== 'GET').length).to.equal(writes);
    expect(readFileSync(join(results(), 'SCIMExport_Users.csv'), 'utf8')).to.equal(firstUsers);
    expect(existsSync(join(results(), 'runs'))).to.equal(false);
    expect(readdirSync(results())).to.include('.SCIMExport.journal.ndjson');
  });

  it('a rerun with different results moves the earlier ones (with their created ids) to runs/<time>/', async () => {
    const first = await fulfill();
    expect(first.code, first.stderr).to.equal(0);
    const firstUsers = readFileSync(join(results(), 'SCIMExport_Users.csv'), 'utf8');
    const firstMembers = readFileSync(join(results(), 'SCIMExport_members_Groups.csv'), 'utf8');
    // The folder is named for when the earlier run committed (its files' latest mtime).
    const committed = new Date(Math.max(...['SCIMExport_Users.csv', 'SCIMExport_members_Groups.csv'].map((n) => statSync(join(results(), n)).mtimeMs)));
    // --restart sends everything again: the inserts now meet existing users (onConflict: fail).
    const second = await fulfill('--restart', '--log-format', 'json');
    expect(second.code, second.stderr).to.equal(2);
    const runs = readdirSync(join(results(), 'runs'));
    expect(runs).to.have.length(1);
    expect(runs[0]).to.equal(committed.toISOString().replace(/:/g, '-'));
    const kept = join(results(), 'runs', runs[0]!);
    expect(readFileSync(join(kept, 'SCIMExport_Users.csv'), 'utf8')).to.equal(firstUsers);
    expect(readFileSync(join(kept, 'SCIMExport_members_Groups.csv'), 'utf8')).to.equal(firstMembers);
    expect(firstUsers).to.match(/^ada,insert,[0-9a-f-]{36},201,ok,/m);
    expect(readFileSync(join(results(), 'SCIMExport_Users.csv'), 'utf8')).to.match(/^ada,insert,,409,failed,uniqueness,/m);
    const history = second.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'fulfill.history');
    expect(history).to.include({ dir: kept, files: 2 });
    // A third --restart run gets the very same answers as the second: nothing new to keep, the first folder as it was.
    const secondUsers = readFileSync(join(results(), 'SCIMExport_Users.csv'), 'utf8');
    const third = await fulfill('--restart');
    expect(third.code).to.equal(2);
    expect(readFileSync(join(results(), 'SCIMExport_Users.csv'), 'utf8')).to.equal(secondUsers);
    expect(readdirSync(join(results(), 'runs'))).to.deep.equal(runs);
    expect(readFileSync(join(kept, 'SCIMExport_Users.csv'), 'utf8')).to.equal(firstUsers);
  });
});
