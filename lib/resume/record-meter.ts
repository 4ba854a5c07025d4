/**
 * The byte stream of a table on its way to the temp file, measured: how many
 * records (CSV rows, header included, or NDJSON lines) have ended and at which
 * byte. A checkpoint needs "the bytes up to the end of row n", and this is
 * the one place where rows and bytes meet whatever the formatter's chunking.
 *
 * CSV records end with LF outside quotes (csv-stringify quotes any cell
 * holding CR, LF or `"`, and doubles the quotes inside, so counting quotes
 * tells inside from outside); NDJSON records end with every LF (JSON escapes
 * control characters). Neither byte occurs inside a UTF-8 sequence.
 *
 * On a resumed table the formatter writes the header again: `skip` drops it.
 */
import { Transform } from 'node:stream';

const LF = 0x0a;
const QUOTE = 0x22;

export interface RecordMeterOptions {
  format: 'csv' | 'ndjson';
  /** Bytes and records already in the file (a resumed table). */
  startBytes?: number;
  startRecords?: number;
  /** Leading bytes of the input to drop (the repeated header of a resumed table). */
  skip?: number;
}

export class RecordMeter extends Transform {
  /** Records ended so far, and the byte offset (in the file) where the last one ended. */
  records: number;
  lastEnd: number;
  private offset: number;
  private skip: number;
  private inQuote = false;
  private readonly csv: boolean;
  private readonly targets: Array<{ records: number; reached: (bytes: number) => void }> = [];

  constructor(opts: RecordMeterOptions) {
    super();
    this.csv = opts.format === 'csv';
    this.offset = this.lastEnd = opts.startBytes ?? 0;
    this.records = opts.startRecords ?? 0;
    this.skip = opts.skip ?? 0;
  }

  /**
   * Calls `reached(bytes)` when exactly `records` records have ended (at once
   * when they just have). A target already passed is never reached: the byte
   * offset of that record end is gone, and a wrong offset would be a wrong
   * checkpoint (rows and resources did not pair up as the caller counted).
   */
  when(records: number, reached: (bytes: number) => void): void {
    if (this.targets.length === 0 && this.records >= records) {
      if (this.records === records) reached(this.lastEnd);
      return;
    }
    this.targets.push({ records, reached });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    let buf = chunk;
    if (this.skip > 0) {
      const cut = Math.min(this.skip, buf.length);
      this.skip -= cut;
      buf = buf.subarray(cut);
      if (buf.length === 0) return done();
    }
    this.scan(buf);
    this.offset += buf.length;
    done(null, buf);
  }

  private scan(buf: Buffer): void {
    let i = 0;
    // The next quote at or after i (csv only); -1: none in this chunk.
    let q = this.csv ? buf.indexOf(QUOTE, 0) : -1;
    while (i < buf.length) {
      if (this.inQuote) {
        if (q < 0) return;
        this.inQuote = false;
        i = q + 1;
        q = buf.indexOf(QUOTE, i);
        continue;
      }
      const nl = buf.indexOf(LF, i);
      if (q >= 0 && (nl < 0 || q < nl)) {
        this.inQuote = true;
        i = q + 1;
        q = buf.indexOf(QUOTE, i);
        continue;
      }
      if (nl < 0) return;
      this.records++;
      this.lastEnd = this.offset + nl + 1;
      while (this.targets.length > 0 && this.targets[0]!.records <= this.records) {
        const t = this.targets.shift()!;
        if (t.records === this.records) t.reached(this.lastEnd);
      }
      i = nl + 1;
    }
  }
}
