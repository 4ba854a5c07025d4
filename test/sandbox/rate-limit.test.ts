import { expect } from 'chai';
import { startSandbox } from '../../lib/sandbox/index.js';
import { RateLimiter } from '../../lib/sandbox/rate-limit.js';
import { sandboxOptionsFromArgs } from '../../lib/cli/commands/sandbox.js';
import { Client } from './helpers.js';

describe('sandbox: rate limits', () => {
  it('counts reads and writes per window, with the seconds left as Retry-After (injected clock)', () => {
    let now = 1_000_000;
    const rl = new RateLimiter({ reads: 2, writes: 1, windowMs: 60_000 }, () => now);
    expect(rl.take('GET', '/v2/Users')).to.equal(undefined);
    expect(rl.take('POST', '/v2/Users/.search')).to.equal(undefined);
    expect(rl.take('GET', '/v2/Users')).to.equal(60);
    expect(rl.take('PATCH', '/v2/Users/1')).to.equal(undefined);
    now += 45_500;
    expect(rl.take('DELETE', '/v2/Users/1')).to.equal(15);
    now += 14_500;
    expect(rl.take('GET', '/v2/Users')).to.equal(undefined);
    // A test's short window: the wait in hundredths, so that a throttled run stays quick.
    const short = new RateLimiter({ reads: 1, writes: 1, windowMs: 250 }, () => now);
    expect(short.take('POST', '/v2/Users')).to.equal(undefined);
    now += 100;
    expect(short.take('POST', '/v2/Users')).to.equal(0.15);
    // burst: 2 writes in a row, then a 429 and a 200 ms pause (reads are not counted), then 2 again.
    const burst = new RateLimiter({ reads: 10, writes: 10, windowMs: 60_000, burst: { writes: 2, pauseMs: 200 } }, () => now);
    expect(burst.take('POST', '/v2/Users')).to.equal(undefined);
    expect(burst.take('GET', '/v2/Users')).to.equal(undefined);
    expect(burst.take('PATCH', '/v2/Users/1')).to.equal(undefined);
    expect(burst.take('PATCH', '/v2/Users/1')).to.equal(0.2);
    now += 150;
    expect(burst.take('DELETE', '/v2/Users/1')).to.equal(0.05);
    now += 50;
    expect(burst.take('PATCH', '/v2/Users/1')).to.equal(undefined);
    expect(burst.take('PATCH', '/v2/Users/1')).to.equal(undefined);
    expect(burst.take('PATCH', '/v2/Users/1')).to.equal(0.2);
  });

  it('answers 429 with Retry-After over the limit', async () => {
    const sb = await startSandbox({ rateLimit: { reads: 2, writes: 1 } });
    try {
      const c = new Client(sb, null);
      expect((await c.get('/Users')).status).to.equal(200);
      expect((await c.get('/Groups')).status).to.equal(200);
      const r = await c.get('/Users');
      expect(r.status).to.equal(429);
      expect(Number(r.headers.get('retry-after'))).to.be.within(1, 60);
      expect((await c.post('/Users', { userName: 'a@example.com' })).status).to.equal(201);
      expect((await c.post('/Users', { userName: 'b@example.com' })).status).to.equal(429);
      expect(sb.requests.filter((x) => x.status === 429).every((x) => x.fault === '429')).to.equal(true);
    } finally {
      await sb.stop();
    }
  });

  it('--rate-limit reads/writes[/windowMs]; bad values are ERR_SANDBOX_OPTION', async () => {
    const base = { port: 1, host: '127.0.0.1', token: 't', dialect: 'Slack', bulk: true, patch: true, etag: true };
    expect(sandboxOptionsFromArgs({ ...base, rateLimit: '1000/600' }).rateLimit).to.deep.equal({ reads: 1000, writes: 600 });
    expect(sandboxOptionsFromArgs({ ...base, rateLimit: '5/5/1000' }).rateLimit).to.deep.equal({ reads: 5, writes: 5, windowMs: 1000 });
    expect(() => sandboxOptionsFromArgs({ ...base, rateLimit: 'fast' })).to.throw().with.property('code', 'ERR_SANDBOX_OPTION');
    let err: any;
    await startSandbox({ rateLimit: { reads: 0, writes: 1 } }).catch((e) => (err = e));
    expect(err.code).to.equal('ERR_SANDBOX_OPTION');
  });
});
