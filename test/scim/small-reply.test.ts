import { expect } from 'chai';
import { requestToken, httpSettings } from '../../lib/scim/auth/token-endpoint.js';
import { storeRequest } from '../../lib/config/secrets/http.js';
import { retryPolicy } from '../../lib/scim/retry.js';
import { silentLogger } from '../../lib/log.js';
import { startHttp, type TestServer } from '../helpers/http-server.js';
import { rejects } from '../helpers/rejects.js';

// A token endpoint or a vault answers a few hundred bytes. One that drips its
// reply (each byte inside the socket timeout) or streams without end must not
// hold the run or fill memory.
describe('small replies: token endpoint and secret stores', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const drip = () =>
    startHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
  const endless = () =>
    startHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      res.write('{"access_token":"');
      pump();
    });
  const settings = (timeoutMs: number) => httpSettings({ identifier: 'demo', timeoutMs, retry: { limit: 0, maxRetryAfterMs: 0, backoffMs: 1 } }, { rejectUnauthorized: true }, silentLogger);

  it('a token reply that drips is cut at the timeout, as a whole, with ERR_AUTH_TOKEN_UNREACHABLE', async () => {
    server = await drip();
    const started = Date.now();
    const err = await rejects(requestToken({ url: `${server.url}/token`, form: { grant_type: 'client_credentials' } }, settings(400)));
    expect(err.code).to.equal('ERR_AUTH_TOKEN_UNREACHABLE');
    expect(Date.now() - started).to.be.below(3000);
  });

  it('a token reply larger than 1 MiB is dropped at the cap with a message that says so', async () => {
    server = await endless();
    const err = await rejects(requestToken({ url: `${server.url}/token`, form: { grant_type: 'client_credentials' } }, settings(20_000)));
    expect(err.code).to.equal('ERR_AUTH_TOKEN_UNREACHABLE');
    expect(err.message).to.match(/larger than 1048576 bytes/);
  });

  it('a vault reply that drips or never ends is reported, not waited for', async () => {
    server = await drip();
    const dripped = await storeRequest({ timeoutMs: 400, retry: retryPolicy({ limit: 0 }), logger: silentLogger }, `${server.url}/secret`);
    expect(dripped.ok).to.equal(false);
    await server.close();
    server = await endless();
    const endlessReply = await storeRequest({ timeoutMs: 20_000, retry: retryPolicy({ limit: 0 }), logger: silentLogger }, `${server.url}/secret`);
    expect(endlessReply).to.include({ ok: false, errorCode: 'ERR_REPLY_TOO_LARGE' });
  });

  it('a normal token reply still comes through', async () => {
    server = await startHttp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'abc', token_type: 'Bearer', expires_in: 60 }));
    });
    const reply = await requestToken({ url: `${server.url}/token`, form: { grant_type: 'client_credentials' } }, settings(2000));
    expect(reply).to.deep.include({ accessToken: 'abc', tokenType: 'Bearer', expiresIn: 60 });
  });
});
