/** The adaptive concurrency limit, alone and in front of a server that allows two requests at once. */
import { expect } from 'chai';
import { AdaptiveLimit, type LimitStats } from '../../lib/scim/adaptive-limit.js';
import { createScimClient, type ScimClient } from '../../lib/scim/client.js';
import { sendJson, startHttp, type TestServer } from '../helpers/http-server.js';
import { testConnection } from '../helpers/model.js';

function limit(max: number): { l: AdaptiveLimit; stats: LimitStats } {
  const stats = { lowestLimit: 0, mostInFlight: 0 };
  return { l: new AdaptiveLimit(max, stats), stats };
}

describe('adaptive limit', () => {
  it('lets max slots through, queues the rest first come first served', async () => {
    const { l, stats } = limit(2);
    const a = await l.acquire();
    await l.acquire();
    const order: number[] = [];
    const third = l.acquire().then((s) => (order.push(3), s));
    const fourth = l.acquire().then((s) => (order.push(4), s));
    await Promise.resolve();
    expect(order).to.deep.equal([]);
    a.release();
    a.release(); // twice is once
    (await third).release();
    await fourth;
    expect(order).to.deep.equal([3, 4]);
    expect(l.active).to.equal(2);
    expect(stats.mostInFlight).to.equal(2);
  });

  it('halves once per burst of 429s, never below 1, and grows back by one per window of successes up to max', async () => {
    const { l, stats } = limit(8);
    const burst = await Promise.all(Array.from({ length: 8 }, () => l.acquire()));
    for (const s of burst) {
      s.release();
      l.throttled(s);
    }
    expect(l.limit).to.equal(4);
    for (let i = 0; i < 5; i++) {
      const s = await l.acquire();
      s.release();
      l.throttled(s);
    }
    expect(l.limit).to.equal(1);
    expect(stats.lowestLimit).to.equal(1);
    const grow: number[] = [];
    for (let i = 0; i < 40; i++) {
      l.succeeded();
      grow.push(l.limit);
    }
    // 1 success → 2, 2 more → 3, 3 more → 4, …, never above 8.
    expect(grow.slice(0, 6)).to.deep.equal([2, 2, 3, 3, 3, 4]);
    expect(l.limit).to.equal(8);
    expect(Math.max(...grow)).to.equal(8);
  });

  it('a waiter gives up when its signal aborts, and the queue goes on', async () => {
    const { l } = limit(1);
    const held = await l.acquire();
    const ac = new AbortController();
    const gone = l.acquire(ac.signal);
    const next = l.acquire();
    ac.abort(new Error('stop'));
    let err: unknown;
    await gone.catch((e) => (err = e));
    expect((err as Error).message).to.equal('stop');
    held.release();
    (await next).release();
    expect(l.active).to.equal(0);
  });

  describe('in the client', () => {
    let server: TestServer | undefined;
    let client: ScimClient | undefined;
    afterEach(async () => {
      client?.close();
      await server?.close();
    });

    it('uses a server that allows 2 requests at once at its limit instead of storming it', async () => {
      let inFlight = 0;
      let rejected = 0;
      server = await startHttp(async (req, res) => {
        if (inFlight >= 2) {
          rejected++;
          return sendJson(res, 429, { status: '429', detail: 'slow down' }, { 'retry-after': '0' });
        }
        inFlight++;
        // Held long enough that the client's burst overlaps here even on a loaded machine.
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        sendJson(res, 200, { id: req.url });
      });
      // A tiny real wait between retries so that the first burst's replies are all in.
      client = createScimClient(testConnection({ server: server.url, timeoutMs: 5000, retry: { limit: 0, maxRetryAfterMs: 1000, backoffMs: 1 } }), {
        maxConcurrency: 8,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms + 1)),
      });
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => client!.request<{ id: string }>({ path: `Users/u${i}` })));
      expect(results.map((r) => r.body.id)).to.deep.equal(Array.from({ length: 60 }, (_, i) => `/v2/Users/u${i}`));
      expect(client.stats.lowestLimit).to.be.at.most(2);
      expect(client.stats.mostInFlight).to.equal(8);
      // Fewer 429s than requests (AIMD probes now and then); at a fixed 8 in flight, about three of four attempts meet one.
      expect(rejected).to.be.below(60);
      expect(client.stats.throttled).to.equal(rejected);
    });
  });
});
