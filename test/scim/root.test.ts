/** SCIM root discovery: `connection.server` may be the seed's base without /v2 or any SCIM root. */
import { expect } from 'chai';
import type { ConnectionConfig } from '../../lib/config/types.js';
import { Logger } from '../../lib/log.js';
import { createScimClient, type ClientOptions, type ScimClient } from '../../lib/scim/client.js';
import { rootCandidates } from '../../lib/scim/root.js';
import { listResponse, sendJson, startHttp, type TestServer } from '../helpers/http-server.js';
import { testConnection } from '../helpers/model.js';
import { rejects } from '../helpers/rejects.js';

const SPC = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'], patch: { supported: true }, bulk: { supported: false } };

/** A server whose SCIM root is `root`, serving the SPC at `spcPath` below it and Users there. */
function scimAt(root: string, spcPath = 'ServiceProviderConfig') {
  return (req: { url: string }, res: Parameters<typeof sendJson>[0]) => {
    const path = req.url.split('?')[0]!;
    if (path === `${root}/${spcPath}`) return sendJson(res, 200, SPC);
    if (path === `${root}/Users`) return sendJson(res, 200, listResponse([{ id: 'u1' }], 1));
    sendJson(res, 404, { status: '404', detail: `no ${path}` });
  };
}

describe('SCIM root discovery', () => {
  let server: TestServer | undefined;
  let client: ScimClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.close();
    server = undefined;
  });

  function connect(path: string, over: Partial<ConnectionConfig> = {}, opts: ClientOptions = {}): ScimClient {
    client = createScimClient(testConnection({ server: server!.url + path, timeoutMs: 5000, ...over }), { discoverRoot: true, ...opts });
    return client;
  }
  const paths = () => server!.requests.map((r) => `${r.method} ${r.url}`);

  it('tries <server>/v2, then <server>; a server ending in /v2 is its own root', () => {
    expect(rootCandidates('https://h/scim/')).to.deep.equal(['https://h/scim/v2', 'https://h/scim']);
    expect(rootCandidates('https://h/scim/V2')).to.deep.equal(['https://h/scim/V2']);
  });

  it('keeps the seed behaviour: root <server>/v2, the SPC read once and reused', async () => {
    server = await startHttp(scimAt('/scim/v2'));
    const c = connect('/scim');
    const users = await c.request<{ totalResults: number }>({ path: 'Users' });
    expect(users.body.totalResults).to.equal(1);
    expect(c.base).to.equal(`${server.url}/scim/v2`);
    // The readers of the SPC (paging choice, fulfill discovery) get the reply discovery had.
    expect((await c.request({ path: 'ServiceProviderConfig', retry: false })).body).to.deep.equal(SPC);
    expect(await c.serviceProviderConfig!()).to.deep.equal(SPC);
    expect(paths()).to.deep.equal(['GET /scim/v2/ServiceProviderConfig', 'GET /scim/v2/Users']);
  });

  it('finds a root at / (server given as the bare host)', async () => {
    server = await startHttp(scimAt(''));
    const c = connect('');
    await c.request({ path: 'Users' });
    expect(c.base).to.equal(server.url);
    expect(paths()).to.deep.equal(['GET /v2/ServiceProviderConfig', 'GET /v2/ServiceProviderConfigs', 'GET /ServiceProviderConfig', 'GET /Users']);
  });

  it('takes a server already ending in /v2 as the root', async () => {
    server = await startHttp(scimAt('/v2'));
    const c = connect('/v2/');
    await c.request({ path: 'Users' });
    expect(c.base).to.equal(`${server.url}/v2`);
    expect(paths()).to.deep.equal(['GET /v2/ServiceProviderConfig', 'GET /v2/Users']);
  });

  it("addresses SCIMServer's /scim/v2/endpoints/{id}, saying which root under --verbose", async () => {
    server = await startHttp(scimAt('/scim/v2/endpoints/abc'));
    const lines: string[] = [];
    const logger = new Logger({ verbose: true, stream: { write: (l: string) => lines.push(l) > 0 } as unknown as NodeJS.WritableStream });
    const c = connect('/scim/v2/endpoints/abc', {}, { logger });
    const res = await c.request<{ Resources: unknown[] }>({ path: 'Users', searchParams: { count: 1 } });
    expect(res.body.Resources).to.have.length(1);
    expect(c.base).to.equal(`${server.url}/scim/v2/endpoints/abc`);
    expect(paths().at(-1)).to.equal('GET /scim/v2/endpoints/abc/Users?count=1');
    expect(lines.join('\n')).to.include(`SCIM root: ${server.url}/scim/v2/endpoints/abc (ServiceProviderConfig answered)`);
  });

  it('finds a vendor that serves only the plural ServiceProviderConfigs and reuses that reply', async () => {
    server = await startHttp(scimAt('/api/v2', 'ServiceProviderConfigs'));
    const c = connect('/api');
    expect(await c.serviceProviderConfig!()).to.deep.equal(SPC);
    expect((await c.request({ path: 'ServiceProviderConfigs' })).body).to.deep.equal(SPC);
    expect(paths()).to.deep.equal(['GET /api/v2/ServiceProviderConfig', 'GET /api/v2/ServiceProviderConfigs']);
  });

  it('does not take an HTML page (a web app catch-all) for a ServiceProviderConfig', async () => {
    server = await startHttp((req, res) => {
      if (req.url.startsWith('/app/v2/')) return scimAt('/app/v2', 'ServiceProviderConfigs')(req, res);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    });
    const c = connect('/app');
    await c.request({ path: 'Users' });
    expect(c.base).to.equal(`${server.url}/app/v2`);
  });

  it('keeps <server>/v2 and carries on when no candidate serves a ServiceProviderConfig', async () => {
    server = await startHttp((req, res) => (req.url === '/x/v2/Users' ? sendJson(res, 200, listResponse([], 0)) : sendJson(res, 404, { detail: 'no' })));
    const c = connect('/x');
    expect((await c.request({ path: 'Users' })).status).to.equal(200);
    expect(c.base).to.equal(`${server.url}/x/v2`);
    expect(await c.serviceProviderConfig!()).to.equal(undefined);
    expect(server.requests).to.have.length(5);
  });

  it('a 401 during discovery is an auth failure, not a miss', async () => {
    server = await startHttp((_req, res) => sendJson(res, 401, { detail: 'bad token' }));
    const c = connect('/scim', { oAuthToken: 'tok-abcdef123456' });
    const err = await rejects(c.request({ path: 'Users' }));
    expect(err.code).to.equal('ERR_AUTH_REJECTED');
    expect(paths().every((p) => p === 'GET /scim/v2/ServiceProviderConfig')).to.equal(true);
  });

  it('concurrent first requests share one discovery', async () => {
    server = await startHttp(scimAt('/s/v2'));
    const c = connect('/s');
    await Promise.all([c.request({ path: 'Users' }), c.request({ path: 'Users' }), c.requestStream({ path: 'Users' }).then((r) => r.body.resume())]);
    expect(paths().filter((p) => p.includes('ServiceProviderConfig'))).to.have.length(1);
  });

  it('without discoverRoot (the library default) sends nothing extra', async () => {
    server = await startHttp(scimAt('/s/v2'));
    client = createScimClient(testConnection({ server: `${server.url}/s`, timeoutMs: 5000 }));
    await client.request({ path: 'Users' });
    expect(paths()).to.deep.equal(['GET /s/v2/Users']);
    expect(await client.serviceProviderConfig!()).to.deep.equal(SPC);
  });

  describe('redirects', () => {
    let other: TestServer | undefined;
    afterEach(async () => {
      await other?.close();
      other = undefined;
    });

    it('are not followed: no credentials reach another host, and the error says where it points', async () => {
      other = await startHttp((_req, res) => sendJson(res, 200, listResponse([], 0)));
      server = await startHttp((req, res) => {
        res.writeHead(302, { location: `${other!.url}${req.url}` }).end();
      });
      const c = connect('/scim', { oAuthToken: 'tok-secret-987654' });
      const err = await rejects(c.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_SCIM_HTTP');
      expect(err.status).to.equal(302);
      expect(err.message).to.include(`redirects to ${other.url}/scim/v2/Users on another host (${new URL(other.url).host})`).and.include('set connection.server');
      expect(err.message).to.not.include('tok-secret');
      const stream = await rejects(c.requestStream({ path: 'Groups' }));
      expect(stream.status).to.equal(302);
      expect(other.requests).to.deep.equal([]);
      expect(server.requests.every((r) => r.headers.authorization === 'Bearer tok-secret-987654')).to.equal(true);
    });
  });
});
