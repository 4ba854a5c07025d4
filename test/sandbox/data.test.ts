import { expect } from 'chai';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, generateUsers, generateGroups } from '../../lib/sandbox/index.js';
import { ScimEtlError } from '../../lib/errors.js';
import { Client, SAMPLE } from './helpers.js';

async function startError(opts: Parameters<typeof startSandbox>[0]): Promise<ScimEtlError> {
  try {
    const sb = await startSandbox(opts);
    await sb.stop();
  } catch (err) {
    expect(err).to.be.instanceOf(ScimEtlError);
    return err as ScimEtlError;
  }
  throw new Error('expected startSandbox to fail');
}

describe('sandbox: data and options', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-data-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads the sample directory: 10 users, 4 groups, awkward values intact', async () => {
    const sb = await startSandbox({ data: SAMPLE });
    try {
      expect(sb.store.userCount).to.equal(10);
      expect(sb.store.groupCount).to.equal(4);
      const li = sb.store.findUserByName('li.wei@example.com')!;
      expect(li.displayName).to.equal('李伟 (Wei Li)');
      const anna = sb.store.findUserByName('anna.smith@example.com')!;
      expect((anna.addresses as any)[0].formatted).to.contain('\n');
      expect(anna.displayName).to.equal('Smith, Jr., Anna');
      // kept meta from the file
      expect(anna.meta!.lastModified).to.equal('2024-07-14T18:30:00.000Z');
    } finally {
      await sb.stop();
    }
  });

  it('accepts a data object', async () => {
    const sb = await startSandbox({ data: { Users: [{ userName: 'a@example.com' }], Groups: [{ displayName: 'G', members: [] }] } });
    try {
      expect(sb.store.users.map((u) => u.userName)).to.deep.equal(['a@example.com']);
      expect(sb.store.groups[0]!.displayName).to.equal('G');
    } finally {
      await sb.stop();
    }
  });

  it('a JSON syntax error in the data file is ERR_SANDBOX_DATA with file:line:col', async () => {
    const f = join(dir, 'bad.json');
    await writeFile(f, '{\n  "Users": [\n    {"userName": "a"},,\n  ]\n}\n');
    const err = await startError({ data: f });
    expect(err.code).to.equal('ERR_SANDBOX_DATA');
    expect(err.context).to.include({ file: f, line: 3, col: 23 });
    expect(err.format()).to.match(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:23 ERR_SANDBOX_DATA invalid JSON`));
    expect(err.exitCode).to.equal(78);
  });

  it('a missing data file is ERR_SANDBOX_DATA', async () => {
    const err = await startError({ data: join(dir, 'nope.json') });
    expect(err.code).to.equal('ERR_SANDBOX_DATA');
    expect(err.message).to.contain('ENOENT');
  });

  it('reports bad content: wrong shapes, missing userName, duplicate userName, unknown member', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ People: 3 }, /data.People must be an array/],
      [{ 'Bad key!': [] }, /'Bad key!' is not a valid resource endpoint name/],
      [{ Users: {} }, /data.Users must be an array/],
      [{ Users: [{ name: {} }] }, /Users\[0\]: userName is required/],
      [{ Users: [{ userName: 'a' }, { userName: 'A' }] }, /Users\[1\]: userName 'A' is already taken/],
      [{ Users: [{ id: 'x', userName: 'a' }, { id: 'x', userName: 'b' }] }, /Users\[1\]: id 'x' already exists/],
      [{ Groups: [{ displayName: 'G', members: [{ value: 'ghost' }] }] }, /Groups\[0\]: member 'ghost' does not exist/],
      [{ Groups: [{ members: [] }] }, /Groups\[0\]: displayName is required/],
    ];
    for (const [data, re] of cases) {
      const err = await startError({ data: data as never });
      expect(err.code, JSON.stringify(data)).to.equal('ERR_SANDBOX_DATA');
      expect(err.message).to.match(re);
    }
  });

  it('rejects bad options with ERR_SANDBOX_OPTION and what was expected', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ port: -1 }, /option port must be an integer from 0 to 65535, got -1/],
      [{ dialect: 'Okta' }, /option dialect must be one of RFC, Slack, Salesforce, CyberArk \(any case\), got "Okta"/],
      [{ maxResults: 0 }, /maxResults/],
      [{ generate: { users: 1.5, groups: 0 } }, /generate.users/],
      [{ token: '' }, /option token must be a non-empty string/],
      [{ basic: { login: 'a' } }, /option basic/],
      [{ faults: 'x' }, /option faults must be an array/],
      [{ data: [] }, /option data must be a file path/],
      [{ bulk: { maxOperations: 0 } }, /bulk.maxOperations/],
    ];
    for (const [o, re] of cases) {
      const err = await startError(o as never);
      expect(err.code, JSON.stringify(o)).to.equal('ERR_SANDBOX_OPTION');
      expect(err.message).to.match(re);
    }
    // a secret never shows in the message
    const err = await startError({ basic: { login: '', password: 'hunter22' } });
    expect(err.message).to.not.contain('hunter22');
  });

  it('a port in use fails cleanly', async () => {
    const a = await startSandbox({});
    try {
      let failed: unknown;
      await startSandbox({ port: a.port }).catch((e) => (failed = e));
      expect(failed).to.be.instanceOf(ScimEtlError);
      expect((failed as ScimEtlError).code).to.equal('ERR_SANDBOX_LISTEN');
      expect((failed as ScimEtlError).message).to.contain(`port ${a.port} is in use`);
      expect((failed as ScimEtlError).exitCode).to.equal(1);
    } finally {
      await a.stop();
    }
  });
});

describe('sandbox: generated directory', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = [...generateUsers({ users: 50, groups: 0, seed: 7 })];
    const b = [...generateUsers({ users: 50, groups: 0, seed: 7 })];
    const c = [...generateUsers({ users: 50, groups: 0, seed: 8 })];
    expect(a).to.deep.equal(b);
    expect(a.map((u) => u.id)).to.not.deep.equal(c.map((u) => u.id));
    expect(new Set(a.map((u) => u.id)).size).to.equal(50);
    expect(new Set(a.map((u) => String(u.userName).toLowerCase())).size).to.equal(50);
  });

  it('has awkward values: non-ASCII, commas, quotes, newlines, primary email not first, managers', () => {
    const users = [...generateUsers({ users: 60, groups: 0 })];
    const text = JSON.stringify(users);
    expect(text).to.match(/[^\x00-\x7f]/);
    expect(users.some((u) => String(u.displayName).includes(','))).to.equal(true);
    expect(users.some((u) => String(u.title ?? '').includes('"'))).to.equal(true);
    expect(users.some((u) => JSON.stringify(u.addresses ?? '').includes('\\n'))).to.equal(true);
    expect(users.some((u) => (u.emails as any[])[0].primary !== true && (u.emails as any[]).some((e) => e.primary))).to.equal(true);
    const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const withManager = users.filter((u) => (u[ent] as any).manager);
    expect(withManager.length).to.be.greaterThan(30);
    const ids = new Set(users.map((u) => u.id));
    expect(withManager.every((u) => ids.has((u[ent] as any).manager.value))).to.equal(true);
    expect(users.some((u) => !(u.name as any).givenName)).to.equal(true); // a missing attribute
  });

  it('one large group of K members, small ones, a nested group and an empty one', () => {
    const userIds = [...generateUsers({ users: 300, groups: 0 })].map((u) => u.id!);
    const groups = [...generateGroups({ users: 300, groups: 12, members: 250 }, userIds)];
    expect(groups).to.have.length(12);
    expect(groups[0]!.group.displayName).to.equal('All Staff');
    expect(groups[0]!.members.map((m) => m.value)).to.deep.equal(userIds.slice(0, 250));
    expect(groups[10]!.members.some((m) => m.type === 'Group' && m.value === groups[1]!.group.id)).to.equal(true);
    expect(groups[11]!.members).to.deep.equal([]);
    expect(groups.slice(1, 11).every((g) => g.members.length <= 51)).to.equal(true);
  });

  it('serves generated users the same as the generator builds them, with the big group streamed', async () => {
    const sb = await startSandbox({ generate: { users: 12_000, groups: 3, members: 11_000, seed: 3 } });
    try {
      const c = new Client(sb, null);
      expect(sb.store.userCount).to.equal(12_000);
      const first = [...generateUsers({ users: 1, groups: 0, seed: 3 })][0]!;
      const served = (await c.get(`/Users/${first.id}`)).body;
      expect(served.userName).to.equal(first.userName);
      expect(served.meta.location).to.equal(`${sb.url}/v2/Users/${first.id}`);
      expect(served.groups[0].display).to.equal('All Staff');
      const page = await c.get('/Users?startIndex=11001&count=1000');
      expect(page.body.Resources).to.have.length(1000);
      expect(page.body.Resources[0].id).to.equal(sb.store.ids('Users')[11000]);
      const big = (await c.get('/Groups?count=1')).body.Resources[0];
      expect(big.members).to.have.length(11_000);
      expect(big.members[5]).to.have.keys(['value', '$ref', 'display', 'type']);
      const slim = (await c.get(`/Groups/${big.id}?attributes=members.value`)).body;
      expect(slim.members[0]).to.deep.equal({ value: sb.store.ids('Users')[0] });
      expect((await c.get(`/Groups/${big.id}?excludedAttributes=members`)).body).to.not.have.property('members');
      // a write turns a generated user into a stored one, once
      const id = sb.store.ids('Users')[42]!;
      const p = await c.patch(`/Users/${id}`, [{ op: 'replace', path: 'title', value: 'Changed' }]);
      expect(p.body.title).to.equal('Changed');
      expect((await c.get(`/Users/${id}`)).body.title).to.equal('Changed');
      expect((await c.get(`/Users/${id}`)).body.meta.version).to.equal('W/"2"');
    } finally {
      await sb.stop();
    }
  });
});

describe('sandbox: JSON error positions', () => {
  it('points at the first bad character', async () => {
    const { jsonErrorOffset } = await import('../../lib/sandbox/json-position.js');
    expect(jsonErrorOffset('{"a": 1}')).to.equal(-1);
    expect(jsonErrorOffset('{"a": 1,}')).to.equal(8);
    expect(jsonErrorOffset('{"a": tru}')).to.equal(6);
    expect(jsonErrorOffset('[1, 2')).to.equal(5);
    expect(jsonErrorOffset('{"a": "x\ny"}')).to.equal(8);
    expect(jsonErrorOffset('{} x')).to.equal(3);
  });
});

describe('sandbox: generated users by userName', () => {
  it('finds, renames and deletes generated users by userName; data and generated users side by side', async () => {
    const sb = await startSandbox({ data: SAMPLE, generate: { users: 100, groups: 0, seed: 5 } });
    try {
      const c = new Client(sb, null);
      expect(sb.store.userCount).to.equal(110);
      const first = [...generateUsers({ users: 30, groups: 0, seed: 5 })];
      const u = first[20]!;
      expect(sb.store.userIdByName(String(u.userName).toUpperCase())).to.equal(u.id);
      expect((await c.get(`/Users?filter=${encodeURIComponent(`userName eq "${u.userName}"`)}`)).body.totalResults).to.equal(1);
      expect((await c.post('/Users', { userName: u.userName })).status).to.equal(409);
      expect(sb.store.userIdByName('someone.20@example.com')).to.equal(undefined);
      expect(sb.store.userIdByName('x.100@example.com')).to.equal(undefined);
      // rename: the old name is free, the new one taken
      await c.patch(`/Users/${u.id}`, [{ op: 'replace', path: 'userName', value: 'renamed@example.com' }]);
      expect(sb.store.userIdByName(String(u.userName))).to.equal(undefined);
      expect(sb.store.userIdByName('renamed@example.com')).to.equal(u.id);
      expect((await c.post('/Users', { userName: u.userName })).status).to.equal(201);
      // delete
      const v = first[21]!;
      await c.del(`/Users/${v.id}`);
      expect(sb.store.userIdByName(String(v.userName))).to.equal(undefined);
      expect(sb.store.findUserByName('bjensen@example.com')!.id).to.equal('2819c223-7f76-453a-919d-413861904646');
    } finally {
      await sb.stop();
    }
  });
});
