/**
 * One table row as an NDJSON line, typed: a boolean or number column (as the
 * schema says) holds a JSON boolean or number, a missing value is left out
 * (or `null` with `nulls`), keys in column order. A cell that does not read
 * as its type (a server sending "yes" for a boolean, an integer beyond 2^53)
 * stays the string it was: never a changed value.
 */
import type { CellType } from '../../scim/column-types.js';

export type { CellType };

export interface NdjsonRowOptions {
  columns: readonly string[];
  /** Column → type; columns not named are strings. */
  types?: Readonly<Record<string, CellType>>;
  /** Missing values as `null` instead of leaving the key out. */
  nulls?: boolean;
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The JSON value of a cell of the given type (the text itself when it does not read as that type). */
export function typedCell(text: string, type: CellType | undefined): unknown {
  if (type === 'boolean') {
    const t = text.toLowerCase();
    return t === 'true' ? true : t === 'false' ? false : text;
  }
  if (type === 'number' && JSON_NUMBER.test(text)) {
    const n = Number(text);
    // A double holds 15 significant decimal digits exactly: more would change the value; it stays text.
    if (Number.isFinite(n) && significantDigits(text) <= 15) return n;
  }
  return text;
}

/** Significant digits of a JSON number's text: `-12.500e3` → 3 (`125`). */
function significantDigits(text: string): number {
  const mantissa = text.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

export function ndjsonLine(row: Readonly<Record<string, string | undefined>>, o: NdjsonRowOptions): string {
  const out: Record<string, unknown> = {};
  for (const c of o.columns) {
    const cell = row[c];
    if (cell === undefined || cell === '') {
      if (o.nulls) out[c] = null;
      continue;
    }
    out[c] = typedCell(cell, o.types?.[c]);
  }
  return JSON.stringify(out) + '\n';
}
