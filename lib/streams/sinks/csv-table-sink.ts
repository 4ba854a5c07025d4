/**
 * Rows → CSV text (RFC 4180: comma, `"` quoting when needed, CRLF line ends,
 * UTF-8 without BOM, a header row of the column texts) or typed NDJSON
 * (ndjson-row.ts). The bytes go
 * to an atomic file (temp + rename on success) or to any Writable (stdout).
 *
 * Cells are read by column name in column order (extension column names such
 * as `urn:…:enterprise:2.0:User:manager` contain dots, never read as paths)
 * and encoded by csv-encode.ts, the same bytes csv-stringify writes.
 */
import { Transform, type Writable } from 'node:stream';
import { ScimEtlError } from '../../errors.js';
import { CSV_EOL, csvLine } from './csv-encode.js';
import { atomicFile, type AtomicFileOptions } from './atomic-file.js';
import { ndjsonLine, type CellType } from './ndjson-row.js';

export type TableFormat = 'csv' | 'ndjson';

export interface TableFormatOptions {
  /** Header and key order. */
  columns: readonly string[];
  format?: TableFormat;
  /** Prefix cells starting with = + - @ TAB CR with a quote so spreadsheets do not run them. */
  escapeFormulas?: boolean;
  /** NDJSON: column → JSON type (booleans and numbers as JSON values); others strings. */
  types?: Readonly<Record<string, CellType>>;
  /** NDJSON: a missing value as null instead of leaving the key out. */
  nulls?: boolean;
}

interface NormalizedFormatOptions {
  columns: string[];
  format: TableFormat;
  escapeFormulas: boolean;
  types: Readonly<Record<string, CellType>>;
  nulls: boolean;
}

/** Options checked in one place, with a stable code and what was expected. */
export function normalizeFormatOptions(opts: TableFormatOptions): NormalizedFormatOptions {
  const bad = (what: string, got: unknown) =>
    new ScimEtlError('ERR_OPTION_TABLE_FORMAT', `${what}, got ${JSON.stringify(got)}`, {});
  if (!Array.isArray(opts.columns) || opts.columns.length === 0 || !opts.columns.every((c) => typeof c === 'string' && c)) {
    throw bad('columns must be a non-empty list of column names', opts.columns);
  }
  if (new Set(opts.columns).size !== opts.columns.length) throw bad('columns must be unique', opts.columns);
  const format = opts.format ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') throw bad("format must be 'csv' or 'ndjson'", format);
  return { columns: [...opts.columns], format, escapeFormulas: Boolean(opts.escapeFormulas), types: opts.types ?? {}, nulls: Boolean(opts.nulls) };
}

export { CSV_EOL };

/**
 * Object rows (Record<column, string>) → bytes of the table, header first.
 * Returned as stages to spread into a pipeline (each keeps its backpressure).
 */
export function tableFormatter(opts: TableFormatOptions): Transform[] {
  const o = normalizeFormatOptions(opts);
  if (o.format === 'ndjson') {
    return [
      new Transform({
        writableObjectMode: true,
        transform(row: Record<string, string>, _enc, done) {
          done(null, ndjsonLine(row, o));
        },
      }),
    ];
  }
  // The header gets the same quoting (and formula escaping) as a record.
  return [
    new Transform({
      writableObjectMode: true,
      construct(done) {
        this.push(csvLine(o.columns, o.escapeFormulas));
        done();
      },
      transform(row: Record<string, string>, _enc, done) {
        done(null, csvLine(o.columns.map((c) => row[c] ?? ''), o.escapeFormulas));
      },
    }),
  ];
}

/**
 * As tableFormatter, for a source that hands over rows in batches (an array
 * per chunk): one string per batch, the same bytes as row by row.
 */
export function batchFormatter(opts: TableFormatOptions): Transform {
  const o = normalizeFormatOptions(opts);
  const n = o.columns.length;
  const cells = new Array<string>(n);
  return new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 2,
    construct(done) {
      if (o.format === 'csv') this.push(csvLine(o.columns, o.escapeFormulas));
      done();
    },
    transform(rows: Array<Record<string, string>>, _enc, done) {
      let out = '';
      if (o.format === 'ndjson') for (const row of rows) out += ndjsonLine(row, o);
      else
        for (const row of rows) {
          for (let i = 0; i < n; i++) cells[i] = row[o.columns[i]!] ?? '';
          out += csvLine(cells, o.escapeFormulas);
        }
      done(null, out === '' ? undefined : out);
    },
  });
}

export interface CsvTableSinkOptions extends TableFormatOptions, AtomicFileOptions {}

/**
 * The stages that write one table to `path` atomically: spread them into a
 * pipeline after the row source: `[...formatter, file]`.
 */
export function csvTableSink(path: string, opts: CsvTableSinkOptions): [...Transform[], Writable] {
  return [...tableFormatter(opts), atomicFile(path, opts)];
}
