/**
 * The inserts a run's membership lines name (`MemberId` `@<orderId>` or
 * `@<line>`), read in a first pass over the membership files only, with the
 * order reader itself so that it sees the very cells the run will. Only
 * these inserts' ids are kept through the run: a run that creates 500,000
 * users and links 20 of them by reference remembers 20 ids, not 500,000.
 */
import { readOrders, type OrderSourceOptions } from '../streams/sources/csv-order-source.js';

/** The names after `@` (an orderId, or a line number), from the membership files of `opts.files`. */
export async function referencedInserts(opts: OrderSourceOptions): Promise<Set<string>> {
  const names = new Set<string>();
  const files = opts.files.filter((f) => f.kind === 'members');
  if (files.length === 0) return names;
  // Notes on what is read come once, from the run's own reading.
  const { logger: _quiet, ...rest } = opts;
  for await (const rec of readOrders({ ...rest, files })) {
    if (rec.kind === 'member' && rec.member.startsWith('@')) names.add(rec.member.slice(1));
  }
  return names;
}

/** Whether an insert's run-wide key (its orderId, else `f<file>-l<line>`) is one of the names. */
export function isReferenced(names: ReadonlySet<string>, key: string): boolean {
  if (names.has(key)) return true;
  const line = /^f\d+-l(\d+)$/.exec(key)?.[1];
  return line !== undefined && names.has(line);
}
