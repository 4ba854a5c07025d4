/**
 * Fulfill request execution: operations on one resource keep their order
 * (single requests and Bulk), different resources still run in parallel, and
 * a created user's id is read from the Location header when the body has none.
 */
import { expect } from 'chai';
import http from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { runFulfill } from '../../lib/fulfill.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import { idFromLocation } from '../../lib/fulfill/execute.js';
import { KeyedChains } from '../../lib/fulfill/request-sink.js';
import type { Pipeline } from '../../lib/config/types.js';
import type { ScimRequester } from '../../lib/fulfill/types.js';
import { cli } from '../helpers/io.js';
import { readResults, tempDir } from './helpers.js';
import { testFulfillPipeline } from '../helpers/model.js';

const DIRECTORY = join(import.meta.dirname, '../../samples/directory.json');
const TOKEN = 'tok-ordering';
const G = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
const G2 = 'fc348aa8-3835-40eb-a20b-c726e15c55b5';
const G3 = '0b5e2c1a-7d3f-4e8a-9b6c-5d4e3f2a1b0c';
const U = 'b3c4d5e6-1111-4a2b-9c3d-000000000006';

/** A pipeline and its orders in a fresh directory; `fulfill` lines go under `fulfill:`. */
function setup(server: string, fulfill: Record<string, string | number | boolean>, files: Record<string, string>): { dir: string; file: string } {
  const dir = tempDir();
  mkdirSync(join(dir, 'orders'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'orders', name), text);
  const lines = ['version: 1', 'connection:', '  identifier: T', `  server: ${server}`, `  oAuthToken: ${TOKEN}`, 'fulfill:', '  orders: orders', '  results: results'];
  for (const [k, v] of Object.entries(fulfill)) lines.push(`  ${k}: ${v}`);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return { dir, file };
}

const outcomes = async (dir: string, name: string) => (await readResults(join(dir, 'results', name))).map((r) => [r.orderId, r.command, r.status, r.outcome, r.detail]);

