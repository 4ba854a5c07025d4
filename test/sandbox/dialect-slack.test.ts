import { expect } from 'chai';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { Client, SAMPLE, TOKEN, BJENSEN, TOUR_GUIDES, q } from './helpers.js';

const GUEST = 'urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User';

describe('sandbox: Slack dialect', () => {
  let sb: Sandbox;
  let c: Client;
  beforeEach(async () => {
    sb = await startSandbox({ dialect: 'Slack', data: SAMPLE, token: TOKEN });
    c = new Client(sb);
  });
  afterEach(() => sb.stop());

  it('serves discovery at /ServiceProviderConfigs only, with the guest extension', async () => {
    expect((await c.get('/ServiceProviderConfig')).status).to.equal(404);
    const spc = await c.get('/ServiceProviderConfigs');
    expect(spc.status).to.equal(200);
    expect(spc.body.filter.maxResults).to.equal(1000);
    const rt = await c.get('/ResourceTypes/User');
    expect(rt.body.schemaExtensions.map((e: any) => e.schema)).to.include(GUEST);
    expect((await c.get(`/Schemas/${GUEST}`)).body.attributes.map((a: any) => a.name)).to.deep.equal(['type', 'expiration']);
  });

  it('pages 10 by default and caps count at 1000', async () => {
    await sb.stop();
    sb = await startSandbox({ dialect: 'Slack', generate: { users: 1200, groups: 0 }, token: TOKEN });
    c = new Client(sb);
    expect((await c.get('/Users')).body.Resources).to.have.length(10);
    expect((await c.get('/Users?count=5000')).body.Resources).to.have.length(1000);
  });

  it('has no meta.lastModified, and filtering on it is a 400', async () => {
    const u = await c.get(`/Users/${BJENSEN}`);
    expect(u.body.meta).to.have.property('created');
    expect(u.body.meta).to.not.have.property('lastModified');
    const created = await c.post('/Users', { userName: 'new@example.com' });
    expect(created.body.meta).to.not.have.property('lastModified');
    const r = await c.get(`/Users?filter=${q('meta.lastModified gt "2024-01-01T00:00:00Z"')}`);
    expect(r.status).to.equal(400);
  });

  it('DELETE /Users deactivates, DELETE /Groups removes', async () => {
    expect((await c.del(`/Users/${BJENSEN}`)).status).to.equal(204);
    const u = await c.get(`/Users/${BJENSEN}`);
    expect(u.status).to.equal(200);
    expect(u.body.active).to.equal(false);
    expect((await c.del(`/Groups/${TOUR_GUIDES}`)).status).to.equal(204);
    expect((await c.get(`/Groups/${TOUR_GUIDES}`)).status).to.equal(404);
  });

  it('answers errors as {"Errors":{"description","code"}}', async () => {
    const r = await c.get('/Users/nope');
    expect(r.status).to.equal(404);
    expect(r.body).to.deep.equal({ Errors: { description: 'User nope not found', code: 404 } });
    expect((await c.post('/Users', { userName: 'bjensen@example.com' })).body.Errors.code).to.equal(409);
  });

  it('accepts the guest extension in writes and paths', async () => {
    const r = await c.patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: `${GUEST}:type`, value: 'multi' }]);
    expect(r.body[GUEST]).to.deep.equal({ type: 'multi' });
    expect(r.body.schemas).to.include(GUEST);
  });

  it('takes Bearer tokens only', async () => {
    let err: any;
    await startSandbox({ dialect: 'Slack', basic: { login: 'a', password: 'b' } }).catch((e) => (err = e));
    expect(err.code).to.equal('ERR_SANDBOX_OPTION');
    expect(err.message).to.contain('Bearer tokens only');
  });
});
