/**
 * The export command end to end: the real CLI parser against the sandbox
 * server in process (port 0), on the shipped pipelines and on pipelines
 * written for one behaviour each.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import nock from 'nock';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'export-test-token-3f9a';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('scim-etl export (CLI against the sandbox)', function () {
  this.timeout(60_000);
  let dir: string;
  let sb: Sandbox | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-export-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function sandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
    sb = await startSandbox({ data: join(root, 'samples/directory.json'), token: TOKEN, ...opts });
    return sb;
  }
  const env = () => ({ SCIM_SERVER: sb!.url, SCIM_TOKEN: TOKEN });
  const out = (name: string) => readFile(join(dir, 'out', name), 'utf8');

  /** A pipeline file of our own, in the temp dir. */
  async function pipelineFile(entities: string, extra = ''): Promise<string> {
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: T
  server: \${SCIM_SERVER}
  oAuthToken: \${SCIM_TOKEN}
  pageSize: \${PAGE_SIZE:-200}
  concurrency: \${CONCURRENCY:-1}
  retry:
    backoff: 1                  # no real-time waits in tests
export:
  output: out
${extra}  entities:
${entities}`,
    );
    return file;
  }

  for (const name of ['export-users-groups', 'seed-filter-syntax']) {
    it(`produces samples/expected/${name}/ from pipelines/${name}.yaml`, async () => {
      await sandbox();
      const res = await cli(['export', join(root, `pipelines/${name}.yaml`), '--output', join(dir, 'out')], { env: env() });
      expect(res.stderr).not.to.include('error');
      expect(res.code).to.equal(0);
      const expectedDir = join(root, 'samples/expected', name);
      const expected = (await readdir(expectedDir)).sort();
      expect((await readdir(join(dir, 'out'))).sort()).to.deep.equal(expected);
      for (const f of expected) expect(await out(f), f).to.equal(await readFile(join(expectedDir, f), 'utf8'));
      expect(res.stdout).to.equal('');
    });
  }

  it('reads every column-path form', async () => {
    await sandbox();
    const p = await pipelineFile(`    Users:
      filter: userName eq "bjensen@example.com"
      columns:
        - id
        - active
        - name:formatted
        - name
        - emails:value
        - emails[type eq "home"]:value
        - phoneNumbers[type eq "mobile"]:value
        - addresses[type eq "work"]:locality
        - ${ENT}:employeeNumber
        - ${ENT}:manager:value
        - urn:ietf:params:scim:schemas:core:2.0:User:userName
        - title
        - x509Certificates:value
`);
    const res = await cli(['export', p], { env: env() });
    expect(res.code, res.stderr).to.equal(0);
    const rows = parse(await out('T_Users.csv'), { columns: true }) as Record<string, string>[];
    const data = JSON.parse(await readFile(join(root, 'samples/directory.json'), 'utf8'));
    const bj = data.Users.find((u: { userName: string }) => u.userName === 'bjensen@example.com');
    expect(rows).to.have.length(1);
    expect(rows[0]).to.deep.equal({
      id: bj.id,
      active: 'true',
      'name:formatted': bj.name.formatted,
      name: JSON.stringify(bj.name),
      'emails:value': 'bjensen@example.com',
      'emails[type eq "home"]:value': 'babs@jensen.org',
      'phoneNumbers[type eq "mobile"]:value': '555-555-4444',
      'addresses[type eq "work"]:locality': 'Hollywood',
      [`${ENT}:employeeNumber`]: bj[ENT].employeeNumber,
      [`${ENT}:manager:value`]: bj[ENT].manager?.value ?? '',
      'urn:ietf:params:scim:schemas:core:2.0:User:userName': 'bjensen@example.com',
      title: 'Tour Guide',
      'x509Certificates:value': '',
    });
  });

  it('round-trips awkward values (non-ASCII, commas, quotes, newlines) through csv-parse', async () => {
    const awkward = ['Zoë "Z" Müller, Jr.', 'line one\nline two', 'tab\there', '日本語テキスト', '=SUM(A1:A2)', ' spaced ', 'emoji 🎉', 'crlf\r\nend'];
    const Users = awkward.map((displayName, i) => ({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: `aw-${i}`,
      userName: `aw${i}@example.com`,
      displayName,
    }));
    await sandbox({ data: { Users } });
    const p = await pipelineFile(`    Users:
      columns: [id, displayName]
`);
    const res = await cli(['export', p], { env: env() });
    expect(res.code, res.stderr).to.equal(0);
    const text = await out('T_Users.csv');
    const rows = parse(text, { columns: true }) as Array<{ id: string; displayName: string }>;
    expect(rows.map((r) => r.displayName)).to.deep.equal(awkward);
    expect(text.split('\r\n')[0]).to.equal('id,displayName');
  });

  it('escapes formulas when the pipeline asks for it', async () => {
    await sandbox({ data: { Users: [{ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'f1', userName: 'f1', displayName: '=HYPERLINK("http://x")' }] } });
    const p = await pipelineFile(`    Users:
      columns: [id, displayName]
`, '  escapeFormulas: true\n');
    const res = await cli(['export', p], { env: env() });
    expect(res.code, res.stderr).to.equal(0);
    expect((parse(await out('T_Users.csv'), { columns: true }) as Array<{ displayName: string }>)[0]!.displayName).to.equal('\'=HYPERLINK("http://x")');
  });

  describe('paging against misbehaving servers', () => {
    const generated = { generate: { users: 95, groups: 0 }, data: undefined };
    async function exportIds(extraEnv: Record<string, string> = {}): Promise<{ code: number; ids: string[]; stderr: string }> {
      const p = await pipelineFile(`    Users:
      columns: [id, userName]
`);
      const res = await cli(['export', p, '--log-format', 'json'], { env: { ...env(), PAGE_SIZE: '20', ...extraEnv } });
      let ids: string[] = [];
      if (res.code === 0) ids = (parse(await out('T_Users.csv'), { columns: true }) as Array<{ id: string }>).map((r) => r.id);
      return { code: res.code, ids, stderr: res.stderr };
    }
    const allIds = () => [...sb!.store.ids('Users')].sort();

    it('a server that caps count', async () => {
      await sandbox({ ...generated, faults: [{ kind: 'capCount', pageSize: 7 }] });
      const r = await exportIds({ CONCURRENCY: '3' });
      expect(r.code, r.stderr).to.equal(0);
      expect([...r.ids].sort()).to.deep.equal(allIds());
      expect(new Set(r.ids).size).to.equal(95);
    });

    it('a server that ignores count', async () => {
      await sandbox({ ...generated, faults: [{ kind: 'ignoreCount', pageSize: 30 }] });
      const r = await exportIds();
      expect(r.code, r.stderr).to.equal(0);
      expect([...r.ids].sort()).to.deep.equal(allIds());
    });

    it('a server that shifts items between pages: duplicates dropped and counted', async () => {
      await sandbox({ ...generated, faults: [{ kind: 'shiftItems' }] });
      const r = await exportIds();
      expect(r.code, r.stderr).to.equal(0);
      expect(new Set(r.ids).size).to.equal(r.ids.length);
      expect([...r.ids].sort()).to.deep.equal(allIds());
      const summary = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.event === 'export.table');
      expect(summary).to.include({ table: 'T_Users.csv', rows: 95 });
      expect(summary.duplicates).to.be.above(0);
      expect(summary).to.have.keys('time', 'level', 'event', 'msg', 'table', 'rows', 'expected', 'received', 'pages', 'retries', 'throttled', 'throttledMs', 'lowestLimit', 'mostInFlight', 'duplicates', 'seconds', 'file');
      // The fault inserts virtually: totalResults grows to more than the 95 there are, which is no gap.
      expect(summary).to.include({ received: 95 });
      expect(summary.expected).to.be.above(95);
    });

    it('a server that shifts items, read with concurrent pages', async () => {
      await sandbox({ ...generated, faults: [{ kind: 'shiftItems' }] });
      const r = await exportIds({ CONCURRENCY: '4' });
      expect(r.code, r.stderr).to.equal(0);
      expect(new Set(r.ids).size).to.equal(r.ids.length);
      expect([...r.ids].sort()).to.deep.equal(allIds());
    });

    it('a server that repeats a page: ERR_EXPORT_REPEATED_PAGE, exit 1, no file', async () => {
      await sandbox({ ...generated, faults: [{ kind: 'repeatPage' }] });
      const r = await exportIds();
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('ERR_EXPORT_REPEATED_PAGE');
      expect(await readdir(join(dir, 'out'))).to.deep.equal([]);
    });

    it('a page cut in the middle is fetched again without duplicate rows', async () => {
      await sandbox({ ...generated, faults: [{ kind: 'truncate', route: 'GET /v2/Users', after: 2 }, { kind: 'reset', route: 'GET /v2/Users', after: 3 }] });
      const r = await exportIds();
      expect(r.code, r.stderr).to.equal(0);
      expect([...r.ids].sort()).to.deep.equal(allIds());
    });
  });

  it('a failure mid-table leaves the previous file intact and exits non-zero', async () => {
    await sandbox({ generate: { users: 60, groups: 0 }, data: undefined });
    const p = await pipelineFile(`    Users:
      columns: [id, userName]
`);
    await cli(['export', p], { env: { ...env(), PAGE_SIZE: '10' } });
    const before = await out('T_Users.csv');
    expect(before.split('\r\n').length).to.equal(62);
    sb!.setFaults([{ kind: '500', route: 'GET /v2/Users', after: 2, times: 100 }]);
    const res = await cli(['export', p], { env: { ...env(), PAGE_SIZE: '10' } });
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/ERR_SCIM_HTTP .*500/);
    expect(res.stderr).not.to.include(TOKEN);
    expect(res.stderr).not.to.match(/\bat .*\.ts:\d+/);
    expect(await out('T_Users.csv')).to.equal(before);
    expect(await readdir(join(dir, 'out'))).to.deep.equal(['T_Users.csv']);
  });

  // The 1M-member group (wall, peak RSS, every link counted) is a bench scenario: `npm run bench`.
  it('streams a group with 20,000 members to the members table', async function () {
    this.timeout(120_000);
    const n = 20_000;
    const Users = Array.from({ length: n }, (_, i) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: `m${i}`, userName: `m${i}` }));
    const Groups = [
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'big', displayName: 'Big', members: Users.map((u) => ({ value: u.id })) },
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'small', displayName: 'Small', members: [{ value: 'm7' }] },
    ];
    await sandbox({ data: { Users, Groups } });
    const p = await pipelineFile(`    Groups:
      columns: [id, displayName]
      members: true
`);
    // nock's interceptor (active once any test file imports nock) ignores
    // backpressure and reports a big reply read slowly as aborted by the server:
    // this test is about our streaming, so it talks to the sandbox directly.
    const intercepting = nock.isActive();
    if (intercepting) nock.restore();
    let res;
    try {
      res = await cli(['export', p, '--entity', 'members_Groups'], { env: env() });
    } finally {
      if (intercepting) nock.activate();
    }
    expect(res.code, res.stderr).to.equal(0);
    const text = await out('T_members_Groups.csv');
    const lines = text.split('\r\n');
    expect(lines[0]).to.equal('value,MemberId');
    expect(lines.length).to.equal(n + 1 + 1 + 1); // header, links, trailing empty
    expect(lines[1]).to.equal('big,m0');
    expect(lines[n]).to.equal(`big,m${n - 1}`);
    expect(lines[n + 1]).to.equal('small,m7');
    expect(await readdir(join(dir, 'out'))).to.deep.equal(['T_members_Groups.csv']);
  });

  it('membership replies cut mid-body are read again without duplicate links', async () => {
    await sandbox({ faults: [{ kind: 'reset', route: 'GET /v2/Groups', times: 1 }, { kind: 'truncate', route: 'GET /v2/Groups', after: 1, times: 1 }] });
    const p = await pipelineFile(`    Groups:
      columns: [id]
      members: true
`);
    const res = await cli(['export', p, '--entity', 'members_Groups'], { env: env() });
    expect(res.code, res.stderr).to.equal(0);
    expect(await out('T_members_Groups.csv')).to.equal(await readFile(join(root, 'samples/expected/export-users-groups/SCIMExport_members_Groups.csv'), 'utf8'));
    // reset, truncate, the good page, and the end probe (totalResults equal to one page's owners is asked once more).
    expect(sb!.requests.filter((r) => r.path === '/v2/Groups').length).to.equal(4);
  });

  describe('--stdout, --entity, --format', () => {
    it('streams one table to stdout, readable by csv-parse, logs on stderr only', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--stdout', '--entity', 'users'], { env: env() });
      expect(res.code, res.stderr).to.equal(0);
      const rows = parse(res.stdout, { columns: true }) as Array<Record<string, string>>;
      expect(rows.length).to.equal(8);
      expect(Object.keys(rows[0]!)[0]).to.equal('id');
      expect(res.stdout).to.equal(await readFile(join(root, 'samples/expected/export-users-groups/SCIMExport_Users.csv'), 'utf8'));
    });

    it('streams a membership table to stdout with --entity members_Groups', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--stdout', '--entity', 'members_Groups'], { env: env() });
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout.split('\r\n')[0]).to.equal('value,MemberId');
    });

    it('refuses --stdout without exactly one --entity: ERR_OPTION_STDOUT, exit 78, nothing sent', async () => {
      await sandbox();
      for (const extra of [[], ['--entity', 'Users', '--entity', 'Groups']]) {
        const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--stdout', ...extra], { env: env() });
        expect(res.code).to.equal(78);
        expect(res.stderr).to.include('ERR_OPTION_STDOUT');
        expect(res.stdout).to.equal('');
      }
      expect(sb!.requests).to.deep.equal([]);
    });

    it('refuses an unknown --entity: ERR_OPTION_ENTITY, exit 78', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--entity', 'Roles', '--output', join(dir, 'out')], { env: env() });
      expect(res.code).to.equal(78);
      expect(res.stderr).to.match(/ERR_OPTION_ENTITY .*Roles.*Users, Groups, members_Groups/);
    });

    it('--entity Groups writes the Groups table and its members table only', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--entity', 'Groups', '--output', join(dir, 'out')], { env: env() });
      expect(res.code, res.stderr).to.equal(0);
      expect((await readdir(join(dir, 'out'))).sort()).to.deep.equal(['SCIMExport_Groups.csv', 'SCIMExport_members_Groups.csv']);
    });

    it('--format ndjson writes .ndjson files of row objects', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--format', 'ndjson', '--output', join(dir, 'out')], { env: env() });
      expect(res.code, res.stderr).to.equal(0);
      expect((await readdir(join(dir, 'out'))).sort()).to.deep.equal(['SCIMExport_Groups.ndjson', 'SCIMExport_Users.ndjson', 'SCIMExport_members_Groups.ndjson']);
      const groups = (await out('SCIMExport_Groups.ndjson')).trim().split('\n').map((l) => JSON.parse(l));
      expect(groups[1]).to.deep.equal({ id: 'fc348aa8-3835-40eb-a20b-c726e15c55b5', displayName: 'Sales, EMEA "Core"' });
    });

    it('shows progress on stderr when forced with --progress', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--progress', '--entity', 'Users', '--output', join(dir, 'out')], { env: env() });
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stderr).to.match(/SCIMExport_Users\.csv {2}8 \/ 8 {2}100%/);
      expect(res.stderr).to.match(/exported table=SCIMExport_Users\.csv rows=8 expected=8 received=8 pages=2 retries=0 throttled=0 throttledMs=0 lowestLimit=\d+ mostInFlight=\d+ duplicates=0 seconds=/);
    });

    it('refuses a pipeline without an export section: ERR_CONFIG_NO_EXPORT, exit 78', async () => {
      await sandbox();
      const res = await cli(['export', join(root, 'pipelines/fulfill-users.yaml')], { env: env() });
      expect(res.code).to.equal(78);
      expect(res.stderr).to.include('ERR_CONFIG_NO_EXPORT');
      expect(sb!.requests).to.deep.equal([]);
    });

    it('refuses an unknown --format with a usage error, exit 64 (EX_USAGE)', async () => {
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--format', 'xml']);
      expect(res.code).to.equal(64);
      expect(res.stderr).to.match(/ERR_USAGE [\s\S]*format/);
    });

    it('reports an output path that is not a directory: ERR_OUTPUT_DIR, exit 1', async () => {
      await sandbox();
      await writeFile(join(dir, 'afile'), 'x');
      const res = await cli(['export', join(root, 'pipelines/export-users-groups.yaml'), '--output', join(dir, 'afile')], { env: env() });
      expect(res.code).to.equal(1);
      expect(res.stderr).to.match(/ERR_OUTPUT_DIR .*afile exists and is not a directory/);
      expect(res.stderr).not.to.match(/\bat .*\.ts:\d+/);
    });

    it('reports an invalid pipeline with exit 78 before any request', async () => {
      await sandbox();
      const p = await pipelineFile(`    Users:
      columns: [id, "emails[type eq]:value"]
`);
      const res = await cli(['export', p], { env: env() });
      expect(res.code).to.equal(78);
      expect(res.stderr).to.match(/p\.yaml:\d+:\d+ ERR_/);
      expect(sb!.requests).to.deep.equal([]);
    });
  });
});
