/**
 * Server-driven defaults against a sandbox with low limits in its SPC
 * (filter.maxResults 50, bulk.maxOperations 7, a small maxPayloadSize, Bulk
 * off, ETags): what the sandbox received — page sizes, operations per Bulk
 * request, If-Match headers — not only what the log says.
 */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lib/cli/main.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { advertisedPageCap, maxOperationsSetting, pageSizeSetting } from '../../lib/scim/server-defaults.js';
import { tempDir } from '../fulfill/helpers.js';

const TOKEN = 'sandbox-token-for-tests';

async function cli(argv: string[], env: Record<string, string>, cwd: string) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const code = await run({ argv, env, stdout: out, stderr: err, cwd });
  return { code, stdout, stderr };
}

const countsOf = (sb: Sandbox, path: string) =>
  sb.requests.filter((r) => r.method === 'GET' && r.path === path).map((r) => Number(new URLSearchParams(r.query).get('count') ?? NaN)).filter((n) => !Number.isNaN(n));
const bulkSizes = (sb: Sandbox) => sb.requests.filter((r) => r.method === 'POST' && r.path === '/v2/Bulk').map((r) => r.operations);

describe('server-driven defaults', function () {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  async function start(opts: SandboxOptions) {
    sb = await startSandbox({ port: 0, token: TOKEN, generate: { users: 120, groups: 2, seed: 7 }, maxResults: 50, ...opts });
    return { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  }

  function pipeline(dir: string, lines: string[]): string {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: T', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', ...lines].join('\n') + '\n');
    return file;
  }

  describe('page size', () => {
    it('takes the page size from filter.maxResults when the pipeline sets none, and says so under --verbose', async () => {
      const env = await start({});
      const dir = tempDir();
      const r = await cli(['export', pipeline(dir, ['export:', '  output: out', '  entities:', '    Users: {columns: [id, userName]}']), '--verbose', '--no-progress'], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      const counts = countsOf(sb!, '/v2/Users');
      expect(counts.length).to.be.greaterThan(2);
      expect(Math.max(...counts)).to.equal(50);
      expect(counts.filter((c) => c === 50).length).to.be.at.least(3); // 120 users: pages of 50
      expect(r.stderr).to.match(/page size 50 \(server SPC: (filter\.maxResults|pagination\.maxPageSize) 50\)/);
      expect(readFileSync(join(dir, 'out/T_Users.csv'), 'utf8').trim().split('\n')).to.have.length(121);
    });

    it('caps a larger pipeline pageSize at the server limit, with a warning', async () => {
      const env = await start({});
      const dir = tempDir();
      const r = await cli(['export', pipeline(dir, ['  pageSize: 500', 'export:', '  output: out', '  entities:', '    Users: {columns: [id]}']), '--no-progress'], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(Math.max(...countsOf(sb!, '/v2/Users'))).to.equal(50);
      expect(r.stderr).to.match(/connection\.pageSize 500 is more than the server's \S+ 50: asking for 50 per page/);
    });

    it('keeps a smaller pipeline pageSize, named as the pipeline\'s', async () => {
      const env = await start({});
      const dir = tempDir();
      const r = await cli(['export', pipeline(dir, ['  pageSize: 30', 'export:', '  output: out', '  entities:', '    Users: {columns: [id]}']), '--verbose', '--no-progress'], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(Math.max(...countsOf(sb!, '/v2/Users'))).to.equal(30);
      expect(r.stderr).to.include('page size 30 (pipeline: connection.pageSize)');
    });
  });

  describe('Bulk', () => {
    function updates(dir: string, sandbox: Sandbox, n: number) {
      mkdirSync(join(dir, 'orders'), { recursive: true });
      const ids = sandbox.store.users.slice(0, n).map((u) => u.id!);
      writeFileSync(join(dir, 'orders/T_Users.csv'), 'command,id,title\n' + ids.map((id, i) => `update,${id},Title ${i}\n`).join(''));
      return ids;
    }

    it('default batches of 100 operations are capped at bulk.maxOperations 7', async () => {
      const env = await start({ bulk: { supported: true, maxOperations: 7 } });
      const dir = tempDir();
      const ids = updates(dir, sb!, 20);
      const r = await cli(['fulfill', pipeline(dir, ['fulfill:', '  orders: orders', '  results: results', '  serviceSupportBulk: true']), '--verbose'], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(bulkSizes(sb!)).to.deep.equal([7, 7, 6]);
      expect(r.stderr).to.include('bulkMaxOperation 7 (server SPC: bulk.maxOperations 7)');
      expect(ids.map((id) => sb!.store.get('Users', id)!.title)).to.deep.equal(ids.map((_, i) => `Title ${i}`));
    });

    it('without a server limit a batch holds up to 100 operations (the new default)', async () => {
      const env = await start({ bulk: { supported: true, maxOperations: 1000 } });
      const dir = tempDir();
      updates(dir, sb!, 110);
      const r = await cli(['fulfill', pipeline(dir, ['fulfill:', '  orders: orders', '  results: results', '  serviceSupportBulk: true'])], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(bulkSizes(sb!)).to.deep.equal([100, 10]);
    });

    it('splits batches to stay within a small bulk.maxPayloadSize', async () => {
      const env = await start({ bulk: { supported: true, maxOperations: 7, maxPayloadSize: 900 } });
      const dir = tempDir();
      const ids = updates(dir, sb!, 20);
      const r = await cli(['fulfill', pipeline(dir, ['fulfill:', '  orders: orders', '  results: results', '  serviceSupportBulk: true'])], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      const sizes = bulkSizes(sb!);
      expect(sizes.reduce((a, b) => a! + b!, 0)).to.equal(20);
      expect(sizes.length).to.be.greaterThan(3);
      expect(Math.max(...(sizes as number[]))).to.be.lessThan(7);
      // The sandbox refuses a body over maxPayloadSize with 413: none came back.
      expect(sb!.requests.filter((q) => q.path === '/v2/Bulk').every((q) => q.status === 200)).to.equal(true);
      expect(ids.every((id, i) => sb!.store.get('Users', id)!.title === `Title ${i}`)).to.equal(true);
    });

    it('sends single requests where the SPC says Bulk is not supported', async () => {
      const env = await start({ bulk: { supported: false } });
      const dir = tempDir();
      updates(dir, sb!, 5);
      const r = await cli(['fulfill', pipeline(dir, ['fulfill:', '  orders: orders', '  results: results', '  serviceSupportBulk: true']), '--verbose'], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(bulkSizes(sb!)).to.deep.equal([]);
      expect(sb!.requests.filter((q) => q.method === 'PATCH')).to.have.length(5);
      expect(r.stderr).to.include('serviceSupportBulk false (server SPC: bulk.supported false)');
    });
  });

  describe('If-Match', () => {
    it('sends If-Match with the version the user has, when fulfill.ifMatch is on and the server has ETags', async () => {
      const env = await start({ etag: true });
      const dir = tempDir();
      mkdirSync(join(dir, 'orders'));
      const [a, b] = sb!.store.users.slice(0, 2).map((u) => u.id!);
      writeFileSync(join(dir, 'orders/T_Users.csv'), `command,id,title\nupdate,${a},Boss\ndelete,${b},\n`);
      const version = sb!.store.etagOf(sb!.store.entry('Users', a!)!);
      const r = await cli(['fulfill', pipeline(dir, ['fulfill:', '  orders: orders', '  results: results', '  ifMatch: true'])], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(sb!.requests.filter((q) => q.method === 'PATCH').map((q) => q.ifMatch)).to.deep.equal([version]);
      expect(sb!.requests.filter((q) => q.method === 'DELETE').map((q) => q.ifMatch)).to.have.length(1).and.not.include(undefined);
      expect(sb!.store.get('Users', a!)!.title).to.equal('Boss');
      expect(sb!.store.get('Users', b!)).to.equal(undefined);
    });

    it('sends no If-Match without fulfill.ifMatch, nor where the server has no ETags (with a warning)', async () => {
      const env = await start({ etag: false });
      const dir = tempDir();
      mkdirSync(join(dir, 'orders'));
      const a = sb!.store.users[0]!.id!;
      writeFileSync(join(dir, 'orders/T_Users.csv'), `command,id,title\nupdate,${a},Boss\n`);
      const r = await cli(['fulfill', pipeline(dir, ['fulfill:', '  orders: orders', '  results: results', '  ifMatch: true'])], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(sb!.requests.filter((q) => q.method === 'PATCH').map((q) => q.ifMatch)).to.deep.equal([undefined]);
      expect(r.stderr).to.include('the server does not advertise ETags');
    });
  });

  describe('the pure rules', () => {
    it('page size: the smaller of filter.maxResults and pagination.maxPageSize caps; a smaller pipeline value stands', () => {
      const spc = { filter: { supported: true, maxResults: 80 }, pagination: { maxPageSize: 60 } };
      expect(advertisedPageCap(spc)).to.deep.equal({ max: 60, field: 'pagination.maxPageSize' });
      expect(pageSizeSetting(spc, 200, false)).to.deep.include({ value: 60, from: 'server SPC' });
      expect(pageSizeSetting(spc, 40, true)).to.deep.include({ value: 40, from: 'pipeline' });
      expect(pageSizeSetting(undefined, 200, false)).to.deep.include({ value: 200, from: 'default' });
      expect(pageSizeSetting({ filter: { maxResults: '0' } }, 200, false)).to.deep.include({ value: 200, from: 'default' });
    });

    it('operations per Bulk request: the default 100 within bulk.maxOperations, a pipeline value over it warned', () => {
      expect(maxOperationsSetting({}, 100, false)).to.deep.include({ value: 100, from: 'default' });
      expect(maxOperationsSetting({ maxOperations: 7 }, 100, false)).to.deep.include({ value: 7, from: 'server SPC' }).and.not.have.property('warning');
      expect(maxOperationsSetting({ maxOperations: 7 }, 50, true).warning).to.match(/fulfill\.bulkMaxOperation 50 is more than the server's bulk\.maxOperations 7/);
    });
  });
});

