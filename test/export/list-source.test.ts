import { expect } from 'chai';
import { Readable } from 'node:stream';
import { scimListSource, listResources, type ListStats } from '../../lib/streams/sources/scim-list-source.js';
import type { ScimRequest, ScimResponse } from '../../lib/scim/client.js';
import type { ScimResource } from '../../lib/types.js';
import { ScimEtlError } from '../../lib/errors.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import { Logger } from '../../lib/log.js';

type Params = Record<string, string | number | undefined>;

/** A fake client over an in-memory list; `serve` decides the page a request gets. */
function fakeClient(serve: (params: Params, call: number) => object | Promise<object>) {
  const calls: Params[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    async request<T>(req: ScimRequest): Promise<ScimResponse<T>> {
      calls.push({ ...(req.searchParams ?? {}) });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setImmediate(r));
        const body = await serve(req.searchParams ?? {}, calls.length);
        return { status: 200, headers: {}, body: body as T, attempts: 1 };
      } finally {
        inFlight--;
      }
    },
  };
}

const users = (n: number): ScimResource[] => Array.from({ length: n }, (_, i) => ({ id: `u${i + 1}`, userName: `user${i + 1}` }));

/** An honest server, with options to misbehave. */
function listServer(data: ScimResource[], opts: { cap?: number; ignoreCount?: number; omitEmpty?: boolean; itemsPerPage?: number } = {}) {
  return (p: Params) => {
    const start = Math.max(1, Number(p.startIndex ?? 1));
    let count = p.count === undefined ? 100 : Number(p.count);
    if (opts.cap) count = Math.min(count, opts.cap);
    if (opts.ignoreCount) count = opts.ignoreCount;
    const slice = data.slice(start - 1, start - 1 + count);
    const body: Record<string, unknown> = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: data.length,
      itemsPerPage: opts.itemsPerPage ?? slice.length,
      startIndex: start,
    };
    if (slice.length > 0 || !opts.omitEmpty) body.Resources = slice;
    return body;
  };
}

/** A logger that keeps its lines (warnings included). */
function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = { write: (line: string) => lines.push(line) > 0 } as unknown as NodeJS.WritableStream;
  return { logger: new Logger({ stream }), lines };
}

async function collect(r: Readable | AsyncIterable<unknown>): Promise<ScimResource[]> {
  const out: ScimResource[] = [];
  for await (const x of r) out.push(x as ScimResource);
  return out;
}

