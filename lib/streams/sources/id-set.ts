/**
 * A set of resource ids in bounded memory: open addressing over 64-bit hashes
 * kept in two Uint32Arrays (8 bytes a slot, no string kept). 10M ids fit in
 * 2^24 slots = 128 MiB; a Set<string> of 10M ids would take well over 1 GiB.
 *
 * A hash collision (two different ids with the same 64-bit hash) would make
 * the second id look like a duplicate. With FNV-1a 64 over UTF-16 code units
 * the chance is about n²/2^65: ~3e-6 at 10M ids. We accept it and document it.
 */

const INITIAL_BITS = 10; // 1024 slots
const MAX_LOAD = 0.7;
/**
 * `reserve` sizes the tables for at most 2^22 slots (32 MiB, ~2.9M ids at 70%
 * load): a server's totalResults is a hint, not a promise. Past that the
 * tables double as ids arrive, as without a reserve.
 */
export const RESERVE_MAX_BITS = 22;
const MAX_BITS = 30;

/** Slots (as a power of two) that hold `expected` ids at MAX_LOAD. */
function bitsFor(expected: number, maxBits: number): number {
  let bits = INITIAL_BITS;
  while ((1 << bits) * MAX_LOAD < expected && bits < maxBits) bits++;
  return bits;
}

/** hash64's result, written here by hashInto (no array per id on the hot path). */
let hashHi = 0;
let hashLo = 0;

export class IdSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    const bits = bitsFor(expected, MAX_BITS);
    this.hi = new Uint32Array(1 << bits);
    this.lo = new Uint32Array(1 << bits);
    this.mask = (1 << bits) - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the tables (for the bench and the docs). */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  /**
   * Room for `expected` ids in all (those held included) without doubling
   * on the way, e.g. from a listing's totalResults. Bounded: never more than
   * 2^RESERVE_MAX_BITS slots for a number that may be wrong; never shrinks.
   */
  reserve(expected: number): void {
    if (!(expected > 0)) return;
    const bits = bitsFor(Math.max(expected, this.count), RESERVE_MAX_BITS);
    if (1 << bits > this.mask + 1) this.rehash(1 << bits);
  }

  has(id: string): boolean {
    hashInto(id);
    return this.find(hashHi, hashLo) < 0;
  }

  /** Adds the id; false when it was already there (a duplicate). */
  add(id: string): boolean {
    hashInto(id);
    const h = hashHi;
    const l = hashLo;
    const slot = this.find(h, l);
    if (slot < 0) return false;
    this.hi[slot] = h;
    this.lo[slot] = l;
    this.count++;
    if (this.count > (this.mask + 1) * MAX_LOAD) this.grow();
    return true;
  }

  /** The free slot where (h,l) would go, or -1 when it is present. */
  private find(h: number, l: number): number {
    let i = (l ^ Math.imul(h, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = this.hi[i]!;
      const sl = this.lo[i]!;
      if (sh === 0 && sl === 0) return i;
      if (sh === h && sl === l) return -1;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    this.rehash(this.hi.length * 2);
  }

  private rehash(size: number): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.mask = size - 1;
    for (let j = 0; j < oldHi.length; j++) {
      const h = oldHi[j]!;
      const l = oldLo[j]!;
      if (h === 0 && l === 0) continue;
      const slot = this.find(h, l);
      this.hi[slot] = h;
      this.lo[slot] = l;
    }
  }
}

/**
 * FNV-1a 64-bit in two 32-bit halves (no BigInt on the hot path). (0,0) marks
 * an empty slot, so a hash of (0,0) is moved to (0,1).
 */
export function hash64(text: string): [number, number] {
  hashInto(text);
  return [hashHi, hashLo];
}

/** hash64 into the module's hashHi/hashLo. */
function hashInto(text: string): void {
  // offset basis 0xcbf29ce484222325
  let h = 0xcbf29ce4;
  let l = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    l ^= text.charCodeAt(i);
    // multiply by the FNV prime 0x00000100_000001b3 modulo 2^64
    const ll = l & 0xffff;
    const lh = l >>> 16;
    const a = ll * 0x1b3;
    const b = lh * 0x1b3;
    const lo = a + (b & 0xffff) * 0x10000;
    const carry = Math.floor(lo / 0x100000000) + Math.floor(b / 0x10000);
    const hiNew = (Math.imul(h, 0x1b3) + (l << 8) + carry) >>> 0;
    l = lo >>> 0;
    h = hiNew;
  }
  if (h === 0 && l === 0) l = 1;
  hashHi = h >>> 0;
  hashLo = l >>> 0;
}
