/**
 * A canary secret in every credential field must never come out: not in a
 * log line (text or JSON, verbose), not in an error's message, format(),
 * JSON dump, stack, context, nor in what the CLI prints for the error.
 */
import { expect } from 'chai';
import nock from 'nock';
import { randomBytes } from 'node:crypto';
import { clearSecrets } from '../../lib/redact.js';
import { createScimClient } from '../../lib/scim/client.js';
import { resolveConnectionSecrets } from '../../lib/config/secrets/index.js';
import { reportError } from '../../lib/cli/main.js';
import { captureLogger, connection, expectNoCanary, leakSurfaces, pipeline, rejection } from './helpers.js';
import { sink } from '../helpers/io.js';

const SERVER = 'https://scim.example.test/api';
const TOKEN_URL = 'https://auth.example.test/token';

/** A fresh canary per test, so that nothing registered by an earlier test helps. */
function canary(): string {
  return `CANARY-${randomBytes(6).toString('hex')}`;
}

async function printed(err: unknown, json: boolean): Promise<string> {
  const out = sink();
  reportError(err, out, json);
  await new Promise((r) => setImmediate(r));
  return out.text();
}

async function expectClean(c: string, err: unknown, lines: string[]): Promise<void> {
  expect(err, 'an error was expected').to.be.instanceOf(Error);
  expectNoCanary(c, lines, 'log');
  expectNoCanary(c, leakSurfaces(err), 'error');
  expectNoCanary(c, [await printed(err, false), await printed(err, true)], 'CLI error output');
}

describe('canary: secrets never leak', () => {
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  beforeEach(() => clearSecrets());
  afterEach(() => nock.cleanAll());
  after(() => nock.enableNetConnect());

  for (const format of ['text', 'json'] as const) {
    describe(`${format} logs`, () => {
      it('static token rejected twice (401, body echoes the token)', async () => {
        const c = canary();
        nock(SERVER).get('/v2/Users').query(true).times(2).reply(401, { detail: `token ${c} is not valid`, schemas: [] });
        const { logger, lines } = captureLogger(format);
        const client = createScimClient(connection({ oAuthToken: c }), { logger });
        const err = await rejection(client.request({ path: 'Users', searchParams: { filter: 'userName eq "x"' } }));
        client.close();
        expect(err.code).to.equal('ERR_AUTH_REJECTED');
        await expectClean(c, err, lines);
      });

      it('basic password rejected twice', async () => {
        const c = canary();
        nock(SERVER).get('/v2/Users').times(2).reply(401, `Unauthorized: user admin password ${c}`);
        const { logger, lines } = captureLogger(format);
        const client = createScimClient(connection({ login: 'admin', password: c }), { logger });
        const err = await rejection(client.request({ path: 'Users' }));
        client.close();
        expect(err.code).to.equal('ERR_AUTH_REJECTED');
        await expectClean(c, err, lines);
      });

      it('OAuth tokens obtained with canary credentials, then rejected twice', async () => {
        const c = canary();
        const token = `${c}-access`;
        nock('https://auth.example.test').post('/token').times(2).reply(200, { access_token: token, expires_in: 3600 });
        nock(SERVER).get('/v2/Users').times(2).reply(401, { detail: `bad token ${token}` });
        const { logger, lines } = captureLogger(format);
        const client = createScimClient(connection({ applicationId: 'app', applicationKey: c, login: 'u', password: c, oAuth2Url: TOKEN_URL }), { logger });
        const err = await rejection(client.request({ path: 'Users' }));
        client.close();
        expect(err.code).to.equal('ERR_AUTH_REJECTED');
        await expectClean(c, err, lines);
      });

      it('token endpoint error that echoes the client secret and password', async () => {
        const c = canary();
        nock('https://auth.example.test')
          .post('/token')
          .reply(400, { error: 'invalid_grant', error_description: `wrong password ${c} for client secret ${c}` });
        const { logger, lines } = captureLogger(format);
        const client = createScimClient(connection({ applicationId: 'app', applicationKey: c, login: 'u', password: c, oAuth2Url: TOKEN_URL }), { logger });
        const err = await rejection(client.request({ path: 'Users' }));
        client.close();
        expect(err.code).to.equal('ERR_AUTH_TOKEN');
        await expectClean(c, err, lines);
      });

      it('a SCIM error whose body echoes the bearer token (and the Authorization header)', async () => {
        const c = canary();
        nock(SERVER)
          .post('/v2/Users')
          .reply(400, { status: '400', scimType: 'invalidValue', detail: `request with Authorization: Bearer ${c} rejected; token=${c}` });
        const { logger, lines } = captureLogger(format);
        const client = createScimClient(connection({ oAuthToken: c }), { logger });
        const err = await rejection(client.request({ method: 'POST', path: 'Users', json: { userName: 'x' } }));
        client.close();
        expect(err.code).to.equal('ERR_SCIM_HTTP');
        expect(err.scimType).to.equal('invalidValue');
        expectNoCanary(c, [err.detail], 'error detail');
        await expectClean(c, err, lines);
      });

      it('a non-JSON error page that echoes the token', async () => {
        const c = canary();
        nock(SERVER).get('/v2/Users').reply(502, `<html>upstream said: ${c}</html>`);
        const { logger, lines } = captureLogger(format);
        const client = createScimClient(connection({ oAuthToken: c, retry: { limit: 0, maxRetryAfterMs: 0, backoffMs: 0 } }), { logger });
        const err = await rejection(client.request({ path: 'Users' }));
        client.close();
        await expectClean(c, err, lines);
      });

      it('Azure Key Vault refusing a canary client secret and echoing it', async () => {
        const c = canary();
        nock('https://login.microsoftonline.com').post('/t/oauth2/v2.0/token').reply(401, { error: 'invalid_client', error_description: `secret ${c} is wrong` });
        const { logger, lines } = captureLogger(format);
        const p = pipeline({ secrets: { azureKeyVault: { url: 'https://kv.vault.azure.net', tenantId: 't', clientId: 'c', clientSecret: c } } });
        const err = await rejection(resolveConnectionSecrets(p, { env: {}, logger }));
        expect(err.code).to.equal('ERR_SECRETS_VAULT_FORBIDDEN');
        await expectClean(c, err, lines);
      });

      it('Azure Key Vault values (and its access token) stay out of the logs of a failing run', async () => {
        const c = canary();
        nock('https://login.microsoftonline.com').post('/t/oauth2/v2.0/token').reply(200, { access_token: `${c}-kv` });
        nock('https://kv.vault.azure.net')
          .get(/\/secrets\//).query(true).times(8)
          .reply((uri) => (uri.includes('--OAuthToken') ? [200, { value: `${c}-scim` }] : [404, {}]));
        nock(SERVER).get('/v2/Users').times(2).reply(401, { detail: `nope ${c}-scim` });
        const { logger, lines } = captureLogger(format);
        const p = await resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: { url: 'https://kv.vault.azure.net', tenantId: 't', clientId: 'c', clientSecret: `${c}-cs` } } }), { env: {}, logger });
        const client = createScimClient(p.connection, { logger });
        const err = await rejection(client.request({ path: 'Users' }));
        client.close();
        expect(err.code).to.equal('ERR_AUTH_REJECTED');
        await expectClean(c, err, lines);
      });
    });
  }
});
