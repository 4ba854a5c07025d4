/**
 * The same checks against every real server: seed a deterministic directory
 * through its SCIM API, run the real CLI, and compare what scim-etl wrote or
 * did with what the server itself answers for each resource (one GET per
 * user and group). "Never silently wrong": every cell and every membership,
 * and every fulfill line reported ok really changed the server.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cli, type Captured } from '../helpers/io.js';
import { api, type RealServer, type Resource, type ScimApi } from './real-server.js';
import { ENTERPRISE, GROUP_NAMES, groupMembers, seed, seedUser, type Seeded } from './seed.js';

export interface ServerTraits {
  /** Stores and returns the enterprise extension. */
  enterprise: boolean;
}

const ID = 'RealExport';
const EMPLOYEE = `${ENTERPRISE}:employeeNumber`;
const SEED_USERS = 60;

/** The README's example columns (the enterprise one where the server keeps it). */
function userColumns(t: ServerTraits): string[] {
  return ['id', 'userName', 'name:givenName', 'name:familyName', 'emails:value', 'active', ...(t.enterprise ? [EMPLOYEE] : [])];
}

type Row = Record<string, string>;

function readTable(file: string): { header: string[]; rows: Row[] } {
  const [header, ...lines] = parse(readFileSync(file, 'utf8')) as string[][];
  return { header: header!, rows: lines.map((l) => Object.fromEntries(header!.map((h, i) => [h, l[i] ?? '']))) };
}

/** A CSV cell as SPEC §4 defines it, computed from the server's own JSON (independently of lib/). */
function expectedCell(r: Resource, column: string): string {
  const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  switch (column) {
    case 'name:givenName':
      return text(obj(r.name).givenName);
    case 'name:familyName':
      return text(obj(r.name).familyName);
    case 'emails:value': {
      const emails = (Array.isArray(r.emails) ? r.emails : []) as Record<string, unknown>[];
      const pick = emails.find((e) => e.primary === true || e.primary === 'true') ?? emails[0];
      return text(pick?.value);
    }
    case EMPLOYEE:
      return text(obj(r[ENTERPRISE]).employeeNumber);
    default:
      return text(r[column]);
  }
}

function memberIds(g: Resource): string[] {
  return ((g.members ?? []) as { value: string }[]).map((m) => m.value);
}

/** Every cell that differs from the server's view, as readable lines (empty: all right). */
async function wrongCells(scim: ScimApi, rows: Row[], columns: string[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const row of rows) {
    const truth = await scim.get(`/Users/${row.id}`);
    for (const c of columns) {
      const want = expectedCell(truth, c);
      if (row[c] !== want) wrong.push(`${row.id} ${c}: wrote ${JSON.stringify(row[c])}, server has ${JSON.stringify(want)}`);
    }
  }
  return wrong;
}

