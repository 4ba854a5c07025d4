/**
 * ScimResource → Row: one cell per configured column, in column order. The
 * cell logic is the pure `readColumn`; this file is only the stream glue.
 */
import { Transform } from 'node:stream';
import { readColumn } from '../../scim/read-column.js';
import type { ColumnPath } from '../../scim/path.js';
import type { Row, ScimResource } from '../../types.js';

export function flattenResource(resource: ScimResource, columns: readonly ColumnPath[]): Row {
  const row: Row = {};
  for (const c of columns) row[c.text] = readColumn(resource, c);
  return row;
}

export function flatten(columns: readonly ColumnPath[]): Transform {
  return new Transform({
    objectMode: true,
    transform(resource: ScimResource, _enc, done) {
      done(null, flattenResource(resource, columns));
    },
  });
}
