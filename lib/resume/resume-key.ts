/**
 * What a resumed run must share with the interrupted one for its files to
 * come out byte-identical: the server, the selected tables with their
 * columns and filters, the format and the checks that decide what is
 * written. Connection concurrency, timeouts and retries are left out: they
 * change how, not what (a resume after network trouble may lower them).
 */
import type { Pipeline } from '../config/types.js';
import { tableFormatter, type TableFormat } from '../streams/sinks/csv-table-sink.js';
import { fingerprint } from './checkpoint.js';

interface KeyTable {
  name: string;
  kind: string;
  attribute?: string;
  columns: readonly string[];
  entity: { filter?: string; incremental: boolean; detectDeletes?: boolean; countMismatch?: string };
}

export function resumeKey(pipe: Pipeline, tables: readonly KeyTable[], format: TableFormat, outDir: string): string {
  const exp = pipe.export!;
  const c = pipe.connection;
  return fingerprint({
    server: c.server,
    identifier: c.identifier,
    dialect: c.scimSyntax,
    pageSize: c.pageSize,
    outDir,
    format,
    escapeFormulas: exp.escapeFormulas,
    countMismatch: exp.countMismatch,
    maxPages: exp.maxPages,
    filterFallback: exp.filterFallback,
    tables: tables.map((t) => ({
      name: t.name,
      kind: t.kind,
      attribute: t.attribute,
      columns: t.columns,
      filter: t.entity.filter,
      incremental: t.entity.incremental,
      detectDeletes: t.entity.detectDeletes,
      countMismatch: t.entity.countMismatch,
    })),
  });
}

/** Bytes the formatter writes before the first row (the CSV header): a resumed table drops them. */
export async function headerBytes(columns: readonly string[], format: TableFormat, escapeFormulas: boolean): Promise<number> {
  const stages = tableFormatter({ columns, format, escapeFormulas });
  let bytes = 0;
  const last = stages[stages.length - 1]!;
  last.on('data', (chunk: Buffer | string) => (bytes += Buffer.byteLength(chunk)));
  for (let i = 0; i < stages.length - 1; i++) stages[i]!.pipe(stages[i + 1]!);
  await new Promise<void>((res, rej) => {
    last.once('end', res);
    for (const s of stages) s.once('error', rej);
    stages[0]!.end();
  });
  return bytes;
}