export function realServerSuite(start: () => Promise<RealServer>, traits: ServerTraits): void {
  let server: RealServer;
  let scim: ScimApi;
  let seeded: Seeded;
  let dir: string;

  before(async () => {
    server = await start();
    scim = api(server);
    seeded = await seed(scim, { users: SEED_USERS, enterprise: traits.enterprise });
  });
  after(async () => {
    await server?.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-real-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function pipeline(body: string): string {
    const file = join(dir, 'pipeline.yaml');
    const head = [
      'version: 1',
      'connection:',
      `  identifier: ${ID}`,
      '  server: ${SCIM_SERVER}',
      '  oAuthToken: ${SCIM_TOKEN}',
      '  pageSize: 25', // several pages of the 60 seeded users
      // A 5xx is a finding here, not something to wait out.
      '  retry: { limit: 1, backoff: 1 }',
    ];
    writeFileSync(file, [...head, body].join('\n') + '\n');
    return file;
  }

  function run(argv: string[]): Promise<Captured> {
    return cli([...argv, '--no-progress'], { env: { SCIM_SERVER: server.server, SCIM_TOKEN: server.token }, cwd: dir });
  }

  async function exportUsers(filter?: string): Promise<{ r: Captured; file: string }> {
    const cols = userColumns(traits).map((c) => `        - ${c}`);
    const file = pipeline(
      ['export:', '  output: out', '  entities:', '    Users:', ...(filter ? [`      filter: '${filter}'`] : []), '      columns:', ...cols].join('\n'),
    );
    const r = await run(['export', file]);
    return { r, file: join(dir, 'out', `${ID}_Users.csv`) };
  }

  it('seeding: the server holds the seeded directory as sent (the glue and the direct reads work)', async () => {
    expect(seeded.users).to.have.length(SEED_USERS);
    for (let n = 0; n < SEED_USERS; n++) {
      const u = await scim.get(`/Users/${seeded.users[n]!.id}`);
      const s = seedUser(n);
      expect(u).to.deep.include({ id: seeded.users[n]!.id, userName: s.userName, active: s.active });
      expect(u.name).to.deep.include({ givenName: s.givenName, familyName: s.familyName });
      expect(expectedCell(u, 'emails:value')).to.equal(s.userName);
      if (traits.enterprise) expect(expectedCell(u, EMPLOYEE)).to.equal(s.employeeNumber ?? '');
    }
    for (let g = 0; g < GROUP_NAMES.length; g++) {
      const group = await scim.get(`/Groups/${seeded.groups[g]!.id}`);
      expect(group.displayName).to.equal(GROUP_NAMES[g]);
      expect(memberIds(group)).to.have.members(groupMembers(g, SEED_USERS).map((n) => seeded.users[n]!.id));
    }
  });

  it('export Users: one row per user the server holds, every cell as GET /Users/{id} returns it', async () => {
    const { r, file } = await exportUsers();
    expect(r.code, r.stderr).to.equal(0);
    const { header, rows } = readTable(file);
    expect(header).to.deep.equal(userColumns(traits));
    expect(rows.map((x) => x.id)).to.have.members(seeded.users.map((u) => u.id));
    expect(await wrongCells(scim, rows, header)).to.deep.equal([]);
  });

  it('export Groups with members: every group, and exactly the membership pairs GET /Groups/{id} returns', async () => {
    const file = pipeline(['export:', '  output: out', '  entities:', '    Groups:', '      columns: [id, displayName]', '      members: true'].join('\n'));
    const r = await run(['export', file]);
    expect(r.code, r.stderr).to.equal(0);
    const groups = readTable(join(dir, 'out', `${ID}_Groups.csv`));
    expect(groups.header).to.deep.equal(['id', 'displayName']);
    const links = readTable(join(dir, 'out', `${ID}_members_Groups.csv`));
    expect(links.header).to.deep.equal(['value', 'MemberId']);
    expect(groups.rows.map((g) => g.id)).to.have.members(seeded.groups.map((g) => g.id));
    const want: string[] = [];
    for (const row of groups.rows) {
      const truth = await scim.get(`/Groups/${row.id}`);
      expect(row.displayName, row.id).to.equal(truth.displayName);
      want.push(...memberIds(truth).map((m) => `${row.id} ${m}`));
    }
    const got = links.rows.map((l) => `${l.value} ${l.MemberId}`);
    expect(got).to.have.members(want);
    expect(got).to.have.length(new Set(got).size); // no pair twice
  });

  it('export Users with filter active eq "true": exactly the active users, cells as the server has them', async () => {
    const { r, file } = await exportUsers('active eq "true"');
    expect(r.code, r.stderr).to.equal(0);
    const { header, rows } = readTable(file);
    const active: string[] = [];
    for (const u of seeded.users) if ((await scim.get(`/Users/${u.id}`)).active === true) active.push(u.id);
    expect(active.length).to.be.within(1, SEED_USERS - 1); // the seed has both kinds
    expect(rows.map((x) => x.id)).to.have.members(active);
    expect(await wrongCells(scim, rows, header)).to.deep.equal([]);
  });

  it('a failed export leaves the previous files as they were', async () => {
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(join(out, `${ID}_Users.csv`), 'previous\r\n');
    const file = pipeline(['export:', '  output: out', '  entities:', '    Users:', '      columns: [id, userName]'].join('\n'));
    const r = await cli(['export', file, '--no-progress'], { env: { SCIM_SERVER: server.server, SCIM_TOKEN: 'not-the-token' }, cwd: dir });
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/ERR_[A-Z]+_[A-Z_]+/);
    expect(r.stderr).to.not.include(server.token);
    expect(readFileSync(join(out, `${ID}_Users.csv`), 'utf8')).to.equal('previous\r\n');
    expect(existsSync(join(out, `${ID}_Groups.csv`))).to.equal(false);
  });
}
