/**
 * Insert intents written ahead in groups (lib/fulfill/intents-ahead.ts): the
 * promise users rely on is that an insert's intent is in the journal before
 * its request reaches the server, with one journal write per group instead
 * of one per request, and that nothing is sent twice or lost.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { intentsAhead } from '../../lib/fulfill/intents-ahead.js';
import { Journal, journalPath } from '../../lib/fulfill/journal.js';
import { runFulfill } from '../../lib/fulfill.js';
import { createScimClient } from '../../lib/scim/client.js';
import { silentLogger } from '../../lib/log.js';
import type { BatchItem, LineOutcome, OrderLine, PlanItem } from '../../lib/fulfill/types.js';
import { testFulfillPipeline } from '../helpers/model.js';
import { readResults, tempDir } from './helpers.js';
import { startQuirky, type QuirkyServer } from './quirky-server.js';

type Item = PlanItem | BatchItem;
const line = (n: number, command: string): OrderLine => ({ seq: n, fileIndex: 0, file: 'T_Users.csv', line: n + 2, orderId: `o${n}`, command });
const insert = (n: number): Item => ({ kind: 'op', op: { kind: 'insert', entity: 'Users', bulkId: `o${n}`, resource: { userName: `u${n}` }, lines: [line(n, 'insert')] } as never });
const update = (n: number): Item => ({ kind: 'op', op: { kind: 'update', entity: 'Users', id: `id${n}`, resource: {}, lines: [line(n, 'update')] } as never });

/** The order lines the journal file holds an intent for. */
function intentsOnDisk(path: string): number[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { l: number; i?: 1 })
    .filter((r) => r.i)
    .map((r) => r.l);
}

async function* source(items: Item[], failAfter?: Error): AsyncGenerator<Item> {
  for (const item of items) yield item;
  if (failAfter) throw failAfter;
}

