/** Replies that never end or never stop growing: the client bounds both, with coded errors. */
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import type { ConnectionConfig } from '../../lib/config/types.js';
import { connectionSpec } from '../../lib/config/spec.js';
import { DEFAULT_RETRY } from '../../lib/scim/retry.js';
import { createScimClient, DEFAULT_MAX_REPLY_BYTES, DEFAULT_REQUEST_DEADLINE_MS, type ScimClient } from '../../lib/scim/client.js';
import { startHttp, type TestServer } from '../helpers/http-server.js';
import { testConnection } from '../helpers/model.js';
import { rejects } from '../helpers/rejects.js';

async function drain(body: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += (chunk as Buffer).length;
  return n;
}

describe('scim client bounds', () => {
  let server: TestServer | undefined;
  let client: ScimClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.close();
    server = undefined;
  });

  function connect(over: Partial<ConnectionConfig>): ScimClient {
    client = createScimClient(testConnection({ server: server!.url, timeoutMs: 5000, ...over }));
    return client;
  }

  it('keeps the defaults of the spec table and the client equal', () => {
    const f = connectionSpec.fields;
    expect(f.requestDeadline).to.include({ default: DEFAULT_REQUEST_DEADLINE_MS });
    expect(f.maxReplyBytes).to.include({ default: DEFAULT_MAX_REPLY_BYTES });
    expect(DEFAULT_MAX_REPLY_BYTES).to.equal(256 * 1024 * 1024);
    const retry = f.retry as { fields: Record<string, unknown> };
    expect(retry.fields.maxElapsed).to.include({ default: DEFAULT_RETRY.maxElapsedMs });
  });

  describe('requestDeadline', () => {
    /** Headers at once, then a byte every 5 ms for ever: no idle timeout ever fires. */
    async function drip(): Promise<void> {
      server = await startHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/scim+json' });
        res.write('{"Resources":[');
        const timer = setInterval(() => res.write(' '), 5);
        res.on('close', () => clearInterval(timer));
      });
    }

    it('ends a slow drip with ERR_TRANSPORT_DEADLINE (request)', async () => {
      await drip();
      const err = await rejects(connect({ requestDeadlineMs: 150 }).request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_TRANSPORT_DEADLINE');
      expect(err.message).to.include('connection.requestDeadline (0.1 s)').and.include('/v2/Users');
      expect(err.category).to.equal('transport');
    });

    it('ends a slow drip of a streamed body with ERR_TRANSPORT_DEADLINE on the stream', async () => {
      await drip();
      const res = await connect({ requestDeadlineMs: 150 }).requestStream({ path: 'Groups/g1' });
      expect(res.status).to.equal(200);
      const err = await rejects(drain(res.body));
      expect(err.code).to.equal('ERR_TRANSPORT_DEADLINE');
    });

    it('retries a missed deadline of an idempotent request within retry.limit, then names the deadline', async () => {
      await drip();
      const err = await rejects(connect({ requestDeadlineMs: 60, retry: { limit: 1, maxRetryAfterMs: 0, backoffMs: 1 } }).request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_TRANSPORT_DEADLINE');
      expect(err.context.attempts).to.equal(2);
      expect(server!.requests).to.have.length(2);
    });
  });

  describe('maxReplyBytes', () => {
    const big = JSON.stringify({ Resources: [{ id: 'x'.repeat(2 * 1024 * 1024) }] });

    it('refuses a declared Content-Length over the limit before reading the body', async () => {
      server = await startHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(big) });
        res.end(big);
      });
      const err = await rejects(connect({ maxReplyBytes: 64 * 1024 }).request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_SCIM_REPLY_TOO_LARGE');
      expect(err.message).to.include('connection.maxReplyBytes (65536)').and.include(`declares ${Buffer.byteLength(big)} bytes`);
      expect(err.category).to.equal('server');
    });

    it('stops a chunked body at the limit (request and requestStream), and is not retried', async () => {
      server = await startHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/scim+json' });
        res.end(big);
      });
      const c = connect({ maxReplyBytes: 64 * 1024, retry: { limit: 3, maxRetryAfterMs: 0, backoffMs: 1 } });
      const err = await rejects(c.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_SCIM_REPLY_TOO_LARGE');
      expect(server.requests).to.have.length(1);
      const res = await c.requestStream({ path: 'Groups/g1' });
      const streamErr = await rejects(drain(res.body));
      expect(streamErr.code).to.equal('ERR_SCIM_REPLY_TOO_LARGE');
    });

    it('stops a gzip bomb while inflating, long before the whole of it', async () => {
      const zeros = Buffer.alloc(8 * 1024 * 1024, 0x20);
      const bomb = gzipSync(zeros);
      expect(bomb.length).to.be.below(64 * 1024);
      server = await startHttp((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/scim+json', 'content-encoding': 'gzip', 'content-length': bomb.length });
        res.end(bomb);
      });
      const limit = 256 * 1024;
      const c = connect({ maxReplyBytes: limit });
      const err = await rejects(c.request({ path: 'Users' }));
      expect(err.code).to.equal('ERR_SCIM_REPLY_TOO_LARGE');
      expect(err.context.size).to.be.above(limit).and.below(2 * limit);
      const res = await c.requestStream({ path: 'Groups/g1' });
      const streamErr = await rejects(drain(res.body));
      expect(streamErr.code).to.equal('ERR_SCIM_REPLY_TOO_LARGE');
      expect(streamErr.context.size).to.be.below(2 * limit);
    });

    it('reads replies within the limit whole: declared length, chunked, gzip, streamed', async () => {
      const body = { Resources: Array.from({ length: 2000 }, (_, i) => ({ id: `u${i}`, userName: `user${i}@example.com` })) };
      const text = JSON.stringify(body);
      server = await startHttp((req, res) => {
        const headers: Record<string, string | number> = { 'content-type': 'application/scim+json' };
        if (req.url.startsWith('/v2/Declared')) res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) }).end(text);
        else if (req.url.startsWith('/v2/Gzip')) {
          const z = gzipSync(text);
          res.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': z.length }).end(z);
        } else {
          res.writeHead(200, headers);
          // Many small writes: many chunks to join.
          for (let i = 0; i < text.length; i += 1000) res.write(text.slice(i, i + 1000));
          res.end();
        }
      });
      const c = connect({ maxReplyBytes: text.length });
      for (const path of ['Declared', 'Chunked', 'Gzip']) {
        expect((await c.request({ path })).body, path).to.deep.equal(body);
      }
      const res = await c.requestStream({ path: 'Gzip' });
      expect(await drain(res.body)).to.equal(Buffer.byteLength(text));
    });
  });
});
