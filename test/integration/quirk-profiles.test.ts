/**
 * The real CLI against each sandbox quirk profile: the behaviours of real
 * servers that do not install here (scimgateway, SCIMServer, scim2-server)
 * and of the npm ones (scimmy, better-auth), reproduced as data. Each test
 * asserts what a user relies on: every cell and membership right, every
 * order on the server, or a coded failure with a non-zero exit. Expected
 * cells are computed here from the sandbox's own store, not by lib/.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startSandbox, type Sandbox, type QuirkSpec } from '../../lib/sandbox/index.js';
import { createScimClient } from '../../lib/scim/client.js';
import { cli } from '../helpers/io.js';
import { rejects } from '../helpers/rejects.js';
import { testConnection } from '../helpers/model.js';
import { tempDir, readResults } from '../fulfill/helpers.js';
import type { ScimResource } from '../../lib/types.js';

const TOKEN = 'quirk-profiles-token';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const COLUMNS = ['id', 'userName', 'name:givenName', 'emails:value', 'active', `${ENT}:employeeNumber`];

/** One cell as SPEC §4 defines it, computed from the store's resource. */
function expectedCell(u: ScimResource, column: string): string {
  const r = u as Record<string, any>;
  switch (column) {
    case 'id':
      return String(r.id);
    case 'userName':
      return String(r.userName ?? '');
    case 'name:givenName':
      return String(r.name?.givenName ?? '');
    case 'emails:value': {
      const emails: Array<{ value?: string; primary?: boolean }> = r.emails ?? [];
      return String((emails.find((e) => e.primary) ?? emails[0])?.value ?? '');
    }
    case 'active':
      return r.active === undefined ? '' : String(r.active);
    default:
      return String(r[ENT]?.employeeNumber ?? '');
  }
}

interface Run {
  code: number;
  stderr: string;
  dir: string;
}

