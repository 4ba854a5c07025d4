/**
 * The JSON type of each export column, from the server's /Schemas (else the
 * built-in schema): boolean, integer and decimal attributes are typed in
 * NDJSON output, everything else (strings, dates, references, complex values
 * rendered as JSON text) stays a string.
 */
import type { ColumnPath } from './path.js';
import { BUILTIN_SCHEMAS, attributeAt, type SchemaDefinition } from './schemas.js';

/** The JSON type of a column's values in NDJSON output. */
export type CellType = 'boolean' | 'number' | 'string';

export function columnTypes(defs: readonly SchemaDefinition[], endpoint: string, columns: readonly ColumnPath[]): Record<string, CellType> {
  const types: Record<string, CellType> = {};
  for (const c of columns) {
    const path = { ...(c.schema ? { schema: c.schema } : {}), attr: c.attr, ...(c.sub !== undefined ? { sub: c.sub } : {}) };
    const def = attributeAt(defs, endpoint, path) ?? attributeAt(BUILTIN_SCHEMAS, endpoint, path);
    if (def?.type === 'boolean') types[c.text] = 'boolean';
    else if (def?.type === 'integer' || def?.type === 'decimal') types[c.text] = 'number';
  }
  return types;
}
