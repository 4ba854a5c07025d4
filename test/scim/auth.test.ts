import { expect } from 'chai';
import nock from 'nock';
import type { ConnectionConfig } from '../../lib/config/types.js';
import { createAuth, authKindOf, SALESFORCE_TOKEN_URL } from '../../lib/scim/auth/index.js';
import { createScimClient, type ScimClient } from '../../lib/scim/client.js';
import { testConnection } from '../helpers/model.js';
import { rejects } from '../helpers/rejects.js';

const SERVER = 'https://idp.example.test/scim';
const TOKEN_URL = 'https://auth.example.test/oauth/token';

function conn(over: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return testConnection({ identifier: 'Auth', server: SERVER, timeoutMs: 5000, retry: { limit: 2, maxRetryAfterMs: 10_000, backoffMs: 1 }, ...over });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const noSleep = async () => {};

describe('scim auth', () => {
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => nock.cleanAll());
  after(() => nock.enableNetConnect());

  describe('choosing the scheme', () => {
    const cases: Array<[string, Partial<ConnectionConfig>, string]> = [
      ['token', { oAuthToken: 't0ken' }, 'bearer'],
      ['token wins over the rest', { oAuthToken: 't0ken', login: 'u', password: 'p' }, 'bearer'],
      ['app + account', { applicationId: 'a', applicationKey: 'k', login: 'u', password: 'p' }, 'oauth2-password'],
      ['app only', { applicationId: 'a', applicationKey: 'k' }, 'oauth2-client-credentials'],
      ['account only', { login: 'u', password: 'p' }, 'basic'],
      ['CyberArk app id + account', { scimSyntax: 'CyberArk', applicationId: 'app', login: 'u', password: 'p' }, 'oauth2-client-credentials'],
      ['nothing', {}, 'none'],
      ['login without password', { login: 'u' }, 'none'],
    ];
    for (const [name, over, kind] of cases) {
      it(`${name} → ${kind}`, () => {
        expect(authKindOf(conn(over))).to.equal(kind);
        expect(createAuth(conn(over)).kind).to.equal(kind);
      });
    }
  });

  it('sends a static token as Bearer and login/password as Basic', async () => {
    expect(await createAuth(conn({ oAuthToken: ' abc.def ' })).header()).to.equal('Bearer abc.def');
    expect(await createAuth(conn({ login: 'ann', password: 'pa:ss' })).header()).to.equal(`Basic ${b64('ann:pa:ss')}`);
    expect(await createAuth(conn()).header()).to.equal(undefined);
  });

  describe('client credentials', () => {
    it('authenticates the client with Basic, caches the token, refreshes a minute before expiry', async () => {
      let t = 1_000_000;
      const scope = nock('https://auth.example.test')
        .post('/oauth/token', 'grant_type=client_credentials')
        .matchHeader('authorization', `Basic ${b64('my+app:s3cr%2Bt')}`)
        .reply(200, { access_token: 'tok-1', token_type: 'bearer', expires_in: 3600 })
        .post('/oauth/token', 'grant_type=client_credentials')
        .reply(200, { access_token: 'tok-2', token_type: 'Bearer', expires_in: '3600' });
      const auth = createAuth(conn({ applicationId: 'my app', applicationKey: 's3cr+t', oAuth2Url: TOKEN_URL }), { now: () => t });
      expect(await auth.header()).to.equal('Bearer tok-1');
      t += 3_539_000;
      expect(await auth.header()).to.equal('Bearer tok-1');
      t += 2_000; // within the last minute
      expect(await auth.header()).to.equal('Bearer tok-2');
      expect(scope.isDone()).to.equal(true);
    });

    it('shares one token request between concurrent callers', async () => {
      const scope = nock('https://auth.example.test').post('/oauth/token').once().reply(200, { access_token: 'tok', expires_in: 60 });
      const auth = createAuth(conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: TOKEN_URL }));
      const headers = await Promise.all([auth.header(), auth.header(), auth.header()]);
      expect(headers).to.deep.equal(['Bearer tok', 'Bearer tok', 'Bearer tok']);
      expect(scope.isDone()).to.equal(true);
    });

    it('discovers the token endpoint: RFC 8414 first, then OpenID configuration', async () => {
      const scope = nock('https://idp.example.test')
        .get('/.well-known/oauth-authorization-server').reply(404)
        .get('/.well-known/openid-configuration').reply(200, { issuer: 'x', token_endpoint: 'https://idp.example.test/connect/token' })
        .post('/connect/token').reply(200, { access_token: 'disc', expires_in: 100 });
      const auth = createAuth(conn({ applicationId: 'a', applicationKey: 'k' }));
      expect(await auth.header()).to.equal('Bearer disc');
      expect(scope.isDone()).to.equal(true);
    });

    it('fails with ERR_AUTH_NO_TOKEN_ENDPOINT when nothing is published', async () => {
      nock('https://idp.example.test').get(/\.well-known/).times(2).reply(404);
      const err = await rejects(createAuth(conn({ applicationId: 'a', applicationKey: 'k' })).header());
      expect(err.code).to.equal('ERR_AUTH_NO_TOKEN_ENDPOINT');
      expect(err.message).to.include('oAuth2Url');
    });

    it('maps an OAuth error reply to ERR_AUTH_TOKEN with the OAuth code', async () => {
      nock('https://auth.example.test').post('/oauth/token').reply(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      const err = await rejects(createAuth(conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: TOKEN_URL })).header());
      expect(err.code).to.equal('ERR_AUTH_TOKEN');
      expect(err.exitCode).to.equal(1);
      expect(err.context.oauthError).to.equal('invalid_client');
      expect(err.message).to.include('invalid_client').and.include('Client authentication failed').and.include('connection Auth');
    });

    it('a reply without access_token is ERR_AUTH_TOKEN', async () => {
      nock('https://auth.example.test').post('/oauth/token').reply(200, { token_type: 'bearer' });
      const err = await rejects(createAuth(conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: TOKEN_URL })).header());
      expect(err.code).to.equal('ERR_AUTH_TOKEN');
      expect(err.message).to.include('without an access_token');
    });

    it('retries a 503 from the token endpoint, and reports it unreachable when it stays down', async () => {
      nock('https://auth.example.test').post('/oauth/token').reply(503).post('/oauth/token').reply(200, { access_token: 'late' });
      const auth = createAuth(conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: TOKEN_URL }), { sleep: noSleep });
      expect(await auth.header()).to.equal('Bearer late');

      const boom = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      nock('https://auth.example.test').post('/oauth/token').times(3).replyWithError(boom());
      const down = createAuth(conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: TOKEN_URL }), { sleep: noSleep });
      const err = await rejects(down.header());
      expect(err.code).to.equal('ERR_AUTH_TOKEN_UNREACHABLE');
    });
  });

  describe('password grant', () => {
    it('RFC: username/password in the form, client in Basic', async () => {
      const scope = nock('https://auth.example.test')
        .post('/oauth/token', { grant_type: 'password', username: 'ann', password: 'pw' })
        .matchHeader('authorization', `Basic ${b64('a:k')}`)
        .reply(200, { access_token: 'pwtok', expires_in: 600 });
      const auth = createAuth(conn({ applicationId: 'a', applicationKey: 'k', login: 'ann', password: 'pw', oAuth2Url: TOKEN_URL }));
      expect(auth.kind).to.equal('oauth2-password');
      expect(await auth.header()).to.equal('Bearer pwtok');
      expect(scope.isDone()).to.equal(true);
    });

    it('Salesforce: client in form fields at login.salesforce.com when nothing is discovered', async () => {
      nock('https://acme.my.salesforce.com').get(/\.well-known/).times(2).reply(404);
      const scope = nock('https://login.salesforce.com')
        .post('/services/oauth2/token', { grant_type: 'password', username: 'ann@acme.com', password: 'pwSECTOKEN', client_id: '3MVG9', client_secret: 'cs' })
        .reply(200, { access_token: '00Dxx!AQ', instance_url: 'https://acme.my.salesforce.com', token_type: 'Bearer' });
      const auth = createAuth(
        conn({
          scimSyntax: 'Salesforce',
          server: 'https://acme.my.salesforce.com/services/scim',
          applicationId: '3MVG9',
          applicationKey: 'cs',
          login: 'ann@acme.com',
          password: 'pwSECTOKEN',
        }),
      );
      expect(await auth.header()).to.equal('Bearer 00Dxx!AQ');
      expect(scope.isDone()).to.equal(true);
      expect(SALESFORCE_TOKEN_URL).to.equal('https://login.salesforce.com/services/oauth2/token');
    });
  });

  it('CyberArk: client credentials at <tenant>/oauth2/token/<applicationId> with Basic login:password and scope scim', async () => {
    const scope = nock('https://abc1234.id.cyberark.cloud')
      .post('/oauth2/token/scimapp', 'grant_type=client_credentials&scope=scim')
      .matchHeader('authorization', `Basic ${b64('svc@abc:pw')}`)
      .reply(200, { access_token: 'cyb', token_type: 'Bearer', expires_in: 3600 });
    const auth = createAuth(
      conn({ scimSyntax: 'CyberArk', server: 'https://abc1234.id.cyberark.cloud/scim', applicationId: 'scimapp', login: 'svc@abc', password: 'pw' }),
    );
    expect(await auth.header()).to.equal('Bearer cyb');
    expect(scope.isDone()).to.equal(true);
  });

  describe('with the client', () => {
    let client: ScimClient | undefined;
    afterEach(() => client?.close());

    it('on a 401 fetches a fresh token and retries once', async () => {
      const tokens = nock('https://auth.example.test')
        .post('/oauth/token').reply(200, { access_token: 'old', expires_in: 3600 })
        .post('/oauth/token').reply(200, { access_token: 'new', expires_in: 3600 });
      const api = nock(SERVER)
        .get('/v2/Users').matchHeader('authorization', 'Bearer old').reply(401, { status: '401', detail: 'token revoked' })
        .get('/v2/Users').matchHeader('authorization', 'Bearer new').reply(200, { totalResults: 0 });
      const c = conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: TOKEN_URL });
      client = createScimClient(c, { auth: createAuth(c) });
      const res = await client.request({ path: 'Users' });
      expect(res.status).to.equal(200);
      expect(res.attempts).to.equal(2);
      expect(tokens.isDone() && api.isDone()).to.equal(true);
    });

    it('parallel requests refused with the same old token renew it once', async () => {
      const tokens = nock('https://auth.example.test')
        .post('/token2').reply(200, { access_token: 'old', expires_in: 3600 })
        .post('/token2').reply(200, { access_token: 'new', expires_in: 3600 });
      const api = nock(SERVER)
        .get('/v2/Users').times(2).matchHeader('authorization', 'Bearer old').reply(401)
        // This refusal arrives after the token was renewed: it must not throw the new one away.
        .get('/v2/Users').matchHeader('authorization', 'Bearer old').delay(60).reply(401)
        .get('/v2/Users').times(3).matchHeader('authorization', 'Bearer new').reply(200, {});
      const c = conn({ applicationId: 'a', applicationKey: 'k', oAuth2Url: 'https://auth.example.test/token2' });
      client = createScimClient(c);
      const auth = createAuth(c);
      await auth.header(); // a first token, shared below
      client.close();
      client = createScimClient(c, { auth });
      const all = await Promise.all([1, 2, 3].map(() => client!.request({ path: 'Users' })));
      expect(all.map((r) => r.status)).to.deep.equal([200, 200, 200]);
      expect(tokens.isDone() && api.isDone()).to.equal(true);
      expect(nock.pendingMocks()).to.deep.equal([]);
    });

    it('a second 401 is ERR_AUTH_REJECTED naming the connection and host', async () => {
      nock(SERVER).get('/v2/Users').times(2).reply(401, { detail: 'Invalid token' });
      const c = conn({ oAuthToken: 'static-token-value' });
      client = createScimClient(c, { auth: createAuth(c) });
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_AUTH_REJECTED');
      expect(err.category).to.equal('auth');
      expect(err.message).to.match(/^connection Auth: credentials rejected by idp\.example\.test/);
      expect(err.message).not.to.include('static-token-value');
    });

    it('a token endpoint failure surfaces as is, not as a transport error', async () => {
      nock('https://auth.example.test').post('/oauth/token').reply(400, { error: 'invalid_grant' });
      const c = conn({ applicationId: 'a', applicationKey: 'k', login: 'u', password: 'bad', oAuth2Url: TOKEN_URL });
      client = createScimClient(c, { auth: createAuth(c) });
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_AUTH_TOKEN');
      expect(err.context.oauthError).to.equal('invalid_grant');
    });
  });
});
