/**
 * The last stage of a table with deletion detection, after its rows: the
 * entity's current ids (from the rows of a complete run, or from an ids-only
 * listing in an incremental run) are sorted on disk, written as the new id
 * set, and diffed with the previous set; an incremental run then appends one
 * `delete` row (command, id, other cells empty) per id that is gone.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Row } from '../types.js';
import { COMMAND_COLUMN } from './changes.js';
import { IdSorter, diffSorted, readIdFile } from './id-set.js';

export interface IdSetPlan {
  /** The previous run's set (absent file: none). */
  previous: string;
  /** The new set's temp file, renamed with the cookie. */
  writer: Writable;
  sorter: IdSorter;
}

export interface DeletesOptions {
  ids: IdSetPlan;
  /** The table's id column (its header spelling). */
  idColumn: string;
  /** Incremental run: every current id, listed after the rows; deletions become rows. Absent: a complete run (the rows' ids were added already). */
  listIds?: () => AsyncIterable<string>;
  /** Also gets each deleted id (for the members table). */
  gone?: IdSorter;
  /** Counts the delete rows. */
  stats: { deleted: number };
}

export function appendDeletes(o: DeletesOptions): (rows: AsyncIterable<Row>) => AsyncGenerator<Row> {
  return async function* (rows) {
    for await (const row of rows) yield row;
    const { sorter, writer } = o.ids;
    if (o.listIds) for await (const id of o.listIds()) await sorter.add(id);
    let chunk = '';
    const flush = async () => {
      if (chunk && !writer.write(chunk)) await once(writer, 'drain');
      chunk = '';
    };
    const previous = o.listIds ? readIdFile(o.ids.previous) : (async function* () {})();
    const gone = diffSorted(previous, sorter.sorted(), async (id) => {
      chunk += id + '\n';
      if (chunk.length >= 65536) await flush();
    });
    for await (const id of gone) {
      o.stats.deleted++;
      await o.gone?.add(id);
      yield { [COMMAND_COLUMN]: 'delete', [o.idColumn]: id };
    }
    await flush();
    await new Promise<void>((resolve, reject) => {
      writer.once('error', reject);
      writer.end(() => resolve());
    });
  };
}
