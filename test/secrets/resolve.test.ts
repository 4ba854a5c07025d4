import { expect } from 'chai';
import nock from 'nock';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  resolveConnectionSecrets,
  encryptValue,
  loadPublicKey,
  loadPrivateKey,
  decryptValue,
  keyVaultSecretName,
  KEY_VAULT_ATTRIBUTES,
} from '../../lib/config/secrets/index.js';
import { redact } from '../../lib/redact.js';
import { pipeline, rsaKeys, rejection, captureLogger } from './helpers.js';

const noSleep = async () => {};

describe('secrets', () => {
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => nock.cleanAll());
  after(() => nock.enableNetConnect());

  describe('enc: values (RSA-OAEP SHA-256)', () => {
    const keys = rsaKeys();
    const pub = loadPublicKey(keys.publicKey);

    it('round-trips a value and produces a different ciphertext each time', () => {
      const a = encryptValue(pub, 'pässwörd with spaces');
      const b = encryptValue(pub, 'pässwörd with spaces');
      expect(a).to.match(/^enc:[A-Za-z0-9+/]+=*$/);
      expect(a).not.to.equal(b);
      expect(decryptValue(loadPrivateKey(keys.privateKey), a, 'x')).to.equal('pässwörd with spaces');
    });

    it('decrypts every enc: value under connection with connection.secrets.privateKey, relative to the pipeline file', async () => {
      const p = pipeline(
        {
          password: encryptValue(pub, 'pw-1234'),
          applicationKey: encryptValue(pub, 'key-5678'),
          login: 'plain-login',
          secrets: { privateKey: 'private.pem' },
        },
        join(keys.dir, 'pipeline.yaml'),
      );
      const out = await resolveConnectionSecrets(p, { env: {} });
      expect(out.connection).to.include({ password: 'pw-1234', applicationKey: 'key-5678', login: 'plain-login' });
      expect(p.connection.password).to.match(/^enc:/); // the input is not changed
      expect(redact('pw-1234 key-5678')).to.equal('*** ***');
    });

    it('finds the key in $SCIM_ETL_PRIVATE_KEY, and decrypts nested values (vault clientSecret)', async () => {
      nock('https://login.microsoftonline.com')
        .post('/t1/oauth2/v2.0/token', (b) => b.client_secret === 'vault-secret-1')
        .reply(200, { access_token: 'kv-token' });
      nock('https://kv.vault.azure.net').get(/\/secrets\//).query(true).times(8).reply(404);
      const p = pipeline({
        oAuthToken: encryptValue(pub, 'tok-1'),
        secrets: { azureKeyVault: { url: 'https://kv.vault.azure.net', tenantId: 't1', clientId: 'c1', clientSecret: encryptValue(pub, 'vault-secret-1') } },
      });
      const out = await resolveConnectionSecrets(p, { env: { SCIM_ETL_PRIVATE_KEY: keys.privateKey } });
      expect(out.connection.oAuthToken).to.equal('tok-1');
      expect(out.connection.secrets.azureKeyVault!.clientSecret).to.equal('vault-secret-1');
    });

    it('prefers opts.privateKeyPath over the environment', async () => {
      const p = pipeline({ password: encryptValue(pub, 'pw-opt') });
      const out = await resolveConnectionSecrets(p, { env: { SCIM_ETL_PRIVATE_KEY: '/nonexistent.pem' }, privateKeyPath: keys.privateKey });
      expect(out.connection.password).to.equal('pw-opt');
    });

    it('ERR_SECRETS_NO_KEY (exit 78) when enc: values exist and no key is configured', async () => {
      const err = await rejection(resolveConnectionSecrets(pipeline({ password: encryptValue(pub, 'x1234') }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_NO_KEY');
      expect(err.exitCode).to.equal(78);
      expect(err.message).to.include('connection.password').and.include('SCIM_ETL_PRIVATE_KEY');
    });

    it('ERR_SECRETS_DECRYPT naming the setting for a value encrypted with another key', async () => {
      const other = rsaKeys();
      const value = encryptValue(loadPublicKey(other.publicKey), 'secret-x');
      const err = await rejection(resolveConnectionSecrets(pipeline({ applicationKey: value }), { env: {}, privateKeyPath: keys.privateKey }));
      expect(err.code).to.equal('ERR_SECRETS_DECRYPT');
      expect(err.exitCode).to.equal(78);
      expect(err.message).to.include('connection.applicationKey');
    });

    it('ERR_SECRETS_DECRYPT for text that is not base64', async () => {
      const err = await rejection(resolveConnectionSecrets(pipeline({ password: 'enc:not base64!' }), { env: {}, privateKeyPath: keys.privateKey }));
      expect(err.code).to.equal('ERR_SECRETS_DECRYPT');
      expect(err.message).to.include('not base64');
    });

    it('ERR_SECRETS_KEY (exit 78) for a missing or wrong key file', async () => {
      const p = pipeline({ password: encryptValue(pub, 'x1234') });
      const missing = await rejection(resolveConnectionSecrets(p, { env: {}, privateKeyPath: join(keys.dir, 'nope.pem') }));
      expect(missing.code).to.equal('ERR_SECRETS_KEY');
      expect(missing.exitCode).to.equal(78);
      expect(missing.message).to.include('ENOENT');
      const garbage = join(keys.dir, 'garbage.pem');
      writeFileSync(garbage, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      const bad = await rejection(resolveConnectionSecrets(p, { env: {}, privateKeyPath: garbage }));
      expect(bad.code).to.equal('ERR_SECRETS_KEY');
      expect(bad.exitCode).to.equal(78);
    });

    it('refuses a value longer than the key can carry with ERR_SECRETS_TOO_LONG', () => {
      expect(() => encryptValue(pub, 'x'.repeat(191))).to.throw().with.property('code', 'ERR_SECRETS_TOO_LONG');
      expect(encryptValue(pub, 'x'.repeat(190))).to.match(/^enc:/);
    });
  });

  describe('Azure Key Vault', () => {
    const vault = { url: 'https://myvault.vault.azure.net/', tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'kv-client-secret' };

    function tokenOk() {
      return nock('https://login.microsoftonline.com')
        .post('/tenant-1/oauth2/v2.0/token', {
          grant_type: 'client_credentials',
          client_id: 'client-1',
          client_secret: 'kv-client-secret',
          scope: 'https://vault.azure.net/.default',
        })
        .reply(200, { token_type: 'Bearer', expires_in: 3599, access_token: 'kv-access' });
    }

    it('reads Connections--<identifier>--<Attribute> for every attribute; stored values override, 404 keeps the pipeline value', async () => {
      tokenOk();
      const stored: Record<string, string> = { Server: 'https://from-vault.example.test/scim/', Password: 'vault-pw', BulkMaxOperation: '50', ServiceSupportBulk: 'True' };
      const seen: string[] = [];
      const kv = nock('https://myvault.vault.azure.net')
        .matchHeader('authorization', 'Bearer kv-access')
        .get(/^\/secrets\/Connections--Sec--[A-Za-z]+\?api-version=7\.4$/)
        .times(KEY_VAULT_ATTRIBUTES.length)
        .reply((uri) => {
          const attr = uri.split('--')[2]!.split('?')[0]!;
          seen.push(attr);
          return attr in stored ? [200, { value: stored[attr], id: 'x' }] : [404, { error: { code: 'SecretNotFound', message: 'nope' } }];
        });
      const { logger, lines } = captureLogger();
      const out = await resolveConnectionSecrets(pipeline({ login: 'pipeline-login', password: 'pipeline-pw', secrets: { azureKeyVault: vault } }), { env: {}, logger });
      expect(kv.isDone()).to.equal(true);
      expect(seen.sort()).to.deep.equal([...KEY_VAULT_ATTRIBUTES].sort());
      expect(out.connection.server).to.equal('https://from-vault.example.test/scim');
      expect(out.connection.password).to.equal('vault-pw');
      expect(out.connection.login).to.equal('pipeline-login');
      expect(out.fulfill!.bulkMaxOperation).to.equal(50);
      expect(out.fulfill!.serviceSupportBulk).to.equal(true);
      expect(lines.join('')).to.match(/Azure Key Vault supplied .*Password/);
      expect(lines.join('')).not.to.include('vault-pw');
      expect(keyVaultSecretName('Sec', 'Login')).to.equal('Connections--Sec--Login');
    });

    it('403 on a secret → ERR_SECRETS_VAULT_FORBIDDEN naming the secret, with a hint', async () => {
      tokenOk();
      nock('https://myvault.vault.azure.net')
        .get(/\/secrets\//).query(true).times(8)
        .reply(403, { error: { code: 'Forbidden', message: "The user, group or application does not have secrets get permission" } });
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: vault } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_VAULT_FORBIDDEN');
      expect(err.exitCode).to.equal(1);
      expect(err.message).to.match(/Connections--Sec--\w+/).and.include('HTTP 403').and.include('secrets get permission');
    });

    it('a refused identity → ERR_SECRETS_VAULT_FORBIDDEN with the Entra error, never the client secret', async () => {
      nock('https://login.microsoftonline.com')
        .post('/tenant-1/oauth2/v2.0/token')
        .reply(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: vault } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_VAULT_FORBIDDEN');
      expect(err.message).to.include('AADSTS7000215');
      expect(JSON.stringify(err) + err.message).not.to.include('kv-client-secret');
    });

    it('a custom authorityHost is used for the token', async () => {
      const scope = nock('https://login.microsoftonline.us').post('/tenant-1/oauth2/v2.0/token').reply(200, { access_token: 'gov' });
      nock('https://myvault.vault.azure.net').get(/\/secrets\//).query(true).times(8).reply(404);
      await resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: { ...vault, authorityHost: 'https://login.microsoftonline.us/' } } }), { env: {} });
      expect(scope.isDone()).to.equal(true);
    });

    it('timeout → ERR_SECRETS_VAULT_UNREACHABLE after the retries', async () => {
      tokenOk();
      nock('https://myvault.vault.azure.net').get(/\/secrets\//).query(true).times(16).delay(300).reply(200, { value: 'late' });
      const err = await rejection(
        resolveConnectionSecrets(pipeline({ timeoutMs: 30, secrets: { azureKeyVault: vault } }), { env: {}, sleep: noSleep }),
      );
      expect(err.code).to.equal('ERR_SECRETS_VAULT_UNREACHABLE');
      expect(err.message).to.include('timed out');
    });

    it('network failure on the token endpoint → ERR_SECRETS_VAULT_UNREACHABLE', async () => {
      nock('https://login.microsoftonline.com').post(/token/).times(2).replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: vault } }), { env: {}, sleep: noSleep }));
      expect(err.code).to.equal('ERR_SECRETS_VAULT_UNREACHABLE');
    });

    it('a stored BulkMaxOperation that is not a number → ERR_SECRETS_VALUE', async () => {
      tokenOk();
      nock('https://myvault.vault.azure.net')
        .get(/\/secrets\//).query(true).times(8)
        .reply((uri) => (uri.includes('BulkMaxOperation') ? [200, { value: 'ten' }] : [404, {}]));
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: vault } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_VALUE');
      expect(err.message).to.include('"ten"');
    });

    it('a stored ServiceSupportBulk that is not true/false → ERR_SECRETS_VALUE', async () => {
      tokenOk();
      nock('https://myvault.vault.azure.net')
        .get(/\/secrets\//).query(true).times(8)
        .reply((uri) => (uri.includes('ServiceSupportBulk') ? [200, { value: 'yes' }] : [404, {}]));
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: vault } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_VALUE');
      expect(err.message).to.include('ServiceSupportBulk').and.include('"yes"');
    });

    it('missing vault settings → ERR_CONFIG_MISSING_KEY before any request', async () => {
      const err = await rejection(
        resolveConnectionSecrets(pipeline({ secrets: { azureKeyVault: { url: 'https://v', tenantId: 't', clientId: '', clientSecret: undefined as unknown as string } } }), { env: {} }),
      );
      expect(err.code).to.equal('ERR_CONFIG_MISSING_KEY');
      expect(err.message).to.include('clientId, clientSecret');
    });
  });

  describe('CyberArk Central Credential Provider', () => {
    const ccp = { url: 'https://ccp.corp.test', appId: 'ScimEtl', safe: 'IGA Safe', objects: { Login: 'scim-acct', Password: 'scim-acct', Server: 'scim-acct', OAuthToken: 'scim-token' } };

    it('reads each distinct object once and maps UserName, Content, Address', async () => {
      const scope = nock('https://ccp.corp.test')
        .get('/AIMWebService/api/Accounts')
        .query({ AppID: 'ScimEtl', Safe: 'IGA Safe', Object: 'scim-acct' })
        .once()
        .reply(200, { Content: 'ccp-password', UserName: 'svc-scim', Address: 'scim.corp.test/api', Safe: 'IGA Safe' })
        .get('/AIMWebService/api/Accounts')
        .query({ AppID: 'ScimEtl', Safe: 'IGA Safe', Object: 'scim-token' })
        .reply(200, { Content: 'ccp-bearer-token', UserName: 'n/a' });
      const out = await resolveConnectionSecrets(pipeline({ server: '', secrets: { cyberArk: ccp } }), { env: {} });
      expect(scope.isDone()).to.equal(true);
      expect(out.connection).to.include({ login: 'svc-scim', password: 'ccp-password', server: 'https://scim.corp.test/api', oAuthToken: 'ccp-bearer-token' });
      expect(redact('ccp-password ccp-bearer-token')).to.equal('*** ***');
    });

    it('accepts the loader spellings of attribute names (server, oAuth2Url) and keeps a full Address URL as is', async () => {
      nock('https://ccp.corp.test').get(/Accounts/).query(true).reply(200, { Address: 'https://idp.corp.test/token/' });
      const out = await resolveConnectionSecrets(pipeline({ secrets: { cyberArk: { ...ccp, objects: { oAuth2Url: 'tok-url' } } } }), { env: {} });
      expect(out.connection.oAuth2Url).to.equal('https://idp.corp.test/token');
      expect(out.connection.server).to.equal('https://scim.example.test/api');
    });

    it('encodes the query with %20 for spaces', async () => {
      const scope = nock('https://ccp.corp.test')
        .get('/AIMWebService/api/Accounts?AppID=ScimEtl&Safe=IGA%20Safe&Object=o%201')
        .reply(200, { Content: 'pw-xyz1' });
      await resolveConnectionSecrets(pipeline({ secrets: { cyberArk: { ...ccp, objects: { Password: 'o 1' } } } }), { env: {} });
      expect(scope.isDone()).to.equal(true);
    });

    it('maps a CCP error (ErrorCode, ErrorMsg) to ERR_SECRETS_CCP', async () => {
      nock('https://ccp.corp.test')
        .get('/AIMWebService/api/Accounts')
        .query(true)
        .reply(404, { ErrorCode: 'APPAP004E', ErrorMsg: 'Password object matching query [Object=scim-acct] was not found (Diagnostic Info: 5).' });
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { cyberArk: ccp } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_CCP');
      expect(err.context.ccpErrorCode).to.equal('APPAP004E');
      expect(err.message).to.include('APPAP004E').and.include('was not found').and.include('scim-acct');
    });

    it('unreachable CCP → ERR_SECRETS_CCP saying so', async () => {
      nock('https://ccp.corp.test').get(/Accounts/).times(2).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { cyberArk: ccp } }), { env: {}, sleep: noSleep }));
      expect(err.code).to.equal('ERR_SECRETS_CCP');
      expect(err.message).to.include('unreachable');
    });

    it('an object for an attribute no account field fills → ERR_SECRETS_CCP_ATTRIBUTE (exit 78)', async () => {
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { cyberArk: { ...ccp, objects: { PageSize: 'x' } } } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_CCP_ATTRIBUTE');
      expect(err.exitCode).to.equal(78);
    });

    it('a client certificate file that cannot be read → ERR_CONFIG_TLS_FILE (exit 78) before any request', async () => {
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { cyberArk: { ...ccp, cert: '/nonexistent/client.pem' } } }), { env: {} }));
      expect(err.code).to.equal('ERR_CONFIG_TLS_FILE');
      expect(err.exitCode).to.equal(78);
      expect(err.message).to.include('connection.secrets.cyberArk.cert');
    });

    it('an account without the needed field → ERR_SECRETS_CCP', async () => {
      nock('https://ccp.corp.test').get(/Accounts/).query(true).reply(200, { Content: 'pw-1234' });
      const err = await rejection(resolveConnectionSecrets(pipeline({ secrets: { cyberArk: { ...ccp, objects: { Login: 'a' } } } }), { env: {} }));
      expect(err.code).to.equal('ERR_SECRETS_CCP');
      expect(err.message).to.include('no UserName for Login');
    });
  });

  describe('server check', () => {
    it('ERR_CONFIG_MISSING_KEY (exit 78) when no source supplied a server', async () => {
      const err = await rejection(resolveConnectionSecrets(pipeline({ server: '' }), { env: {} }));
      expect(err.code).to.equal('ERR_CONFIG_MISSING_KEY');
      expect(err.exitCode).to.equal(78);
      expect(err.message).to.include('Connections--Sec--Server');
    });
    it('ERR_CONFIG_INVALID_VALUE for a server that is not an http(s) URL', async () => {
      const err = await rejection(resolveConnectionSecrets(pipeline({ server: 'scim.example.test' }), { env: {} }));
      expect(err.code).to.equal('ERR_CONFIG_INVALID_VALUE');
    });
    it('passes a plain pipeline through unchanged and registers its credentials', async () => {
      const p = pipeline({ oAuthToken: 'plain-token-123', password: 'plain-pw-456' });
      const out = await resolveConnectionSecrets(p, { env: {} });
      expect(out.connection).to.deep.equal(p.connection);
      expect(redact('plain-token-123 / plain-pw-456')).to.equal('*** / ***');
    });
  });
});