describe('fulfill: order of operations on one resource', function () {
  let sb: Sandbox;
  afterEach(async () => sb?.stop());

  it('single requests: an update then a delete of one user run in that order', async () => {
    sb = await startSandbox({ data: DIRECTORY, token: TOKEN, port: 0, faults: [{ kind: 'slow', route: 'PATCH /v2/Users', delayMs: 30 }] });
    const { dir, file } = setup(sb.url, { serviceSupportBulk: false }, { 'T_Users.csv': `command,id,title\nupdate,${U},Boss\ndelete,${U},\n` });
    const r = await cli(['fulfill', file], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(await outcomes(dir, 'T_Users.csv')).to.deep.equal([
      ['2', 'update', '200', 'ok', ''],
      ['3', 'delete', '204', 'ok', ''],
    ]);
    expect(sb.store.get('Users', U)).to.equal(undefined);
  });

  it('single requests: add U to G, add U to G2, remove U from G leaves U in G2 only', async () => {
    sb = await startSandbox({ data: DIRECTORY, token: TOKEN, port: 0, faults: [{ kind: 'slow', route: `PATCH /v2/Groups/${G}`, delayMs: 30, times: 1 }] });
    const { dir, file } = setup(sb.url, { serviceSupportBulk: false }, { 'T_members_Groups.csv': `command,value,MemberId\nadd,${G},${U}\nadd,${G2},${U}\nremove,${G},${U}\n` });
    const r = await cli(['fulfill', file], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(sb.store.memberIds(G)).to.not.include(U);
    expect(sb.store.memberIds(G2)).to.include(U);
    expect(await outcomes(dir, 'T_members_Groups.csv')).to.deep.equal([
      ['2', 'add', '200', 'ok', ''],
      ['3', 'add', '200', 'ok', ''],
      ['4', 'remove', '200', 'ok', ''],
    ]);
  });

  it('Bulk without PATCH: two updates of one user in one batch both apply (the second PUT is built after the first)', async () => {
    sb = await startSandbox({ data: DIRECTORY, token: TOKEN, port: 0, patch: false });
    const { dir, file } = setup(sb.url, { serviceSupportBulk: true }, { 'T_Users.csv': `command,id,title,displayName\nupdate,${U},Boss,\nupdate,${U},,Big Boss\n` });
    const r = await cli(['fulfill', file], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(await outcomes(dir, 'T_Users.csv')).to.deep.equal([
      ['2', 'update', '200', 'ok', ''],
      ['3', 'update', '200', 'ok', ''],
    ]);
    const user = sb.store.get('Users', U) as Record<string, unknown>;
    expect([user.title, user.displayName]).to.deep.equal(['Boss', 'Big Boss']);
    // The batch is cut before the second PUT.
    expect(sb.requests.filter((q) => q.method === 'POST').map((q) => q.path)).to.deep.equal(['/v2/Bulk', '/v2/Bulk']);
  });

  it('Bulk: operations on one group keep their order within a batch and across batches', async () => {
    sb = await startSandbox({ data: DIRECTORY, token: TOKEN, port: 0 });
    // No two consecutive rows of one group (they would share a PATCH): batch 1 adds to G and G3 and removes from G, batch 2 removes from G3.
    const lines = [`add,${G},${U}`, `add,${G3},${U}`, `remove,${G},${U}`, `remove,${G3},${U}`, `add,${G2},${U}`];
    const { dir, file } = setup(sb.url, { serviceSupportBulk: true, bulkMaxOperation: 3 }, { 'T_members_Groups.csv': `command,value,MemberId\n${lines.join('\n')}\n` });
    const r = await cli(['fulfill', file], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(sb.requests.filter((q) => q.method === 'POST').length).to.equal(2);
    expect(sb.store.memberIds(G)).to.not.include(U);
    expect(sb.store.memberIds(G3)).to.not.include(U);
    expect(sb.store.memberIds(G2)).to.include(U);
  });
});

/** runFulfill with an in-memory client whose handler may hold a request back. */
function pipeline(dir: string): Pipeline {
  return testFulfillPipeline(dir, { pageSize: 100, concurrency: 4 }, { concurrency: 4 });
}

function gatedClient(log: string[], hold: (key: string) => Promise<void> | undefined): ScimRequester {
  return {
    request: (async (req: { method?: string; path: string }) => {
      if (/ServiceProviderConfig|Schemas/.test(req.path)) throw new ScimHttpError({ method: 'GET', path: req.path }, 404, {}, 1);
      const key = `${req.method ?? 'GET'} ${req.path}`;
      log.push(`start ${key}`);
      await hold(key);
      log.push(`end ${key}`);
      return { status: req.method === 'DELETE' ? 204 : 200, body: {}, headers: {}, attempts: 1 };
    }) as ScimRequester['request'],
  };
}

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('fulfill single requests: per-resource chains', () => {
  it('waits for the previous operation on the same user before sending the next', async () => {
    const dir = tempDir({ 'orders/T_Users.csv': 'command,id,title\nupdate,x,A\ndelete,x,\nupdate,y,B\n' });
    const log: string[] = [];
    let release!: () => void;
    const yArrived = new Promise<void>((r) => (release = r));
    let deleteSentWhileHeld: boolean | undefined;
    // x's update is held until y's update (read after x's delete) has been sent:
    // no timing, only the order of events decides.
    const report = await runFulfill(pipeline(dir), {
      client: gatedClient(log, (key) => {
        if (key === 'PATCH /Users/y') {
          deleteSentWhileHeld = log.includes('start DELETE /Users/x');
          release();
        }
        return key === 'PATCH /Users/x' ? yArrived : undefined;
      }),
    });
    expect(report.counts).to.deep.equal({ ok: 3, failed: 0, skipped: 0 });
    expect(deleteSentWhileHeld).to.equal(false);
    const x = log.filter((l) => l.endsWith('/Users/x'));
    expect(x).to.deep.equal(['start PATCH /Users/x', 'end PATCH /Users/x', 'start DELETE /Users/x', 'end DELETE /Users/x']);
    // y does not wait for x.
    expect(log.indexOf('start PATCH /Users/y')).to.be.lessThan(log.indexOf('end PATCH /Users/x'));
  });

  it('runs operations on different resources in parallel', async () => {
    const dir = tempDir({ 'orders/T_Users.csv': 'command,id,title\nupdate,a,A\nupdate,b,B\n' });
    const log: string[] = [];
    let release!: () => void;
    const bArrived = new Promise<void>((r) => (release = r));
    // a is held until b has been sent: only parallel sending gets past it.
    const report = await runFulfill(pipeline(dir), {
      client: gatedClient(log, (key) => {
        if (key === 'PATCH /Users/b') release();
        return key === 'PATCH /Users/a' ? bArrived : undefined;
      }),
    });
    expect(report.counts).to.deep.equal({ ok: 2, failed: 0, skipped: 0 });
    expect(log.slice(0, 2)).to.deep.equal(['start PATCH /Users/a', 'start PATCH /Users/b']);
  });
});

describe('KeyedChains', () => {
  it('chains per key, even after a failure, and forgets a key once its chain settles', async () => {
    const chains = new KeyedChains();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`start ${name}`);
      await ticks(3);
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
    };
    const all = [chains.run('k', task('k1', true)).catch(() => undefined), chains.run('k', task('k2')), chains.run(undefined, task('free'))];
    expect(chains.size).to.equal(1);
    await Promise.all(all);
    expect(log.filter((l) => l.includes('k'))).to.deep.equal(['start k1', 'end k1', 'start k2', 'end k2']);
    expect(log.indexOf('start free')).to.be.lessThan(log.indexOf('end k1'));
    await ticks(1);
    expect(chains.size).to.equal(0);
  });
});

describe('fulfill single requests: the created id from Location', () => {
  let srv: http.Server | undefined;
  afterEach(() => srv?.close());

  it('an insert answered 201 + Location without a body gets its id, and @orderId memberships use it', async () => {
    const seen: string[] = [];
    srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.method === 'POST' && req.url === '/v2/Users') {
          res.writeHead(201, { Location: `http://127.0.0.1/v2/Users/new%20id-1` });
          return res.end();
        }
        if (req.method === 'PATCH') {
          res.writeHead(204);
          return res.end();
        }
        res.writeHead(404, { 'content-type': 'application/scim+json' });
        res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not here' }));
      });
    });
    await new Promise<void>((r) => srv!.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const { dir, file } = setup(url, { serviceSupportBulk: false }, {
      'T_Users.csv': 'command,orderId,userName\ninsert,n1,n1@example.com\n',
      'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,@n1\n',
    });
    const r = await cli(['fulfill', file], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const users = await readResults(join(dir, 'results/T_Users.csv'));
    expect(users.map((u) => [u.orderId, u.id, u.outcome])).to.deep.equal([['n1', 'new id-1', 'ok']]);
    expect(await outcomes(dir, 'T_members_Groups.csv')).to.deep.equal([['2', 'add', '204', 'ok', '']]);
    const patch = seen.find((s) => s.startsWith('PATCH /v2/Groups/g1 '));
    expect(JSON.parse(patch!.slice('PATCH /v2/Groups/g1 '.length)).Operations).to.deep.equal([{ op: 'add', path: 'members', value: [{ value: 'new id-1' }] }]);
  });

  it('idFromLocation takes the last path segment, decoded', () => {
    expect(idFromLocation('https://h/v2/Users/id%20a')).to.equal('id a');
    expect(idFromLocation('https://h/v2/Users/abc/')).to.equal('abc');
    expect(idFromLocation(undefined)).to.equal(undefined);
    expect(idFromLocation('')).to.equal(undefined);
    expect(idFromLocation('https://h/v2/Users/100%')).to.equal('100%');
  });
});
