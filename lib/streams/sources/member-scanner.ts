/**
 * A byte-level walk over a SCIM reply that reports only what the membership
 * tables need: each resource's start, id and end, and every value of one
 * multi-valued attribute (`members`, CyberArk `privilegedData`). The reply is
 * fed as it arrives (Buffer chunks); nothing is kept but a small stack of
 * frames and, when a value that is reported is cut by a chunk boundary, the
 * bytes of that one value. A group's members array is never materialised,
 * whatever its size.
 *
 * Two shapes: a ListResponse (`{"totalResults":…, "Resources":[{…},…]}`) or
 * a single resource (`GET /Groups/{id}`).
 *
 * The JSON is checked in full (structure, literals, numbers, escapes, no raw
 * control characters in strings): a malformed reply throws a JsonScanError
 * at its first bad byte. Only the strings that are reported (and the keys of
 * objects that matter) are decoded; the rest are stepped over byte by byte.
 * Bytes that are not UTF-8 decode to U+FFFD, as a streaming text decoder
 * would. Whitespace is what JavaScript's `\s` matches (a byte order mark
 * included), as the token parser used before this scanner accepted.
 *
 * Keys are compared case-insensitively; an object that holds the same key
 * twice reports both values, in order.
 */

export type WalkEvent =
  | { t: 'total'; n: number }
  | { t: 'start' }
  | { t: 'id'; id: string }
  | { t: 'member'; value: string }
  /** A member object that ended without a `value`: the server projected the parent hollow (`[{}]`). */
  | { t: 'hollow' }
  | { t: 'end' }
  /** A `schemas` value of the reply itself (ListResponse, Error, or the resource's own). */
  | { t: 'schema'; urn: string }
  /** The ListResponse's `Resources` array starts. */
  | { t: 'resources' }
  /** What only an error body carries at its top: `status`, `detail` (with their text) or an `Errors` member. */
  | { t: 'error'; key: 'status' | 'detail' | 'errors'; value?: string };

/** Malformed or incomplete JSON. `offset` is the 0-based byte offset of the bad byte (the body's length when it ended early). */
export class JsonScanError extends Error {
  override name = 'JsonScanError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Role = 'root' | 'resources' | 'resource' | 'attr' | 'member' | 'schemas' | 'skip';

interface Frame {
  role: Role;
  isObject: boolean;
  /** The reply's top object (a ListResponse, or the single resource). */
  top: boolean;
  /** The last key seen in this object (lower-cased), for the value that follows. */
  key: string | undefined;
  /** A member object: a `value` was seen in it. */
  valued: boolean;
}

/** Where the scanner is between tokens, or which token it is inside. */
const enum St {
  /** A value is expected (top, after ':' or after ',' in an array). */
  Value,
  /** After '[': a value or ']'. */
  ArrFirst,
  /** After '{': a key or '}'. */
  ObjFirst,
  /** After ',' in an object: a key. */
  Key,
  Colon,
  /** After a value: ',' or the container's close. */
  After,
  /** The top value is complete: whitespace only. */
  Done,
  Str,
  Num,
  Lit,
}

/** Number grammar states: which byte classes may come next. */
const enum N {
  /** After '-': a digit. */
  Minus,
  /** After a leading '0': '.', 'e' or the end. */
  Zero,
  /** In the integer digits. */
  Int,
  /** After '.': a digit. */
  Dot,
  Frac,
  /** After 'e': a sign or a digit. */
  Exp,
  /** After the exponent's sign: a digit. */
  ExpSign,
  ExpDigits,
}

/** Bytes that end a plain run inside a string: '"', '\\' and control characters. */
const STRING_STOP = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STRING_STOP[b] = 1;
STRING_STOP[0x22] = 1;
STRING_STOP[0x5c] = 1;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
/** The characters allowed after '\\' other than 'u'. */
const SHORT_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SHORT_ESCAPE[c.charCodeAt(0)] = 1;

const LITERALS: Record<number, Uint8Array> = {
  0x74: Buffer.from('true'),
  0x66: Buffer.from('false'),
  0x6e: Buffer.from('null'),
};

/** A key of no interest (never equal to a name the walk compares with). */
const OTHER = '\u0000';

export class MemberScanner {
  /** Some token was read: the body is JSON at least at its start (a later error is a cut, not a wrong kind of reply). */
  started = false;

