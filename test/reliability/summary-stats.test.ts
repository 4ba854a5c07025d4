/**
 * The export per-table summary and the fulfill summary say what the
 * connection went through: retries, throttled waits and the concurrency
 * reached, from client.stats (JSON and text log formats).
 */
import { expect } from 'chai';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const TOKEN = 'rel-summary-token';

describe('reliability: summaries count retries, throttled waits and concurrency', function () {
  this.timeout(20_000);
  let dir: string;
  let sb: Sandbox | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-sum-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function pipeline(body: string): Promise<string> {
    const file = join(dir, 'p.yaml');
    await writeFile(file, `version: 1\nconnection:\n  identifier: T\n  server: ${sb!.url}\n  oAuthToken: ${TOKEN}\n  pageSize: 50\n  concurrency: 4\n  retry:\n    backoff: 1\n${body}`);
    return file;
  }
  const jsonLines = (stderr: string) => stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('export: three 429s on the users list show as 3 throttled waits in the Users table summary', async () => {
    sb = await startSandbox({ generate: { users: 300, groups: 0, members: 0, seed: 3 }, token: TOKEN, port: 0, faults: [{ kind: '429', route: 'GET /v2/Users', retryAfter: 0, times: 3, after: 1 }] });
    const file = await pipeline('export:\n  output: out\n  entities:\n    Users:\n      columns: [id]\n');
    const r = await cli(['export', file, '--log-format', 'json'], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const s = jsonLines(r.stderr).find((l) => l.msg === 'exported' && l.table === 'T_Users.csv')!;
    expect(s).to.include({ rows: 300, throttled: 3, throttledMs: 0 });
    expect(s.retries).to.be.at.least(3);
    expect(s.mostInFlight).to.be.within(1, 4);
    expect(s.lowestLimit).to.be.within(1, 4);
    expect(s.lowestLimit as number).to.be.at.most(s.mostInFlight as number);
  });

  it('fulfill: the summary line carries requests, retries and throttled waits (JSON and text)', async () => {
    sb = await startSandbox({ generate: { users: 5, groups: 0, members: 0, seed: 3 }, token: TOKEN, port: 0, faults: [{ kind: '429', route: 'PATCH /v2/Users', retryAfter: 0, times: 2 }] });
    const ids = sb.store.ids('Users');
    await mkdir(join(dir, 'orders'));
    await writeFile(join(dir, 'orders', 'T_Users.csv'), `command,id,title\n${ids.map((id) => `update,${id},Boss`).join('\n')}\n`);
    const file = await pipeline('  serviceSupportBulk: false\nfulfill:\n  orders: orders\n  results: results\n');
    const r = await cli(['fulfill', file, '--log-format', 'json'], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const s = jsonLines(r.stderr).find((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('fulfill: 5 ok'))!;
    expect(s, r.stderr).to.include({ throttled: 2, throttledMs: 0 });
    expect(s.retries).to.be.at.least(2);
    expect(s.requests).to.be.at.least(7);
    expect(s.mostInFlight).to.be.at.least(1);
    const text = await cli(['fulfill', file, '--restart'], { cwd: dir });
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stderr).to.match(/fulfill: 5 ok.*requests=\d+ retries=\d+ throttled=0 throttledMs=0/);
  });
});
