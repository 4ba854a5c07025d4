/**
 * CSV cell and line encoding (RFC 4180): a cell is quoted when it holds `"`,
 * `,`, CR or LF, quotes are doubled, an empty cell stays empty, CRLF ends
 * every record. Byte for byte what csv-stringify writes for string cells with
 * `record_delimiter: '\r\n', quote_record_delimiter: true` (and
 * `escape_formulas` when asked); test/export/csv-encode.test.ts compares the
 * two on nasty cells. (With CRLF as the delimiter csv-stringify's default
 * left a lone LF or CR unquoted, which splits the row for every reader.)
 * Written by hand so that a whole page becomes one string without
 * csv-stringify's per-record option handling.
 */
export const CSV_EOL = '\r\n';

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;
/** What csv-stringify's escape_formulas prefixes with `'` (a string cell starting with `-` included). */
const FORMULA_START = /^[-=+@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

export function csvCell(value: string, escapeFormulas = false): string {
  if (value === '') return '';
  if (escapeFormulas && FORMULA_START.test(value)) value = `'${value}`;
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.replace(QUOTES, '""')}"`;
}

/** One record with its CRLF. */
export function csvLine(cells: readonly string[], escapeFormulas = false): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) line += ',';
    line += csvCell(cells[i]!, escapeFormulas);
  }
  return line + CSV_EOL;
}
