/**
 * Filters the server can do: quoted booleans sent as booleans, and a filter
 * the server refuses applied locally (or failing, as configured).
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cli } from '../helpers/io.js';
import type { TestServer } from '../helpers/http-server.js';
import { sampleUsers, startQuirky, type Quirks } from './quirky-server.js';
import { toScimSchemaResource, USER_SCHEMA_DEFINITION } from '../../lib/scim/schemas.js';

const X = 'urn:example:params:scim:schemas:extension:Acme:2.0:User';
const users: Array<Record<string, unknown>> = sampleUsers(25).map((u, i) => ({ ...u, [X]: { isAdmin: i < 4 } }));

describe('export: filters the server can do', function () {
  this.timeout(20_000);
  let dir: string;
  let server: TestServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-filter-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function run(quirks: Quirks, filter: string, extra = '') {
    server = await startQuirky(users, quirks);
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: F
  server: ${server.url}
  oAuthToken: t
  pageSize: 10
  retry:
    backoff: 1
export:
  output: out
${extra}  entities:
    Users:
      filter: ${JSON.stringify(filter)}
      columns: [id, userName]
`,
    );
    const res = await cli(['export', file, '--log-format', 'json']);
    const listed = server.requests.filter((r) => r.url.startsWith('/v2/Users')).map((r) => new URL(r.url, 'http://x').searchParams);
    const logs = res.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return { ...res, listed, logs };
  }
  const ids = async () => (parse(await readFile(join(dir, 'out', 'F_Users.csv'), 'utf8'), { columns: true }) as Array<{ id: string }>).map((r) => r.id);
  const idsWhere = (p: (u: Record<string, unknown>) => boolean) => users.filter(p).map((u) => u.id as string);

  it('sends active eq "true" as active eq true to a server that matches no string with a boolean (SCIMServer)', async () => {
    const r = await run({ strictBooleans: true }, 'active eq "true" and userName sw "user"');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.listed.every((p) => p.get('filter') === '(active eq true and userName sw "user")')).to.equal(true);
    expect(await ids()).to.deep.equal(idsWhere((u) => u.active === true));
  });

  it('leaves a quoted "true" as a string where the attribute is a string', async () => {
    const r = await run({ strictBooleans: false }, 'title eq "true"');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.listed[0]!.get('filter')).to.equal('title eq "true"');
  });

  it('reads boolean types of extension attributes from /Schemas', async () => {
    const schemas = [
      toScimSchemaResource(USER_SCHEMA_DEFINITION),
      { id: X, name: 'Acme', attributes: [{ name: 'isAdmin', type: 'boolean', multiValued: false }] },
    ];
    const r = await run({ strictBooleans: true, schemas }, `${X}:isAdmin eq "true"`);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.listed[0]!.get('filter')).to.equal(`${X}:isAdmin eq true`);
    expect(await ids()).to.deep.equal(['u000', 'u001', 'u002', 'u003']);
  });

  it('a filter the server refuses (400 invalidFilter, better-auth): listed whole, filtered locally, with a warning', async () => {
    const r = await run({ refuseFilterOn: 'active' }, 'active eq "true" and userName sw "user1"');
    expect(r.code, r.stderr).to.equal(0);
    const warning = r.logs.find((l) => l.level === 'warn');
    expect(warning?.msg).to.match(/Users: the server refuses the filter \(invalidFilter: active is not filterable\); listing every resource and applying \(active eq true and userName sw "user1"\) locally/);
    expect(await ids()).to.deep.equal(idsWhere((u) => u.active === true && String(u.userName).startsWith('user1')));
    // Pages went without the filter, asking for what the local filter reads.
    const pages = r.listed.slice(-3);
    expect(pages.map((p) => [p.has('filter'), p.get('attributes')])).to.deep.equal([
      [false, 'id,userName,active'],
      [false, 'id,userName,active'],
      [false, 'id,userName,active'],
    ]);
    const summary = r.logs.find((l) => l.msg === 'exported');
    expect(summary).to.include({ rows: 8, filteredLocally: 17 });
  });

  it('filterFallback: fail stops with ERR_EXPORT_FILTER_UNSUPPORTED, exit 1, the previous file left as it was', async () => {
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'F_Users.csv'), 'previous');
    const r = await run({ refuseFilterOn: 'active' }, 'active eq "true"', '  filterFallback: fail\n');
    expect(r.code).to.equal(1);
    expect(r.logs.find((l) => l.level === 'error')?.code).to.equal('ERR_EXPORT_FILTER_UNSUPPORTED');
    expect(await readFile(join(dir, 'out', 'F_Users.csv'), 'utf8')).to.equal('previous');
  });
});
