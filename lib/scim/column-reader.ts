/**
 * Column paths compiled once per table into cell readers. A plain path
 * (`userName`, `name:givenName`, an extension's `…:User:employeeNumber`)
 * reads its attribute directly; only a path with a value filter goes through
 * the generic readColumn (filter evaluation). Same cells as readColumn.
 */
import type { ColumnPath } from './path.js';
import { cellText, primaryElseFirst, readColumn } from './read-column.js';

export type CellReader = (resource: object) => string;

/** getAttr (exact case first, then case-insensitively) with the lower-case name computed once per table. */
function attr(obj: unknown, name: string, lower: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  const v = rec[name];
  if (v !== undefined && Object.prototype.hasOwnProperty.call(rec, name)) return v;
  for (const key of Object.keys(rec)) if (key.toLowerCase() === lower) return rec[key];
  return undefined;
}

export function compileColumn(column: ColumnPath): CellReader {
  if (column.filter) return (r) => readColumn(r, column);
  const { schema, attr: name, sub } = column;
  const schemaLower = schema?.toLowerCase();
  const nameLower = name.toLowerCase();
  const subLower = sub?.toLowerCase();
  return (r) => {
    const container = schema ? attr(r, schema, schemaLower!) : r;
    let value = attr(container, name, nameLower);
    if (Array.isArray(value)) value = primaryElseFirst(value);
    if (sub !== undefined) {
      value = attr(value, sub, subLower!);
      if (Array.isArray(value)) value = primaryElseFirst(value);
    }
    return cellText(value);
  };
}

export function compileColumns(columns: readonly ColumnPath[]): CellReader[] {
  return columns.map(compileColumn);
}
