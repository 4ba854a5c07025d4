import { expect } from 'chai';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { redact } from '../../lib/redact.js';
import { Client } from './helpers.js';

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('sandbox: OAuth2 token endpoint', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox({ oauth: { clientId: 'app id', clientSecret: 's3cret&more', login: 'svc', password: 'pw-1234', expiresIn: 600 } });
  });
  afterEach(() => sb.stop());

  async function token(body: Record<string, string>, auth?: string) {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (auth) headers.Authorization = auth;
    const r = await fetch(`${sb.url}/oauth2/token`, { method: 'POST', headers, body: form(body) });
    return { status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as any };
  }

  it('publishes RFC 8414 metadata naming the token endpoint', async () => {
    const r = await (await fetch(`${sb.url}/.well-known/oauth-authorization-server`)).json();
    expect(r.token_endpoint).to.equal(`${sb.url}/oauth2/token`);
    expect(r.grant_types_supported).to.deep.equal(['client_credentials', 'password']);
  });

  it('client credentials with form-encoded Basic (RFC 6749 §2.3.1) gives a Bearer token the SCIM API accepts', async () => {
    const r = await token({ grant_type: 'client_credentials' }, basic(encodeURIComponent('app id').replace(/%20/g, '+'), encodeURIComponent('s3cret&more')));
    expect(r.status).to.equal(200);
    expect(r.type).to.match(/^application\/json/);
    expect(r.body).to.include({ token_type: 'Bearer', expires_in: 600 });
    expect((await new Client(sb, `Bearer ${r.body.access_token}`).get('/Users')).status).to.equal(200);
    expect((await new Client(sb, 'Bearer made-up').get('/Users')).status).to.equal(401);
    expect(sb.tokensIssued).to.equal(1);
    // the issued token is registered as a secret
    expect(redact(`token ${r.body.access_token}`)).to.not.contain(r.body.access_token);
  });

  it('client_secret_post and the password grant', async () => {
    const r = await token({ grant_type: 'password', username: 'svc', password: 'pw-1234', client_id: 'app id', client_secret: 's3cret&more' });
    expect(r.status).to.equal(200);
    const bad = await token({ grant_type: 'password', username: 'svc', password: 'nope', client_id: 'app id', client_secret: 's3cret&more' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.equal('invalid_grant');
  });

  it('rejects a wrong client and an unknown grant', async () => {
    expect((await token({ grant_type: 'client_credentials', client_id: 'app id', client_secret: 'x' })).body.error).to.equal('invalid_client');
    expect((await token({ grant_type: 'implicit', client_id: 'app id', client_secret: 's3cret&more' })).body.error).to.equal('unsupported_grant_type');
  });

  it('expireToken revokes an issued token for good: only a new token works', async () => {
    const t1 = (await token({ grant_type: 'client_credentials', client_id: 'app id', client_secret: 's3cret&more' })).body.access_token;
    sb.setFaults([{ kind: 'expireToken', route: 'GET /v2/Users', after: 1 }]);
    const c1 = new Client(sb, `Bearer ${t1}`);
    expect((await c1.get('/Users')).status).to.equal(200);
    expect((await c1.get('/Users')).status).to.equal(401);
    expect((await c1.get('/Users')).status).to.equal(401);
    const t2 = (await token({ grant_type: 'client_credentials', client_id: 'app id', client_secret: 's3cret&more' })).body.access_token;
    expect((await new Client(sb, `Bearer ${t2}`).get('/Users')).status).to.equal(200);
  });

  it('faults apply to the token endpoint too (e.g. 503 then success)', async () => {
    sb.setFaults([{ kind: '503', route: '/oauth2/token', retryAfter: 0 }]);
    const first = await token({ grant_type: 'client_credentials', client_id: 'app id', client_secret: 's3cret&more' });
    expect(first.status).to.equal(503);
    expect((await token({ grant_type: 'client_credentials', client_id: 'app id', client_secret: 's3cret&more' })).status).to.equal(200);
  });

  it('advertises oauth2 in the ServiceProviderConfig', async () => {
    const t = (await token({ grant_type: 'client_credentials', client_id: 'app id', client_secret: 's3cret&more' })).body.access_token;
    const spc = await new Client(sb, `Bearer ${t}`).get('/ServiceProviderConfig');
    expect(spc.body.authenticationSchemes.map((s: any) => s.type)).to.deep.equal(['oauth2']);
  });

  it('rejects bad oauth options', async () => {
    let err: any;
    await startSandbox({ oauth: { clientId: 'a', clientSecret: '' } }).catch((e) => (err = e));
    expect(err.code).to.equal('ERR_SANDBOX_OPTION');
    await startSandbox({ oauth: { clientId: 'a', clientSecret: 'b', login: 'x' } }).catch((e) => (err = e));
    expect(err.message).to.contain('login and password together');
  });
});
