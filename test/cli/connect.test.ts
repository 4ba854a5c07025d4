/** The commands' one client: it finds a SCIM root the seed's <server>/v2 cannot address, and reads its SPC once. */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/io.js';
import { listResponse, sendJson, startHttp, type TestServer } from '../helpers/http-server.js';

const ROOT = '/scim/v2/endpoints/abc';
const USERS = [
  { id: 'u1', userName: 'ann@example.com' },
  { id: 'u2', userName: 'bob@example.com' },
];

describe('withConnection', () => {
  let server: TestServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports from a server whose SCIM root is /scim/v2/endpoints/{id}, the SPC read once', async () => {
    server = await startHttp((req, res) => {
      const path = req.url.split('?')[0];
      if (req.headers.authorization !== 'Bearer tok-connect-123456') return sendJson(res, 401, { detail: 'no' });
      if (path === `${ROOT}/ServiceProviderConfig`) return sendJson(res, 200, { patch: { supported: true }, filter: { supported: true, maxResults: 100 } });
      if (path === `${ROOT}/Users`) return sendJson(res, 200, listResponse(USERS, USERS.length));
      sendJson(res, 404, { detail: `no ${path}` });
    });
    dir = mkdtempSync(join(tmpdir(), 'scim-connect-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      ['version: 1', 'connection:', '  identifier: Ep', `  server: ${server.url}${ROOT}`, '  oAuthToken: tok-connect-123456', 'export:', '  output: out', '  entities:', '    Users:', '      columns: [id, userName]', ''].join('\n'),
    );
    const r = await cli(['export', file, '--verbose'], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'out/Ep_Users.csv'), 'utf8').split(/\r?\n/)).to.deep.equal(['id,userName', 'u1,ann@example.com', 'u2,bob@example.com', '']);
    expect(r.stderr).to.include(`SCIM root: ${server.url}${ROOT} (ServiceProviderConfig answered)`);
    const spc = server.requests.filter((q) => q.url.includes('ServiceProviderConfig')).map((q) => q.url);
    expect(spc).to.deep.equal([`${ROOT}/v2/ServiceProviderConfig`, `${ROOT}/v2/ServiceProviderConfigs`, `${ROOT}/ServiceProviderConfig`]);
    expect(server.requests.filter((q) => q.url.startsWith(`${ROOT}/Users`))).to.have.length.at.least(1);
  });
});
