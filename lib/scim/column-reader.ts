/**
 * Column paths compiled once per table into cell readers. A plain path
 * (`userName`, `name:givenName`, an extension's `…:User:employeeNumber`)
 * reads its attribute directly; only a path with a value filter goes through
 * the generic readColumn (filter evaluation). Same cells as readColumn.
 */
import type { ColumnPath } from './path.js';
import { cellText, primaryElseFirst, readColumn } from './read-column.js';

export type CellReader = (resource: object) => string;

/** An attribute name with what a lookup needs, computed once per table. */
interface Name {
  name: string;
  lower: string;
  /** Only an own property counts: a name Object.prototype has (`constructor`…) must be checked to be one. */
  inherited: boolean;
  /**
   * The name is ASCII: a key that lower-cases to it has its length (the
   * one-to-many lower-case mapping, U+0130, yields a non-ASCII mark; the
   * Kelvin sign stays one unit), so keys of another length are passed over
   * without lower-casing them.
   */
  ascii: boolean;
}

function nameOf(name: string): Name {
  return { name, lower: name.toLowerCase(), inherited: name in Object.prototype, ascii: /^[\x00-\x7f]*$/.test(name) };
}

const PRIMARY = nameOf('primary');

/** getAttr (exact case first, then case-insensitively) with the name's facts computed once per table. */
function attr(obj: unknown, n: Name): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  const v = rec[n.name];
  if (v !== undefined && (!n.inherited || Object.prototype.hasOwnProperty.call(rec, n.name))) return v;
  const lower = n.lower;
  const len = lower.length;
  for (const key of Object.keys(rec)) {
    if (n.ascii && key.length !== len) continue;
    if (key.toLowerCase() === lower) return rec[key];
  }
  return undefined;
}

/** An element's `primary`, looked up as every attribute here is. */
const primaryOf = (element: unknown): unknown => attr(element, PRIMARY);

export function compileColumn(column: ColumnPath): CellReader {
  if (column.filter) return (r) => readColumn(r, column);
  const { schema, attr: attrName, sub } = column;
  const schemaName = schema ? nameOf(schema) : undefined;
  const name = nameOf(attrName);
  const subName = sub !== undefined ? nameOf(sub) : undefined;
  return (r) => {
    const container = schemaName ? attr(r, schemaName) : r;
    let value = attr(container, name);
    if (Array.isArray(value)) value = primaryElseFirst(value, primaryOf);
    if (subName !== undefined) {
      value = attr(value, subName);
      if (Array.isArray(value)) value = primaryElseFirst(value, primaryOf);
    }
    return cellText(value);
  };
}

export function compileColumns(columns: readonly ColumnPath[]): CellReader[] {
  return columns.map(compileColumn);
}
