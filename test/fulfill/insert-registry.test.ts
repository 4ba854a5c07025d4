/**
 * The run's insert registry: what `@orderId` memberships wait for. A run
 * without membership files keeps no created id (memory flat however many
 * users it creates); one with them keeps every id for the lines to come.
 */
import { expect } from 'chai';
import { RunInserts } from '../../lib/fulfill/executor.js';

describe('fulfill insert registry', () => {
  it('keeps every settled id when membership lines may name them, failures as failed', async () => {
    const r = new RunInserts(true);
    for (let i = 0; i < 1000; i++) r.settle(`o${i}`, i % 10 === 0 ? undefined : `id${i}`);
    expect(r.size).to.equal(1000);
    expect(await r.wait('o7')).to.equal('id7');
    expect(await r.wait('o10')).to.equal(undefined);
    expect(r.peek('o10')).to.deep.equal({});
  });

  it('without membership files forgets each insert once settled, yet a waiter still learns its id', async () => {
    const r = new RunInserts(false);
    const waiting = r.wait('o1');
    expect(r.size).to.equal(1);
    for (let i = 0; i < 1000; i++) r.settle(`o${i}`, `id${i}`);
    expect(await waiting).to.equal('id1');
    expect(r.size).to.equal(0);
  });

  it('a held insert whose answer was lost is not reported failed to its waiter until looked up, kept or not', async () => {
    for (const keep of [true, false]) {
      const r = new RunInserts(keep);
      r.hold('o1');
      const waiting = r.wait('o1');
      r.settle('o1', undefined);
      r.release('o1', 'found-by-lookup');
      expect(await waiting, `keep ${keep}`).to.equal('found-by-lookup');
      expect(r.size).to.equal(keep ? 1 : 0);
    }
  });
});
