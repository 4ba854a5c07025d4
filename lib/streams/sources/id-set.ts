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

export class IdSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 0) {
    let bits = INITIAL_BITS;
    while ((1 << bits) * MAX_LOAD < expected && bits < 30) bits++;
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

  has(id: string): boolean {
    const [h, l] = hash64(id);
    return this.find(h, l) < 0;
  }

  /** Adds the id; false when it was already there (a duplicate). */
  add(id: string): boolean {
    const [h, l] = hash64(id);
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
    const oldHi = this.hi;
    const oldLo = this.lo;
    const size = oldHi.length * 2;
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
  return [h >>> 0, l >>> 0];
}
