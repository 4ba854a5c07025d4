/**
 * Cursor paging (RFC 9865) end to end. The sandbox serves index paging only,
 * so this server is nock.
 */
import { expect } from 'chai';
import nock from 'nock';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { cli } from '../helpers/io.js';

describe('scim-etl export with cursor paging (nock)', () => {
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
});