  private readonly attr: string | undefined;
  private readonly frames: Frame[] = [];
  private depth = 0;
  private state: St = St.Value;
  /** Bytes of a token cut by the end of the previous chunk, when the token's text is wanted. */
  private tail: Buffer | undefined;
  /** How many bytes of `tail` were already scanned. */
  private resume = 0;
  /** Byte offset of the current buffer's first byte in the body. */
  private offset = 0;

  // The token being read.
  private strKey = false;
  private want = false;
  private escaped = false;
  /** 0: plain; 1: after '\\'; 2–5: that many hex digits of \uXXXX still to come, minus one. */
  private esc = 0;
  private num: N = N.Int;
  private lit: Uint8Array = LITERALS[0x74]!;
  private litAt = 0;

  /**
   * @param shape 'list' for a ListResponse, 'resource' for one resource.
   * @param attribute the multi-valued attribute to report; undefined reports ids only.
   */
  constructor(
    private readonly shape: 'list' | 'resource',
    attribute: string | undefined,
  ) {
    this.attr = attribute?.toLowerCase();
  }

  /** Reads one chunk of the body; the events it completes are appended to `out`. */
  push(chunk: Uint8Array, out: WalkEvent[]): void {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let i = 0;
    if (this.tail) {
      buf = Buffer.concat([this.tail, buf]);
      i = this.resume;
      this.tail = undefined;
    }
    const n = buf.length;
    /** Where the token being read started (its bytes are kept from there if the chunk ends inside it). */
    let from = 0;
    let spaceFrom = -1;
    while (i < n) {
      switch (this.state) {
        case St.Str: {
          let esc = this.esc;
          for (;;) {
            if (esc === 0) {
              while (i < n && STRING_STOP[buf[i]!] === 0) i++;
              if (i >= n) break;
              const b = buf[i]!;
              if (b === 0x22) break;
              if (b === 0x5c) {
                esc = 1;
                this.escaped = true;
                i++;
                continue;
              }
              this.fail(i, 'a control character inside a string');
            }
            if (i >= n) break;
            const b = buf[i]!;
            if (esc === 1) {
              if (b === 0x75) esc = 5;
              else if (SHORT_ESCAPE[b] === 1) esc = 0;
              else this.fail(i, `a bad escape "\\${String.fromCharCode(b)}" in a string`);
            } else {
              if (HEX[b] !== 1) this.fail(i, 'a bad \\u escape in a string');
              esc = esc === 2 ? 0 : esc - 1;
            }
            i++;
          }
          this.esc = esc;
          if (i >= n) break;
          // The closing quote.
          i++;
          this.endString(buf, from, i, out);
          continue;
        }
        case St.Num: {
          const end = this.scanNumber(buf, i, n);
          if (end >= n) {
            i = n;
            break;
          }
          i = end;
          this.endNumber(buf, from, i, out);
          continue;
        }
        case St.Lit: {
          const lit = this.lit;
          while (i < n && this.litAt < lit.length) {
            if (buf[i] !== lit[this.litAt]) this.fail(i, `a bad literal (expected ${Buffer.from(lit).toString('latin1')})`);
            i++;
            this.litAt++;
          }
          if (this.litAt < lit.length) break;
          this.started = true;
          this.scalar(false, undefined, out);
          this.afterValue();
          continue;
        }
        default: {
          const b = buf[i]!;
          if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0b || b === 0x0c) {
            i++;
            continue;
          }
          if (b >= 0x80) {
            const len = unicodeSpace(buf, i, n);
            if (len > 0) {
              i += len;
              continue;
            }
            if (len < 0) {
              // Maybe a space whose bytes go on in the next chunk: read it again from its first byte then.
              spaceFrom = i;
              i = n;
              break;
            }
          }
          from = i;
          i = this.structural(b, buf, i, out);
        }
      }
    }
    // The chunk ended inside a token whose text is wanted, or inside a multi-byte space: keep its bytes.
    let keep = n;
    if (spaceFrom >= 0) {
      keep = spaceFrom;
      this.resume = 0;
    } else if ((this.state === St.Str || this.state === St.Num) && this.want) {
      keep = from;
      this.resume = n - from;
    }
    if (keep < n) this.tail = Buffer.from(buf.subarray(keep));
    this.offset += keep;
  }

