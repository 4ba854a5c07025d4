/**
 * Bytes of an order file → text, noting where the bytes are not UTF-8 and
 * which lines are too long to be orders.
 *
 * A decoder that silently puts U+FFFD for a bad byte would create a user with
 * a corrupted name; here every line holding a bad byte is known (its first
 * bad byte's offset), so that the order source refuses exactly those lines.
 * A line longer than `maxLineBytes` is refused too, and only its first bytes
 * are passed on (with its quotes and commas, so that the CSV structure after
 * it is read as written): a 10 MB cell costs neither the parser's time nor
 * its memory. Line breaks are counted as the order source counts them: CRLF,
 * CR and LF each end one line.
 */
import { Transform } from 'node:stream';

export interface BadBytes {
  /** 1-based line of the first bad byte of that line. */
  line: number;
  /** 0-based byte offset in the file. */
  offset: number;
  byte: number;
}

export interface ByteChecks {
  onBad(bad: BadBytes): void;
  /** A line longer than maxLineBytes (reported once, when it crosses the limit). */
  onLong?(line: number): void;
  maxLineBytes?: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/** The pure checker (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
export class Utf8Checker {
  private offset = 0;
  private line = 1;
  private afterCR = false;
  /** Continuation bytes still expected, and the range the next one must fall in. */
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;
  private seqStart = 0;
  private seqLine = 1;
  private seqByte = 0;
  private lastBadLine = 0;
  /** Bytes on the current line so far. */
  private run = 0;
  private readonly max: number;

  constructor(private readonly checks: ByteChecks) {
    this.max = checks.maxLineBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Checks a chunk; returns the bytes to pass on (the chunk itself unless a long line was cut). */
  push(chunk: Uint8Array): Uint8Array {
    let kept: number[] | undefined;
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0x0d || b === 0x0a) this.run = 0;
      else if (++this.run > this.max) {
        if (this.run === this.max + 1) this.checks.onLong?.(this.line);
        // Cut: keep what came before, and of this line only its structure.
        if (!kept) kept = [];
        for (let j = from; j < i; j++) kept.push(chunk[j]!);
        from = i + 1;
        if (b === QUOTE || b === COMMA) kept.push(b);
      }
      this.check(b, this.offset + i);
    }
    this.offset += chunk.length;
    if (!kept) return chunk;
    for (let j = from; j < chunk.length; j++) kept.push(chunk[j]!);
    return Uint8Array.from(kept);
  }

  /** The end of the file: a sequence still open is cut short. */
  end(): void {
    if (this.need > 0) this.bad(this.seqStart, this.seqLine, this.seqByte);
    this.need = 0;
  }

  private check(b: number, at: number): void {
    if (this.need > 0) {
      if (b >= this.lo && b <= this.hi) {
        this.need--;
        this.lo = 0x80;
        this.hi = 0xbf;
        return;
      }
      // A sequence cut short: the lead byte is the bad one; this byte starts afresh.
      this.bad(this.seqStart, this.seqLine, this.seqByte);
      this.need = 0;
      this.lo = 0x80;
      this.hi = 0xbf;
    }
    if (b < 0x80) {
      if (b === 0x0d) this.line++;
      else if (b === 0x0a && !this.afterCR) this.line++;
      this.afterCR = b === 0x0d;
      return;
    }
    this.afterCR = false;
    if (b >= 0xc2 && b <= 0xdf) this.need = 1;
    else if (b === 0xe0) (this.need = 2), (this.lo = 0xa0);
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.need = 2;
    else if (b === 0xed) (this.need = 2), (this.hi = 0x9f);
    else if (b === 0xf0) (this.need = 3), (this.lo = 0x90);
    else if (b >= 0xf1 && b <= 0xf3) this.need = 3;
    else if (b === 0xf4) (this.need = 3), (this.hi = 0x8f);
    else return this.bad(at, this.line, b);
    this.seqStart = at;
    this.seqLine = this.line;
    this.seqByte = b;
  }

  private bad(offset: number, line: number, byte: number): void {
    // The first bad byte of a line is enough to refuse it.
    if (line === this.lastBadLine) return;
    this.lastBadLine = line;
    this.checks.onBad({ line, offset, byte });
  }
}

/** The stream stage: checks, cuts long lines and decodes (a UTF-8 byte order mark is dropped). */
export function utf8Decoder(checks: ByteChecks): Transform {
  const checker = new Utf8Checker(checks);
  const decoder = new TextDecoder('utf-8');
  return new Transform({
    decodeStrings: true,
    transform(chunk: Buffer, _enc, done) {
      const text = decoder.decode(checker.push(chunk), { stream: true });
      done(null, text || undefined);
    },
    flush(done) {
      checker.end();
      const rest = decoder.decode();
      done(null, rest || undefined);
    },
  });
}
