import { expect } from 'chai';
import { IdSet, RESERVE_MAX_BITS, hash64 } from '../../lib/streams/sources/id-set.js';

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

describe('IdSet.reserve and hash64 without arrays', () => {
  it('hash64 keeps its results (pinned values, and the BigInt reference on many ids)', () => {
    // Pinned: FNV-1a 64 of "" is the offset basis, of "a" 0xaf63dc4c8601ec8c.
    expect(hash64('')).to.deep.equal([0xcbf29ce4, 0x84222325]);
    expect(hash64('a')).to.deep.equal([0xaf63dc4c, 0x8601ec8c]);
    for (let i = 0; i < 2000; i++) {
      const s = `id-${i}-${String.fromCharCode(0x20 + (i % 0xd000))}`;
      const [rh, rl] = fnv1a64(s);
      expect(hash64(s), s).to.deep.equal(rh === 0 && rl === 0 ? [0, 1] : [rh, rl]);
    }
    // Two calls in a row do not share one result.
    const a = hash64('x');
    const b = hash64('y');
    expect(a).to.not.deep.equal(b);
    expect(a).to.deep.equal(fnv1a64('x'));
  });

  it('reserve sizes the tables once for the ids expected, keeping those held', () => {
    const set = new IdSet();
    for (let i = 0; i < 500; i++) set.add(`u${i}`);
    set.reserve(1_000_000);
    expect(set.bytes).to.equal(2 ** 21 * 8);
    for (let i = 0; i < 500; i++) expect(set.has(`u${i}`), `u${i}`).to.equal(true);
    expect(set.add('u7')).to.equal(false);
    const before = set.bytes;
    for (let i = 500; i < 1_000_000; i++) set.add(`u${i}`);
    expect(set.bytes, 'no doubling up to the number reserved').to.equal(before);
    expect(set.size).to.equal(1_000_000);
  });

  it('reserve never shrinks and ignores nonsense', () => {
    const set = new IdSet(100_000);
    const bytes = set.bytes;
    set.reserve(10);
    set.reserve(0);
    set.reserve(-5);
    set.reserve(Number.NaN);
    expect(set.bytes).to.equal(bytes);
  });

  it('does not trust a lying totalResults for more than 2^22 slots (32 MiB), and still grows past it', () => {
    const set = new IdSet();
    set.reserve(2 ** 31);
    expect(set.bytes).to.equal(2 ** RESERVE_MAX_BITS * 8);
    expect(set.bytes).to.equal(32 * 2 ** 20);
    set.reserve(Number.MAX_SAFE_INTEGER);
    expect(set.bytes).to.equal(32 * 2 ** 20);
    // The constructor (the caller's own number) is not bounded by the reserve cap.
    expect(new IdSet(4_000_000).bytes).to.equal(2 ** 23 * 8);
  });
});
