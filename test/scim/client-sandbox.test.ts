/** The client against the real sandbox server on 127.0.0.1: retries, 401 refresh and streaming over real sockets. */
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import nock from 'nock';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createScimClient, type ScimClient } from '../../lib/scim/client.js';
import { connection, rejection } from '../secrets/helpers.js';

describe('scim client against the sandbox', () => {
  let sb: Sandbox;
  let client: ScimClient;
  const waits: number[] = [];

  before(async () => {
    nock.enableNetConnect('127.0.0.1');
    sb = await startSandbox({ token: 'sandbox-token-1', generate: { users: 30, groups: 2, members: 20 } });
  });
  beforeEach(() => {
    waits.length = 0;
    client = createScimClient(connection({ server: sb.url, oAuthToken: 'sandbox-token-1', retry: { limit: 3, maxRetryAfterMs: 5000, backoffMs: 1 } }), {
      sleep: async (ms) => void waits.push(ms),
    });
  });
  afterEach(() => {
    client.close();
    sb.setFaults([]);
  });
  after(async () => sb.stop());

  it('pages with a filter and the token', async () => {
    const res = await client.request<{ totalResults: number; Resources: Array<{ userName: string }> }>({
      path: 'Users',
      searchParams: { filter: 'userName sw "u"', startIndex: 1, count: 5 },
    });
    expect(res.status).to.equal(200);
    expect(res.body.Resources.length).to.be.at.most(5);
  });

  it('waits out a 429 with an HTTP-date Retry-After, then a 503 in seconds', async () => {
    sb.setFaults([
      { kind: '429', route: 'GET /v2/Users', retryAfter: 'date', retryAfterSeconds: 2 },
      { kind: '503', route: 'GET /v2/Users', retryAfter: 1, after: 1 },
    ]);
    const res = await client.request({ path: 'Users', searchParams: { count: 1 } });
    expect(res.attempts).to.equal(3);
    expect(waits[0]).to.be.within(0, 2000);
    expect(waits[1]).to.equal(1000);
    expect(client.stats).to.include({ requests: 3, retries: 2, throttled: 2 });
  });

  it('retries a reset connection on GET', async () => {
    sb.setFaults([{ kind: 'reset', route: 'GET /v2/Groups' }]);
    const res = await client.request({ path: 'Groups' });
    expect(res.attempts).to.equal(2);
  });

  it('an expired token (401) is retried once with a fresh header', async () => {
    sb.setFaults([{ kind: 'expireToken', route: 'GET /v2/Users' }]);
    const res = await client.request({ path: 'Users', searchParams: { count: 1 } });
    expect(res.status).to.equal(200);
    expect(res.attempts).to.equal(2);
  });

  it('a wrong token is ERR_AUTH_REJECTED', async () => {
    const bad = createScimClient(connection({ server: sb.url, oAuthToken: 'wrong-token' }));
    const err = await rejection(bad.request({ path: 'Users' }));
    bad.close();
    expect(err.code).to.equal('ERR_AUTH_REJECTED');
    expect(err.message).to.include('127.0.0.1');
  });

  it('does not retry a POST whose connection was reset', async () => {
    sb.setFaults([{ kind: 'reset', route: 'POST /v2/Users' }]);
    const err = await rejection(client.request({ method: 'POST', path: 'Users', json: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new.one' } }));
    expect(err.code).to.equal('ERR_TRANSPORT_NETWORK');
    expect(client.stats.retries).to.equal(0);
  });

  it('streams a group and reports a connection cut mid-body as a stream error', async () => {
    const list = await client.request<{ Resources: Array<{ id: string }> }>({ path: 'Groups' });
    const id = list.body.Resources[0]!.id;
    const ok = await client.requestStream({ path: `Groups/${id}` });
    let text = '';
    for await (const c of ok.body as AsyncIterable<Buffer>) text += c.toString();
    expect(JSON.parse(text).id).to.equal(id);

    sb.setFaults([{ kind: 'reset', route: `GET /v2/Groups/${id}` }]);
    const cut = await client.requestStream({ path: `Groups/${id}` });
    // The stream itself fails (not just the JSON parse of a short text).
    const err = await rejection(
      (async () => {
        for await (const c of cut.body as AsyncIterable<Buffer>) void c;
      })(),
    );
    expect(err).to.be.instanceOf(Error);
  });

  it('removes its abort listener from the signal once a streamed body was read to the end', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 12; i++) {
      const res = await client.requestStream({ path: 'Users', searchParams: { count: 2 }, signal: ac.signal });
      // As stream consumers do: read to the end through pipeline(), never destroy the body ourselves.
      await pipeline(res.body, new Writable({ write: (_c, _e, done) => done() }));
    }
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
  });
});
