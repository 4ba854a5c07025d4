import { expect } from 'chai';
import { Readable } from 'node:stream';
import { membersSource, memberLinks, type MemberStats } from '../../lib/streams/sources/members-source.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import { ScimEtlError } from '../../lib/errors.js';
import type { ScimRequest, ScimStreamResponse } from '../../lib/scim/client.js';
import type { MemberRow } from '../../lib/types.js';

interface Group {
  id: string;
  displayName?: string;
  members?: Array<{ value: string; display?: string }>;
}

type Reply = string | AsyncIterable<string> | Error;

/** A fake streaming client: `serve` returns the body text (or chunks, or an error thrown before any body). */
function fakeStreamClient(serve: (req: ScimRequest, call: number) => Reply) {
  const calls: Array<{ path: string; params: Record<string, unknown> }> = [];
  return {
    calls,
    async requestStream(req: ScimRequest): Promise<ScimStreamResponse> {
      calls.push({ path: req.path, params: { ...(req.searchParams ?? {}) } });
      const r = serve(req, calls.length);
      if (r instanceof Error) throw r;
      const body = typeof r === 'string' ? Readable.from([Buffer.from(r)]) : Readable.from(r);
      return { status: 200, headers: {}, body, attempts: 1 };
    },
  };
}

function listBody(groups: Group[], total: number): string {
  return JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: total, itemsPerPage: groups.length, Resources: groups });
}

