import { expect } from 'chai';
import { IdSet, hash64 } from '../../lib/streams/sources/id-set.js';

/** Reference FNV-1a 64 with BigInt, to check the two-halves arithmetic. */
function fnv1a64(s: string): [number, number] {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return [Number(h >> 32n), Number(h & 0xffffffffn)];
}

describe('IdSet (bounded-memory de-duplication)', () => {
  it('computes FNV-1a 64 exactly', () => {
    for (const s of ['', 'a', 'hello', 'ü€x', '2819c223-7f76-453a-919d-413861904646', '005xx000001Sv6AAAS', 'x'.repeat(300)]) {
      const [h, l] = hash64(s);
      const [rh, rl] = fnv1a64(s);
      expect([h, l], s).to.deep.equal(rh === 0 && rl === 0 ? [0, 1] : [rh, rl]);
    }
  });

  it('adds once, reports duplicates, and grows past its initial size', () => {
    const set = new IdSet();
    const n = 50_000;
    for (let i = 0; i < n; i++) expect(set.add(`user-${i}`)).to.equal(true);
    expect(set.size).to.equal(n);
    for (let i = 0; i < n; i += 97) expect(set.add(`user-${i}`)).to.equal(false);
    expect(set.has('user-49999')).to.equal(true);
    expect(set.has('user-50000')).to.equal(false);
    expect(set.size).to.equal(n);
  });

  it('keeps 8 bytes a slot with at most 70% load (10M ids in 128 MiB)', () => {
    const set = new IdSet(10_000_000);
    expect(set.bytes).to.equal(2 ** 24 * 8);
    const small = new IdSet();
    for (let i = 0; i < 1000; i++) small.add(String(i));
    expect(small.bytes / 8).to.be.at.least(1000 / 0.7);
  });

  it('tells ids apart that differ only in case or by one character', () => {
    const set = new IdSet();
    expect(set.add('abc')).to.equal(true);
    expect(set.add('ABC')).to.equal(true);
    expect(set.add('abd')).to.equal(true);
    expect(set.add('abc')).to.equal(false);
  });
});