  /** The body ended: anything unfinished is an incomplete reply. */
  end(): void {
    if (this.state === St.Num && this.depth === 0 && (this.num === N.Zero || this.num === N.Int || this.num === N.Frac || this.num === N.ExpDigits)) {
      // A number at the top, ended by the end of the body (nothing is reported for it).
      this.started = true;
      this.state = St.Done;
    }
    if (this.tail && this.state !== St.Str && this.state !== St.Num) {
      // The first bytes of a multi-byte character, held to see whether it was a space: it was not.
      throw new JsonScanError(`the reply is not valid JSON at byte ${this.offset}: a character cut short by the end of the body`, this.offset);
    }
    if (this.state !== St.Done) {
      const at = this.offset + (this.tail?.length ?? 0);
      throw new JsonScanError(this.started ? `the JSON ends early (byte ${at}: ${this.expected()})` : `the JSON ends before a value (byte ${at})`, at);
    }
  }

  /** One byte where a token or punctuation is expected; returns the next position. */
  private structural(b: number, buf: Buffer, i: number, out: WalkEvent[]): number {
    switch (this.state) {
      case St.Value:
      case St.ArrFirst:
        if (b === 0x5d && this.state === St.ArrFirst) return this.close(false, i, out);
        return this.startValue(b, buf, i, out);
      case St.ObjFirst:
      case St.Key:
        if (b === 0x7d && this.state === St.ObjFirst) return this.close(true, i, out);
        if (b !== 0x22) this.fail(i, this.state === St.Key ? 'a key after ","' : 'a key or "}"');
        this.startString(true);
        return i + 1;
      case St.Colon:
        if (b !== 0x3a) this.fail(i, '":" after a key');
        this.state = St.Value;
        return i + 1;
      case St.After: {
        const top = this.frames[this.depth - 1]!;
        if (b === 0x2c) {
          this.state = top.isObject ? St.Key : St.Value;
          return i + 1;
        }
        if (b === (top.isObject ? 0x7d : 0x5d)) return this.close(top.isObject, i, out);
        return this.fail(i, top.isObject ? '"," or "}"' : '"," or "]"');
      }
      default:
        return this.fail(i, 'the end of the body after the JSON value');
    }
  }

  private startValue(b: number, buf: Buffer, i: number, out: WalkEvent[]): number {
    if (b === 0x22) {
      this.startString(false);
      return i + 1;
    }
    if (b === 0x7b || b === 0x5b) {
      this.open(b === 0x7b, out);
      return i + 1;
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      this.state = St.Num;
      this.want = this.wants(false);
      this.num = b === 0x2d ? N.Minus : b === 0x30 ? N.Zero : N.Int;
      return i + 1;
    }
    const lit = LITERALS[b];
    if (lit) {
      this.state = St.Lit;
      this.lit = lit;
      this.litAt = 1;
      return i + 1;
    }
    return this.fail(i, 'a value');
  }

  private startString(isKey: boolean): void {
    this.state = St.Str;
    this.strKey = isKey;
    this.escaped = false;
    this.esc = 0;
    if (isKey) {
      const top = this.frames[this.depth - 1]!;
      this.want = top.role !== 'skip';
    } else this.want = this.wants(true);
  }

  /** `end` is just past the closing quote; `from` is the opening quote. */
  private endString(buf: Buffer, from: number, end: number, out: WalkEvent[]): void {
    if (this.strKey) {
      const top = this.frames[this.depth - 1]!;
      top.key = this.want ? this.keyOf(top, buf, from, end) : undefined;
      this.state = St.Colon;
      return;
    }
    this.started = true;
    this.scalar(true, this.want ? this.text(buf, from, end) : undefined, out);
    this.afterValue();
  }

  private text(buf: Buffer, from: number, end: number): string {
    return this.escaped ? (JSON.parse(buf.toString('utf8', from, end)) as string) : buf.toString('utf8', from + 1, end - 1);
  }

