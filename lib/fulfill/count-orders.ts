/**
 * The number of order lines in the order files, for the progress total: one
 * streaming pass over the bytes, no CSV parsing. A line break inside quotes
 * is not a record end (quote parity; `""` toggles twice), empty lines are not
 * records (the order reader skips them), the header is not an order. Broken
 * quoting can make it off by a few: it is used for the progress display only.
 */
import { createReadStream } from 'node:fs';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export async function countOrderLines(paths: readonly string[], signal?: AbortSignal): Promise<number> {
  let total = 0;
  for (const path of paths) {
    const records = await countRecords(path, signal);
    total += Math.max(0, records - 1);
  }
  return total;
}

/** CSV records (non-empty) in one file. */
export async function countRecords(path: string, signal?: AbortSignal): Promise<number> {
  let records = 0;
  let quoted = false;
  let filled = false;
  for await (const chunk of createReadStream(path, signal ? { signal } : {}) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) {
        quoted = !quoted;
        filled = true;
      } else if ((b === LF || b === CR) && !quoted) {
        if (filled) records++;
        filled = false;
      } else {
        filled = true;
      }
    }
  }
  return filled ? records + 1 : records;
}
