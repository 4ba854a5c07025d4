import { expect } from 'chai';
import nock from 'nock';
import type { ConnectionConfig } from '../../lib/config/types.js';
import { createScimClient, buildUrl, scimBase, ScimHttpError, type ScimClient } from '../../lib/scim/client.js';
import { ScimEtlError } from '../../lib/errors.js';
import { Logger } from '../../lib/log.js';
import { parseScimError } from '../../lib/scim/errors.js';
import { decideRetry, parseRetryAfter, retryPolicy, backoffDelay } from '../../lib/scim/retry.js';
import { testConnection } from '../helpers/model.js';
import { rejects } from '../helpers/rejects.js';

const SERVER = 'https://scim.example.test/api';

function conn(over: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return testConnection({ identifier: 'Test', server: SERVER, concurrency: 2, timeoutMs: 5000, retry: { limit: 3, maxRetryAfterMs: 60_000, backoffMs: 100 }, ...over });
}

/** A sleep that records the waits instead of waiting. */
function fakeSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

/** nock needs an Error instance (a plain object never reaches the client). */
function reset(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

describe('scim client', () => {
  let client: ScimClient | undefined;
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    client?.close();
    client = undefined;
    nock.cleanAll();
  });
  after(() => nock.enableNetConnect());

  describe('urls', () => {
    it('appends /v2 to the server and tolerates a trailing slash or /v2', () => {
      expect(scimBase('https://h/scim')).to.equal('https://h/scim/v2');
      expect(scimBase('https://h/scim/')).to.equal('https://h/scim/v2');
      expect(scimBase('https://h/scim/v2/')).to.equal('https://h/scim/v2');
    });
    it('encodes filters with %20 and %22, leaves out undefined params', () => {
      const url = buildUrl('https://h/v2', '/Users', { filter: 'userName eq "a b&c"', count: 10, cursor: undefined });
      expect(url).to.equal('https://h/v2/Users?filter=userName%20eq%20%22a%20b%26c%22&count=10');
    });
  });

  describe('requests', () => {
    it('sends search params that the server decodes to the exact filter, with SCIM headers', async () => {
      const filter = 'emails[type eq "work" and value co "@x.org"] or name.givenName sw "Ann+"';
      const scope = nock(SERVER)
        .matchHeader('accept', /application\/scim\+json/)
        .get('/v2/Users')
        .query((q) => q.filter === filter && q.startIndex === '1')
        .reply(200, { totalResults: 0, Resources: [] }, { 'content-type': 'application/scim+json' });
      client = createScimClient(conn());
      const res = await client.request<{ totalResults: number }>({ path: 'Users', searchParams: { filter, startIndex: 1 } });
      expect(res.status).to.equal(200);
      expect(res.body.totalResults).to.equal(0);
      expect(res.attempts).to.equal(1);
      expect(scope.isDone()).to.equal(true);
    });

    it('posts JSON as application/scim+json and reads application/json replies', async () => {
      const scope = nock(SERVER)
        .matchHeader('content-type', 'application/scim+json')
        .post('/v2/Users', { userName: 'ann' })
        .reply(201, JSON.stringify({ id: '1', userName: 'ann' }), { 'content-type': 'application/json; charset=utf-8' });
      client = createScimClient(conn());
      const res = await client.request<{ id: string }>({ method: 'POST', path: '/Users', json: { userName: 'ann' } });
      expect(res.status).to.equal(201);
      expect(res.body.id).to.equal('1');
      expect(scope.isDone()).to.equal(true);
    });

    it('returns undefined body for 204 and passes extra headers (If-Match)', async () => {
      const scope = nock(SERVER).matchHeader('if-match', 'W/"3"').delete('/v2/Users/abc').reply(204);
      client = createScimClient(conn());
      const res = await client.request({ method: 'DELETE', path: 'Users/abc', headers: { 'If-Match': 'W/"3"' } });
      expect(res.status).to.equal(204);
      expect(res.body).to.equal(undefined);
      expect(scope.isDone()).to.equal(true);
    });

    it('fails with ERR_SCIM_BAD_JSON on a broken JSON reply', async () => {
      nock(SERVER).get('/v2/Users').reply(200, '{"totalResults": 1, "Resou', { 'content-type': 'application/scim+json' });
      client = createScimClient(conn());
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err).to.be.instanceOf(ScimEtlError);
      expect(err.code).to.equal('ERR_SCIM_BAD_JSON');
    });

    it('logs METHOD url status ms at verbose level with secrets stripped from the url', async () => {
      nock(SERVER).get('/v2/Users').query(true).reply(200, {});
      const lines: string[] = [];
      const logger = new Logger({ verbose: true, stream: { write: (s: string) => lines.push(s) } as any });
      client = createScimClient(conn(), { logger });
      await client.request({ path: 'Users', searchParams: { filter: 'active eq true', api_key: 'shhh-very-secret' } });
      const line = lines.find((l) => l.includes('GET'));
      expect(line).to.match(/^debug: GET https:\/\/scim\.example\.test\/api\/v2\/Users\?filter=active.* 200 \d+ms/);
      expect(lines.join('')).not.to.include('shhh-very-secret');
    });
  });

  describe('retries', () => {
    it('retries 429 with Retry-After in seconds', async () => {
      const scope = nock(SERVER)
        .get('/v2/Users').reply(429, '', { 'retry-after': '3' })
        .get('/v2/Users').reply(200, { ok: true });
      const { waits, sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const res = await client.request({ path: 'Users' });
      expect(res.attempts).to.equal(2);
      expect(waits).to.deep.equal([3000]);
      expect(client.stats).to.include({ requests: 2, retries: 1, throttled: 1, throttledMs: 3000, waitedMs: 3000 });
      expect(scope.isDone()).to.equal(true);
    });

    it('retries 429 with Retry-After as an HTTP date', async () => {
      const when = new Date(Date.now() + 10_000).toUTCString();
      nock(SERVER).get('/v2/Users').reply(429, '', { 'retry-after': when }).get('/v2/Users').reply(200, {});
      const { waits, sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      await client.request({ path: 'Users' });
      expect(waits).to.have.length(1);
      expect(waits[0]).to.be.within(8000, 10_000);
    });

    it('retries 503 with exponential backoff and jitter, then succeeds', async () => {
      nock(SERVER).get('/v2/Groups').times(2).reply(503, 'busy').get('/v2/Groups').reply(200, {});
      const { waits, sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep, random: () => 1 });
      const res = await client.request({ path: 'Groups' });
      expect(res.attempts).to.equal(3);
      expect(waits).to.deep.equal([100, 200]);
    });

    it('retries a connection reset', async () => {
      nock(SERVER).get('/v2/Users').replyWithError(reset()).get('/v2/Users').reply(200, { a: 1 });
      const { waits, sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const res = await client.request({ path: 'Users' });
      expect(res.body).to.deep.equal({ a: 1 });
      expect(waits).to.have.length(1);
      expect(client.stats.retries).to.equal(1);
    });

    it('gives up after the limit with ERR_TRANSPORT_NETWORK for repeated resets', async () => {
      nock(SERVER).get('/v2/Users').times(4).replyWithError(reset());
      const { sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_TRANSPORT_NETWORK');
      expect(err.category).to.equal('transport');
      expect(err.message).to.include('ECONNRESET').and.include('4 attempts');
      expect(client.stats).to.include({ requests: 4, retries: 3, throttled: 0 });
    });

    it('does not retry a POST on 500 (the server may have created the user)', async () => {
      const scope = nock(SERVER).post('/v2/Users').reply(500, { status: '500', detail: 'boom' });
      const { waits, sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const err = await rejects(client.request({ method: 'POST', path: 'Users', json: {} }));
      expect(err).to.be.instanceOf(ScimHttpError);
      expect(err.status).to.equal(500);
      expect(err.attempts).to.equal(1);
      expect(waits).to.deep.equal([]);
      expect(scope.isDone()).to.equal(true);
    });

    it('does not retry a POST on a connection reset, but does on 429', async () => {
      nock(SERVER).post('/v2/Users').replyWithError(reset());
      const { sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const err = await rejects(client.request({ method: 'POST', path: 'Users', json: {} }));
      expect(err.code).to.equal('ERR_TRANSPORT_NETWORK');
      expect(client.stats.retries).to.equal(0);

      nock(SERVER).post('/v2/Users').reply(429, '', { 'retry-after': '1' }).post('/v2/Users').reply(201, { id: 'x' });
      const res = await client.request({ method: 'POST', path: 'Users', json: {} });
      expect(res.status).to.equal(201);
      expect(res.attempts).to.equal(2);
    });

    it('retry: false turns retries off, retry: true retries a POST on 500', async () => {
      nock(SERVER).get('/v2/Users').reply(503);
      const { sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      expect((await rejects(client.request({ path: 'Users', retry: false }))).status).to.equal(503);
      nock(SERVER).post('/v2/Bulk').reply(500).post('/v2/Bulk').reply(200, {});
      expect((await client.request({ method: 'POST', path: 'Bulk', json: {}, retry: true })).attempts).to.equal(2);
    });

    it('fails fast when Retry-After exceeds maxRetryAfterMs, saying so', async () => {
      const scope = nock(SERVER).get('/v2/Users').reply(429, { detail: 'slow down' }, { 'retry-after': '3600' });
      const { waits, sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err).to.be.instanceOf(ScimHttpError);
      expect(err.status).to.equal(429);
      expect(err.message).to.include('3600 s').and.include('retry.maxRetryAfter');
      expect(err.context.retryAfterMs).to.equal(3_600_000);
      expect(waits).to.deep.equal([]);
      expect(scope.isDone()).to.equal(true);
    });

    it('stops waiting and rejects with the abort reason when the signal fires during a retry wait', async () => {
      const scope = nock(SERVER).get('/v2/Users').reply(503);
      const controller = new AbortController();
      const sleep = (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          controller.abort(new Error('interrupted'));
        });
      client = createScimClient(conn(), { sleep });
      const err = await rejects(client.request({ path: 'Users', signal: controller.signal }));
      expect(err.message).to.equal('interrupted');
      expect(client.stats.requests).to.equal(1);
      expect(scope.isDone()).to.equal(true);
    });

    it('keeps the stats across requests', async () => {
      nock(SERVER).get('/v2/A').reply(502).get('/v2/A').reply(200, {}).get('/v2/B').reply(200, {});
      const { sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      await client.request({ path: 'A' });
      await client.request({ path: 'B' });
      expect(client.stats).to.include({ requests: 3, retries: 1 });
    });
  });

  describe('errors', () => {
    it('parses an RFC error with a string status', async () => {
      nock(SERVER).post('/v2/Users').reply(409, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '409',
        scimType: 'uniqueness',
        detail: 'User name already taken',
      });
      client = createScimClient(conn());
      const err = await rejects(client.request({ method: 'POST', path: 'Users', json: { userName: 'a' } }));
      expect(err).to.be.instanceOf(ScimHttpError);
      expect(err.code).to.equal('ERR_SCIM_HTTP');
      expect(err).to.include({ status: 409, scimType: 'uniqueness', detail: 'User name already taken', attempts: 1 });
      expect(err.message).to.equal('POST Users failed: HTTP 409 (uniqueness): User name already taken');
    });

    it('parses a numeric status and Slack {"Errors":{description,code}}', () => {
      expect(parseScimError({ status: 400, scimType: 'invalidFilter', detail: 'bad' })).to.deep.equal({ status: 400, scimType: 'invalidFilter', detail: 'bad' });
      expect(parseScimError('{"Errors":{"description":"invalid_authentication","code":401}}')).to.deep.equal({ status: 401, detail: 'invalid_authentication' });
      expect(parseScimError({ Errors: [{ description: 'no such user', code: 404 }] })).to.deep.equal({ status: 404, detail: 'no such user' });
    });

    it('reads Slack errors from the wire', async () => {
      nock(SERVER).get('/v2/Users/U1').reply(404, { Errors: { description: 'user_not_found', code: 404 } });
      client = createScimClient(conn());
      const err = await rejects(client.request({ path: 'Users/U1' }));
      expect(err).to.include({ status: 404, detail: 'user_not_found' });
    });

    it('keeps the first 200 characters of a non-JSON body, redacted, without the query', async () => {
      const html = '<html><body>' + 'Bad gateway '.repeat(40) + 'Authorization: Bearer abc.def.ghi</body></html>';
      nock(SERVER).get('/v2/Users').query(true).reply(400, 'password=hunter22 ' + html, { 'content-type': 'text/html' });
      client = createScimClient(conn());
      const err = await rejects(client.request({ path: 'Users', searchParams: { filter: 'userName eq "x"' } }));
      expect(err.detail.length).to.be.at.most(201);
      expect(err.detail).to.match(/^password=\*\*\* <html><body>Bad gateway/);
      expect(err.message).not.to.include('hunter22');
      expect(err.message).not.to.include('filter');
      expect(err.context.path).to.equal('Users');
    });

    it('never serialises the response body or headers', async () => {
      nock(SERVER).get('/v2/Users').reply(500, { detail: 'x' }, { 'set-cookie': 'session=abcdef123' });
      client = createScimClient(conn(), { sleep: async () => {} });
      const err = await rejects(client.request({ path: 'Users', retry: false }));
      expect(JSON.stringify(err)).not.to.include('abcdef123');
      expect(err.responseHeaders['set-cookie']).to.deep.equal(['session=abcdef123']);
    });

    it('does not follow a redirect and says where it points', async () => {
      nock(SERVER).get('/v2/Users').reply(301, '', { location: 'https://new.example.test/scim/v2/Users?x=1' });
      client = createScimClient(conn());
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err.status).to.equal(301);
      expect(err.message).to.include('redirects to https://new.example.test/scim/v2/Users').and.include('connection.server');
    });

    it('401 without credentials is ERR_AUTH_REJECTED with a hint', async () => {
      nock(SERVER).get('/v2/Users').reply(401);
      client = createScimClient(conn());
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_AUTH_REJECTED');
      expect(err.exitCode).to.equal(1);
      expect(err.message).to.include('connection Test').and.include('no credentials');
    });

    it('a timeout is ERR_TRANSPORT_TIMEOUT after the retries', async () => {
      nock(SERVER).get('/v2/Users').times(2).delay(200).reply(200, {});
      const { sleep } = fakeSleep();
      client = createScimClient(conn({ timeoutMs: 20, retry: { limit: 1, maxRetryAfterMs: 1000, backoffMs: 1 } }), { sleep });
      const err = await rejects(client.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_TRANSPORT_TIMEOUT');
      expect(err.context.attempts).to.equal(2);
    });
  });

  describe('requestStream', () => {
    async function text(s: NodeJS.ReadableStream): Promise<string> {
      let out = '';
      for await (const c of s as AsyncIterable<Buffer>) out += c.toString();
      return out;
    }

    it('retries a 503 before handing over the body of the 200', async () => {
      nock(SERVER).get('/v2/Groups/g1').reply(503, 'later').get('/v2/Groups/g1').reply(200, '{"members":[{"value":"u1"}]}');
      const { sleep } = fakeSleep();
      client = createScimClient(conn(), { sleep });
      const res = await client.requestStream({ path: 'Groups/g1' });
      expect(res.status).to.equal(200);
      expect(res.attempts).to.equal(2);
      expect(JSON.parse(await text(res.body))).to.deep.equal({ members: [{ value: 'u1' }] });
    });

    it('throws ScimHttpError with the parsed body on a non-2xx status', async () => {
      nock(SERVER).get('/v2/Groups/none').reply(404, { status: '404', detail: 'Group none not found' });
      client = createScimClient(conn());
      const err = await rejects(client.requestStream({ path: 'Groups/none' }));
      expect(err).to.be.instanceOf(ScimHttpError);
      expect(err).to.include({ status: 404, detail: 'Group none not found' });
    });

    it('surfaces an error in the middle of the body on the stream', async () => {
      nock(SERVER)
        .get('/v2/Groups/big')
        .reply(200, () => {
          const { Readable } = require('node:stream') as typeof import('node:stream');
          let n = 0;
          return new Readable({
            read() {
              if (n++ === 0) this.push('{"members":[');
              else this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
            },
          });
        });
      client = createScimClient(conn());
      const res = await client.requestStream({ path: 'Groups/big' });
      const err = await rejects(text(res.body));
      expect(err).to.be.instanceOf(Error);
    });
  });

  describe('retry policy', () => {
    it('reads Retry-After forms', () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      expect(parseRetryAfter('120', now)).to.equal(120_000);
      expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).to.equal(30_000);
      expect(parseRetryAfter('soon', now)).to.equal(undefined);
      expect(parseRetryAfter(undefined, now)).to.equal(undefined);
    });
    it('caps the backoff and spreads it with jitter', () => {
      const p = retryPolicy({ backoffMs: 1000 });
      expect(backoffDelay(p, 1, () => 0)).to.equal(500);
      expect(backoffDelay(p, 3, () => 1)).to.equal(4000);
      expect(backoffDelay(p, 30, () => 1)).to.equal(p.maxBackoffMs);
    });
    it('never retries a 400 and stops at the limit', () => {
      const p = retryPolicy({ limit: 2 });
      expect(decideRetry(p, 'all', { status: 400 }, 0).retry).to.equal(false);
      expect(decideRetry(p, 'all', { status: 503 }, 1).retry).to.equal(true);
      expect(decideRetry(p, 'all', { status: 503 }, 2).retry).to.equal(false);
      expect(decideRetry(p, 'unprocessed', { status: 502 }, 0).retry).to.equal(false);
    });
  });
});
