/** Incremental export against the sandbox with a controllable clock, through the real CLI. */
import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

describe('incremental export (sandbox, controllable clock)', function () {
  this.timeout(20_000);
  let dir: string;
  let sb: Sandbox | undefined;
  let clock = T0;
  const now = () => clock;

  async function start(opts: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
    clock = T0;
    sb = await startSandbox({ token: 't', now, data: { Users: [1, 2, 3].map((i) => ({ schemas: [USER], id: `u${i}`, userName: `user${i}` })) }, ...opts });
    return sb;
  }
  async function pipeline(extra = '', syntax = 'RFC'): Promise<string> {
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection: {identifier: I, server: "${sb!.url}", oAuthToken: t, scimSyntax: ${syntax}}
export:
  output: out
${extra}  entities:
    Users: {columns: [id, userName], incremental: true}
    Nope: {columns: [id]}
`,
    );
    return file;
  }
  const users = () => readFile(join(dir, 'out', 'I_Users.csv'), 'utf8');
  const cookieText = () => readFile(join(dir, 'out', 'I.cookie.json'), 'utf8');
  const cookie = async () => JSON.parse(await cookieText());
  const lastModified = (id: string) => (sb!.store.get('Users', id)!.meta as { lastModified: string }).lastModified;
  const listFilters = () => sb!.requests.filter((r) => r.path === '/v2/Users' && r.method === 'GET').map((r) => new URLSearchParams(r.query).get('filter'));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-incr-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('first run complete with the cookie; then changes, creations and same-second stamps exactly once with their command', async () => {
    await start();
    const file = await pipeline();
    let r = await cli(['export', file, '--entity', 'Users']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await users()).to.equal('id,userName\r\nu1,user1\r\nu2,user2\r\nu3,user3\r\n');
    const first = await cookie();
    expect(first.entities.Users.watermark).to.equal(lastModified('u3'));
    expect(first.entities.Users.probe).to.include({ filters: true });

    clock = T0 + 3_600_000; // an hour later: one update, one creation
    sb!.store.replace('Users', 'u2', { schemas: [USER], userName: 'user2b' });
    sb!.store.insert('Users', { schemas: [USER], id: 'u4', userName: 'user4' });
    // A change the server stamped in the same second as the watermark, committed after the first run.
    sb!.store.insert('Users', { schemas: [USER], id: 'u5', userName: 'user5', meta: { created: first.entities.Users.watermark, lastModified: first.entities.Users.watermark } }, [], { keepMeta: true });
    r = await cli(['export', file, '--entity', 'Users']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = (await users()).trimEnd().split('\r\n');
    expect(lines[0]).to.equal('command,id,userName');
    // The 60 s overlap re-lists u1..u3's last minute too: at-least-once, but each once per run.
    expect(lines.slice(1).sort()).to.deep.equal(['insert,u4,user4', 'update,u1,user1', 'update,u2,user2b', 'update,u3,user3', 'update,u5,user5']);
    const wm = new Date(Date.parse(first.entities.Users.watermark) - 60_000).toISOString();
    expect(listFilters().at(-1)).to.equal(`meta.lastModified gt "${wm}"`);
    expect((await cookie()).entities.Users.watermark).to.equal(lastModified('u4'));

    clock += 3_600_000; // nothing changed: the watermark stays; the overlap re-lists the last minute, u4 now an update (created at the watermark, not after)
    const before = await cookieText();
    r = await cli(['export', file, '--entity', 'Users']);
    expect(r.code, r.stderr).to.equal(0);
    expect((await users()).trimEnd().split('\r\n').slice(1).sort()).to.deep.equal(['update,u2,user2b', 'update,u4,user4']);
    expect(await cookieText()).to.equal(before);
  });

  it('a failed run leaves the cookie and the tables unchanged; --full runs complete and resets the cookie', async () => {
    await start();
    const file = await pipeline('  incrementalOverlap: 0\n');
    expect((await cli(['export', file, '--entity', 'Users'])).code).to.equal(0);
    const cookieBefore = await cookieText();
    const usersBefore = await users();
    clock += 1000;
    sb!.store.replace('Users', 'u1', { schemas: [USER], userName: 'user1b' });
    // Nope is no resource type of the server: the run fails after Users.
    const failed = await cli(['export', file]);
    expect(failed.code).to.equal(1);
    expect(await cookieText()).to.equal(cookieBefore);
    expect(await users()).to.equal(usersBefore);
    expect((await readdir(join(dir, 'out'))).sort()).to.deep.equal(['I.cookie.json', 'I_Users.csv']);

    const ok = await cli(['export', file, '--entity', 'Users']);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(await users()).to.equal('command,id,userName\r\nupdate,u1,user1b\r\n');

    const full = await cli(['export', file, '--entity', 'Users', '--full']);
    expect(full.code, full.stderr).to.equal(0);
    expect(await users()).to.equal('id,userName\r\nu1,user1b\r\nu2,user2\r\nu3,user3\r\n');
    expect((await cookie()).entities.Users.watermark).to.equal(lastModified('u1'));
    expect(listFilters().at(-1)).to.equal(null);
  });

  it('a server whose meta.lastModified filter never matches gets a warning and complete exports, the verdict kept in the cookie', async () => {
    await start({ quirks: ['lastModifiedNeverMatches'] });
    const file = await pipeline();
    for (let run = 0; run < 2; run++) {
      clock += 60_000;
      const r = await cli(['export', file, '--entity', 'Users']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/Users: incremental export is not possible: meta.lastModified gt 1970-01-01T00:00:00Z gives 0 results instead of all 3/);
      expect(await users()).to.equal('id,userName\r\nu1,user1\r\nu2,user2\r\nu3,user3\r\n');
      expect((await cookie()).entities.Users.probe).to.include({ filters: false });
    }
    // The second run trusted the verdict: no more probe requests.
    expect(listFilters().filter((f) => f?.includes('lastModified'))).to.have.length(2);
  });

  it('a server that refuses meta.lastModified (Slack) gets a warning and a complete export', async () => {
    await start({ dialect: 'Slack' });
    const file = await pipeline('', 'Slack');
    const r = await cli(['export', file, '--entity', 'Users']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/Users: incremental export is not possible: the server refuses a meta.lastModified filter \(HTTP 400/);
    expect((await users()).split('\r\n')[0]).to.equal('id,userName');
    expect((await users()).trimEnd().split('\r\n')).to.have.length(4);
  });

  it('detectDeletes: delete rows for resources gone since the last run, the id set committed with the cookie', async () => {
    await start();
    const file = join(dir, 'd.yaml');
    await writeFile(
      file,
      `version: 1
connection: {identifier: I, server: "${sb!.url}", oAuthToken: t}
export:
  output: out
  incrementalOverlap: 0
  entities:
    Users: {columns: [userName, id], incremental: true, detectDeletes: true}
    Nope: {columns: [id]}
`,
    );
    const ids = () => readFile(join(dir, 'out', 'I.cookie.Users.ids'), 'utf8');
    expect((await cli(['export', file, '--entity', 'Users'])).code).to.equal(0);
    expect(await ids()).to.equal('u1\nu2\nu3\n');

    clock += 1000;
    sb!.store.delete('Users', 'u2');
    sb!.store.replace('Users', 'u1', { schemas: [USER], userName: 'user1b' });
    // A failed run: neither the id set nor the cookie move.
    const cookieBefore = await cookieText();
    expect((await cli(['export', file])).code).to.equal(1);
    expect(await ids()).to.equal('u1\nu2\nu3\n');
    expect(await cookieText()).to.equal(cookieBefore);

    const r = await cli(['export', file, '--entity', 'Users']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await users()).to.equal('command,userName,id\r\nupdate,user1b,u1\r\ndelete,,u2\r\n');
    expect(await ids()).to.equal('u1\nu3\n');
    // The ids-only listing asks for nothing but the id.
    expect(sb!.requests.some((q) => q.path === '/v2/Users' && new URLSearchParams(q.query).get('attributes') === 'id' && !new URLSearchParams(q.query).get('filter'))).to.equal(true);

    // Reported once: the next run has nothing to say.
    clock += 1000;
    expect((await cli(['export', file, '--entity', 'Users'])).code).to.equal(0);
    expect(await users()).to.equal('command,userName,id\r\n');
  });

  it('incremental memberships: replace rows for changed groups (an emptied one included), delete rows for deleted ones', async () => {
    const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
    const group = (id: string, members: string[]) => ({ schemas: [GROUP], id, displayName: id.toUpperCase(), members: members.map((value) => ({ value })) });
    await start({ data: { Users: [1, 2, 3].map((i) => ({ schemas: [USER], id: `u${i}`, userName: `user${i}` })), Groups: [group('g1', ['u1', 'u2']), group('g2', ['u3']), group('g3', ['u1']), group('g4', ['u2'])] } });
    const file = join(dir, 'g.yaml');
    await writeFile(
      file,
      `version: 1
connection: {identifier: I, server: "${sb!.url}", oAuthToken: t}
export:
  output: out
  incrementalOverlap: 0
  entities:
    Groups: {columns: [id, displayName], incremental: true, detectDeletes: true, members: true}
`,
    );
    const members = () => readFile(join(dir, 'out', 'I_members_Groups.csv'), 'utf8');
    const groups = () => readFile(join(dir, 'out', 'I_Groups.csv'), 'utf8');
    let r = await cli(['export', file]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await members()).to.equal('value,MemberId\r\ng1,u1\r\ng1,u2\r\ng2,u3\r\ng3,u1\r\ng4,u2\r\n');

    clock += 1000;
    sb!.store.replace('Groups', 'g1', group('g1', ['u2', 'u3']));
    sb!.store.replace('Groups', 'g2', group('g2', []));
    sb!.store.delete('Groups', 'g3');
    r = await cli(['export', file]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await groups()).to.equal('command,id,displayName\r\nupdate,g1,G1\r\nupdate,g2,G2\r\ndelete,g3,\r\n');
    expect(await members()).to.equal('command,value,MemberId\r\nreplace,g1,u2\r\nreplace,g1,u3\r\nreplace,g2,\r\ndelete,g3,\r\n');
    // The summary counts the rows per command: in the text log…
    expect(r.stderr).to.match(/^exported table=I_Groups\.csv rows=3 .*insert=0 update=2 delete=1 file=/m);
    expect(r.stderr).to.match(/^exported table=I_members_Groups\.csv rows=4 .*replace=3 delete=1 file=/m);
    // …and in the JSON log.
    clock += 1000;
    sb!.store.insert('Groups', group('g5', ['u1']));
    r = await cli(['export', file, '--log-format', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const exported = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'exported');
    expect(exported.map(({ table, insert, update, delete: del, replace }) => ({ table, insert, update, delete: del, replace }))).to.deep.equal([
      { table: 'I_Groups.csv', insert: 1, update: 0, delete: 0, replace: undefined },
      { table: 'I_members_Groups.csv', insert: undefined, update: undefined, delete: 0, replace: 1 },
    ]);
  });

  it('detectDeletes without incremental, or without an id column, is a configuration error (exit 78)', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'version: 1\nconnection: {identifier: I, server: "http://127.0.0.1:9"}\nexport:\n  entities:\n    Users: {columns: [id], detectDeletes: true}\n    Groups: {columns: [displayName], incremental: true, detectDeletes: true}\n');
    const r = await cli(['export', file]);
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/bad\.yaml:5:\d+ ERR_CONFIG_DETECT_DELETES .*detectDeletes needs incremental: true/);
    expect(r.stderr).to.match(/bad\.yaml:6:\d+ ERR_CONFIG_DETECT_DELETES .*add id to the columns/);
  });

  it('--stdout runs complete and neither reads nor writes the cookie', async () => {
    await start();
    const file = await pipeline();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'I.cookie.json'), 'not even JSON');
    const r = await cli(['export', file, '--entity', 'Users', '--stdout']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('id,userName\r\nu1,user1\r\nu2,user2\r\nu3,user3\r\n');
    expect(await cookieText()).to.equal('not even JSON');
  });

  it('an unreadable cookie stops the run before anything is sent (exit 78)', async () => {
    await start();
    const file = await pipeline();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'I.cookie.json'), '{"version": 1, "entities": {"Users": {"watermark": "soon"}}}');
    const r = await cli(['export', file, '--entity', 'Users']);
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include('ERR_INCREMENTAL_COOKIE');
    expect(r.stderr).to.include('entities.Users.watermark is not a date');
    expect(sb!.requests.filter((q) => q.path.startsWith('/v2/Users'))).to.have.length(0);
  });
});
