import { expect } from 'chai';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { Client, TOKEN, q } from './helpers.js';

const SAFE = 'urn:ietf:params:scim:schemas:cyberark:1.0:Safe';
const PD = 'urn:ietf:params:scim:schemas:cyberark:1.0:PrivilegedData';
const CA_USER = 'urn:ietf:params:scim:schemas:cyberark:1.0:User';

const DATA = {
  Users: [{ id: '101', userName: 'ops@example.com', [CA_USER]: { ldapFullDN: 'CN=Ops,OU=IT,DC=example,DC=com', ldapDirectory: 'example.com' } }],
  containers: [{ schemas: ['urn:ietf:params:scim:schemas:pam:1.0:Container', SAFE], id: 'Finance', name: 'Finance', displayName: 'Finance', privilegedData: [{ value: '52_88', display: 'db-admin' }] }],
  PrivilegedData: [{ schemas: ['urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData', PD], id: '52_88', name: 'db-admin', type: 'password', [PD]: { safe: 'Finance', properties: [{ key: 'Address', value: 'db.example.com' }] } }],
  ContainerPermissions: [{ id: 'Finance:101', container: { value: 'Finance' }, user: { value: '101' }, rights: ['UseAccounts', 'RetrieveAccounts'] }],
};

describe('sandbox: CyberArk dialect', () => {
  let sb: Sandbox;
  let c: Client;
  beforeEach(async () => {
    sb = await startSandbox({ dialect: 'CyberArk', data: DATA, token: TOKEN, oauth: { clientId: 'scim-app', clientSecret: 'unused-secret', login: 'svc@tenant', password: 'Svc-pass-1' } });
    c = new Client(sb);
  });
  afterEach(() => sb.stop());

  const raw = (path: string) => fetch(`${sb.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });

  it('serves /v2/X, /X, /scim/X and /scim/v2/X, names case-insensitive', async () => {
    for (const path of ['/v2/Users', '/Users', '/scim/Users', '/scim/v2/users']) {
      const r = await raw(path);
      expect(r.status, path).to.equal(200);
      expect((await r.json()).totalResults, path).to.equal(1);
    }
  });

  it('list replies carry no itemsPerPage or startIndex', async () => {
    const r = await c.get('/Users');
    expect(r.body).to.have.keys(['schemas', 'totalResults', 'Resources']);
  });

  it('SPC: bulk and sort unsupported, maxResults 1000', async () => {
    const spc = (await c.get('/ServiceProviderConfig')).body;
    expect(spc.bulk.supported).to.equal(false);
    expect(spc.sort.supported).to.equal(false);
    expect(spc.filter.maxResults).to.equal(1000);
  });

  it('Containers: id is the safe name, privilegedData listed; POST, PUT, DELETE but no PATCH', async () => {
    const fin = await c.get('/Containers/Finance');
    expect(fin.body.privilegedData).to.deep.equal([{ value: '52_88', display: 'db-admin' }]);
    expect(fin.body.meta.resourceType).to.equal('Container');
    const created = await c.post('/Containers', { schemas: [SAFE], name: 'HR', displayName: 'HR safe' });
    expect(created.status).to.equal(201);
    expect(created.body.id).to.equal('HR');
    expect(created.headers.get('location')).to.equal(`${sb.url}/v2/Containers/HR`);
    expect((await c.post('/Containers', { name: 'HR' })).status).to.equal(409);
    expect((await c.post('/Containers', { displayName: 'no name' })).status).to.equal(400);
    const put = await c.put('/Containers/HR', { name: 'HR', displayName: 'Human Resources' });
    expect(put.body.displayName).to.equal('Human Resources');
    expect((await c.patch('/Containers/HR', [{ op: 'replace', path: 'displayName', value: 'x' }])).status).to.equal(405);
    expect((await c.del('/Containers/HR')).status).to.equal(204);
    expect((await c.get('/Containers/HR')).status).to.equal(404);
  });

  it('PrivilegedData and ContainerPermissions are served read-only, filterable', async () => {
    const pd = await c.get(`/PrivilegedData?filter=${q(`${PD}:safe eq "Finance"`)}`);
    expect(pd.body.Resources.map((x: any) => x.id)).to.deep.equal(['52_88']);
    expect((await c.get('/ContainerPermissions/Finance:101')).body.rights).to.include('UseAccounts');
    expect((await c.del('/PrivilegedData/52_88')).status).to.equal(405);
    const rts = (await c.get('/ResourceTypes')).body.Resources.map((r: any) => r.endpoint);
    expect(rts).to.include.members(['/Containers', '/PrivilegedData', '/ContainerPermissions']);
  });

  it('users carry the cyberark extension', async () => {
    const u = await c.get(`/Users/101?attributes=${q(`${CA_USER}:ldapDirectory`)}`);
    expect(u.body[CA_USER]).to.deep.equal({ ldapDirectory: 'example.com' });
  });

  it('token at /oauth2/token/<applicationId> for the service user in Basic, scope=scim', async () => {
    const basic = `Basic ${Buffer.from('svc@tenant:Svc-pass-1').toString('base64')}`;
    const post = (path: string, auth: string) =>
      fetch(`${sb.url}${path}`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=scim' });
    const ok = await post('/oauth2/token/scim-app', basic);
    expect(ok.status).to.equal(200);
    const t = await ok.json();
    expect((await fetch(`${sb.url}/scim/Users`, { headers: { Authorization: `Bearer ${t.access_token}` } })).status).to.equal(200);
    expect((await post('/oauth2/token/other-app', basic)).status).to.equal(400);
    expect((await post('/oauth2/token/scim-app', `Basic ${Buffer.from('svc@tenant:nope').toString('base64')}`)).status).to.equal(401);
    expect((await post('/oauth2/token', basic)).status).to.equal(404);
  });
});

describe('sandbox: CyberArk sample', () => {
  it('loads samples/directory.cyberark.json', async () => {
    const { fileURLToPath } = await import('node:url');
    const sb = await startSandbox({ dialect: 'CyberArk', data: fileURLToPath(new URL('../../samples/directory.cyberark.json', import.meta.url)) });
    try {
      const c = new Client(sb, null);
      const safes = (await c.get('/Containers')).body.Resources;
      expect(safes.map((s: any) => s.id)).to.deep.equal(['Finance', 'Empty-Safe']);
      expect(safes[0].privilegedData.map((p: any) => p.value)).to.deep.equal(['52_88', '52_89']);
      expect((await c.get('/PrivilegedData')).body.totalResults).to.equal(2);
      expect((await c.get('/ContainerPermissions')).body.Resources[0].rights).to.have.length(3);
    } finally {
      await sb.stop();
    }
  });
});
