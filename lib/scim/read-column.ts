/**
 * The text of one CSV cell: the value at a column path in a resource.
 *
 * Rules (SPEC §4): a multi-valued attribute gives its `primary` element, else
 * the first (after the value filter, when the column has one); a missing value
 * is an empty cell; a complex value with no sub-attribute named is compact
 * JSON; booleans and numbers are JSON literals (`true`, `42`). Attribute names
 * match case-insensitively.
 */
import { getAttr, matchesFilter } from './filter.js';
import type { ColumnPath } from './path.js';

export function readColumn(resource: object, column: ColumnPath): string {
  return cellText(readColumnValue(resource, column));
}

/** The raw value a column points at (before it is turned into text). */
export function readColumnValue(resource: object, column: ColumnPath): unknown {
  const container = column.schema ? getAttr(resource, column.schema) : resource;
  let value = getAttr(container, column.attr);
  if (column.filter) {
    const filter = column.filter;
    const elements = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
    value = primaryElseFirst(elements.filter((el) => el !== null && typeof el === 'object' && matchesFilter(el, filter)));
  } else if (Array.isArray(value)) {
    value = primaryElseFirst(value);
  }
  if (column.sub !== undefined) {
    value = getAttr(value, column.sub);
    // A multi-valued sub-attribute (rare: e.g. `x509Certificates` inside an extension object).
    if (Array.isArray(value)) value = primaryElseFirst(value);
  }
  return value;
}

/**
 * The element flagged `primary: true` (or "true"), else the first non-null
 * one. `primaryOf` reads an element's `primary` (column-reader.ts passes a
 * lookup compiled once per table).
 */
export function primaryElseFirst(values: readonly unknown[], primaryOf: (element: unknown) => unknown = (v) => getAttr(v, 'primary')): unknown {
  let first: unknown;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (first === undefined) first = v;
    const p = primaryOf(v);
    if (p === true || (typeof p === 'string' && p.toLowerCase() === 'true')) return v;
  }
  return first;
}

export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  // What JSON.stringify writes for them, without its call.
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  return JSON.stringify(value);
}
