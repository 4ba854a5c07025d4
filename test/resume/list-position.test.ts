/**
 * The list source's checkpoint hooks: the position after each page, and a
 * listing that goes on from one (index, cursor and keyset paging) yields
 * exactly what the uninterrupted listing yielded after that page — the
 * duplicates it dropped included.
 */
import { expect } from 'chai';
import { listResources } from '../../lib/streams/sources/scim-list-source.js';
import type { ListPosition } from '../../lib/streams/sources/list-position.js';
import type { ScimRequest, ScimResponse } from '../../lib/scim/client.js';
import type { ScimResource } from '../../lib/types.js';

type Params = Record<string, string | number | undefined>;
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** 25 users, u1 served again on page 3 (index and cursor): a duplicate the listing must drop once. */
function server(paging: 'index' | 'cursor' | 'keyset') {
  const data: ScimResource[] = Array.from({ length: 25 }, (_, i) => ({ id: `u${String(i + 1).padStart(2, '0')}` }));
  const calls: Params[] = [];
  const page = (from: number, count: number) => {
    const items = data.slice(from, from + count);
    if (from === 10) items[1] = data[0]!; // the duplicate
    return items;
  };
  return {
    calls,
    async request<T>(req: ScimRequest): Promise<ScimResponse<T>> {
      const p = req.searchParams ?? {};
      calls.push(p);
      const count = Number(p.count);
      let body: object;
      if (paging === 'cursor') {
        const from = p.cursor === '' ? 0 : Number(String(p.cursor).slice(1));
        const items = page(from, count);
        body = { schemas: [LIST], totalResults: 25, itemsPerPage: items.length, Resources: items, ...(from + count < 25 ? { nextCursor: `c${from + count}` } : {}) };
      } else if (paging === 'keyset') {
        const m = /id gt "(u\d+)"/.exec(String(p.filter));
        const rest = m ? data.filter((r) => r.id! > m[1]!) : data;
        const items = rest.slice(0, count);
        body = { schemas: [LIST], totalResults: rest.length, startIndex: 1, itemsPerPage: items.length, Resources: items };
      } else {
        const from = Number(p.startIndex) - 1;
        const items = page(from, count);
        body = { schemas: [LIST], totalResults: 25, startIndex: from + 1, itemsPerPage: items.length, Resources: items };
      }
      return { status: 200, headers: {}, body: body as T, attempts: 1 };
    },
  };
}

async function collect(it: AsyncIterable<ScimResource>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of it) out.push(r.id!);
  return out;
}

for (const paging of ['index', 'cursor', 'keyset'] as const) {
  describe(`list source checkpoints (${paging} paging)`, () => {
    it('goes on from the position after any page exactly as the uninterrupted listing did', async () => {
      const positions: Array<{ position: ListPosition; ids: string[] }> = [];
      let seenSoFar: string[] = [];
      const opts = { endpoint: 'Users', pageSize: 5, paging, countMismatch: 'warn' as const };
      const whole = await collect(
        listResources(server(paging), {
          ...opts,
          checkpoint: {
            onPage: (position, passed) => {
              seenSoFar = [...seenSoFar, ...passed.map((r) => r.id!)];
              positions.push({ position: JSON.parse(JSON.stringify(position)) as ListPosition, ids: seenSoFar });
            },
          },
        }),
      );
      expect(new Set(whole).size).to.equal(whole.length);
      expect(positions.length).to.be.greaterThan(3);
      for (const [k, { position, ids }] of positions.entries()) {
        const srv = server(paging);
        const rest = await collect(
          listResources(srv, {
            ...opts,
            checkpoint: { from: { position, seen: async function* () { yield* ids; } }, onPage: () => undefined },
          }),
        );
        expect([...ids, ...rest], `resumed after page ${k + 1}`).to.deep.equal(whole);
        // Nothing before the checkpoint is asked again.
        if (paging === 'index') expect(srv.calls.every((c) => Number(c.startIndex) > 5 * (k + 1) - 1 || Number(c.startIndex) === position.next)).to.equal(true);
      }
    });
  });
}
