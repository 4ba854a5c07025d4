/**
 * The same checks against every real server: seed a deterministic directory
 * through its SCIM API, run the real CLI, and compare what scim-etl wrote or
 * did with what the server itself answers for each resource (one GET per
 * user and group). "Never silently wrong": every cell and every membership,
 * and every fulfill line reported ok really changed the server.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cli, type Captured } from '../helpers/io.js';
import { api, type RealServer, type Resource, type ScimApi } from './real-server.js';
import { ENTERPRISE, GROUP_NAMES, groupMembers, seed, seedUser, type Seeded } from './seed.js';

export interface ServerTraits {
  /** Stores and returns the enterprise extension. */
  enterprise: boolean;
  /** Fulfill with `serviceSupportBulk: true` (the server offers Bulk). */
  bulk: boolean;
}

export const ID = 'RealExport';
const EMPLOYEE = `${ENTERPRISE}:employeeNumber`;
const SEED_USERS = 60;
/** Users the fulfill test inserts: with the seeded ones, more than 100 members go to one group. */
const NEW_USERS = 50;

function csvLine(cells: string[]): string {
  return cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + '\r\n';
}

/** The README's example columns (the enterprise one where the server keeps it). */
function userColumns(t: ServerTraits): string[] {
  return ['id', 'userName', 'name:givenName', 'name:familyName', 'emails:value', 'active', ...(t.enterprise ? [EMPLOYEE] : [])];
}

type Row = Record<string, string>;