describe('fulfill: insert intents written ahead', () => {
  it('yields every unit in order, each insert with its intent already in the journal file, one journal write per 64 units', async () => {
    const dir = tempDir();
    const path = journalPath(dir, 'T');
    const journal = await Journal.open(path, ['T_Users.csv@k']);
    const writes: number[] = [];
    const intend = journal.intend.bind(journal);
    journal.intend = (lines) => (writes.push(lines.length), intend(lines));
    const items = Array.from({ length: 150 }, (_, i) => (i % 3 === 2 ? update(i) : insert(i)));
    const written = new Set<number>();
    const seen: number[] = [];
    for await (const item of intentsAhead(source(items), journal, written, 64)) {
      const op = (item as Extract<Item, { kind: 'op' }>).op;
      const l = op.lines[0]!;
      seen.push(l.seq);
      if (op.kind === 'insert') {
        expect(written.has(l.seq), `line ${l.line}`).to.equal(true);
        expect(intentsOnDisk(path)).to.include(l.line);
      } else expect(written.has(l.seq)).to.equal(false);
    }
    await journal.close();
    expect(seen).to.deep.equal(items.map((_, i) => i));
    // 150 units in groups of 64, 64 and 22; a third of them are updates, which need no intent.
    expect(writes).to.deep.equal([43, 43, 14]);
    expect(intentsOnDisk(path)).to.have.length(100);
  });

  it('reads ahead by operations: a Bulk batch fills a group on its own (at most two batches held), and writes no intent for it', async () => {
    const dir = tempDir();
    const journal = await Journal.open(journalPath(dir, 'T'), ['T_Users.csv@k']);
    let writes = 0;
    const intend = journal.intend.bind(journal);
    journal.intend = (lines) => (writes++, intend(lines));
    let pulled = 0;
    async function* batches(): AsyncGenerator<Item> {
      for (let b = 0; b < 5; b++) {
        pulled++;
        const ops = Array.from({ length: 100 }, (_, i) => (insert(b * 100 + i) as Extract<Item, { kind: 'op' }>).op);
        yield { kind: 'batch', ops };
      }
    }
    const pulledAtYield: number[] = [];
    for await (const item of intentsAhead(batches(), journal, new Set())) {
      expect(item.kind).to.equal('batch');
      pulledAtYield.push(pulled);
    }
    await journal.close();
    expect(pulledAtYield).to.deep.equal([2, 3, 4, 5, 5]);
    expect(writes).to.equal(0);
  });

  it('writes no intent for a line the journal already has an outcome for', async () => {
    const dir = tempDir();
    const path = journalPath(dir, 'T');
    const first = await Journal.open(path, ['T_Users.csv@k']);
    const done: LineOutcome = { seq: 1, fileIndex: 0, orderId: 'o1', command: 'insert', outcome: 'ok', status: 201, id: 'x', attempts: 1 };
    first.record([done], [line(1, 'insert')]);
    await first.close();
    const journal = await Journal.open(path, ['T_Users.csv@k']);
    const written = new Set<number>();
    const out: Item[] = [];
    for await (const item of intentsAhead(source([insert(0), insert(1), insert(2)]), journal, written)) out.push(item);
    await journal.close();
    expect(out).to.have.length(3);
    expect([...written].sort()).to.deep.equal([0, 2]);
    expect(intentsOnDisk(path)).to.deep.equal([2, 4]);
  });

  it('a failing order source surfaces after the units read before it, whose intents are on disk', async () => {
    const dir = tempDir();
    const path = journalPath(dir, 'T');
    const journal = await Journal.open(path, ['T_Users.csv@k']);
    const got: number[] = [];
    const run = async () => {
      for await (const item of intentsAhead(source([insert(0), insert(1)], new Error('orders unreadable')), journal, new Set(), 64)) got.push((item as Extract<Item, { kind: 'op' }>).op.lines[0]!.seq);
    };
    let failure: unknown;
    await run().catch((err) => (failure = err));
    await journal.close();
    expect((failure as Error)?.message).to.equal('orders unreadable');
    // Read before the error: handed on to be sent, as without reading ahead.
    expect(got).to.deep.equal([0, 1]);
    expect(intentsOnDisk(path)).to.deep.equal([2, 3]);
  });

  describe('through runFulfill, against a server that reads the journal on every POST', () => {
    let server: QuirkyServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('every insert request arrives after its intent is in the journal; each line has exactly one intent and one outcome', async () => {
      const n = 150;
      const orders = 'command,id,orderId,userName\n' + Array.from({ length: n }, (_, i) => `insert,,o${i},ahead${i}@x\n`).join('');
      const dir = tempDir({ 'orders/T_Users.csv': orders });
      const path = join(dir, 'results', '.T.journal.ndjson');
      const missing: string[] = [];
      server = await startQuirky({
        insertReply: (u) => {
          // Order line of ahead<i>@x is i + 2 (after the header).
          const want = Number(/^ahead(\d+)@x$/.exec(String(u.userName))![1]) + 2;
          if (!intentsOnDisk(path).includes(want)) missing.push(String(u.userName));
          return { status: 201, body: u };
        },
      });
      const pipe = testFulfillPipeline(dir, { server: server.url, oAuthToken: 'test-token' }, { serviceSupportBulk: false, concurrency: 4 });
      const client = createScimClient(pipe.connection);
      try {
        const report = await runFulfill(pipe, { client, logger: silentLogger });
        expect(report.exitCode).to.equal(0);
      } finally {
        client.close();
      }
      expect(missing).to.deep.equal([]);
      const rows = await readResults(join(dir, 'results', 'T_Users.csv'));
      expect(rows.map((r) => r.outcome)).to.deep.equal(Array(n).fill('ok'));
      const records = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { l: number; i?: 1; o?: unknown });
      const count = (pick: (r: (typeof records)[number]) => unknown) => {
        const per = new Map<number, number>();
        for (const r of records) if (pick(r)) per.set(r.l, (per.get(r.l) ?? 0) + 1);
        return [...per.values()].every((c) => c === 1) ? per.size : -1;
      };
      expect(count((r) => r.i)).to.equal(n);
      expect(count((r) => r.o)).to.equal(n);
    });
  });
});
