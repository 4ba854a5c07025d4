/**
 * Counts the rows of an incremental table by their `command` cell, for the
 * run summary and the JSON log: insert / update / delete for a resource
 * table, replace / delete for a members table. A pass-through stage just
 * before the formatter, so it counts exactly the rows written.
 */
import { Transform } from 'node:stream';
import type { Row } from '../types.js';
import { COMMAND_COLUMN } from './changes.js';

export type CommandCounts = Partial<Record<'insert' | 'update' | 'delete' | 'replace', number>>;

/** `counts` starts with the commands the table can have (so that zeros are reported too). */
export function countCommands(counts: CommandCounts): Transform {
  return new Transform({
    objectMode: true,
    transform(row: Row, _enc, done) {
      const c = row[COMMAND_COLUMN] as keyof CommandCounts | undefined;
      if (c !== undefined) counts[c] = (counts[c] ?? 0) + 1;
      done(null, row);
    },
  });
}
