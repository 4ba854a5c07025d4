/**
 * The members table of an entity in an incremental run: only the groups
 * changed since the watermark are read, and each row says what to do with it.
 *
 *   replace,<group>,<member>   these rows are now the group's whole membership
 *   replace,<group>,           a changed group that has no member now
 *   delete,<group>,            a group found deleted (detectDeletes)
 *
 * `changed` holds the ids of the changed groups (from the entity's table) and
 * `gone` the deleted ones; both are on-disk sorters, so memory stays flat.
 */
import type { MemberRow, Row } from '../types.js';
import { COMMAND_COLUMN } from './changes.js';
import { IdSorter, diffSorted } from './id-set.js';

export interface MembershipScratch {
  changed: IdSorter;
  gone: IdSorter;
  /** Groups that had at least one row in this run's members table. */
  owners: IdSorter;
}

export function membershipChanges(o: MembershipScratch): (rows: AsyncIterable<MemberRow>) => AsyncGenerator<Row> {
  return async function* (rows) {
    let last: string | undefined;
    for await (const r of rows) {
      if (r.value !== last) {
        last = r.value;
        await o.owners.add(r.value);
      }
      yield { [COMMAND_COLUMN]: 'replace', value: r.value, MemberId: r.MemberId };
    }
    for await (const id of diffSorted(o.changed.sorted(), o.owners.sorted(), () => undefined)) yield { [COMMAND_COLUMN]: 'replace', value: id, MemberId: '' };
    for await (const id of o.gone.sorted()) yield { [COMMAND_COLUMN]: 'delete', value: id, MemberId: '' };
  };
}
