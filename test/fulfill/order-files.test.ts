/**
 * Which order files a run reads, and what happens to the results when one
 * cannot be read: checked before anything is sent, and never losing the
 * results of what was sent.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { runFulfill } from '../../lib/fulfill.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import type { Pipeline } from '../../lib/config/types.js';
import type { ScimRequester } from '../../lib/fulfill/types.js';
import { cli } from '../helpers/io.js';
import { readResults, tempDir } from './helpers.js';

const DIRECTORY = join(resolve(import.meta.dirname, '../..'), 'samples/directory.json');
const TOKEN = 'sandbox-token-for-tests';

function pipelineFile(dir: string, fulfill: string[] = []): string {
  const file = join(dir, 'p.yaml');
  const given = (key: string) => fulfill.some((l) => l.startsWith(`${key}:`));
  const defaults = ['orders: orders', 'results: results'].filter((l) => !given(l.split(':')[0]!));
  writeFileSync(file, ['version: 1', 'connection:', '  identifier: T', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'fulfill:', ...[...defaults, ...fulfill].map((l) => `  ${l}`)].join('\n') + '\n');
  return file;
}

function pipeline(dir: string): Pipeline {
  return {
    version: 1,
    file: join(dir, 'p.yaml'),
    connection: { identifier: 'T', server: 'http://127.0.0.1:1', scimSyntax: 'RFC', pageSize: 100, concurrency: 1, insecure: false, timeoutMs: 1000, retry: { limit: 0, maxRetryAfterMs: 0, backoffMs: 0 }, secrets: {} },
    fulfill: { orders: ['orders'], results: 'results', serviceSupportBulk: false, bulkMaxOperation: 10, concurrency: 1, maxMembersPerPatch: 1000, onConflict: 'fail', nullMarker: '#null' },
  };
}

describe('fulfill order files', function () {
  let sb: Sandbox;
  let env: Record<string, string>;
  beforeEach(async () => {
    sb = await startSandbox({ port: 0, data: DIRECTORY, token: TOKEN });
    env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  });
  afterEach(async () => {
    await sb.stop();
  });

  it('reads only the regular files of an orders directory: a directory named B_Users.csv is not an order file', async () => {
    const dir = tempDir({ 'orders/A_Users.csv': 'command,orderId,userName\ninsert,a1,dir1@example.com\n' });
    mkdirSync(join(dir, 'orders/B_Users.csv'));
    const r = await cli(['fulfill', pipelineFile(dir)], { env, cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(readdirSync(join(dir, 'results'))).to.deep.equal(['.T.journal.ndjson', 'A_Users.csv']);
    expect((await readResults(join(dir, 'results/A_Users.csv'))).map((x) => [x.orderId, x.outcome])).to.deep.equal([['a1', 'ok']]);
  });

  it('refuses an order file it cannot read with a config error (78) before sending anything, results untouched', async () => {
    const dir = tempDir({ 'orders/A_Users.csv': 'command,orderId,userName\ninsert,a1,dir1@example.com\n', 'results/A_Users.csv': 'previous run\n' });
    symlinkSync(join(dir, 'nowhere.csv'), join(dir, 'orders/B_Users.csv'));
    const r = await cli(['fulfill', pipelineFile(dir)], { env, cwd: dir });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/ERR_CONFIG_ORDERS_UNREADABLE cannot read order file .*B_Users\.csv: ENOENT/);
    expect(sb.requests).to.deep.equal([]);
    expect(readdirSync(join(dir, 'results'))).to.deep.equal(['A_Users.csv']);
    expect(readFileSync(join(dir, 'results/A_Users.csv'), 'utf8')).to.equal('previous run\n');
  });

  for (const bulk of [false, true]) {
    it(`keeps inserts without an orderId apart across users files, @<line> only where it is unambiguous (${bulk ? 'Bulk' : 'single'})`, async () => {
      const group = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
      const dir = tempDir({
        'orders/A_Users.csv': 'command,userName\ninsert,alpha1@example.com\ninsert,alpha2@example.com\n',
        'orders/B_Users.csv': 'command,orderId,userName\ninsert,b2,beta2@example.com\ninsert,,beta1@example.com\n',
        'orders/A_members_Groups.csv': `command,value,MemberId\nadd,${group},@2\nadd,${group},@3\nadd,${group},@b2\n`,
      });
      const r = await cli(['fulfill', pipelineFile(dir, [`serviceSupportBulk: ${bulk}`])], { env, cwd: dir });
      expect(r.code, r.stderr).to.equal(2);
      const rows = async (name: string) => (await readResults(join(dir, 'results', name))).map((x) => [x.orderId, x.outcome, x.detail.split(':')[0]]);
      expect(await rows('A_Users.csv')).to.deep.equal([['2', 'ok', ''], ['3', 'ok', '']]);
      expect(await rows('B_Users.csv')).to.deep.equal([['b2', 'ok', ''], ['3', 'ok', '']]);
      // Line 2 without an orderId is in A only; line 3 in both files.
      expect(await rows('A_members_Groups.csv')).to.deep.equal([
        ['2', 'ok', ''],
        ['3', 'failed', 'ERR_ORDER_AMBIGUOUS_REFERENCE'],
        ['4', 'ok', ''],
      ]);
      const names = sb.store.memberIds(group).map((id) => sb.store.users.find((u) => u.id === id)?.userName);
      expect(names).to.include.members(['alpha1@example.com', 'beta2@example.com']).and.not.include.members(['alpha2@example.com']);
      expect(names).to.not.include('beta1@example.com');
    });
  }

  it('refuses a results directory that holds order files (78, nothing sent, orders intact)', async () => {
    const orders = 'command,orderId,userName\ninsert,a1,dir1@example.com\n';
    const dir = tempDir({ 'orders/A_Users.csv': orders });
    writeFileSync(join(dir, 'B_Users.csv'), orders);
    const runs = [
      () => [pipelineFile(dir, ['results: orders'])],
      () => [pipelineFile(dir, ['results: ./orders/'])],
      () => [pipelineFile(dir), '--results', 'orders'],
      () => [pipelineFile(dir, ['orders: .', 'results: .'])],
    ];
    for (const args of runs) {
      const argv = args();
      const r = await cli(['fulfill', ...argv], { env, cwd: dir });
      expect(r.code, argv.join(' ')).to.equal(78);
      expect(r.stderr).to.match(/ERR_CONFIG_RESULTS_IN_ORDERS the results directory .* holds the order file [AB]_Users\.csv/);
    }
    expect(sb.requests).to.deep.equal([]);
    expect(readFileSync(join(dir, 'orders/A_Users.csv'), 'utf8')).to.equal(orders);
  });

  it('credentials refused at discovery: exit 1, nothing written, the previous results files left as they were', async () => {
    const dir = tempDir({ 'orders/A_Users.csv': 'command,orderId,userName\ninsert,a1,dir1@example.com\n', 'results/A_Users.csv': 'previous run\n' });
    const r = await cli(['fulfill', pipelineFile(dir)], { env: { ...env, SCIM_TOKEN: 'wrong-token' }, cwd: dir });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_AUTH/);
    expect(sb.requests.every((q) => q.method === 'GET')).to.equal(true);
    expect(readdirSync(join(dir, 'results'))).to.deep.equal(['A_Users.csv']);
    expect(readFileSync(join(dir, 'results/A_Users.csv'), 'utf8')).to.equal('previous run\n');
  });

  it('refuses an orders path that is neither a file nor a directory', async () => {
    const dir = tempDir({});
    const r = await cli(['fulfill', pipelineFile(dir), '--orders', '/dev/null'], { env, cwd: dir });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/ERR_CONFIG_ORDERS_NOT_FILE/);
    expect(sb.requests).to.deep.equal([]);
  });
});

describe('fulfill limits', function () {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });
  const start = async (bulk?: { supported: boolean; maxPayloadSize: number }) => {
    sb = await startSandbox({ port: 0, data: DIRECTORY, token: TOKEN, ...(bulk ? { bulk } : {}) });
    return { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  };

  it('refuses fulfill.concurrency over 256 when the pipeline is read: validate and fulfill exit 78, nothing sent', async () => {
    const env = await start();
    const dir = tempDir({ 'orders/S_Users.csv': 'command,userName\ninsert,c1@example.com\n' });
    const file = pipelineFile(dir, ['concurrency: 1000']);
    const v = await cli(['validate', file], { env, cwd: dir });
    expect(v.code).to.equal(78);
    expect(v.stdout + v.stderr).to.match(/ERR_CONFIG_TYPE expected integer from 1 to 256, got 1000 \(fulfill\.concurrency\)/);
    const r = await cli(['fulfill', file], { env, cwd: dir });
    expect(r.code).to.equal(78);
    expect(sb!.requests).to.deep.equal([]);
    expect(existsSync(join(dir, 'results'))).to.equal(false);
    const ok = await cli(['validate', pipelineFile(dir, ['concurrency: 256'])], { env, cwd: dir });
    expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
  });

  it('leaves no temp results file when a stage refuses its options', async () => {
    const dir = tempDir({ 'orders/S_Users.csv': 'command,userName\ninsert,c1@example.com\n' });
    const pipe = pipeline(dir);
    pipe.fulfill!.concurrency = 1000;
    const client: ScimRequester = { request: (async () => { throw new ScimHttpError({ method: 'GET', path: '/' }, 404, {}, 1); }) as ScimRequester['request'] };
    let error: unknown;
    await runFulfill(pipe, { client }).catch((e) => (error = e));
    expect((error as { code?: string }).code).to.equal('ERR_OPTION_CONCURRENCY');
    expect(existsSync(join(dir, 'results')) ? readdirSync(join(dir, 'results')) : []).to.deep.equal([]);
  });

  it("sends one operation per Bulk request, with a warning, when the server's maxPayloadSize is too small for a batch", async () => {
    const env = await start({ supported: true, maxPayloadSize: 100 });
    const dir = tempDir({ 'orders/X_Users.csv': 'command,orderId,userName\ninsert,u1,pl1@example.com\ninsert,u2,pl2@example.com\n' });
    const r = await cli(['fulfill', pipelineFile(dir, ['serviceSupportBulk: true'])], { env, cwd: dir });
    expect(r.code, r.stderr).to.not.equal(78);
    expect(r.stderr).to.match(/maxPayloadSize of 100 bytes, too small for any batch: sending one operation per Bulk request/);
    expect(sb!.requests.filter((q) => q.path === '/v2/Bulk')).to.have.length(2);
    expect((await readResults(join(dir, 'results/X_Users.csv'))).map((x) => x.orderId)).to.deep.equal(['u1', 'u2']);
    expect(readdirSync(join(dir, 'results'))).to.deep.equal(['.T.journal.ndjson', 'X_Users.csv']);
  });
});

describe('fulfill when an order file becomes unreadable during the run', () => {
  it('drains the requests in flight, keeps their real outcomes in the journal, leaves the previous results; the rerun reports them without sending again', async () => {
    // More lines in A than fulfill reads ahead (two groups of 32 insert intents), so that B is opened late.
    const names = Array.from({ length: 150 }, (_, i) => `a${i + 1}@x`);
    const dir = tempDir({
      'orders/A_Users.csv': 'command,orderId,userName\n' + names.map((n) => `insert,${n.split('@')[0]},${n}\n`).join(''),
      'orders/B_Users.csv': 'command,orderId,userName\ninsert,b1,b1@x\n',
      'results/A_Users.csv': 'previous run\n',
    });
    const posts: string[] = [];
    let release!: () => void;
    const bothSent = new Promise<void>((r) => (release = r));
    const client: ScimRequester = {
      request: (async (req: { method?: string; path: string; json?: { userName?: string }; searchParams?: { filter?: string } }) => {
        if (/ServiceProviderConfig|Schemas/.test(req.path)) throw new ScimHttpError({ method: 'GET', path: req.path }, 404, {}, 1);
        if (req.method === 'GET') {
          // A lookup by userName: the users created so far.
          const name = /"(.*)"/.exec(req.searchParams?.filter ?? '')?.[1];
          return { status: 200, body: { Resources: posts.filter((p) => p === name).map((p) => ({ id: `id-${p}`, userName: p })) }, headers: {}, attempts: 1 };
        }
        posts.push(req.json!.userName!);
        if (posts.length === 2) {
          // Two inserts of A are in flight, the rest wait for a slot (B not opened yet):
          // B turns into a directory behind the run's back.
          rmSync(join(dir, 'orders/B_Users.csv'));
          mkdirSync(join(dir, 'orders/B_Users.csv'));
          setTimeout(release, 20);
        }
        // The first answers come only once B is gone.
        await bothSent;
        return { status: 201, body: { id: `id-${req.json!.userName}` }, headers: {}, attempts: 1 };
      }) as ScimRequester['request'],
    };
    const pipe = pipeline(dir);
    pipe.fulfill!.concurrency = 2;
    const report = await runFulfill(pipe, { client });
    expect(report.exitCode).to.equal(1);
    expect(report.fatal?.code).to.equal('ERR_FULFILL_ORDERS_READ');
    // The lines of A after a2 may or may not have gone out before the failure stopped sending; a1 and a2 did, b1 not.
    expect(posts.slice(0, 2)).to.deep.equal(['a1@x', 'a2@x']);
    expect(posts).to.not.include('b1@x');
    // Every sent request got its real outcome (not `skipped`), with the created id; nothing else has one.
    const journal = readFileSync(join(dir, 'results/.T.journal.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const line = (name: string) => 2 + names.indexOf(name);
    expect(journal.filter((r) => r.o).map((r) => [r.l, r.o.outcome, r.o.id])).to.deep.equal(posts.map((p) => [line(p), 'ok', `id-${p}`]));
    expect(report.counts).to.deep.equal({ ok: posts.length, failed: 0, skipped: names.length - posts.length });
    expect(readFileSync(join(dir, 'results/A_Users.csv'), 'utf8')).to.equal('previous run\n');
    expect(readdirSync(join(dir, 'results')).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);

    // B is readable again: the rerun sends only what was not sent and reports the rest as it was.
    rmSync(join(dir, 'orders/B_Users.csv'), { recursive: true });
    writeFileSync(join(dir, 'orders/B_Users.csv'), 'command,orderId,userName\ninsert,b1,b1@x\n');
    const again = await runFulfill(pipe, { client });
    expect(again.exitCode).to.equal(0);
    // Each user was created once.
    expect([...posts].sort()).to.deep.equal([...names, 'b1@x'].sort());
    expect((await readResults(join(dir, 'results/A_Users.csv'))).map((x) => [x.orderId, x.outcome, x.id])).to.deep.equal(names.map((n) => [n.split('@')[0], 'ok', `id-${n}`]));
    expect((await readResults(join(dir, 'results/B_Users.csv'))).map((x) => [x.orderId, x.outcome, x.id])).to.deep.equal([['b1', 'ok', 'id-b1@x']]);
  });
});
