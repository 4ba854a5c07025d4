import { expect } from 'chai';
import { useSandbox, Client, TOKEN, BJENSEN } from './helpers.js';
import { startSandbox } from '../../lib/sandbox/index.js';

describe('sandbox: discovery', () => {
  const { c, sb } = useSandbox();

  it('serves /ServiceProviderConfig and the plural /ServiceProviderConfigs', async () => {
    const one = await c().get('/ServiceProviderConfig');
    const two = await c().get('/ServiceProviderConfigs');
    expect(one.status).to.equal(200);
    expect(two.body).to.deep.equal(one.body);
    expect(one.body).to.deep.include({ patch: { supported: true }, etag: { supported: true }, sort: { supported: true }, filter: { supported: true, maxResults: 1000 } });
    expect(one.body.authenticationSchemes.map((s: any) => s.type)).to.deep.equal(['oauthbearertoken']);
  });

  it('serves /ResourceTypes with the enterprise extension, and one by id', async () => {
    const r = await c().get('/ResourceTypes');
    expect(r.body.totalResults).to.equal(2);
    const user = r.body.Resources.find((x: any) => x.id === 'User');
    expect(user).to.deep.include({ endpoint: '/Users', schema: 'urn:ietf:params:scim:schemas:core:2.0:User' });
    expect(user.schemaExtensions[0].schema).to.equal('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');
    expect((await c().get('/ResourceTypes/Group')).body.endpoint).to.equal('/Groups');
    expect((await c().get('/ResourceTypes/Nope')).status).to.equal(404);
  });

  it('serves /Schemas with attribute definitions (mutability, multiValued, type)', async () => {
    const r = await c().get('/Schemas');
    const ids = r.body.Resources.map((s: any) => s.id);
    expect(ids).to.include.members(['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']);
    const user = (await c().get('/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).body;
    const groups = user.attributes.find((a: any) => a.name === 'groups');
    expect(groups).to.include({ type: 'complex', multiValued: true, mutability: 'readOnly' });
    const emails = user.attributes.find((a: any) => a.name === 'emails');
    expect(emails.subAttributes.map((s: any) => s.name)).to.include.members(['value', 'type', 'primary']);
  });

  it('404 as a SCIM error for unknown endpoints and ids; 405 for a wrong method; 501 for /Me', async () => {
    const r = await c().get('/Nope');
    expect(r.status).to.equal(404);
    expect(r.body).to.include({ status: '404' });
    expect((await c().get('/Users/nope')).body.detail).to.contain('nope');
    expect((await c().req('DELETE', '/Users')).status).to.equal(405);
    expect((await c().get('/Me')).status).to.equal(501);
    expect((await c().get('/Users/%E0%A4%A')).status).to.equal(404);
    expect((await fetch(`${sb().url}/Users`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).to.equal(404);
  });
});

describe('sandbox: authentication', () => {
  it('Bearer: 401 SCIM error without or with a wrong token, 200 with it', async () => {
    const sb = await startSandbox({ token: TOKEN });
    try {
      const none = await new Client(sb, null).get('/Users');
      expect(none.status).to.equal(401);
      expect(none.body).to.include({ status: '401' });
      expect(none.headers.get('www-authenticate')).to.contain('Bearer');
      expect((await new Client(sb, 'Bearer wrong').get('/Users')).status).to.equal(401);
      expect((await new Client(sb, `bearer ${TOKEN}`).get('/Users')).status).to.equal(200);
      // discovery is protected too
      expect((await new Client(sb, null).get('/ServiceProviderConfig')).status).to.equal(401);
    } finally {
      await sb.stop();
    }
  });

  it('Basic and Bearer side by side', async () => {
    const sb = await startSandbox({ token: TOKEN, basic: { login: 'admin', password: 'pa:ss' } });
    try {
      const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
      expect((await new Client(sb, basic('admin', 'pa:ss')).get('/Users')).status).to.equal(200);
      expect((await new Client(sb, basic('admin', 'nope')).get('/Users')).status).to.equal(401);
      expect((await new Client(sb, `Bearer ${TOKEN}`).get('/Users')).status).to.equal(200);
      const spc = await new Client(sb).get('/ServiceProviderConfig');
      expect(spc.body.authenticationSchemes.map((s: any) => s.type)).to.deep.equal(['oauthbearertoken', 'httpbasic']);
    } finally {
      await sb.stop();
    }
  });

  it('no token and no basic: an open server', async () => {
    const sb = await startSandbox({});
    try {
      expect((await new Client(sb, null).get('/Users')).status).to.equal(200);
    } finally {
      await sb.stop();
    }
  });
});

describe('sandbox: request log', () => {
  const { c, sb } = useSandbox();
  it('records method, path, query and status, and counts per route', async () => {
    await c().get(`/Users/${BJENSEN}`);
    await c().get('/Users?count=1');
    await c().get('/Users/nope');
    expect(sb().requests.map((r) => [r.method, r.path, r.query, r.status])).to.deep.equal([
      ['GET', `/v2/Users/${BJENSEN}`, '', 200],
      ['GET', '/v2/Users', 'count=1', 200],
      ['GET', '/v2/Users/nope', '', 404],
    ]);
    expect(sb().counts.get('GET /v2/Users/{id}')).to.equal(2);
    expect(sb().counts.get('GET /v2/Users')).to.equal(1);
  });
});
