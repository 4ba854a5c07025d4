/**
 * The fulfill executor on its own: a bounded reorder window (one slow request
 * stalls reading, it does not buffer the rest of the file), one outcome per
 * line in order, per-resource order, and a drain of what is in flight when
 * the order source fails.
 */
import { expect } from 'chai';
import { executeOrders, RunInserts, type OutcomeWriter } from '../../lib/fulfill/executor.js';
import { ScimEtlError } from '../../lib/errors.js';
import type { ExecContext } from '../../lib/fulfill/execute.js';
import type { LineOutcome, OrderLine, PlanItem, ScimRequester } from '../../lib/fulfill/types.js';

const line = (seq: number): OrderLine => ({ seq, fileIndex: 0, file: 'T_Users.csv', line: seq + 2, orderId: `o${seq}`, command: 'update', id: `u${seq}` });

function updates(n: number, idOf: (seq: number) => string = (s) => `u${s}`, pulled?: { n: number }): AsyncGenerator<PlanItem> {
  return (async function* () {
    for (let seq = 0; seq < n; seq++) {
      if (pulled) pulled.n = seq + 1;
      const l = { ...line(seq), id: idOf(seq) };
      yield { kind: 'op', op: { kind: 'update', lines: [l], entity: 'Users', id: l.id, cells: [{ path: 'title' as never, value: `t${seq}`, multiValued: false }], patch: [] } };
    }
  })();
}

/** Reorders like the results writer, and remembers how much it ever held. */
class RecordingWriter implements OutcomeWriter {
  readonly rows: LineOutcome[] = [];
  maxBuffered = 0;
  private readonly held = new Map<number, LineOutcome>();
  async write(o: LineOutcome): Promise<void> {
    this.held.set(o.seq, o);
    this.maxBuffered = Math.max(this.maxBuffered, this.held.size);
    while (this.held.has(this.rows.length)) {
      const next = this.held.get(this.rows.length)!;
      this.held.delete(next.seq);
      this.rows.push(next);
    }
  }
  get buffered(): number {
    return this.held.size;
  }
}

function context(client: ScimRequester): ExecContext & { inserts: RunInserts } {
  return { client, fatal: {}, capabilities: { patch: true, etag: false }, onConflict: 'fail', style: {}, inserts: new RunInserts() };
}

describe('fulfill executor', () => {
  it('one slow request stalls reading at the window: the buffer never grows past it, every line one outcome in order', async () => {
    const window = 50;
    const concurrency = 4;
    const pulled = { n: 0 };
    let pulledWhileSlow = 0;
    const client: ScimRequester = {
      request: (async (req: { path: string }) => {
        if (req.path === '/Users/u0') {
          // The first request is slow: give the rest every chance to run ahead.
          await new Promise((r) => setTimeout(r, 30));
          pulledWhileSlow = pulled.n;
        }
        return { status: 200, body: {}, headers: {}, attempts: 1 };
      }) as ScimRequester['request'],
    };
    const writer = new RecordingWriter();
    await executeOrders(updates(2000, undefined, pulled), { ctx: context(client), concurrency, window, writer });
    expect(writer.rows.map((r) => r.seq)).to.deep.equal([...Array(2000).keys()]);
    expect(writer.rows.every((r) => r.outcome === 'ok')).to.equal(true);
    // The outcomes held behind the slow line stay within the window (one more may come out of a request in flight).
    expect(writer.maxBuffered).to.be.at.most(window + concurrency);
    expect(writer.maxBuffered).to.be.at.least(window);
    // Reading stopped too: the order source was not drained while the slow request ran.
    expect(pulledWhileSlow).to.be.at.most(window + concurrency + 1);
  });

  it('runs operations on the same resource one after the other, in order, and others in parallel', async () => {
    const events: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const client: ScimRequester = {
      request: (async (req: { path: string; json?: { Operations?: Array<{ value: unknown }> } }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        events.push(`start ${req.path}`);
        await new Promise((r) => setTimeout(r, req.path === '/Users/A' ? 5 : 1));
        events.push(`end ${req.path}`);
        running--;
        return { status: 200, body: {}, headers: {}, attempts: 1 };
      }) as ScimRequester['request'],
    };
    const writer = new RecordingWriter();
    // A, B, A, C, A: the three on A in order, never two at once.
    const ids = ['A', 'B', 'A', 'C', 'A'];
    await executeOrders(updates(5, (s) => ids[s]!), { ctx: context(client), concurrency: 4, window: 100, writer });
    const onA = events.filter((e) => e.endsWith('/Users/A'));
    expect(onA).to.deep.equal(['start /Users/A', 'end /Users/A', 'start /Users/A', 'end /Users/A', 'start /Users/A', 'end /Users/A']);
    expect(maxRunning).to.be.at.least(2);
    expect(writer.rows.map((r) => r.seq)).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('when the order source fails, sends nothing more but waits for the requests in flight and records their outcomes', async () => {
    const sent: string[] = [];
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    const client: ScimRequester = {
      request: (async (req: { path: string }) => {
        sent.push(req.path);
        await answered;
        return { status: 200, body: {}, headers: {}, attempts: 1 };
      }) as ScimRequester['request'],
    };
    async function* failing(): AsyncGenerator<PlanItem> {
      yield* updates(2);
      // Both requests are in flight when the source breaks; their answers come later.
      setTimeout(answer, 10);
      throw new ScimEtlError('ERR_FULFILL_ORDERS_READ', 'cannot read order file X: EIO');
    }
    const writer = new RecordingWriter();
    const ctx = context(client);
    let error: unknown;
    await executeOrders(failing(), { ctx, concurrency: 4, window: 100, writer }).catch((e) => (error = e));
    expect((error as ScimEtlError).code).to.equal('ERR_FULFILL_ORDERS_READ');
    expect(ctx.fatal.error?.code).to.equal('ERR_FULFILL_ORDERS_READ');
    expect(sent).to.deep.equal(['/Users/u0', '/Users/u1']);
    expect(writer.rows.map((r) => [r.seq, r.outcome, r.status])).to.deep.equal([
      [0, 'ok', 200],
      [1, 'ok', 200],
    ]);
  });
});
