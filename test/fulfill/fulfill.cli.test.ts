/**
 * fulfill end to end: the real CLI parser against the sandbox server in-process.
 */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { run } from '../../lib/cli/main.js';
import { tempDir, readResults, journalOutcomes } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLE_PIPELINE = join(ROOT, 'pipelines/fulfill-users.yaml');
const DIRECTORY = join(ROOT, 'samples/directory.json');
const TOKEN = 'sandbox-token-for-tests';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const TOUR_GUIDES = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
const SALES = 'fc348aa8-3835-40eb-a20b-c726e15c55b5';
const USERS_HEADER = 'command,id,orderId,userName,title';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const code = await run({ argv, env, stdout: out, stderr: err, cwd });
  return { code, stdout, stderr };
}

/** Writes a pipeline next to its orders; `fulfill` lines are YAML under `fulfill:`. */
function pipelineWith(dir: string, fulfill: Record<string, string | number | boolean>): string {
  const lines = ['version: 1', 'connection:', '  identifier: T', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'fulfill:', '  results: results'];
  if (!('orders' in fulfill)) lines.push('  orders: orders');
  for (const [k, v] of Object.entries(fulfill)) lines.push(`  ${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`);
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function orders(dir: string, files: Record<string, string>): void {
  mkdirSync(join(dir, 'orders'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'orders', name), text);
}

/** The directory as comparable data: users by userName (no ids or meta), groups' members as userNames. */
function stateOf(sb: Sandbox) {
  const nameOf = new Map(sb.store.users.map((u) => [u.id!, u.userName as string]));
  const users = Object.fromEntries(
    sb.store.users.map((u) => {
      const { id: _id, meta: _meta, groups: _groups, ...rest } = u as Record<string, unknown>;
      return [u.userName as string, rest];
    }),
  );
  const groups = Object.fromEntries(sb.store.groups.map((g) => [g.displayName as string, sb.store.memberIds(g.id!).map((m) => nameOf.get(m) ?? m).sort()]));
  return { users, groups };
}

const writes = (sb: Sandbox) => sb.requests.filter((r) => r.method !== 'GET');

describe('fulfill command against the sandbox', function () {
  let sb: Sandbox;
  let env: Record<string, string>;

  async function start(opts: SandboxOptions = {}) {
    sb = await startSandbox({ port: 0, data: DIRECTORY, token: TOKEN, ...opts });
    env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  }
  afterEach(async () => {
    await sb?.stop();
  });

  it('applies the shipped sample orders with Bulk: expected state and results files', async () => {
    await start();
    const dir = tempDir();
    const r = await cli(['fulfill', SAMPLE_PIPELINE, '--results', join(dir, 'results')], env, dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(sb.requests.filter((q) => q.method === 'POST').map((q) => q.path)).to.deep.equal(['/v2/Bulk']);

    const ada = sb.store.findUserByName('ada.lovelace@example.com')!;
    const alan = sb.store.findUserByName('alan.turing@example.com')!;
    expect(ada).to.deep.include({ name: { givenName: 'Ada', familyName: 'Lovelace' }, active: true, title: 'Analyst' });
    expect(ada.emails).to.deep.equal([{ type: 'work', value: 'ada.lovelace@example.com' }]);
    expect(ada[ENT]).to.deep.equal({ employeeNumber: 'E1001', department: 'Research' });
    const lukasz = sb.store.get('Users', 'b3c4d5e6-1111-4a2b-9c3d-000000000006')!;
    expect(lukasz.title).to.equal('Engineer');
    expect((lukasz[ENT] as Record<string, unknown>).employeeNumber).to.equal('E0006');
    expect(sb.store.get('Users', '2819c223-7f76-453a-919d-413861904646')!.title).to.equal(undefined);
    expect(sb.store.get('Users', 'b3c4d5e6-1111-4a2b-9c3d-000000000004')!.active).to.equal(true);
    expect(sb.store.get('Users', 'b3c4d5e6-1111-4a2b-9c3d-000000000010')).to.equal(undefined);
    expect(sb.store.memberIds(TOUR_GUIDES).sort()).to.deep.equal(['2819c223-7f76-453a-919d-413861904646', ada.id!, alan.id!].sort());
    expect(sb.store.memberIds(SALES)).to.include('b3c4d5e6-1111-4a2b-9c3d-000000000006');

    // The results files, byte for byte, against samples/expected/ (created ids vary: masked).
    for (const name of ['SCIMExport_Users.csv', 'SCIMExport_members_Groups.csv']) {
      const got = readFileSync(join(dir, 'results', name), 'utf8').replace(ada.id!, '<created>').replace(alan.id!, '<created>');
      expect(got, name).to.equal(readFileSync(join(ROOT, 'samples/expected/fulfill-users', name), 'utf8'));
    }
    const users = await readResults(join(dir, 'results/SCIMExport_Users.csv'));
    expect(users.map((u) => [u.orderId, u.command, u.status, u.outcome, u.attempts])).to.deep.equal([
      ['ada', 'insert', '201', 'ok', '1'],
      ['alan', 'insert', '201', 'ok', '1'],
      ['lukasz-title', 'update', '200', 'ok', '1'],
      ['bjensen-no-title', 'update', '200', 'ok', '1'],
      ['sean-back', 'update', '200', 'ok', '1'],
      ['soren-leaves', 'delete', '204', 'ok', '1'],
    ]);
    expect(users[0]!.id).to.equal(ada.id);
    expect(users[5]!.id).to.equal('b3c4d5e6-1111-4a2b-9c3d-000000000010');
    const members = await readResults(join(dir, 'results/SCIMExport_members_Groups.csv'));
    expect(members.map((m) => [m.orderId, m.command, m.id, m.outcome])).to.deep.equal([
      ['2', 'add', TOUR_GUIDES, 'ok'],
      ['3', 'add', TOUR_GUIDES, 'ok'],
      ['4', 'remove', TOUR_GUIDES, 'ok'],
      ['5', 'add', SALES, 'ok'],
    ]);
  });

  it('gives the same final state with single requests as with Bulk, across batch boundaries too', async () => {
    const states = [];
    for (const settings of <Array<Record<string, number | boolean>>>[{ serviceSupportBulk: true, bulkMaxOperation: 10 }, { serviceSupportBulk: true, bulkMaxOperation: 1 }, { serviceSupportBulk: false, concurrency: 3 }]) {
      await start();
      const dir = tempDir();
      const file = pipelineWith(dir, { ...settings, orders: join(ROOT, 'samples/orders') });
      const r = await cli(['fulfill', file], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      const posts = sb.requests.filter((q) => q.method === 'POST').map((q) => q.path);
      if (settings.serviceSupportBulk) expect(posts.every((p) => p === '/v2/Bulk')).to.equal(true);
      else expect(posts).to.deep.equal(['/v2/Users', '/v2/Users']);
      states.push(stateOf(sb));
      await sb.stop();
    }
    expect(states[1]).to.deep.equal(states[0]);
    expect(states[2]).to.deep.equal(states[0]);
    expect(states[0]!.groups['Tour Guides']).to.deep.equal(['ada.lovelace@example.com', 'alan.turing@example.com', 'bjensen@example.com']);
  });

  it("respects the server's bulk maxPayloadSize and maxOperations, and maxMembersPerPatch", async () => {
    await start({ bulk: { supported: true, maxOperations: 3, maxPayloadSize: 1500 } });
    const dir = tempDir();
    const r = await cli(['fulfill', pipelineWith(dir, { orders: join(ROOT, 'samples/orders'), serviceSupportBulk: true, bulkMaxOperation: 100, maxMembersPerPatch: 1 })], env, dir);
    expect(r.code, r.stderr).to.equal(0);
    // 6 user operations + 4 one-member PATCHes, never more than 3 per request nor 1500 bytes.
    const bulks = sb.requests.filter((q) => q.method === 'POST' && q.path === '/v2/Bulk');
    expect(bulks.length).to.be.greaterThanOrEqual(4);
    expect(bulks.every((q) => q.status === 200)).to.equal(true);
    const members = await readResults(join(dir, 'results/SCIMExport_members_Groups.csv'));
    expect(members.map((m) => m.outcome)).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
    expect(sb.store.memberIds(TOUR_GUIDES)).to.include(sb.store.userIdByName('ada.lovelace@example.com'));
  });

  for (const bulk of [true, false]) {
    it(`reports a failing operation on its own line only (${bulk ? 'Bulk' : 'single'})`, async () => {
      await start();
      const dir = tempDir();
      orders(dir, {
        'T_Users.csv': [USERS_HEADER, 'insert,,n1,new1@example.com,A', 'update,no-such-id,u1,,B', 'insert,,dup,bjensen@example.com,C', 'insert,,n2,new2@example.com,D'].join('\n') + '\n',
        'T_members_Groups.csv': ['command,value,MemberId', `add,${SALES},@n1`, `add,${SALES},@dup`, `add,no-such-group,@n2`].join('\n') + '\n',
      });
      const r = await cli(['fulfill', pipelineWith(dir, { serviceSupportBulk: bulk, bulkMaxOperation: 10 })], env, dir);
      expect(r.code, r.stderr).to.equal(2);
      const users = await readResults(join(dir, 'results/T_Users.csv'));
      expect(users.map((u) => [u.orderId, u.status, u.outcome, u.scimType])).to.deep.equal([
        ['n1', '201', 'ok', ''],
        ['u1', '404', 'failed', ''],
        ['dup', '409', 'failed', 'uniqueness'],
        ['n2', '201', 'ok', ''],
      ]);
      const members = await readResults(join(dir, 'results/T_members_Groups.csv'));
      expect(members.map((m) => [m.orderId, m.outcome])).to.deep.equal([
        ['2', 'ok'],
        ['3', 'failed'],
        ['4', 'failed'],
      ]);
      expect(members[1]!.detail).to.match(/ERR_ORDER_REFERENCE_FAILED/);
      expect(members[2]!.status).to.equal('404');
      expect(sb.store.memberIds(SALES)).to.include(sb.store.userIdByName('new1@example.com'));
    });
  }

  it('writes every invalid row to the results with its code, and sends the valid ones', async () => {
    await start();
    const dir = tempDir();
    orders(dir, {
      'T_Users.csv': [
        'command,id,orderId,userName,active,nope,meta:created',
        'insert,,ok1,fresh@example.com,true,,',
        'upsert,,bad-cmd,x,,,',
        'update,,no-id,,true,,',
        'insert,,bad-bool,y@example.com,maybe,,',
        'insert,,unknown-col,z@example.com,,1,',
        'insert,,read-only,w@example.com,,,2024-01-01T00:00:00Z',
        'insert,,short',
      ].join('\n') + '\n',
      'T_members_Groups.csv': ['command,value,MemberId', `add,${SALES},@ghost`, `join,${SALES},x`, `add,${SALES},@ok1`].join('\n') + '\n',
      'T_Groups.csv': 'command,id,displayName\ninsert,,New group\n',
    });
    const r = await cli(['fulfill', pipelineWith(dir, { serviceSupportBulk: true })], env, dir);
    expect(r.code, r.stderr).to.equal(2);
    const codes = async (name: string) => (await readResults(join(dir, 'results', name))).map((x) => [x.orderId, x.outcome, x.detail.split(':')[0]]);
    expect(await codes('T_Users.csv')).to.deep.equal([
      ['ok1', 'ok', ''],
      ['bad-cmd', 'failed', 'ERR_ORDER_UNKNOWN_COMMAND'],
      ['no-id', 'failed', 'ERR_ORDER_MISSING_ID'],
      ['bad-bool', 'failed', 'ERR_ORDER_BAD_VALUE'],
      ['unknown-col', 'failed', 'ERR_ORDER_UNKNOWN_ATTRIBUTE'],
      ['read-only', 'failed', 'ERR_ORDER_READONLY_ATTRIBUTE'],
      ['short', 'failed', 'ERR_ORDER_COLUMN_COUNT'],
    ]);
    expect(await codes('T_members_Groups.csv')).to.deep.equal([
      ['2', 'failed', 'ERR_ORDER_UNKNOWN_REFERENCE'],
      ['3', 'failed', 'ERR_ORDER_UNKNOWN_COMMAND'],
      ['4', 'ok', ''],
    ]);
    expect(await codes('T_Groups.csv')).to.deep.equal([['2', 'failed', 'ERR_ORDER_UNSUPPORTED_ENTITY']]);
    expect(sb.store.userIdByName('y@example.com')).to.equal(undefined);
  });

  it('refuses the whole run when one order file has no command column: exit 78, nothing sent, no results', async () => {
    await start();
    const dir = tempDir();
    orders(dir, { 'T_Users.csv': 'command,userName\ninsert,fresh@example.com\n', 'U_Users.csv': 'id,userName\nx,y\n' });
    const r = await cli(['fulfill', pipelineWith(dir, { serviceSupportBulk: true })], env, dir);
    expect(r.code, r.stderr).to.equal(78);
    expect(r.stderr).to.match(/ERR_ORDER_BAD_HEADER .*no 'command' column.*nothing was sent/);
    expect(sb.store.userIdByName('fresh@example.com')).to.equal(undefined);
    expect(existsSync(join(dir, 'results'))).to.equal(false);
  });

  it('creates nothing new when the same orders run again (onConflict fail, then skip)', async () => {
    await start();
    const dir = tempDir();
    const first = await cli(['fulfill', SAMPLE_PIPELINE, '--results', join(dir, 'r1')], env, dir);
    expect(first.code).to.equal(0);
    const after = stateOf(sb);
    const second = await cli(['fulfill', SAMPLE_PIPELINE, '--results', join(dir, 'r2')], env, dir);
    expect(second.code).to.equal(2);
    expect(stateOf(sb)).to.deep.equal(after);
    const rerun = await readResults(join(dir, 'r2/SCIMExport_Users.csv'));
    expect(rerun.slice(0, 2).map((u) => [u.outcome, u.status, u.scimType])).to.deep.equal([
      ['failed', '409', 'uniqueness'],
      ['failed', '409', 'uniqueness'],
    ]);
    expect(rerun[5]).to.deep.include({ outcome: 'skipped', status: '404' });

    const p = pipelineWith(dir, { orders: join(ROOT, 'samples/orders'), serviceSupportBulk: true, onConflict: 'skip' });
    const third = await cli(['fulfill', p], env, dir);
    expect(third.code, third.stderr).to.equal(0);
    expect(stateOf(sb)).to.deep.equal(after);
    const skipped = await readResults(join(dir, 'results/SCIMExport_Users.csv'));
    expect(skipped[0]).to.deep.include({ outcome: 'skipped', id: sb.store.userIdByName('ada.lovelace@example.com') });
    const members = await readResults(join(dir, 'results/SCIMExport_members_Groups.csv'));
    expect(members.map((m) => m.outcome)).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
  });

  for (const bulk of [true, false]) {
    it(`onConflict update writes the insert's columns to the existing user (${bulk ? 'Bulk' : 'single'})`, async () => {
      await start();
      const dir = tempDir();
      orders(dir, { 'T_Users.csv': `${USERS_HEADER}\ninsert,,again,bjensen@example.com,Chief Guide\n`, 'T_members_Groups.csv': `command,value,MemberId\nadd,${SALES},@again\n` });
      const before = sb.store.userCount;
      const r = await cli(['fulfill', pipelineWith(dir, { serviceSupportBulk: bulk, onConflict: 'update' })], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(sb.store.userCount).to.equal(before);
      const bjensen = sb.store.findUserByName('bjensen@example.com')!;
      expect(bjensen.title).to.equal('Chief Guide');
      const [row] = await readResults(join(dir, 'results/T_Users.csv'));
      expect(row).to.deep.include({ outcome: 'ok', id: bjensen.id, detail: 'user existed: updated (onConflict: update)' });
      expect(sb.store.memberIds(SALES)).to.include(bjensen.id);
    });
  }

  it('--dry-run prints the planned requests as NDJSON and sends no request at all, secrets redacted', async () => {
    await start();
    const dir = tempDir();
    orders(dir, {
      'T_Users.csv': 'command,id,orderId,userName,password\ninsert,,p1,pw@example.com,Sup3rSecretPassw0rd\ndelete,gone,,,\n',
      'T_members_Groups.csv': `command,value,MemberId\nadd,${SALES},@p1\n`,
    });
    const r = await cli(['fulfill', pipelineWith(dir, { serviceSupportBulk: false }), '--dry-run'], env, dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(sb.requests).to.deep.equal([]);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.method, l.path, l.orderRefs])).to.deep.equal([
      ['POST', '/Users', ['p1']],
      ['DELETE', '/Users/gone', ['3']],
      ['PATCH', `/Groups/${SALES}`, ['2']],
    ]);
    expect(lines[2].body.Operations[0].value).to.deep.equal([{ value: '@p1' }]);
    expect(r.stdout).not.to.include('Sup3rSecretPassw0rd');
    expect(r.stdout + r.stderr).not.to.include(TOKEN);
    expect(existsSync(join(dir, 'results'))).to.equal(false);
  });

  it('stops a run over maxDeletes before sending anything, unless --force', async () => {
    await start();
    const dir = tempDir();
    orders(dir, { 'T_Users.csv': `${USERS_HEADER}\ndelete,b3c4d5e6-1111-4a2b-9c3d-000000000010,,,\ndelete,b3c4d5e6-1111-4a2b-9c3d-000000000008,,,\nupdate,b3c4d5e6-1111-4a2b-9c3d-000000000006,,,X\n` });
    const p = pipelineWith(dir, { maxDeletes: '50%' });
    const r = await cli(['fulfill', p], env, dir);
    expect(r.code).to.equal(1);
    expect(r.stderr, r.stderr).to.match(/ERR_FULFILL_THRESHOLD.*2 deletes, more than maxDeletes allows \(50% of 3 order lines = 1\)/);
    expect(writes(sb)).to.deep.equal([]);
    expect(existsSync(join(dir, 'results'))).to.equal(false);

    const counted = pipelineWith(dir, { maxChanges: 2 });
    const r2 = await cli(['fulfill', counted], env, dir);
    expect(r2.code).to.equal(1);
    expect(r2.stderr).to.match(/ERR_FULFILL_THRESHOLD.*3 changes/);
    expect(writes(sb)).to.deep.equal([]);

    const forced = await cli(['fulfill', p, '--force'], env, dir);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(sb.store.get('Users', 'b3c4d5e6-1111-4a2b-9c3d-000000000010')).to.equal(undefined);
  });

  for (const bulk of [true, false]) {
    it(`updates with GET + PUT (If-Match) where the server has no PATCH (${bulk ? 'Bulk' : 'single'})`, async () => {
      await start({ patch: false });
      const dir = tempDir();
      orders(dir, { 'T_Users.csv': 'command,id,orderId,title,name:givenName,nickName\nupdate,2819c223-7f76-453a-919d-413861904646,u,Boss,Barb,#null\n' });
      const r = await cli(['fulfill', pipelineWith(dir, { serviceSupportBulk: bulk })], env, dir);
      expect(r.code, r.stderr).to.equal(0);
      const u = sb.store.get('Users', '2819c223-7f76-453a-919d-413861904646')!;
      expect(u).to.deep.include({ title: 'Boss', userName: 'bjensen@example.com' });
      expect((u.name as Record<string, unknown>).givenName).to.equal('Barb');
      expect((u.name as Record<string, unknown>).familyName).to.equal('Jensen');
      expect(u.nickName).to.equal(undefined);
      expect(writes(sb).some((q) => q.method === 'PATCH')).to.equal(false);
    });
  }

  it('after a fatal error stops sending, exits 1, leaves the previous results; the rerun resumes from the journal', async () => {
    await start();
    // Every PATCH of a user is refused: the static token cannot be refreshed, so the run stops.
    sb.setFaults([{ route: 'PATCH /v2/Users', kind: 'expireToken', times: 100 }]);
    const dir = tempDir({ 'results/T_Users.csv': 'previous run\n' });
    orders(dir, {
      'T_Users.csv': [USERS_HEADER, 'insert,,n1,n1@example.com,A', 'update,2819c223-7f76-453a-919d-413861904646,u1,,B', 'insert,,n2,n2@example.com,C'].join('\n') + '\n',
    });
    const file = pipelineWith(dir, { serviceSupportBulk: false, concurrency: 1 });
    const r = await cli(['fulfill', file], env, dir);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_AUTH/);
    expect(r.stderr).to.match(/0 failed, 2 skipped \(not sent\); the results in .* are left as they were/);
    expect(readFileSync(join(dir, 'results/T_Users.csv'), 'utf8')).to.equal('previous run\n');
    expect(journalOutcomes(dir, 'T')).to.deep.equal([['T_Users.csv', 2, 'ok']]);
    expect(writes(sb).filter((q) => q.method === 'POST')).to.have.length(1);

    sb.setFaults([]);
    const again = await cli(['fulfill', file], env, dir);
    expect(again.code, again.stderr).to.equal(0);
    const rows = await readResults(join(dir, 'results/T_Users.csv'));
    expect(rows.map((x) => [x.orderId, x.outcome])).to.deep.equal([
      ['n1', 'ok'],
      ['u1', 'ok'],
      ['n2', 'ok'],
    ]);
    expect(rows[0]!.id).to.equal(sb.store.userIdByName('n1@example.com'));
    // n1 was not sent again.
    expect(writes(sb).filter((q) => q.method === 'POST')).to.have.length(2);
  });

  it('after a fatal error in Bulk mode keeps the outcomes of sent batches; the rerun sends the rest, @orderId from the journal', async () => {
    await start();
    sb.setFaults([{ route: 'POST /v2/Bulk', kind: 'expireToken', after: 1, times: 100 }]);
    const dir = tempDir();
    orders(dir, {
      'T_Users.csv': [USERS_HEADER, 'insert,,n1,n1@example.com,A', 'insert,,n2,n2@example.com,B', 'insert,,n3,n3@example.com,C'].join('\n') + '\n',
      'T_members_Groups.csv': `command,value,MemberId\nadd,${SALES},@n1\n`,
    });
    const file = pipelineWith(dir, { serviceSupportBulk: true, bulkMaxOperation: 1 });
    const r = await cli(['fulfill', file], env, dir);
    expect(r.code).to.equal(1);
    expect(existsSync(join(dir, 'results/T_Users.csv'))).to.equal(false);
    expect(journalOutcomes(dir, 'T')).to.deep.equal([['T_Users.csv', 2, 'ok']]);
    // Nothing was sent after the refusal: the first batch, then the second one and the client's one retry after a 401.
    expect(sb.requests.filter((q) => q.path === '/v2/Bulk').map((q) => q.status)).to.deep.equal([200, 401, 401]);

    sb.setFaults([]);
    const again = await cli(['fulfill', file], env, dir);
    expect(again.code, again.stderr).to.equal(0);
    expect((await readResults(join(dir, 'results/T_Users.csv'))).map((x) => [x.orderId, x.outcome])).to.deep.equal([
      ['n1', 'ok'],
      ['n2', 'ok'],
      ['n3', 'ok'],
    ]);
    expect((await readResults(join(dir, 'results/T_members_Groups.csv'))).map((x) => x.outcome)).to.deep.equal(['ok']);
    expect(sb.store.memberIds(SALES)).to.include(sb.store.userIdByName('n1@example.com'));
    expect(sb.store.users.filter((u) => u.userName === 'n1@example.com')).to.have.length(1);
  });

  it('refuses bad fulfill inputs with coded errors before sending anything', async () => {
    await start();
    const dir = tempDir();
    const missing = await cli(['fulfill', pipelineWith(dir, {}), '--orders', 'nowhere'], env, dir);
    expect(missing.code).to.equal(78);
    expect(missing.stderr).to.match(/ERR_CONFIG_ORDERS_NOT_FOUND orders path .*nowhere does not exist/);

    orders(dir, { 'A_Users.csv': `${USERS_HEADER}\n` });
    const other = tempDir({ 'A_Users.csv': `${USERS_HEADER}\n` });
    const dup = await cli(['fulfill', pipelineWith(dir, {}), '--orders', join(dir, 'orders'), other], env, dir);
    expect(dup.code).to.equal(78);
    expect(dup.stderr).to.match(/ERR_CONFIG_ORDERS_DUPLICATE/);

    const noSection = join(dir, 'export-only.yaml');
    writeFileSync(noSection, 'version: 1\nconnection:\n  identifier: T\n  server: http://127.0.0.1:1\n');
    const none = await cli(['fulfill', noSection], env, dir);
    expect(none.code).to.equal(78);
    expect(none.stderr).to.match(/ERR_CONFIG_NO_FULFILL/);
    expect(sb.requests).to.deep.equal([]);

    // An empty order file still gets its (header-only) results file.
    const empty = await cli(['fulfill', pipelineWith(dir, {})], env, dir);
    expect(empty.code, empty.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'results/A_Users.csv'), 'utf8')).to.equal('orderId,command,id,status,outcome,scimType,detail,attempts\n');
  });
});