describe('scimListSource', () => {
  it('pages by startIndex/count and sends only the needed attributes and the filter', async () => {
    const client = fakeClient(listServer(users(45)));
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    const got = await collect(
      scimListSource(client, { endpoint: 'Users', pageSize: 20, attributes: ['userName', 'name', 'ID'], filter: 'active eq "true"', stats }),
    );
    expect(got.map((r) => r.id)).to.deep.equal(users(45).map((u) => u.id));
    expect(client.calls.map((c) => c.startIndex)).to.deep.equal([1, 21, 41]);
    expect(client.calls[0]).to.deep.include({ count: 20, attributes: 'id,userName,name', filter: 'active eq "true"' });
    expect(stats).to.deep.equal({ pages: 3, resources: 45, duplicates: 0, total: 45, expected: 45 });
  });

  it('advances by what the server returned when it caps count, and ignores a wrong itemsPerPage', async () => {
    const client = fakeClient(listServer(users(35), { cap: 10, itemsPerPage: 200 }));
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 200 }));
    expect(got.map((r) => r.id)).to.deep.equal(users(35).map((u) => u.id));
    expect(client.calls.map((c) => c.startIndex)).to.deep.equal([1, 11, 21, 31]);
  });

  it('survives a server that ignores count (returns everything, or its own page size)', async () => {
    const all = fakeClient(listServer(users(30), { ignoreCount: 1000 }));
    expect((await collect(scimListSource(all, { endpoint: 'Users', pageSize: 5 }))).length).to.equal(30);
    // One page holding all of totalResults: one more request makes sure the server did not count only the page.
    expect(all.calls.map((c) => c.startIndex)).to.deep.equal([1, 31]);
    const tens = fakeClient(listServer(users(25), { ignoreCount: 10 }));
    expect((await collect(scimListSource(tens, { endpoint: 'Users', pageSize: 200, concurrency: 4 }))).map((r) => r.id)).to.deep.equal(
      users(25).map((u) => u.id),
    );
  });

  it('reads an empty listing without Resources', async () => {
    const client = fakeClient(listServer([], { omitEmpty: true }));
    expect(await collect(scimListSource(client, { endpoint: 'Groups' }))).to.deep.equal([]);
    expect(client.calls.length).to.equal(1);
  });

  it('stops at an empty page even when totalResults promised more, and fails the table unless countMismatch is warn', async () => {
    const data = users(30);
    const serve = (p: Params) => ({ totalResults: 100, Resources: Number(p.startIndex) > 30 ? [] : data.slice(Number(p.startIndex) - 1, Number(p.startIndex) + 9) });
    let err: any;
    try {
      await collect(scimListSource(fakeClient(serve), { endpoint: 'Users', pageSize: 10 }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_COUNT_MISMATCH');
    expect(err.message).to.match(/only 30 distinct resources arrived but the server said totalResults 100/);
    const { logger, lines: warnings } = captureLogger();
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    expect((await collect(scimListSource(fakeClient(serve), { endpoint: 'Users', pageSize: 10, countMismatch: 'warn', logger, stats }))).length).to.equal(30);
    expect(warnings.join('\n')).to.match(/only 30 .* totalResults 100; writing the table anyway/);
    expect(stats).to.include({ resources: 30, expected: 100 });
  });

  it('sizes its id set from totalResults but does not trust a huge one for more than 32 MiB', async () => {
    const data = users(30);
    const before = process.memoryUsage().arrayBuffers;
    let grown = 0;
    const serve = (p: Params) => {
      grown = Math.max(grown, process.memoryUsage().arrayBuffers - before);
      return { totalResults: 2_000_000_000, Resources: Number(p.startIndex) > 30 ? [] : data.slice(Number(p.startIndex) - 1, Number(p.startIndex) + 9) };
    };
    const { logger } = captureLogger();
    const rows = await collect(scimListSource(fakeClient(serve), { endpoint: 'Users', pageSize: 10, countMismatch: 'warn', logger, maxPages: 1_000_000_000 }));
    expect(rows.length).to.equal(30);
    // 2^22 slots of 8 bytes; unbounded, 2e9 ids would have asked for 2^30 slots (8 GiB).
    expect(grown).to.be.at.least(32 * 2 ** 20).and.below(40 * 2 ** 20);
  });

  it('pages until an empty page when totalResults is missing', async () => {
    const data = users(12);
    const client = fakeClient((p) => ({ Resources: data.slice(Number(p.startIndex) - 1, Number(p.startIndex) + 4) }));
    expect((await collect(scimListSource(client, { endpoint: 'Users', pageSize: 5, concurrency: 4 }))).length).to.equal(12);
    expect(client.calls.map((c) => c.startIndex)).to.deep.equal([1, 6, 11, 13]);
  });

  it('drops duplicates when items shift between pages, and counts them', async () => {
    const data = users(30);
    // After page 1 an item is inserted in front: everything moves one place on, the last item of page 1 comes again.
    const client = fakeClient((p) => {
      const s = Number(p.startIndex);
      const from = s === 1 ? 0 : s - 2;
      return { totalResults: s === 1 ? 30 : 31, Resources: data.slice(from, from + Number(p.count)) };
    });
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10, stats }));
    expect(got.map((r) => r.id)).to.deep.equal(data.map((u) => u.id));
    expect(stats.duplicates).to.equal(1);
  });

  it('stops with ERR_EXPORT_REPEATED_PAGE when the server repeats a page', async () => {
    const data = users(50);
    const client = fakeClient((p) => ({ totalResults: 50, Resources: data.slice(0, Number(p.count)) }));
    let err: any;
    try {
      await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10 }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_REPEATED_PAGE');
    expect(err.message).to.match(/same page twice/);
  });

  it('takes the end probe answered with the same page for a server that ignores startIndex: the one-page table is complete', async () => {
    const data = users(3);
    const client = fakeClient(() => ({ totalResults: 3, Resources: data }));
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    expect((await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10, stats }))).map((r) => r.id)).to.deep.equal(['u1', 'u2', 'u3']);
    expect(client.calls.map((c) => c.startIndex)).to.deep.equal([1, 4]);
    expect(stats).to.include({ resources: 3, duplicates: 0, expected: 3 });
  });

  it('fetches pages concurrently once totalResults is known, keeping the order', async () => {
    // Enough pages for the ramp to measure past its warm-up (8 pages) and widen: a latency-bound server.
    const data = users(400);
    const serve = listServer(data);
    // Every other page answers later than the one after it: order must still hold.
    const client = fakeClient(async (p) => {
      await new Promise((r) => setTimeout(r, ((Number(p.startIndex) - 1) / 10) % 2 === 0 ? 14 : 8));
      return serve(p);
    });
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10, concurrency: 4 }));
    expect(got.map((r) => r.id)).to.deep.equal(data.map((u) => u.id));
    expect(client.maxInFlight).to.be.at.least(2).and.at.most(4);
  });

  it('fills the gap when one concurrent page comes back short', async () => {
    const data = users(40);
    const serve = listServer(data);
    const client = fakeClient((p) => {
      const body = serve(p) as { Resources: ScimResource[] };
      if (Number(p.startIndex) === 11) body.Resources = body.Resources.slice(0, 4); // capped once
      return body;
    });
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10, concurrency: 3 }));
    expect(got.map((r) => r.id)).to.deep.equal(data.map((u) => u.id));
    expect(client.calls.map((c) => c.startIndex)).to.include(15);
  });

  it('does not fetch ahead of a slow reader by more than the concurrency', async () => {
    const client = fakeClient(listServer(users(1000)));
    const it = listResources(client, { endpoint: 'Users', pageSize: 10, concurrency: 3 });
    for (let i = 0; i < 25; i++) await it.next();
    await new Promise((r) => setTimeout(r, 20));
    // 3 pages read (first + 2) and at most 3 more planned.
    expect(client.calls.length).to.be.at.most(6);
    await it.return(undefined);
  });

  it('pages with RFC 9865 cursors', async () => {
    const data = users(7);
    const client = fakeClient((p) => {
      const at = p.cursor === '' ? 0 : Number(String(p.cursor).slice(1));
      const slice = data.slice(at, at + Number(p.count));
      return { Resources: slice, ...(at + slice.length < data.length ? { nextCursor: `c${at + slice.length}` } : {}) };
    });
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 3, paging: 'cursor' }));
    expect(got.map((r) => r.id)).to.deep.equal(data.map((u) => u.id));
    expect(client.calls.map((c) => c.cursor)).to.deep.equal(['', 'c3', 'c6']);
  });

  it('pages by keyset (id gt "<last>") combined with the entity filter', async () => {
    const data = users(9).map((u, i) => ({ ...u, id: `00${i}` }));
    const client = fakeClient((p) => {
      const m = /id gt "([^"]+)"/.exec(String(p.filter ?? ''));
      const rest = m ? data.filter((u) => u.id > m[1]!) : data;
      return { totalResults: rest.length, Resources: rest.slice(0, Number(p.count)) };
    });
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 4, paging: 'keyset', filter: 'active eq true or x pr' }));
    expect(got.map((r) => r.id)).to.deep.equal(data.map((u) => u.id));
    expect(client.calls.map((c) => c.filter)).to.deep.equal([
      // id-ordered from the first page: some servers (Salesforce) order only filtered lists by id
      '(active eq true or x pr) and id pr',
      '(active eq true or x pr) and id gt "003"',
      '(active eq true or x pr) and id gt "007"',
      '(active eq true or x pr) and id gt "008"',
    ]);
  });

  it('rejects bad options with ERR_OPTION_LIST_SOURCE', () => {
    const client = fakeClient(listServer([]));
    for (const bad of [{ endpoint: '' }, { endpoint: 'Users', pageSize: 0 }, { endpoint: 'Users', concurrency: 1.5 }, { endpoint: 'Users', paging: 'x' as never }]) {
      expect(() => scimListSource(client, bad)).to.throw().with.property('code', 'ERR_OPTION_LIST_SOURCE');
    }
  });

  it('rejects a reply that is not a list response', async () => {
    const client = fakeClient(() => ({ totalResults: 1, Resources: 'nope' }));
    let err: any;
    try {
      await collect(scimListSource(client, { endpoint: 'Users' }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_BAD_LIST');
  });
});

describe('scimListSource: broken page bodies', () => {
  it('asks again a page whose JSON is truncated (ERR_SCIM_BAD_JSON) or whose body broke off, without duplicate rows', async () => {
    const data = users(25);
    const serve = listServer(data);
    const client = fakeClient((p, call) => {
      if (call === 2) throw new ScimEtlError('ERR_SCIM_BAD_JSON', 'not valid JSON');
      if (call === 3) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      return serve(p);
    });
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10, stats }));
    expect(got.map((r) => r.id)).to.deep.equal(data.map((u) => u.id));
    expect(stats.retries).to.equal(2);
  });

  it('surfaces a programming error (TypeError) at once instead of taking it for a cut body', async () => {
    const client = fakeClient(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    let err: any;
    try {
      await collect(scimListSource(client, { endpoint: 'Users' }));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(TypeError);
    expect(client.calls.length).to.equal(1);
  });

  it('checks keyset counts as rows before the page plus its totalResults (what is left)', async () => {
    const data = users(9).map((u, i) => ({ ...u, id: `00${i}` }));
    // Honest keyset totals pass; a server that drops one row from the middle of its id order is caught.
    const serve = (skip?: string) => (p: Params) => {
      const m = /id gt "([^"]+)"/.exec(String(p.filter ?? ''));
      const rest = (m ? data.filter((u) => u.id > m[1]!) : data).filter((u) => u.id !== skip);
      return { totalResults: rest.length + (skip && (!m || m[1]! < skip) ? 1 : 0), Resources: rest.slice(0, Number(p.count)) };
    };
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    expect((await collect(scimListSource(fakeClient(serve()), { endpoint: 'Users', pageSize: 4, paging: 'keyset', stats }))).length).to.equal(9);
    expect(stats.expected).to.equal(9);
    let err: any;
    try {
      await collect(scimListSource(fakeClient(serve('004')), { endpoint: 'Users', pageSize: 4, paging: 'keyset' }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_EXPORT_COUNT_MISMATCH');
    expect(err.message).to.match(/only 8 distinct resources arrived but the server said totalResults 9/);
  });

  it('does not ask again after an HTTP error the client already retried', async () => {
    const client = fakeClient(() => {
      throw new ScimHttpError({ method: 'GET', path: 'Users' }, 500, {}, 3);
    });
    let err: any;
    try {
      await collect(scimListSource(client, { endpoint: 'Users' }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_SCIM_HTTP');
    expect(client.calls.length).to.equal(1);
  });
});

describe('scimListSource: deep paging refused (Salesforce)', () => {
  it('reads again from the start by keyset (id pr, then id gt) when the server refuses a deep startIndex', async () => {
    const data = users(25).map((u, i) => ({ ...u, id: `005${String(i).padStart(3, '0')}` }));
    // As Salesforce: unfiltered-by-id lists come in another order (here reversed), keyset ones in id order.
    const listOrder = [...data].reverse();
    const client = fakeClient((p) => {
      const filter = String(p.filter ?? '');
      const m = /id gt "([^"]+)"/.exec(filter);
      if (!/\bid (pr|gt)\b/.test(filter) && Number(p.startIndex) > 11) {
        throw new ScimHttpError({ method: 'GET', path: 'Users' }, 400, { detail: 'Start index too big. Please filter with id gt to get more records.' }, 1);
      }
      const rest = /\bid (pr|gt)\b/.test(filter) ? data.filter((u) => !m || u.id > m[1]!) : listOrder.slice(Number(p.startIndex) - 1);
      return { totalResults: data.length, Resources: rest.slice(0, Number(p.count)) };
    });
    const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
    const got = await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10, filter: 'active eq true', stats }));
    expect(got.map((r) => r.id)).to.deep.equal([...listOrder.slice(0, 20).map((u) => u.id), '005000', '005001', '005002', '005003', '005004']);
    expect(stats).to.include({ resources: 25, duplicates: 0 });
    expect(client.calls.map((c) => c.filter)).to.deep.equal([
      'active eq true',
      'active eq true',
      'active eq true',
      '(active eq true) and id pr',
      '(active eq true) and id gt "005009"',
      '(active eq true) and id gt "005019"',
      '(active eq true) and id gt "005024"',
    ]);
  });

  it('does not take other 400 errors for a deep-paging refusal', async () => {
    const client = fakeClient((p) => {
      if (Number(p.startIndex) > 1) throw new ScimHttpError({ method: 'GET', path: 'Users' }, 400, { scimType: 'invalidFilter', detail: 'bad filter' }, 1);
      return { totalResults: 20, Resources: users(10) };
    });
    let err: any;
    try {
      await collect(scimListSource(client, { endpoint: 'Users', pageSize: 10 }));
    } catch (e) {
      err = e;
    }
    expect(err?.context.status).to.equal(400);
  });
});