/** A paging server over groups; `attributes`/`excludedAttributes` honoured for members. */
function groupServer(groups: Group[]) {
  return (req: ScimRequest): Reply => {
    const p = req.searchParams ?? {};
    const one = /^Groups\/(.+)$/.exec(req.path);
    if (one) {
      const g = groups.find((x) => x.id === decodeURIComponent(one[1]!));
      return JSON.stringify({ members: g?.members ?? [], id: g?.id, schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'] });
    }
    const start = Number(p.startIndex ?? 1);
    const slice = groups.slice(start - 1, start - 1 + Number(p.count ?? 100)).map((g) => (p.excludedAttributes ? { id: g.id, displayName: g.displayName } : g));
    return listBody(slice, groups.length);
  };
}

async function collect(src: AsyncIterable<MemberRow> | Readable): Promise<MemberRow[]> {
  const out: MemberRow[] = [];
  for await (const r of src) out.push(r as MemberRow);
  return out;
}

const sampleGroups: Group[] = [
  { id: 'g1', displayName: 'One', members: [{ value: 'u1' }, { value: 'u2', display: 'x' }] },
  { id: 'g2', displayName: 'Empty', members: [] },
  { id: 'g3', displayName: 'No members attr' },
  { id: 'g4', displayName: 'Four', members: [{ value: 'u3' }] },
];
const sampleLinks = [
  { value: 'g1', MemberId: 'u1' },
  { value: 'g1', MemberId: 'u2' },
  { value: 'g4', MemberId: 'u3' },
];

describe('membersSource', () => {
  it('streams value,MemberId links out of list pages (inline)', async () => {
    const client = fakeStreamClient(groupServer(sampleGroups));
    const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
    expect(await collect(membersSource(client, { endpoint: 'Groups', pageSize: 3, stats, filter: 'displayName sw "O"' }))).to.deep.equal(sampleLinks);
    expect(client.calls.map((c) => c.params)).to.deep.equal([
      { startIndex: 1, count: 3, attributes: 'id,members', filter: 'displayName sw "O"' },
      { startIndex: 4, count: 3, attributes: 'id,members', filter: 'displayName sw "O"' },
    ]);
    expect(stats).to.deep.include({ pages: 2, owners: 4, rows: 3, duplicates: 0, retries: 0, total: 4 });
  });

  it('lists ids then fetches each owner separately (separate mode)', async () => {
    const client = fakeStreamClient(groupServer(sampleGroups));
    expect(await collect(membersSource(client, { endpoint: 'Groups', pageSize: 10, mode: 'separate' }))).to.deep.equal(sampleLinks);
    expect(client.calls[0]).to.deep.equal({ path: 'Groups', params: { startIndex: 1, count: 10, excludedAttributes: 'members' } });
    expect(client.calls.slice(1).map((c) => [c.path, c.params.attributes])).to.deep.equal([
      ['Groups/g1', 'members'],
      ['Groups/g2', 'members'],
      ['Groups/g3', 'members'],
      ['Groups/g4', 'members'],
      // totalResults equal to one page's owners: one more page makes sure the server counts the listing, not the page.
      ['Groups', undefined],
    ]);
  });

  it('skips an owner deleted between the listing and its own fetch (404)', async () => {
    const serve = groupServer(sampleGroups);
    const client = fakeStreamClient((req) => (req.path === 'Groups/g1' ? new ScimHttpError({ method: 'GET', path: req.path }, 404, {}, 1) : serve(req)));
    expect(await collect(membersSource(client, { endpoint: 'Groups', mode: 'separate' }))).to.deep.equal([{ value: 'g4', MemberId: 'u3' }]);
  });

  it('switches to separate fetching when a big list page fails with a server error (auto)', async () => {
    let failed = 0;
    const serve = groupServer(sampleGroups);
    const client = fakeStreamClient((req) => {
      if (req.path === 'Groups' && String(req.searchParams?.attributes ?? '').includes('members')) {
        failed++;
        return new ScimHttpError({ method: 'GET', path: 'Groups' }, 504, {}, 3);
      }
      return serve(req);
    });
    expect(await collect(membersSource(client, { endpoint: 'Groups' }))).to.deep.equal(sampleLinks);
    expect(failed).to.equal(1);
  });

  it('switches to separate fetching when a page of big groups cannot be read within the request deadline (auto)', async () => {
    const serve = groupServer(sampleGroups);
    let failed = 0;
    const client = fakeStreamClient((req) => {
      if (req.path === 'Groups' && String(req.searchParams?.attributes ?? '').includes('members')) {
        failed++;
        return new ScimEtlError('ERR_TRANSPORT_DEADLINE', 'GET /Groups: the reply did not complete within connection.requestDeadline (10 min)', { method: 'GET' }, { category: 'transport' });
      }
      return serve(req);
    });
    expect(await collect(membersSource(client, { endpoint: 'Groups' }))).to.deep.equal(sampleLinks);
    expect(failed).to.equal(1);
  });

  it('fetches separately an owner whose id comes after a members array too long to hold', async () => {
    const body = JSON.stringify({ totalResults: 2, Resources: [{ members: [{ value: 'a' }, { value: 'b' }, { value: 'c' }], id: 'late' }, { members: [{ value: 'd' }], id: 'small' }] });
    const client = fakeStreamClient((req) =>
      req.path !== 'Groups' ? JSON.stringify({ id: 'late', members: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }) : req.searchParams?.startIndex === 1 ? body : listBody([], 2),
    );
    const got = await collect(membersSource(client, { endpoint: 'Groups', maxBufferedLinks: 2 }));
    expect(got).to.deep.equal([
      { value: 'small', MemberId: 'd' },
      { value: 'late', MemberId: 'a' },
      { value: 'late', MemberId: 'b' },
      { value: 'late', MemberId: 'c' },
    ]);
    expect(client.calls.map((c) => c.path)).to.deep.equal(['Groups', 'Groups/late', 'Groups']);
  });

  it('asks a reply cut mid-body again without writing any link twice', async () => {
    const groups: Group[] = [
      { id: 'g1', members: Array.from({ length: 50 }, (_, i) => ({ value: `a${i}` })) },
      { id: 'g2', members: Array.from({ length: 50 }, (_, i) => ({ value: `b${i}` })) },
    ];
    const full = listBody(groups, 2);
    const cutAt = full.indexOf('"b20"');
    const client = fakeStreamClient((req, call) => {
      if (req.searchParams?.startIndex !== 1) return listBody([], 2);
      if (call > 1) return full;
      return (async function* () {
        yield full.slice(0, cutAt);
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      })();
    });
    const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
    const got = await collect(membersSource(client, { endpoint: 'Groups', retryDelayMs: 0, stats }));
    expect(got.length).to.equal(100);
    expect(new Set(got.map((r) => `${r.value}/${r.MemberId}`)).size).to.equal(100);
    expect(got[50]).to.deep.equal({ value: 'g2', MemberId: 'b0' });
    expect(stats.retries).to.equal(1);
  });

  it('surfaces a programming error in the body stream at once instead of asking again', async () => {
    const full = listBody(sampleGroups, 4);
    const client = fakeStreamClient(() =>
      (async function* () {
        yield full.slice(0, 60);
        throw new TypeError('x is not a function');
      })(),
    );
    let err: any;
    try {
      await collect(membersSource(client, { endpoint: 'Groups', retryDelayMs: 0 }));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(TypeError);
    expect(client.calls.length).to.equal(1);
  });

  it('fails at once on a 2xx reply that is not JSON from its first byte (not a cut to ask again)', async () => {
    const client = fakeStreamClient(() => 'Service Unavailable');
    let err: any;
    try {
      await collect(membersSource(client, { endpoint: 'Groups', retryDelayMs: 0 }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_BAD_LIST');
    expect(err.message).to.match(/^GET Groups \(startIndex 1\): the reply is not JSON/);
    expect(client.calls.length).to.equal(1);
  });

  it('asks again a reply whose JSON is truncated, and gives up after the retries', async () => {
    const full = listBody(sampleGroups, 4);
    let calls = 0;
    const client = fakeStreamClient(() => {
      calls++;
      return full.slice(0, 40);
    });
    let err: any;
    try {
      await collect(membersSource(client, { endpoint: 'Groups', retries: 2, retryDelayMs: 0 }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_CUT_REPLY');
    expect(err.message).to.match(/^GET Groups \(startIndex 1\): the reply broke off 3 time\(s\)/);
    expect(calls).to.equal(3);
  });

  it('asks again a reply whose JSON breaks mid-body (a missing comma), and reads it the next time', async () => {
    const full = listBody(sampleGroups, 4);
    const broken = full.replace('},{"id":"g2"', '} {"id":"g2"');
    expect(broken).to.not.equal(full);
    const client = fakeStreamClient((req, call) => (req.searchParams?.startIndex !== 1 ? listBody([], 4) : call === 1 ? broken : full));
    const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
    expect(await collect(membersSource(client, { endpoint: 'Groups', retryDelayMs: 0, stats }))).to.deep.equal(sampleLinks);
    expect(stats.retries).to.equal(1);
  });

  it('asks again a reply whose body closes before its end without an error', async () => {
    const full = listBody(sampleGroups, 4);
    let calls = 0;
    const client = {
      async requestStream(req: ScimRequest): Promise<ScimStreamResponse> {
        calls++;
        if (req.searchParams?.startIndex !== 1) return { status: 200, headers: {}, body: Readable.from([Buffer.from(listBody([], 4))]), attempts: 1 };
        const body = new Readable({ read() {} });
        if (calls === 1) {
          body.push(full.slice(0, 70));
          setImmediate(() => body.destroy());
        } else body.push(full), body.push(null);
        return { status: 200, headers: {}, body, attempts: 1 };
      },
    };
    expect(await collect(membersSource(client, { endpoint: 'Groups', retryDelayMs: 0 }))).to.deep.equal(sampleLinks);
    expect(calls).to.equal(3);
  });

  it('lists owners again from the start by keyset (id pr, then id gt) when the server refuses a deep startIndex', async () => {
    // Salesforce-like: unfiltered lists in another order (reversed), id-filtered ones in id order.
    const groups: Group[] = Array.from({ length: 7 }, (_, i) => ({ id: `g${i}`, members: [{ value: `u${i}` }] }));
    const listOrder = [...groups].reverse();
    const client = fakeStreamClient((req) => {
      const p = req.searchParams ?? {};
      const filter = String(p.filter ?? '');
      if (!/\bid (pr|gt)\b/.test(filter)) {
        if (Number(p.startIndex) > 3) return new ScimHttpError({ method: 'GET', path: 'Groups' }, 400, { scimType: 'invalidValue', detail: 'Start index too big. Please filter with id gt' }, 1);
        return listBody(listOrder.slice(Number(p.startIndex) - 1, Number(p.startIndex) - 1 + Number(p.count)), groups.length);
      }
      const after = /id gt "([^"]+)"/.exec(filter)?.[1];
      const rest = groups.filter((g) => after === undefined || g.id > after);
      return listBody(rest.slice(0, Number(p.count)), rest.length);
    });
    const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
    const got = await collect(memberLinks(client, { endpoint: 'Groups', pageSize: 3, filter: 'displayName pr', stats }));
    expect(got.map((l) => l.value)).to.deep.equal(['g6', 'g5', 'g4', 'g0', 'g1', 'g2', 'g3']);
    expect(client.calls.map((c) => c.params.filter)).to.deep.equal([
      'displayName pr',
      'displayName pr',
      '(displayName pr) and id pr',
      '(displayName pr) and id gt "g2"',
      '(displayName pr) and id gt "g5"',
      '(displayName pr) and id gt "g6"',
    ]);
    expect(stats).to.deep.include({ owners: 7, rows: 7, duplicates: 0 });
  });

  it('drops an owner listed twice and detects a repeated page', async () => {
    const dup = fakeStreamClient((req) => {
      const s = Number(req.searchParams?.startIndex);
      return s === 1 ? listBody(sampleGroups.slice(0, 2), 3) : listBody([sampleGroups[1]!, sampleGroups[3]!].slice(s - 3), 3);
    });
    const stats: MemberStats = { pages: 0, owners: 0, rows: 0, duplicates: 0, retries: 0 };
    const got = await collect(membersSource(dup, { endpoint: 'Groups', pageSize: 2, stats }));
    expect(got).to.deep.equal(sampleLinks);
    expect(stats.duplicates).to.equal(1);

    const same = fakeStreamClient(() => listBody(sampleGroups.slice(0, 2), 10));
    let err: any;
    try {
      await collect(memberLinks(same, { endpoint: 'Groups', pageSize: 2 }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_REPEATED_PAGE');
  });

  it('streams 50,000 members of one group with backpressure (the 1M-member group is a bench scenario)', async function () {
    this.timeout(60_000);
    const n = 50_000;
    let produced = 0;
    async function* bigGroup() {
      yield '{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"Resources":[{"id":"big","displayName":"Big","members":[';
      const chunk: string[] = [];
      for (let i = 0; i < n; i++) {
        chunk.push(`${i ? ',' : ''}{"value":"user-${i}","display":"User ${i}","$ref":"https://x/v2/Users/user-${i}"}`);
        if (chunk.length === 1000) {
          produced += 1000;
          yield chunk.splice(0).join('');
        }
      }
      yield chunk.join('') + ']}]}';
    }
    const client = fakeStreamClient((req) => (req.searchParams?.startIndex === 1 ? bigGroup() : listBody([], 1)));
    let count = 0;
    let last: MemberRow | undefined;
    let maxAhead = 0;
    for await (const row of membersSource(client, { endpoint: 'Groups' })) {
      count++;
      last = row as MemberRow;
      maxAhead = Math.max(maxAhead, produced - count);
    }
    expect(count).to.equal(n);
    expect(last).to.deep.equal({ value: 'big', MemberId: `user-${n - 1}` });
    // Backpressure: the server side is never more than a few 1,000-member chunks ahead of the reader
    // (peak RSS of the 1M-member group is measured by `npm run bench`).
    expect(maxAhead).to.be.below(20_000);
  });

  it('takes the end probe answered with the same page for a server that ignores startIndex: the one-page table is complete', async () => {
    const client = fakeStreamClient(() => listBody(sampleGroups, 4));
    expect(await collect(membersSource(client, { endpoint: 'Groups' }))).to.deep.equal(sampleLinks);
    expect(client.calls.map((c) => c.params.startIndex)).to.deep.equal([1, 5]);
  });

  it('rejects bad options with ERR_OPTION_MEMBERS_SOURCE', () => {
    const client = fakeStreamClient(() => '{}');
    expect(() => membersSource(client, { endpoint: 'Groups', attribute: 'a b' })).to.throw().with.property('code', 'ERR_OPTION_MEMBERS_SOURCE');
    expect(() => membersSource(client, { endpoint: 'Groups', mode: 'x' as never })).to.throw(/got "x"/);
  });
});