export function readTable(file: string): { header: string[]; rows: Row[] } {
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
export async function wrongCells(scim: ScimApi, rows: Row[], columns: string[]): Promise<string[]> {
  const wrong: string[] = [];
  const truths = await scim.getAll(rows.map((row) => `/Users/${row.id}`));
  for (const [i, row] of rows.entries()) {
    const truth = truths[i]!;
    for (const c of columns) {
      const want = expectedCell(truth, c);
      if (row[c] !== want) wrong.push(`${row.id} ${c}: wrote ${JSON.stringify(row[c])}, server has ${JSON.stringify(want)}`);
    }
  }
  return wrong;
}

/** A pipeline file in `dir`: the connection from SCIM_SERVER / SCIM_TOKEN, then `body`. */
export function writePipeline(dir: string, body: string): string {
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

/** `scim-etl <argv…> --no-progress` in `dir`, pointed at the server. */
export function runCli(server: RealServer, dir: string, argv: string[]): Promise<Captured> {
  return cli([...argv, '--no-progress'], { env: { SCIM_SERVER: server.server, SCIM_TOKEN: server.token }, cwd: dir });
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

  const pipeline = (body: string) => writePipeline(dir, body);
  const run = (argv: string[]) => runCli(server, dir, argv);

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

  /** Exports Groups with members and checks every group and pair against GET /Groups/{id}. */
  async function checkGroupsExport(): Promise<void> {
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
  }

  it('export Groups with members: every group, and exactly the membership pairs GET /Groups/{id} returns', checkGroupsExport);

  it('export Users with filter active eq "true": exactly the active users, cells as the server has them', async () => {
    const { r, file } = await exportUsers('active eq "true"');
    expect(r.code, r.stderr).to.equal(0);
    const { header, rows } = readTable(file);
    const active = (await scim.getAll(seeded.users.map((u) => `/Users/${u.id}`))).filter((u) => u.active === true).map((u) => u.id);
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
    expect(readdirSync(out)).to.deep.equal([`${ID}_Users.csv`]); // no temp file left behind
  });

  it('fulfill: inserts, updates, a delete and 100+ member changes; every line ok and the server holds exactly what was ordered', async () => {
    const [everyone, halves, , quarters, empty] = seeded.groups.map((g) => g.id);
    const user = (n: number) => seeded.users[n]!.id;
    const updated = [5, 6, 7, 8, 9];
    const deleted = 10;
    const ext = traits.enterprise ? [EMPLOYEE] : [];
    const orders = join(dir, 'orders');
    mkdirSync(orders);

    let users = csvLine(['command', 'id', 'orderId', 'userName', 'name:givenName', 'name:familyName', 'emails:value', 'active', ...ext]);
    const inserted = [...Array(NEW_USERS).keys()].map((i) => {
      const key = `new${String(i + 1).padStart(2, '0')}`;
      return { key, userName: `${key}@example.net`, givenName: `Néo ${i}`, familyName: i % 5 === 0 ? 'Comma, Inc.' : 'Newcomer', active: i % 4 !== 1, employeeNumber: i % 2 === 0 ? `N${i}` : '' };
    });
    for (const u of inserted) {
      users += csvLine(['insert', '', u.key, u.userName, u.givenName, u.familyName, u.userName, String(u.active), ...(traits.enterprise ? [u.employeeNumber] : [])]);
    }
    for (const n of updated) users += csvLine(['update', user(n), `upd${n}`, '', `Renamed ${n}`, '', `renamed${n}@example.com`, '', ...ext.map(() => '')]);
    users += csvLine(['delete', user(deleted), 'del', '', '', '', '', '', ...ext.map(() => '')]);
    writeFileSync(join(orders, `${ID}_Users.csv`), users);

    // Rows of one group are consecutive: 59 seeded users and the 50 new ones go to the empty group in one run of adds.
    const survivors = [...Array(SEED_USERS).keys()].filter((n) => n !== deleted);
    let members = csvLine(['command', 'value', 'MemberId']);
    for (const n of survivors) members += csvLine(['add', empty!, user(n)]);
    for (const u of inserted) members += csvLine(['add', empty!, `@${u.key}`]);
    for (const n of [0, 2, 4]) members += csvLine(['remove', halves!, user(n)]);
    for (const n of [1, 2]) members += csvLine(['add', quarters!, user(n)]);
    members += csvLine(['remove', everyone!, user(11)]);
    writeFileSync(join(orders, `${ID}_members_Groups.csv`), members);

    const file = pipeline(['fulfill:', '  orders: orders', '  results: results', `  serviceSupportBulk: ${traits.bulk}`, '  bulkMaxOperation: 10'].join('\n'));
    const r = await run(['fulfill', file]);
    const userResults = readTable(join(dir, 'results', `${ID}_Users.csv`)).rows;
    const memberResults = readTable(join(dir, 'results', `${ID}_members_Groups.csv`)).rows;
    const notOk = [...userResults, ...memberResults].filter((x) => x.outcome !== 'ok').map((x) => `${x.orderId} ${x.command} ${x.status} ${x.scimType} ${x.detail}`);
    expect(notOk.length ? `${notOk.length} lines not ok, e.g. ${notOk.slice(0, 3).join(' | ')}` : 'all ok', r.stderr).to.equal('all ok');
    expect(r.code, r.stderr).to.equal(0);
    expect(userResults).to.have.length(NEW_USERS + updated.length + 1);
    expect(memberResults).to.have.length(survivors.length + NEW_USERS + 3 + 2 + 1);

    // Inserts: the reported id is a user holding what the order said.
    const newId = new Map<string, string>();
    for (const u of inserted) {
      const line = userResults.find((x) => x.orderId === u.key)!;
      const got = await scim.get(`/Users/${line.id}`);
      newId.set(u.key, got.id);
      expect(got.userName, u.key).to.equal(u.userName);
      expect(expectedCell(got, 'name:givenName'), u.key).to.equal(u.givenName);
      expect(expectedCell(got, 'name:familyName'), u.key).to.equal(u.familyName);
      expect(expectedCell(got, 'emails:value'), u.key).to.equal(u.userName);
      expect(got.active, u.key).to.equal(u.active);
      if (traits.enterprise) expect(expectedCell(got, EMPLOYEE), u.key).to.equal(u.employeeNumber);
    }
    expect(new Set(newId.values()).size).to.equal(NEW_USERS);
    // Updates: the ordered cells changed, the empty ones did not.
    for (const n of updated) {
      const got = await scim.get(`/Users/${user(n)}`);
      const s = seedUser(n);
      expect(expectedCell(got, 'name:givenName'), `user ${n}`).to.equal(`Renamed ${n}`);
      expect(expectedCell(got, 'emails:value'), `user ${n}`).to.equal(`renamed${n}@example.com`);
      expect(expectedCell(got, 'name:familyName'), `user ${n}`).to.equal(s.familyName);
      expect(got.userName, `user ${n}`).to.equal(s.userName);
      // Only the primary email was ordered: the others stay.
      const others = s.emails.filter((e) => !e.primary).map((e) => e.value);
      expect(((got.emails ?? []) as { value: string }[]).map((e) => e.value), `user ${n}`).to.include.members(others);
      expect(got.active, `user ${n}`).to.equal(s.active);
      if (traits.enterprise) expect(expectedCell(got, EMPLOYEE), `user ${n}`).to.equal(s.employeeNumber ?? '');
    }
    expect(await scim.gone(`/Users/${user(deleted)}`), 'deleted user').to.equal(true);

    // Memberships: exactly the seeded sets changed as ordered (the deleted user is in none).
    const seededIds = (g: number) => groupMembers(g, SEED_USERS).filter((n) => n !== deleted);
    const want: Record<string, string[]> = {
      [everyone!]: seededIds(0).filter((n) => n !== 11).map(user),
      [halves!]: seededIds(1).filter((n) => ![0, 2, 4].includes(n)).map(user),
      [seeded.groups[2]!.id]: seededIds(2).map(user),
      [quarters!]: [...seededIds(3), 1, 2].map(user),
      [empty!]: [...survivors.map(user), ...newId.values()],
    };
    for (const [g, ids] of Object.entries(want)) {
      const got = memberIds(await scim.get(`/Groups/${g}`));
      expect(got, g).to.have.members(ids);
      expect(got, g).to.have.length(ids.length);
    }
    expect(want[empty!]).to.have.length.above(100);
  });

  it('export Groups with members after the fulfill (a group of 100+ where it worked): the pairs the server has', checkGroupsExport);

  it('fulfill the same inserts twice: no duplicate user; the rerun reports the first outcomes from the journal, --restart meets 409 uniqueness', async () => {
    const orders = join(dir, 'orders');
    mkdirSync(orders);
    const names = ['twice1@example.net', 'twice2@example.net'];
    let users = csvLine(['command', 'orderId', 'userName', 'name:givenName', 'emails:value']);
    for (const [i, n] of names.entries()) users += csvLine(['insert', `t${i}`, n, 'Twice', n]);
    writeFileSync(join(orders, `${ID}_Users.csv`), users);
    const file = pipeline(['fulfill:', '  orders: orders', '  results: results'].join('\n'));
    const resultsFile = join(dir, 'results', `${ID}_Users.csv`);
    const first = await run(['fulfill', file]);
    expect(first.code, first.stderr).to.equal(0);
    const created = readTable(resultsFile).rows.map((x) => [x.orderId, x.outcome, x.id]);
    expect(created.every(([, outcome, id]) => outcome === 'ok' && id)).to.equal(true);
    // The same orders again: nothing is sent, every line as the first run reported it.
    const second = await run(['fulfill', file]);
    expect(second.code, second.stderr).to.equal(0);
    expect(readTable(resultsFile).rows.map((x) => [x.orderId, x.outcome, x.id])).to.deep.equal(created);
    // --restart sends them again: the server refuses the duplicates.
    const third = await run(['fulfill', file, '--restart']);
    expect(third.code, third.stderr).to.equal(2); // partial: every line reported
    const lines = readTable(resultsFile).rows;
    expect(lines.map((x) => [x.orderId, x.status, x.outcome, x.scimType])).to.deep.equal(names.map((_, i) => [`t${i}`, '409', 'failed', 'uniqueness']));
    for (const n of names) {
      const found = (await scim.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${n}"`)}`)).json as { totalResults: number; Resources?: Resource[] };
      expect(found.Resources?.map((u) => u.userName), n).to.deep.equal([n]);
    }
  });
}