describe('quirk profiles: the CLI is right or fails loudly on every server behaviour', function () {
  this.timeout(60_000);
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  async function sandbox(quirks: QuirkSpec[], users = 120): Promise<Sandbox> {
    sb = await startSandbox({ generate: { users, groups: 6, members: Math.min(users, 70) }, token: TOKEN, quirks });
    return sb;
  }

  function pipeline(dir: string, opts: { server?: string; filter?: string; fulfill?: string[] } = {}): string {
    const file = join(dir, 'p.yaml');
    const lines = [
      'version: 1',
      'connection:',
      '  identifier: Q',
      `  server: ${opts.server ?? sb!.url}`,
      `  oAuthToken: ${TOKEN}`,
      '  retry: { backoff: 1 }',
      'export:',
      '  output: out',
      '  entities:',
      '    Users:',
      `      columns: [${COLUMNS.map((c) => JSON.stringify(c)).join(', ')}]`,
      ...(opts.filter ? [`      filter: '${opts.filter}'`] : []),
      '    Groups:',
      '      columns: [id, displayName]',
      '      members: true',
      'fulfill:',
      '  orders: orders',
      '  results: results',
      ...(opts.fulfill ?? []).map((l) => `  ${l}`),
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  async function exportRun(opts: { server?: string; filter?: string } = {}): Promise<Run> {
    const dir = tempDir();
    const r = await cli(['export', pipeline(dir, opts)], { cwd: dir });
    return { code: r.code, stderr: r.stderr, dir };
  }

  const table = (dir: string, name: string): Array<Record<string, string>> => parse(readFileSync(join(dir, 'out', `Q_${name}.csv`)), { columns: true, bom: true });

  /** Every user the store holds (that `keep` keeps), each cell as the store has it. */
  function assertUsers(run: Run, keep: (u: Record<string, any>) => boolean = () => true): void {
    expect(run.code, run.stderr).to.equal(0);
    const rows = table(run.dir, 'Users');
    const want = sb!.store.users.filter(keep);
    expect(rows.map((r) => r.id).sort()).to.deep.equal(want.map((u) => String(u.id)).sort());
    const byId = new Map(want.map((u) => [String(u.id), u]));
    const wrong: string[] = [];
    for (const row of rows) for (const c of COLUMNS) if (row[c] !== expectedCell(byId.get(row.id)!, c)) wrong.push(`${row.id} ${c}: ${JSON.stringify(row[c])} != ${JSON.stringify(expectedCell(byId.get(row.id)!, c))}`);
    expect(wrong, 'wrong cells').to.deep.equal([]);
    // The fixture must exercise the extension column, or the test proves nothing.
    expect(rows.filter((r) => r[`${ENT}:employeeNumber`] !== '').length).to.be.above(10);
  }

  function assertLinks(run: Run): void {
    const rows = table(run.dir, 'members_Groups').map((r) => `${r.value} ${r.MemberId}`).sort();
    const want = sb!.store.groups.flatMap((g) => sb!.store.memberIds(String(g.id)).map((m) => `${g.id} ${m}`)).sort();
    expect(want.length).to.be.above(60);
    expect(rows).to.deep.equal(want);
  }

  describe('projection', () => {
    for (const [quirk, says] of [
      ['dropExtensionAttributes', /attributes=/],
      ['emptyParentProjection', /attributes=/],
      ['attributesUrn400', /attributes=/],
    ] as const) {
      it(`${quirk}: every cell and membership right, with a warning naming what the server does`, async () => {
        await sandbox([quirk]);
        const run = await exportRun();
        assertUsers(run);
        assertLinks(run);
        expect(run.stderr).to.match(/^warn: /m).and.match(says);
      });
    }
  });

  describe('paging', () => {
    it('totalIsPageLength with a page cap of 50: all 120 users and every membership link', async () => {
      await sandbox(['totalIsPageLength', 'pageCap=50']);
      const run = await exportRun();
      assertUsers(run);
      assertLinks(run);
      expect(run.stderr).to.match(/totalResults/);
    });

    it('the scim2-server bundle (page cap, lying totals, hollow projections, 500 for client errors): exact tables', async () => {
      await sandbox(['scim2-server']);
      const run = await exportRun();
      assertUsers(run);
      assertLinks(run);
    });
  });

  describe('the SCIM root', () => {
    it('rootPath: server set to the root itself exports every cell', async () => {
      await sandbox(['rootPath=/scim/v2/endpoints/abc']);
      const run = await exportRun({ server: `${sb!.url}/scim/v2/endpoints/abc` });
      assertUsers(run);
      assertLinks(run);
    });

    it('rootPath: a server URL that is not a SCIM root fails with a coded error, no file written', async () => {
      await sandbox(['rootPath=/scim/v2/endpoints/abc']);
      const run = await exportRun();
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/ERR_[A-Z_]+/);
      expect(run.stderr).not.to.match(/\n\s+at /);
      expect(existsSync(join(run.dir, 'out', 'Q_Users.csv'))).to.equal(false);
    });

    it('a server URL ending in /v2 is a SCIM root too', async () => {
      await sandbox([]);
      assertUsers(await exportRun({ server: `${sb!.url}/v2` }));
    });
  });

  describe('filters', () => {
    const isActive = (u: Record<string, any>) => u.active === true;

    it('quotedBooleanNeverMatches: active eq "true" (the seed form) exports exactly the active users', async () => {
      await sandbox(['quotedBooleanNeverMatches']);
      expect(sb!.store.users.filter((u) => !isActive(u)).length).to.be.above(0);
      assertUsers(await exportRun({ filter: 'active eq "true"' }), isActive);
    });

    it('activeNotFilterable: the filter is applied locally, with a warning, rows right', async () => {
      await sandbox(['activeNotFilterable']);
      const run = await exportRun({ filter: 'active eq "true"' });
      assertUsers(run, isActive);
      expect(run.stderr).to.match(/^warn: .*filter/m);
    });

    it('clientErrorAs500: a filter the server calls invalid (500 with scimType) is not retried', async () => {
      await sandbox(['clientErrorAs500']);
      const client = createScimClient(testConnection({ server: sb!.url, oAuthToken: TOKEN, retry: { limit: 4, maxRetryAfterMs: 1000, backoffMs: 1 } }));
      try {
        const err = await rejects(client.request({ path: 'Users', searchParams: { filter: 'userName zz "x"' } }));
        expect(err.status).to.equal(500);
        expect(err.scimType).to.equal('invalidFilter');
        expect(sb!.requests.filter((r) => r.path.endsWith('/Users'))).to.have.length(1);
      } finally {
        client.close();
      }
    });
  });

  describe('fulfill', () => {
    async function fulfillRun(files: Record<string, string>, fulfill: string[] = []): Promise<Run & { rows: (name: string) => Promise<Array<Record<string, string>>> }> {
      const dir = tempDir();
      mkdirSync(join(dir, 'orders'));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'orders', name), text);
      const r = await cli(['fulfill', pipeline(dir, { fulfill })], { cwd: dir });
      return { code: r.code, stderr: r.stderr, dir, rows: (name) => readResults(join(dir, 'results', name)) };
    }
    const someUsers = (n: number) => sb!.store.users.slice(0, n).map((u) => String(u.id));

    it('ignoreDottedReplace: an update of name:givenName lands (sent again as a complex value)', async () => {
      await sandbox(['ignoreDottedReplace'], 20);
      const [a, b] = someUsers(2);
      const run = await fulfillRun({ 'Q_Users.csv': `command,id,name:givenName\nupdate,${a},Zelda\nupdate,${b},Yann\n` });
      expect(run.code, run.stderr).to.equal(0);
      expect((await run.rows('Q_Users.csv')).map((r) => r.outcome)).to.deep.equal(['ok', 'ok']);
      expect([a, b].map((id) => (sb!.store.get('Users', id!) as any).name.givenName)).to.deep.equal(['Zelda', 'Yann']);
    });

    it('memberPatchLimit (100): 150 member adds in one group are all ok and all on the server', async () => {
      await sandbox(['memberPatchLimit'], 160);
      const group = String(sb!.store.groups.find((g) => sb!.store.memberIds(String(g.id)).length === 0)?.id ?? sb!.store.groups[0]!.id);
      const before = new Set(sb!.store.memberIds(group));
      const adds = someUsers(160).filter((id) => !before.has(id)).slice(0, 150);
      expect(adds).to.have.length(150);
      const run = await fulfillRun({ 'Q_members_Groups.csv': 'command,value,MemberId\n' + adds.map((m) => `add,${group},${m}\n`).join('') });
      expect(run.code, run.stderr).to.equal(0);
      expect((await run.rows('Q_members_Groups.csv')).every((r) => r.outcome === 'ok')).to.equal(true);
      expect(new Set(sb!.store.memberIds(group))).to.include.all.keys(adds);
    });

    it('createWithoutId: a user created without an id in the reply gets its real id in the results', async () => {
      await sandbox(['createWithoutId'], 5);
      const run = await fulfillRun({ 'Q_Users.csv': 'command,orderId,userName\ninsert,p,paren(s)@example.com\n' });
      expect(run.code, run.stderr).to.equal(0);
      const [row] = await run.rows('Q_Users.csv');
      expect(row!.outcome).to.equal('ok');
      expect(row!.id).to.equal(sb!.store.userIdByName('paren(s)@example.com'));
      expect(row!.id).not.to.match(/^(undefined)?$/);
    });

    it('deleteMissing500: a delete of a user that is not there is skipped, not failed', async () => {
      await sandbox(['deleteMissing500'], 5);
      const run = await fulfillRun({ 'Q_Users.csv': 'command,id\ndelete,no-such-user\n' });
      expect(run.code, run.stderr).to.equal(0);
      expect((await run.rows('Q_Users.csv')).map((r) => r.outcome)).to.deep.equal(['skipped']);
    });

    it('bulkPatchIgnored with verify: every Bulk PATCH that the server ignored is caught and sent again singly', async () => {
      await sandbox(['bulkPatchIgnored'], 20);
      const ids = someUsers(4);
      const run = await fulfillRun({ 'Q_Users.csv': 'command,id,title\n' + ids.map((id, i) => `update,${id},T${i}\n`).join('') }, ['serviceSupportBulk: true', 'bulkMaxOperation: 2', 'verify: true']);
      expect(run.code, run.stderr).to.equal(0);
      expect((await run.rows('Q_Users.csv')).every((r) => r.outcome === 'ok')).to.equal(true);
      expect(ids.map((id) => (sb!.store.get('Users', id) as any).title)).to.deep.equal(['T0', 'T1', 'T2', 'T3']);
      expect(run.stderr).to.match(/single requests/);
    });
  });

  describe('server bundles end to end', () => {
    it('scimgateway: exact export; Bulk updates verified; a user created without id found by userName', async () => {
      await sandbox(['scimgateway'], 60);
      const run = await exportRun();
      assertUsers(run);
      assertLinks(run);
    });

    it('SCIMServer: its root, the quoted boolean filter, and dotted updates all come out right', async () => {
      await sandbox(['SCIMServer'], 60);
      const server = `${sb!.url}/scim/v2/endpoints/sandbox`;
      assertUsers(await exportRun({ server, filter: 'active eq "true"' }), (u) => u.active === true);
    });

    it('better-auth: local filter and 150 member adds', async () => {
      await sandbox(['better-auth'], 60);
      assertUsers(await exportRun({ filter: 'active eq "true"' }), (u) => u.active === true);
    });

    it('scimmy: the extension URN in attributes= answered 400, the export is still exact', async () => {
      await sandbox(['scimmy'], 60);
      assertUsers(await exportRun());
    });
  });
});
