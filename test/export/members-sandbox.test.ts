/** The membership source against the sandbox over real sockets: cut replies, mode switches, listeners. */
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import nock from 'nock';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createScimClient, type ScimClient } from '../../lib/scim/client.js';
import { memberLinks, type MembersSourceOptions, type MemberStats } from '../../lib/streams/sources/members-source.js';
import { connection } from '../secrets/helpers.js';

const TOKEN = 'members-sandbox-token';

describe('memberLinks against the sandbox', function () {
  this.timeout(30_000);
  let sb: Sandbox | undefined;
  let client: ScimClient | undefined;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  before(() => nock.enableNetConnect('127.0.0.1'));
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(async () => {
    process.off('warning', onWarning);
    client?.close();
    await sb?.stop();
    sb = undefined;
    client = undefined;
  });

  async function start(generate: { users: number; groups: number; members: number }): Promise<void> {
    sb = await startSandbox({ token: TOKEN, generate });
    client = createScimClient(connection({ server: sb.url, oAuthToken: TOKEN, timeoutMs: 0, retry: { limit: 1, maxRetryAfterMs: 1000, backoffMs: 1 } }));
  }
  function expectedLinks(): string[] {
    const out: string[] = [];
    for (const g of sb!.store.groups) for (const m of sb!.store.memberIds(g.id as string)) out.push(`${g.id},${m}`);
    return out.sort();
  }
  async function links(opts: Partial<MembersSourceOptions>): Promise<string[]> {
    const out: string[] = [];
    for await (const r of memberLinks(client!, { endpoint: 'Groups', retryDelayMs: 1, ...opts })) out.push(`${r.value},${r.MemberId}`);
    return out;
  }

  it('writes no link twice when a page is cut mid-body and then fails with 5xx (switch to separate fetching)', async () => {
    await start({ users: 300, groups: 12, members: 250 });
    // The first reply breaks off after some links of a group; every repeat is a 500 until the client gives up.
    sb!.setFaults([
      { kind: 'reset', route: 'GET /v2/Groups', times: 1 },
      { kind: '500', route: 'GET /v2/Groups', after: 1, times: 2 },
    ]);
    const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
    const got = await links({ pageSize: 12, stats });
    expect(sb!.requests.some((r) => /excludedAttributes=members/.test(r.query))).to.equal(true);
    expect(got.length).to.equal(new Set(got).size);
    expect([...got].sort()).to.deep.equal(expectedLinks());
    expect(stats.rows).to.equal(got.length);
  });

  for (const mode of ['separate', 'inline'] as const) {
    it(`leaves no abort listener on the signal after reading many groups (${mode})`, async () => {
      await start({ users: 50, groups: 60, members: 5 });
      const ac = new AbortController();
      const got = await links({ mode, signal: ac.signal, pageSize: 5 });
      expect([...got].sort()).to.deep.equal(expectedLinks());
      expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).to.deep.equal([]);
    });
  }
});
