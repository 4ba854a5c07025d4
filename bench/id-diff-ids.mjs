// The ids of bench/id-diff.ts, shared by the parent and the measured child.
/** A UUID-like id for n (as long as real servers' ids, spread in sort order). */
export function idOf(n) {
  const h = (Math.imul(n ^ 0x5bd1e995, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
  return `${h}-${(n % 65536).toString(16).padStart(4, '0')}-4${(n >>> 16).toString(16).padStart(3, '0')}-a000-${n.toString(16).padStart(12, '0')}`;
}
/** Every 100th id of the previous set is gone; ids from `count` on are new. */
export const isGone = (n) => n % 100 === 7;