  private keyOf(top: Frame, buf: Buffer, from: number, end: number): string {
    if (top.role === 'member' && !this.escaped) {
      // The hot path: only `value` matters in a member (no other character lower-cases into one of its letters).
      if (end - from !== 7) return OTHER;
      for (let k = 0; k < 5; k++) {
        const c = buf[from + 1 + k]!;
        if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== VALUE[k]) return OTHER;
      }
      return 'value';
    }
    return this.text(buf, from, end).toLowerCase();
  }

  /** Returns the position of the first byte after the number, or `n` if the chunk ended inside it. */
  private scanNumber(buf: Buffer, i: number, n: number): number {
    let s = this.num;
    for (; i < n; i++) {
      const b = buf[i]!;
      const digit = b >= 0x30 && b <= 0x39;
      switch (s) {
        case N.Minus:
          if (!digit) this.fail(i, 'a digit after "-"');
          s = b === 0x30 ? N.Zero : N.Int;
          continue;
        case N.Zero:
        case N.Int:
          if (digit && s === N.Int) continue;
          if (b === 0x2e) s = N.Dot;
          else if (b === 0x65 || b === 0x45) s = N.Exp;
          else {
            this.num = s;
            return i;
          }
          continue;
        case N.Dot:
          if (!digit) this.fail(i, 'a digit after "."');
          s = N.Frac;
          continue;
        case N.Frac:
          if (digit) continue;
          if (b === 0x65 || b === 0x45) s = N.Exp;
          else {
            this.num = s;
            return i;
          }
          continue;
        case N.Exp:
          if (b === 0x2b || b === 0x2d) s = N.ExpSign;
          else if (digit) s = N.ExpDigits;
          else this.fail(i, 'a digit or sign in an exponent');
          continue;
        case N.ExpSign:
          if (!digit) this.fail(i, 'a digit in an exponent');
          s = N.ExpDigits;
          continue;
        case N.ExpDigits:
          if (digit) continue;
          this.num = s;
          return i;
      }
    }
    this.num = s;
    return n;
  }

  private endNumber(buf: Buffer, from: number, end: number, out: WalkEvent[]): void {
    this.started = true;
    this.scalar(false, this.want ? buf.toString('latin1', from, end) : undefined, out);
    this.afterValue();
  }

  private afterValue(): void {
    this.state = this.depth === 0 ? St.Done : St.After;
  }

  /** What the state expects, for messages. */
  private expected(): string {
    switch (this.state) {
      case St.Str:
        return 'inside a string';
      case St.Num:
        return 'inside a number';
      case St.Lit:
        return 'inside a literal';
      case St.Colon:
        return 'expected ":"';
      case St.After:
        return 'expected "," or the close of an object or array';
      default:
        return 'expected a value or a key';
    }
  }

  private fail(at: number, expected: string): never {
    const pos = this.offset + at;
    throw new JsonScanError(`the reply is not valid JSON at byte ${pos}: expected ${expected}`, pos);
  }

  // The walk: the same events, in the same order, as a token-level walk with case-insensitive keys.

  private open(isObject: boolean, out: WalkEvent[]): void {
    this.started = true;
    const top = this.depth > 0 ? this.frames[this.depth - 1] : undefined;
    const role = this.roleOf(top, isObject);
    const key = top?.key;
    let frame = this.frames[this.depth];
    if (!frame) frame = this.frames[this.depth] = { role, isObject, top: false, key: undefined, valued: false };
    frame.role = role;
    frame.isObject = isObject;
    frame.top = top === undefined;
    frame.key = undefined;
    frame.valued = false;
    this.depth++;
    this.state = isObject ? St.ObjFirst : St.ArrFirst;
    if (top && top.role !== 'resources' && top.role !== 'attr') top.key = undefined;
    if (role === 'resource') out.push({ t: 'start' });
    else if (role === 'resources') out.push({ t: 'resources' });
    else if (top?.top && key === 'errors') out.push({ t: 'error', key: 'errors' });
  }

  private close(isObject: boolean, i: number, out: WalkEvent[]): number {
    const frame = this.frames[--this.depth]!;
    if (frame.isObject !== isObject) this.fail(i, 'a matching close');
    if (frame.role === 'member' && !frame.valued) out.push({ t: 'hollow' });
    else if (frame.role === 'resource') out.push({ t: 'end' });
    this.afterValue();
    return i + 1;
  }

  private roleOf(parent: Frame | undefined, isObject: boolean): Role {
    if (!parent) {
      if (!isObject) return 'skip';
      return this.shape === 'list' ? 'root' : 'resource';
    }
    if (parent.top && parent.key === 'schemas' && !isObject) return 'schemas';
    switch (parent.role) {
      case 'root':
        return !isObject && parent.key === 'resources' ? 'resources' : 'skip';
      case 'resources':
        return isObject ? 'resource' : 'skip';
      case 'resource':
        if (this.attr !== undefined && parent.key === this.attr) return isObject ? 'member' : 'attr';
        return 'skip';
      case 'attr':
        return isObject ? 'member' : 'skip';
      default:
        return 'skip';
    }
  }

  /** Would a scalar here (a string, or a number) be reported? Only those are decoded. */
  private wants(isString: boolean): boolean {
    if (this.depth === 0) return false;
    const top = this.frames[this.depth - 1]!;
    switch (top.role) {
      case 'skip':
        return false;
      case 'schemas':
        return isString;
      case 'attr':
        return true;
      default:
        if (top.top && (top.key === 'status' || top.key === 'detail')) return true;
        if (top.role === 'root') return top.key === 'totalresults';
        if (top.role === 'resource') return top.key === 'id';
        return top.role === 'member' && top.key === 'value';
    }
  }

  /** A string or number (text given when wanted) or a literal (text undefined). */
  private scalar(isString: boolean, text: string | undefined, out: WalkEvent[]): void {
    if (this.depth === 0) return;
    const top = this.frames[this.depth - 1]!;
    if (top.role === 'schemas' && isString) {
      out.push({ t: 'schema', urn: text ?? '' });
    } else if (top.top && (top.key === 'status' || top.key === 'detail') && text !== undefined) {
      out.push({ t: 'error', key: top.key, value: text });
    } else if (top.role === 'root' && top.key === 'totalresults' && text !== undefined) {
      const n = Number(text);
      if (Number.isInteger(n) && n >= 0) out.push({ t: 'total', n });
    } else if (top.role === 'resource' && top.key === 'id' && text !== undefined) {
      out.push({ t: 'id', id: text });
    } else if (top.role === 'member' && top.key === 'value' && text !== undefined) {
      top.valued = true;
      out.push({ t: 'member', value: text });
    } else if (top.role === 'attr' && text !== undefined) {
      // Some servers list plain ids instead of {value} objects.
      out.push({ t: 'member', value: text });
    }
    if (top.role !== 'attr' && top.role !== 'resources') top.key = undefined;
  }
}

