/**
 * Pages of resources → table text, one chunk per page: each page is
 * flattened with the table's compiled column readers and encoded (CSV or
 * NDJSON) into one string, written once. The header is the first chunk.
 *
 * This is the export's fast path; the per-row stages (flatten, local filter,
 * incremental tracking, csv-table-sink) stay for the tables that need them.
 * One chunk per page is also the place where a per-page hook (a checkpoint
 * of the page position and the bytes written) can sit.
 */
import { Transform } from 'node:stream';
import { compileColumns } from '../../scim/column-reader.js';
import type { ColumnPath } from '../../scim/path.js';
import type { ScimResource } from '../../types.js';
import { csvLine } from '../sinks/csv-encode.js';
import { normalizeFormatOptions, type TableFormat } from '../sinks/csv-table-sink.js';
import { ndjsonLine, type CellType } from '../sinks/ndjson-row.js';

export interface PageTableOptions {
  columns: readonly ColumnPath[];
  format?: TableFormat;
  escapeFormulas?: boolean;
  /** NDJSON: column → type (booleans and numbers as JSON values); others are strings. */
  types?: Readonly<Record<string, CellType>>;
  /** NDJSON: missing values as `null` instead of leaving the key out. */
  nulls?: boolean;
}

/** Encodes one page; exported for tests and for callers that hold pages themselves. */
export function pageEncoder(opts: PageTableOptions): { header: string; page: (resources: readonly ScimResource[]) => string } {
  const o = normalizeFormatOptions({ columns: opts.columns.map((c) => c.text), format: opts.format, escapeFormulas: opts.escapeFormulas, ...(opts.types ? { types: opts.types } : {}), nulls: opts.nulls });
  const readers = compileColumns(opts.columns);
  const n = readers.length;
  if (o.format === 'ndjson') {
    const keys = o.columns;
    return {
      header: '',
      page(resources) {
        let out = '';
        for (const r of resources) {
          const row: Record<string, string> = {};
          for (let i = 0; i < n; i++) row[keys[i]!] = readers[i]!(r);
          out += ndjsonLine(row, o);
        }
        return out;
      },
    };
  }
  const cells = new Array<string>(n);
  return {
    header: csvLine(o.columns, o.escapeFormulas),
    page(resources) {
      let out = '';
      for (const r of resources) {
        for (let i = 0; i < n; i++) cells[i] = readers[i]!(r);
        out += csvLine(cells, o.escapeFormulas);
      }
      return out;
    },
  };
}

/** Object-mode writable side (one page, an array of resources, per write), text readable side. */
export function pageTable(opts: PageTableOptions): Transform {
  const enc = pageEncoder(opts);
  return new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 1,
    construct(done) {
      if (enc.header) this.push(enc.header);
      done();
    },
    transform(resources: ScimResource[], _enc, done) {
      const text = enc.page(resources);
      done(null, text === '' ? undefined : text);
    },
  });
}
