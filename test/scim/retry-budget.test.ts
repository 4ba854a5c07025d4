/**
 * Retry as a budget: waits the server asks for do not use up retry.limit, the
 * time budget retry.maxElapsed ends every request, scimType errors are never
 * retried. A fake clock advances with the fake sleep: no real waits.
 */
import { expect } from 'chai';
import type { ConnectionConfig } from '../../lib/config/types.js';
import { createScimClient, ScimHttpError, type ClientOptions, type ScimClient } from '../../lib/scim/client.js';
import { decideRetry, retryPolicy } from '../../lib/scim/retry.js';
import { sendJson, startHttp, type TestHandler, type TestServer } from '../helpers/http-server.js';
import { testConnection } from '../helpers/model.js';
import { rejects } from '../helpers/rejects.js';

const USER = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'u1', userName: 'a@example.com' };
const scimError = (status: number, scimType?: string, detail = 'no') => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
  status: String(status),
  ...(scimType ? { scimType } : {}),
  detail,
});

describe('retry budget', () => {
  let server: TestServer | undefined;
  let client: ScimClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.close();
    server = undefined;
  });

  /** A client whose sleeps only move a fake clock forward (recorded in `waits`). */
  async function setup(handler: TestHandler, over: Partial<ConnectionConfig> = {}, opts: ClientOptions = {}) {
    server = await startHttp(handler);
    const clock = { t: 1_000_000, waits: [] as number[] };
    client = createScimClient(testConnection({ server: server.url, timeoutMs: 5000, retry: { limit: 0, maxRetryAfterMs: 120_000, backoffMs: 100 }, ...over }), {
      sleep: async (ms) => {
        clock.waits.push(ms);
        clock.t += ms;
      },
      now: () => clock.t,
      random: () => 0.5,
      ...opts,
    });
    return { client, clock, server };
  }

  it('an insert that meets five 429/503 with Retry-After in a row is sent again until created, retry.limit 0', async () => {
    let n = 0;
    const { client, clock, server } = await setup((_req, res) => {
      n++;
      if (n <= 5) sendJson(res, n % 2 ? 429 : 503, scimError(n % 2 ? 429 : 503), { 'retry-after': '2' });
      else sendJson(res, 201, USER);
    });
    const res = await client.request({ method: 'POST', path: 'Users', json: { userName: 'a@example.com' } });
    expect(res.status).to.equal(201);
    expect(res.attempts).to.equal(6);
    expect(server.requests.filter((r) => r.method === 'POST')).to.have.length(6);
    expect(clock.waits).to.deep.equal([2000, 2000, 2000, 2000, 2000]);
    expect(client.stats).to.include({ retries: 5, throttled: 5, throttledMs: 10_000, waitedMs: 10_000 });
  });

  it('a 429 without Retry-After waits a growing backoff and does not use up retry.limit either', async () => {
    let n = 0;
    const { client, clock } = await setup((_req, res) => (++n <= 3 ? sendJson(res, 429, scimError(429)) : sendJson(res, 200, USER)));
    const res = await client.request({ path: 'Users/u1' });
    expect(res.attempts).to.equal(4);
    expect(clock.waits).to.deep.equal([75, 150, 300]);
  });

  it('a 503 without Retry-After is an error retry: retry.limit applies', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 503, scimError(503)), { retry: { limit: 2, maxRetryAfterMs: 1000, backoffMs: 10 } });
    const err = await rejects(client.request({ path: 'Users/u1' }));
    expect(err).to.be.instanceOf(ScimHttpError);
    expect(err.code).to.equal('ERR_SCIM_HTTP');
    expect(err.attempts).to.equal(3);
    expect(err.message).to.include('gave up after 2 retries');
  });

  it('endless 429s end at retry.maxElapsed with ERR_TRANSPORT_RETRY_BUDGET, the status kept', async () => {
    const { client, clock, server } = await setup((_req, res) => sendJson(res, 429, scimError(429), { 'retry-after': '10' }), {
      retry: { limit: 4, maxRetryAfterMs: 60_000, backoffMs: 100, maxElapsedMs: 35_000 },
    });
    const err = await rejects(client.request({ method: 'POST', path: 'Users', json: { userName: 'a' } }));
    expect(err).to.be.instanceOf(ScimHttpError);
    expect(err.code).to.equal('ERR_TRANSPORT_RETRY_BUDGET');
    expect(err.category).to.equal('transport');
    expect(err.status).to.equal(429);
    expect(err.message).to.include('retry budget spent').and.include('retry.maxElapsed (35 s)');
    expect(clock.waits).to.deep.equal([10_000, 10_000, 10_000]);
    expect(server.requests).to.have.length(4);
  });

  it('network errors end at retry.maxElapsed too, whatever retry.limit allows', async () => {
    const { client, clock, server } = await setup((_req, res) => void res.socket?.destroy(), { retry: { limit: 100, maxRetryAfterMs: 0, backoffMs: 1000, maxElapsedMs: 10_000 } });
    const err = await rejects(client.request({ path: 'Users' }));
    expect(err.code).to.equal('ERR_TRANSPORT_RETRY_BUDGET');
    expect(err.message).to.include('retry.maxElapsed (10 s)');
    // 750 + 1500 + 3000 = 5250; the next (6000) would pass 10 s.
    expect(clock.waits).to.deep.equal([750, 1500, 3000]);
    expect(server.requests).to.have.length(4);
  });

  it('never retries an error the server calls the client\'s (scimType), whatever the status', async () => {
    const { client, server } = await setup(
      (req, res) => (req.url.startsWith('/v2/Users') ? sendJson(res, 500, scimError(500, 'invalidFilter', 'bad filter')) : sendJson(res, 503, scimError(503, 'tooMany'))),
      { retry: { limit: 4, maxRetryAfterMs: 1000, backoffMs: 1 } },
    );
    const err = await rejects(client.request({ path: 'Users', searchParams: { filter: 'userName eq' } }));
    expect(err).to.be.instanceOf(ScimHttpError);
    expect(err).to.include({ status: 500, scimType: 'invalidFilter', attempts: 1 });
    const other = await rejects(client.request({ path: 'Groups' }));
    expect(other).to.include({ status: 503, scimType: 'tooMany', attempts: 1 });
    expect(server.requests).to.have.length(2);
  });

  it('a 5xx without scimType is still retried', async () => {
    let n = 0;
    const { client } = await setup((_req, res) => (++n === 1 ? sendJson(res, 500, scimError(500)) : sendJson(res, 200, USER)), { retry: { limit: 1, maxRetryAfterMs: 0, backoffMs: 1 } });
    expect((await client.request({ path: 'Users/u1' })).attempts).to.equal(2);
  });

  describe('decideRetry', () => {
    const p = retryPolicy({ limit: 1, backoffMs: 100, maxElapsedMs: 1000 });
    it('counts throttled waits only when the caller tracks a budget', () => {
      expect(decideRetry(p, 'all', { status: 429, retryAfter: '0' }, 5, { elapsedMs: 0 })).to.include({ retry: true, throttled: true });
      expect(decideRetry(p, 'all', { status: 429, retryAfter: '0' }, 5)).to.include({ retry: false });
      expect(decideRetry(p, 'all', { status: 503, retryAfter: '1' }, 5, { elapsedMs: 0 })).to.include({ retry: true, throttled: true, delayMs: 1000 });
      expect(decideRetry(p, 'all', { status: 503 }, 1, { elapsedMs: 0 })).to.include({ retry: false });
    });
    it('refuses a wait that would pass the budget', () => {
      expect(decideRetry(p, 'all', { status: 429, retryAfter: '1' }, 0, { elapsedMs: 1 })).to.include({ retry: false, budgetSpent: true });
      expect(decideRetry(p, 'all', { status: 429, retryAfter: '1' }, 0, { elapsedMs: 0 })).to.include({ retry: true });
    });
    it('never retries a scimType error', () => {
      expect(decideRetry(p, 'all', { status: 500, scimType: 'invalidValue' }, 0, { elapsedMs: 0 }).retry).to.equal(false);
      expect(decideRetry(p, 'all', { status: 500, scimType: ' ' }, 0, { elapsedMs: 0 }).retry).to.equal(true);
    });
  });
});