const VALUE = Buffer.from('value');

/**
 * A space of JavaScript's `\s` above ASCII at `i` (UTF-8): its length in
 * bytes, 0 if the bytes are something else, -1 if the chunk ends before
 * that can be told.
 */
function unicodeSpace(buf: Buffer, i: number, n: number): number {
  const b0 = buf[i]!;
  if (b0 === 0xc2) {
    if (i + 1 >= n) return -1;
    return buf[i + 1] === 0xa0 ? 2 : 0;
  }
  if (b0 !== 0xe1 && b0 !== 0xe2 && b0 !== 0xe3 && b0 !== 0xef) return 0;
  if (i + 2 >= n) {
    // Decide on what is there: a mismatch already is not a space.
    if (i + 1 < n && !spacePrefix(b0, buf[i + 1]!)) return 0;
    return -1;
  }
  const b1 = buf[i + 1]!;
  const b2 = buf[i + 2]!;
  switch (b0) {
    case 0xe1:
      return b1 === 0x9a && b2 === 0x80 ? 3 : 0; // U+1680
    case 0xe2:
      if (b1 === 0x80) return (b2 >= 0x80 && b2 <= 0x8a) || b2 === 0xa8 || b2 === 0xa9 || b2 === 0xaf ? 3 : 0; // U+2000–200A, 2028, 2029, 202F
      return b1 === 0x81 && b2 === 0x9f ? 3 : 0; // U+205F
    case 0xe3:
      return b1 === 0x80 && b2 === 0x80 ? 3 : 0; // U+3000
    default:
      return b1 === 0xbb && b2 === 0xbf ? 3 : 0; // U+FEFF
  }
}

function spacePrefix(b0: number, b1: number): boolean {
  if (b0 === 0xe1) return b1 === 0x9a;
  if (b0 === 0xe2) return b1 === 0x80 || b1 === 0x81;
  if (b0 === 0xe3) return b1 === 0x80;
  return b1 === 0xbb;
}
