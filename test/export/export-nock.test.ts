/**
 * Behaviours the sandbox does not serve (yet), end to end through the CLI
 * against nock: RFC 9865 cursor paging, CyberArk Containers' privilegedData.
 */
import { expect } from 'chai';
import nock from 'nock';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cli } from '../helpers/io.js';

describe('scim-etl export against nock servers', () => {
  let dir: string;
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  after(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-cursor-'));
  });
  afterEach(async () => {
    nock.cleanAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads ServiceProviderConfig, pages with cursor/nextCursor and writes every row once', async () => {
    const token = 'cursor-token-7781';
    const users = Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, userName: `cursor${i}` }));
    const scope = nock('http://scim.test', { reqheaders: { authorization: `Bearer ${token}` } })
      .get('/v2/ServiceProviderConfig')
      .reply(200, { pagination: { cursor: true, index: false, maxPageSize: 2 } })
      // The projection probe: a first page of at most 10, cursor paging.
      .get('/v2/Users')
      .query({ cursor: '', count: '2', attributes: 'id,userName' })
      .reply(200, { Resources: users.slice(0, 2), nextCursor: 'A' })
      .get('/v2/Users')
      .query({ cursor: '', count: '2', attributes: 'id,userName' })
      .reply(200, { Resources: users.slice(0, 2), nextCursor: 'A' })
      .get('/v2/Users')
      .query({ cursor: 'A', count: '2', attributes: 'id,userName' })
      .reply(200, { Resources: users.slice(2, 4), nextCursor: 'B' })
      .get('/v2/Users')
      .query({ cursor: 'B', count: '2', attributes: 'id,userName' })
      .reply(200, { Resources: users.slice(4) });
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: C
  server: http://scim.test
  oAuthToken: \${TOKEN}
  pageSize: 100
export:
  output: out
  entities:
    Users:
      columns: [id, userName]
`,
    );
    const res = await cli(['export', file], { env: { TOKEN: token } });
    expect(res.code, res.stderr).to.equal(0);
    expect(scope.isDone()).to.equal(true);
    const rows = parse(await readFile(join(dir, 'out', 'C_Users.csv'), 'utf8'), { columns: true });
    expect(rows).to.deep.equal(users);
  });

  it('writes <identifier>_privilegedData_Containers.csv from CyberArk containers', async () => {
    const token = 'cyberark-token-5521';
    const containers = [
      { id: 'SafeA', name: 'Safe A', privilegedData: [{ value: '52_88', display: 'root@db1', $ref: 'x' }, { value: '52_89' }] },
      { id: 'SafeB', name: 'Safe B', privilegedData: [] },
      { id: 'Safe, "C"', name: 'Safe C', privilegedData: [{ value: '60_1' }] },
    ];
    const scope = nock('http://cyberark.test')
      .get('/v2/ServiceProviderConfig')
      .reply(404)
      .get('/v2/ServiceProviderConfigs')
      .reply(200, { bulk: { supported: false }, filter: { supported: true, maxResults: 1000 } })
      // The projection probe.
      .get('/v2/Containers')
      .query({ attributes: 'id,name', count: '10' })
      .reply(200, { totalResults: 3, Resources: containers.map(({ id, name }) => ({ id, name })) })
      .get('/v2/Containers')
      .query({ attributes: 'id,name', startIndex: '1', count: '200' })
      .reply(200, { totalResults: 3, Resources: containers.map(({ id, name }) => ({ id, name })) })
      // One page holding all of totalResults is followed by one more request (servers that count the page, not the listing).
      .get('/v2/Containers')
      .query({ attributes: 'id,name', startIndex: '4', count: '200' })
      .reply(200, { totalResults: 3, Resources: [] })
      .get('/v2/Containers')
      .query({ attributes: 'id,privilegedData', startIndex: '1', count: '200' })
      .reply(200, { totalResults: 3, Resources: containers })
      .get('/v2/Containers')
      .query({ attributes: 'id,privilegedData', startIndex: '4', count: '200' })
      .reply(200, { totalResults: 3, Resources: [] });
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: CyberArkExport
  server: http://cyberark.test
  scimSyntax: CyberArk
  oAuthToken: \${TOKEN}
export:
  output: out
  entities:
    Containers:
      columns: [id, name]
      privilegedData: true
`,
    );
    const res = await cli(['export', file], { env: { TOKEN: token } });
    expect(res.code, res.stderr).to.equal(0);
    expect(scope.isDone()).to.equal(true);
    const text = await readFile(join(dir, 'out', 'CyberArkExport_privilegedData_Containers.csv'), 'utf8');
    expect(parse(text, { columns: true })).to.deep.equal([
      { value: 'SafeA', MemberId: '52_88' },
      { value: 'SafeA', MemberId: '52_89' },
      { value: 'Safe, "C"', MemberId: '60_1' },
    ]);
    expect(text.split('\r\n')[0]).to.equal('value,MemberId');
  });
});
