/**
 * The projection probe end to end: the real CLI against servers that mishandle
 * attributes= the way scimmy, scimgateway and python scim2-server do. Every
 * cell must come out right, with a warning naming what the server did, and an
 * honest server must cost one small extra request per table.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cli } from '../helpers/io.js';
import type { TestServer } from '../helpers/http-server.js';
import { ENT, sampleUsers, startQuirky, type Quirks } from './quirky-server.js';

const COLUMNS = ['id', 'userName', 'name:givenName', 'emails:value', 'emails[type eq "home"]:value', `${ENT}:employeeNumber`, 'name'];
const users = sampleUsers(25);

/** What each row must hold, read from the data rather than through the tool. */
function expectedRows(list = users): Record<string, string>[] {
  return list.map((u: any) => ({
    id: u.id,
    userName: u.userName,
    'name:givenName': u.name.givenName,
    'emails:value': u.emails.find((e: any) => e.primary).value,
    'emails[type eq "home"]:value': u.emails.find((e: any) => e.type === 'home').value,
    [`${ENT}:employeeNumber`]: u[ENT].employeeNumber,
    name: JSON.stringify(u.name),
  }));
}

describe('export: projection probe against servers that mishandle attributes=', function () {
  this.timeout(20_000);
  let dir: string;
  let server: TestServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-proj-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function run(quirks: Quirks, columns = COLUMNS) {
    server = await startQuirky(users, quirks);
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: P
  server: ${server.url}
  oAuthToken: t
  pageSize: 10
  retry:
    backoff: 1
export:
  output: out
  entities:
    Users:
      columns:
${columns.map((c) => `        - ${JSON.stringify(c)}`).join('\n')}
`,
    );
    const res = await cli(['export', file]);
    const listed = server.requests.filter((r) => r.url.startsWith('/v2/Users')).map((r) => new URL(r.url, 'http://x').searchParams);
    return { ...res, listed };
  }

  async function rows(): Promise<Record<string, string>[]> {
    const got = parse(await readFile(join(dir, 'out', 'P_Users.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    // A complex cell is compact JSON; its key order is the server's.
    return got.map((r) => ({ ...r, name: JSON.stringify(JSON.parse(r.name!)) }));
  }

  it('an honest server: attributes= as the columns need, one small probe request, no warning', async () => {
    const r = await run({});
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).not.to.match(/warn/);
    expect(await rows()).to.deep.equal(expectedRows());
    // Probe (count 10) + pages at 1, 11, 21.
    expect(r.listed).to.have.length(4);
    expect(r.listed[0]!.get('attributes')).to.equal(`id,userName,name,emails,${ENT}:employeeNumber`);
    expect(r.listed.every((p) => p.get('attributes') === r.listed[0]!.get('attributes'))).to.equal(true);
  });

  it('an attribute that no resource has costs one more probe request, and changes nothing', async () => {
    const r = await run({}, ['id', 'title']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).not.to.match(/warn/);
    expect(r.listed).to.have.length(5);
    expect(r.listed[1]!.has('attributes')).to.equal(false);
    expect(r.listed[1]!.get('excludedAttributes')).to.equal('groups');
    expect(r.listed.slice(2).every((p) => p.get('attributes') === 'id,title')).to.equal(true);
  });

  it('scimmy: HTTP 400 on an extension URN in attributes= → excludedAttributes=groups, every cell right', async () => {
    const r = await run({ urnAttributes400: true });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/warn: Users: the server answers attributes=.* with HTTP 400 \(Cannot read properties.*listing with excludedAttributes=groups/);
    expect(await rows()).to.deep.equal(expectedRows());
    const pages = r.listed.slice(-3);
    expect(pages.map((p) => [p.get('excludedAttributes'), p.has('attributes')])).to.deep.equal([
      ['groups', false],
      ['groups', false],
      ['groups', false],
    ]);
  });

  it('scimgateway: extension attributes silently dropped → detected against a plain page, every cell right', async () => {
    const r = await run({ dropExtension: true });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(new RegExp(`warn: Users: the server leaves ${ENT}:employeeNumber out of its answer to attributes=`));
    const got = await rows();
    expect(got.filter((row) => row[`${ENT}:employeeNumber`] === '')).to.have.length(0);
    expect(got).to.deep.equal(expectedRows());
  });

  it('python scim2-server: {} and [{}] for complex attributes named whole → sub-attribute paths, every cell right', async () => {
    const r = await run({ hollowComplex: true });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/warn: Users: the server answers attributes=.* with empty objects for name, emails; asking for sub-attribute paths/);
    expect(await rows()).to.deep.equal(expectedRows());
    const sent = r.listed.at(-1)!.get('attributes')!.split(',');
    expect(sent).to.include.members(['name.givenName', 'name.familyName', 'emails.value', 'emails.type', 'emails.primary', `${ENT}:employeeNumber`]);
    expect(sent).not.to.include('name');
  });
});
