/**
 * No false "ok": runFulfill with the real client against servers that answer
 * 2xx without doing (or proving) the change — the replies found at
 * scimgateway, SCIMServer, better-auth and a hostile server.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { runFulfill, type FulfillReport } from '../../lib/fulfill.js';
import { createScimClient } from '../../lib/scim/client.js';
import { Logger } from '../../lib/log.js';
import type { FulfillConfig } from '../../lib/config/types.js';
import { testFulfillPipeline } from '../helpers/model.js';
import { readResults, tempDir } from './helpers.js';
import { startQuirky, type Quirks, type QuirkyServer } from './quirky-server.js';

const USER = (id: string, userName: string, extra: Record<string, unknown> = {}) => ({ id, userName, ...extra });

interface Run {
  report: FulfillReport;
  rows: Record<string, Array<Record<string, string>>>;
  warnings: string[];
}

let server: QuirkyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(q: Quirks, seed: Parameters<typeof startQuirky>[1] = {}): Promise<QuirkyServer> {
  server = await startQuirky(q, seed);
  return server;
}

async function fulfill(s: QuirkyServer, files: Record<string, string>, over: Partial<FulfillConfig> = {}): Promise<Run> {
  const dir = tempDir(Object.fromEntries(Object.entries(files).map(([n, t]) => [`orders/${n}`, t])));
  const pipe = testFulfillPipeline(dir, { server: s.url, oAuthToken: 'test-token' }, over);
  const client = createScimClient(pipe.connection);
  const warnings: string[] = [];
  const logger = new Logger({ stream: { write: (l: string) => (/^warn: /.test(l) && warnings.push(l), true) } as unknown as NodeJS.WritableStream });
  try {
    const report = await runFulfill(pipe, { client, logger });
    const rows: Run['rows'] = {};
    for (const name of Object.keys(files)) rows[name] = await readResults(join(dir, 'results', name));
    return { report, rows, warnings };
  } finally {
    client.close();
  }
}

const cols = (rows: Array<Record<string, string>>, ...names: string[]) => rows.map((r) => names.map((n) => r[n]));

describe('fulfill: no false ok', () => {
  describe('inserts need proof', () => {
    for (const [what, reply] of [
      ['an HTML page', { status: 200, body: '<html><body>Welcome</body></html>' }],
      ['a SCIM Error body', { status: 200, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: 'invalid userName' } }],
    ] as const) {
      it(`an insert answered 200 with ${what} fails noResource, and its memberships fail`, async () => {
        const s = await serve({ insertReply: () => ({ ...reply, store: false }) }, { groups: [{ id: 'g1', displayName: 'G' }] });
        const { report, rows } = await fulfill(s, { 'T_Users.csv': 'command,id,orderId,userName\ninsert,,a,a@x\n', 'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,@a\n' });
        expect(report.exitCode).to.equal(2);
        expect(cols(rows['T_Users.csv']!, 'orderId', 'outcome', 'id', 'scimType')).to.deep.equal([['a', 'failed', '', 'noResource']]);
        expect(rows['T_Users.csv']![0]!.detail).to.match(/answered 200 but/);
        expect(cols(rows['T_members_Groups.csv']!, 'outcome')).to.deep.equal([['failed']]);
        expect(rows['T_members_Groups.csv']![0]!.detail).to.match(/^ERR_ORDER_REFERENCE_FAILED/);
        expect(s.groups.get('g1')!.members).to.deep.equal([]);
      });
    }

    it('scimgateway: 201 without id and Location …/Users/undefined is looked up by userName, never recorded as "undefined"', async () => {
      // a(b is created but answered without its id; c(d is not created at all.
      const s = await serve({ insertReply: (u) => ({ status: 201, headers: { location: 'http://h/v2/Users/undefined' }, store: u.userName !== 'c(d' }) });
      const { report, rows } = await fulfill(s, { 'T_Users.csv': 'command,id,orderId,userName\ninsert,,a,a(b\ninsert,,c,c(d\n' });
      const created = [...s.users.values()].find((u) => u.userName === 'a(b')!;
      expect(cols(rows['T_Users.csv']!, 'orderId', 'outcome', 'id', 'scimType')).to.deep.equal([
        ['a', 'ok', created.id, ''],
        ['c', 'failed', '', 'noResource'],
      ]);
      expect(rows['T_Users.csv']![1]!.detail).to.match(/found 0 users/);
      expect(report.exitCode).to.equal(2);
    });

    it('Bulk: an insert result without id or location is looked up; a Location naming the collection is no id', async () => {
      const s = await serve({ bulkResults: (ops) => ops.map((o) => ({ ...o, location: o.bulkId === 'a' ? undefined : 'http://h/v2/Users/' })) });
      const { rows } = await fulfill(s, { 'T_Users.csv': 'command,id,orderId,userName\ninsert,,a,a@x\ninsert,,b,b@x\n' }, { serviceSupportBulk: true });
      const ids = Object.fromEntries([...s.users.values()].map((u) => [u.userName, u.id]));
      expect(cols(rows['T_Users.csv']!, 'orderId', 'outcome', 'id')).to.deep.equal([
        ['a', 'ok', ids['a@x']],
        ['b', 'ok', ids['b@x']],
      ]);
      expect(s.calls().filter((c) => c === 'GET /Users')).to.have.length(2);
    });
  });

  it('Bulk: results with wrong bulkIds fail every line of the batch, and the memberships using its inserts', async () => {
    const s = await serve({ bulkResults: (ops) => ops.map((o) => ({ ...o, bulkId: o.bulkId && `x-${o.bulkId}` })) }, { groups: [{ id: 'g1', displayName: 'G' }] });
    const { report, rows } = await fulfill(
      s,
      { 'T_Users.csv': 'command,id,orderId,userName\ninsert,,a,a@x\ninsert,,b,b@x\n', 'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,@a\nadd,g1,@b\n' },
      { serviceSupportBulk: true, bulkMaxOperation: 2 },
    );
    expect(report.counts).to.deep.equal({ ok: 0, failed: 4, skipped: 0 });
    for (const r of rows['T_Users.csv']!) expect(r.detail).to.match(/^ERR_FULFILL_BULK_RESULT: the BulkResponse answers bulkId "x-a", which was not sent/);
    for (const r of rows['T_members_Groups.csv']!) expect(r.detail).to.match(/^ERR_ORDER_REFERENCE_FAILED/);
  });

  it('Bulk: a same-batch membership answered 200 for an insert that failed is not ok', async () => {
    const s = await serve({ bulkResults: (ops) => ops.map((o) => (o.method === 'PATCH' ? { ...o, status: '200' } : o)) }, { users: [USER('u0', 'a@x')], groups: [{ id: 'g1', displayName: 'G' }] });
    const { rows } = await fulfill(s, { 'T_Users.csv': 'command,id,orderId,userName\ninsert,,a,a@x\ninsert,,b,b@x\n', 'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,@a\nadd,g1,@b\n' }, { serviceSupportBulk: true });
    expect(cols(rows['T_Users.csv']!, 'orderId', 'outcome')).to.deep.equal([
      ['a', 'failed'],
      ['b', 'ok'],
    ]);
    expect(cols(rows['T_members_Groups.csv']!, 'outcome')).to.deep.equal([['failed'], ['ok']]);
    expect(rows['T_members_Groups.csv']![0]!.detail).to.match(/^ERR_ORDER_REFERENCE_FAILED/);
  });

  describe('updates', () => {
    it('SCIMServer: a sub-attribute replace answered with the old value is resent as a complex value', async () => {
      const s = await serve({ ignoreSubAttributeReplace: true }, { users: [USER('u1', 'a@x', { name: { givenName: 'Old', familyName: 'Keep' } })] });
      const { report, rows } = await fulfill(s, { 'T_Users.csv': 'command,id,name:givenName\nupdate,u1,New\n' });
      expect(report.exitCode).to.equal(0);
      expect(cols(rows['T_Users.csv']!, 'outcome', 'id')).to.deep.equal([['ok', 'u1']]);
      expect(s.users.get('u1')!.name).to.deep.equal({ givenName: 'New', familyName: 'Keep' });
      const patches = s.requests.filter((r) => r.method === 'PATCH').map((r) => JSON.parse(r.body).Operations);
      expect(patches).to.deep.equal([[{ op: 'replace', path: 'name.givenName', value: 'New' }], [{ op: 'replace', path: 'name', value: { givenName: 'New' } }]]);
    });

    it('a PATCH reply that still contradicts the change after the resend is failed notApplied', async () => {
      const s = await serve({ patchNoop: { status: 200, body: USER('u1', 'a@x', { title: 'Old', name: { givenName: 'Old' } }) } }, { users: [USER('u1', 'a@x', { title: 'Old', name: { givenName: 'Old' } })] });
      const { report, rows } = await fulfill(s, { 'T_Users.csv': 'command,id,title,name:givenName\nupdate,u1,Boss,New\n' });
      expect(report.exitCode).to.equal(2);
      expect(cols(rows['T_Users.csv']!, 'outcome', 'scimType')).to.deep.equal([['failed', 'notApplied']]);
      expect(rows['T_Users.csv']![0]!.detail).to.contain('title is "Old", not "Boss"').and.contain('name:givenName is "Old", not "New"');
    });

    it('a 204 without body is accepted without verify, and failed notApplied with verify when nothing changed', async () => {
      const seed = { users: [USER('u1', 'a@x', { title: 'Old' })] };
      let s = await serve({ patchNoop: { status: 204 } }, seed);
      let run = await fulfill(s, { 'T_Users.csv': 'command,id,title\nupdate,u1,Boss\n' });
      expect(cols(run.rows['T_Users.csv']!, 'outcome')).to.deep.equal([['ok']]);
      await s.close();
      s = await serve({ patchNoop: { status: 204 } }, seed);
      run = await fulfill(s, { 'T_Users.csv': 'command,id,title\nupdate,u1,Boss\n' }, { verify: true });
      expect(cols(run.rows['T_Users.csv']!, 'outcome', 'scimType', 'detail')).to.deep.equal([['failed', 'notApplied', 'read back: title is "Old", not "Boss"']]);
      expect(s.requests.at(-1)!.url).to.equal('/v2/Users?filter=id%20eq%20%22u1%22&attributes=id%2Ctitle&count=1');
    });
  });

  it('a change answered 200 with an HTML page or a SCIM Error body is failed notApplied', async () => {
    const html = { status: 200, body: '<!doctype html><title>Sign in</title>' };
    const error = { status: 200, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500', detail: 'backend down' } };
    const s = await serve({ override: (method, path) => (method === 'PATCH' ? (path === '/Users/u1' ? html : error) : method === 'DELETE' ? error : undefined) }, { users: [USER('u1', 'a@x'), USER('u2', 'b@x')], groups: [{ id: 'g1' }] });
    const { rows } = await fulfill(s, { 'T_Users.csv': 'command,id,title\nupdate,u1,T\ndelete,u2,\n', 'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,u1\n' });
    expect(cols(rows['T_Users.csv']!, 'outcome', 'scimType', 'detail')).to.deep.equal([
      ['failed', 'notApplied', 'the server answered 200 with no SCIM resource (<!doctype html><title>Sign in</title>)'],
      ['failed', 'notApplied', 'the server answered 200 with a SCIM Error (backend down)'],
    ]);
    expect(cols(rows['T_members_Groups.csv']!, 'outcome', 'scimType')).to.deep.equal([['failed', 'notApplied']]);
  });

  it('Bulk: an update whose operation response shows the old value is sent again alone, as a complex value', async () => {
    const s = await serve({ ignoreSubAttributeReplace: true, bulkResults: (ops) => ops.map((o) => ({ ...o, response: { id: 'u1', name: { givenName: 'Old' } } })) }, { users: [USER('u1', 'a@x', { name: { givenName: 'Old' } })] });
    const { rows } = await fulfill(s, { 'T_Users.csv': 'command,id,name:givenName\nupdate,u1,New\n' }, { serviceSupportBulk: true });
    expect(cols(rows['T_Users.csv']!, 'outcome')).to.deep.equal([['ok']]);
    expect(s.users.get('u1')!.name.givenName).to.equal('New');
    expect(s.calls()).to.deep.equal(['POST /Bulk', 'PATCH /Users/u1', 'PATCH /Users/u1']);
  });

  it('verify checks the last change of a member in a window: add then remove of one member is ok when it is gone', async () => {
    const s = await serve({}, { groups: [{ id: 'g1' }] });
    const { report } = await fulfill(s, { 'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,m1\nadd,g1,m2\nremove,g1,m1\n' }, { verify: true });
    expect(report.counts).to.deep.equal({ ok: 3, failed: 0, skipped: 0 });
    expect(s.groups.get('g1')!.members).to.deep.equal([{ value: 'm2' }]);
  });

  it('verify reads each resource alone where the server ignores the id filter', async () => {
    const s = await serve({ ignoreFilter: true }, { users: [USER('u1', 'a@x'), USER('u2', 'b@x')] });
    const { report } = await fulfill(s, { 'T_Users.csv': 'command,id,title\nupdate,u2,Boss\n' }, { verify: true });
    expect(report.counts).to.deep.equal({ ok: 1, failed: 0, skipped: 0 });
    expect(s.calls()).to.deep.equal(['PATCH /Users/u2', 'GET /Users', 'GET /Users/u2']);
  });

  describe('verify: true with Bulk', () => {
    it('scimgateway: a Bulk PATCH no-op is caught, resent singly, and later PATCHes go singly', async () => {
      const s = await serve({ bulkPatchNoop: true }, { users: [USER('u1', 'a@x'), USER('u2', 'b@x'), USER('u3', 'c@x')], groups: [{ id: 'g1', displayName: 'G' }] });
      const { report, rows, warnings } = await fulfill(
        s,
        { 'T_Users.csv': 'command,id,orderId,userName,title\nupdate,u1,,,T1\nupdate,u2,,,T2\ninsert,,n,n@x,\nupdate,u3,,,T3\n', 'T_members_Groups.csv': 'command,value,MemberId\nadd,g1,u1\nadd,g1,@n\n' },
        { serviceSupportBulk: true, bulkMaxOperation: 2, verify: true },
      );
      expect(report.counts).to.deep.equal({ ok: 6, failed: 0, skipped: 0 });
      expect(warnings.join('')).to.match(/none applied: sending PATCH as single requests/);
      expect(['u1', 'u2', 'u3'].map((id) => s.users.get(id)!.title)).to.deep.equal(['T1', 'T2', 'T3']);
      const n = [...s.users.values()].find((u) => u.userName === 'n@x')!;
      expect(s.groups.get('g1')!.members.map((m: { value: string }) => m.value)).to.deep.equal(['u1', n.id]);
      // Batch 1 by Bulk (ignored), resent singly; then the insert by Bulk and every PATCH alone.
      expect(s.calls().filter((c) => c !== 'GET /Users' && c !== 'GET /Groups')).to.deep.equal(['POST /Bulk', 'PATCH /Users/u1', 'PATCH /Users/u2', 'POST /Bulk', 'PATCH /Users/u3', 'PATCH /Groups/g1']);
      expect(cols(rows['T_Users.csv']!, 'outcome')).to.deep.equal([['ok'], ['ok'], ['ok'], ['ok']]);
    });

    it('reports a Bulk insert and membership that the read-back does not show as notApplied', async () => {
      // The server says 201 with an id, but keeps nothing; the membership says 200 and does nothing.
      const s = await serve({ insertReply: (u) => ({ status: 201, body: u, store: false }), bulkPatchNoop: true }, { groups: [{ id: 'g1', displayName: 'G' }] });
      const { rows } = await fulfill(s, { 'T_Users.csv': 'command,id,orderId,userName\ninsert,,a,a@x\n', 'T_members_Groups.csv': 'command,value,MemberId\nremove,g1,zz\n' }, { serviceSupportBulk: true, verify: true });
      expect(cols(rows['T_Users.csv']!, 'outcome', 'scimType', 'detail')).to.deep.equal([['failed', 'notApplied', 'read back: Users/new1 is not on the server']]);
      // A remove of a member that is not there is on the server already: ok.
      expect(cols(rows['T_members_Groups.csv']!, 'outcome')).to.deep.equal([['ok']]);
    });
  });

  describe('membership PATCH split on 400', () => {
    const adds = (n: number, bad?: number) => 'command,value,MemberId\n' + Array.from({ length: n }, (_, i) => `add,g1,${i === bad ? 'bad' : `m${i}`}\n`).join('');

    it('better-auth: 150 adds against a cap of 100 per PATCH all end ok', async () => {
      const s = await serve({ maxMembersPerPatch: 100 }, { groups: [{ id: 'g1', displayName: 'G' }] });
      const { report } = await fulfill(s, { 'T_members_Groups.csv': adds(150) });
      expect(report.counts).to.deep.equal({ ok: 150, failed: 0, skipped: 0 });
      expect(s.groups.get('g1')!.members).to.have.length(150);
      expect(s.calls()).to.deep.equal(['PATCH /Groups/g1', 'PATCH /Groups/g1', 'PATCH /Groups/g1']);
    });

    for (const bulk of [false, true]) {
      it(`one bad member among 150 fails its own line only (${bulk ? 'Bulk' : 'single'})`, async () => {
        const s = await serve({ badMember: 'bad' }, { groups: [{ id: 'g1', displayName: 'G' }] });
        const { report, rows } = await fulfill(s, { 'T_members_Groups.csv': adds(150, 77) }, { serviceSupportBulk: bulk });
        expect(report.counts).to.deep.equal({ ok: 149, failed: 1, skipped: 0 });
        const failed = rows['T_members_Groups.csv']!.filter((r) => r.outcome === 'failed');
        expect(cols(failed, 'orderId', 'status', 'detail')).to.deep.equal([['79', '400', 'no such member bad']]);
        expect(s.groups.get('g1')!.members).to.have.length(149);
      });
    }
  });

  describe('deletes', () => {
    for (const bulk of [false, true]) {
      it(`scimgateway: a 500 on DELETE of a user a GET then does not find is skipped; of a present user failed (${bulk ? 'Bulk' : 'single'})`, async () => {
        const s = await serve({ deleteMissing500: true, deleteRefused: ['u1'] }, { users: [USER('u1', 'a@x'), USER('u2', 'b@x')] });
        const { rows } = await fulfill(s, { 'T_Users.csv': 'command,id\ndelete,gone\ndelete,u1\ndelete,u2\n' }, { serviceSupportBulk: bulk });
        expect(cols(rows['T_Users.csv']!, 'outcome', 'status')).to.deep.equal([
          ['skipped', '404'],
          ['failed', '500'],
          ['ok', '204'],
        ]);
        expect(rows['T_Users.csv']![0]!.detail).to.match(/^the DELETE failed with HTTP 500 \(Error: user not found\) but the user is not there/);
        expect(rows['T_Users.csv']![1]!.detail).to.equal('backend down');
        expect([...s.users.keys()]).to.deep.equal(['u1']);
      });
    }
  });
});
