/**
 * Order CSVs → OrderRecord, one record per order line, in file order.
 *
 * Files named `<identifier>_Users.csv` hold user orders, files named
 * `<identifier>_members_<Entity>.csv` membership orders; any other entity is
 * refused row by row (the seed changes no other entity). Every problem with a
 * line becomes an `invalid` record carrying a coded error, so that the
 * results file still gets exactly one row for it; a bad header makes every
 * line of its file invalid.
 *
 * Strict about what it reads: a line with bytes that are not UTF-8 is refused
 * (never sent with U+FFFD in it); CRLF, LF and CR line ends may be mixed; a
 * column given twice, in any case, is a bad header; a column named in
 * another case than the schema's (UserName) is sent in the schema's case.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { ScimEtlError, isScimEtlError } from '../../errors.js';
import { registerSecretField } from '../../redact.js';
import type { Logger } from '../../log.js';
import { formatFilter } from '../../scim/filter.js';
import { KNOWN_SCHEMAS, parseColumnPath, type ColumnPath } from '../../scim/path.js';
import { utf8Decoder, type BadBytes } from './utf8-check.js';
import { findSchema, USER_SCHEMA, type SchemaDefinition } from '../../scim/schemas.js';
import { describeColumn, typeCell, type ColumnInfo } from '../../scim/columns.js';
import type { OrderLine, OrderRecord, TypedCell, UserCommand, MemberCommand } from '../../types.js';

export type OrderFileKind = 'users' | 'members' | 'unsupported';

export interface OrderFile {
  path: string;
  kind: OrderFileKind;
  /** Users / the resource type whose members change (Groups, Entitlements…) / the refused entity. */
  entity: string;
  /** Membership files: the multi-valued attribute the links live in (`members`; CyberArk `privilegedData`). */
  attribute?: string;
}

/** A column the dialect cannot write gets that as its problem, whatever the schema says. */
function withDialectLimit(info: ColumnInfo, cannotWrite: OrderSourceOptions['cannotWrite']): ColumnInfo {
  const why = cannotWrite?.(info.path);
  return why ? { ...info, problem: new ScimEtlError('ERR_ORDER_NOT_WRITABLE', `column '${info.path.text}': ${why}; nothing was sent for this line`) } : info;
}

/** What a file name says it holds. */
export function classifyOrderFile(path: string): OrderFile {
  const name = basename(path);
  const members = /_members_([^_]+)\.csv$/i.exec(name);
  if (members) return { path, kind: 'members', entity: members[1]! };
  // Named like the export's links table: value = container, MemberId = privileged data.
  const held = /_privilegedData_([^_]+)\.csv$/i.exec(name);
  if (held) return { path, kind: 'members', entity: held[1]!, attribute: 'privilegedData' };
  const entity = /_([^_]+)\.csv$/i.exec(name)?.[1] ?? name.replace(/\.csv$/i, '');
  if (entity.toLowerCase() === 'users') return { path, kind: 'users', entity: 'Users' };
  return { path, kind: 'unsupported', entity };
}

export interface OrderSourceOptions {
  /** Files in processing order (see orderFiles()). */
  files: readonly OrderFile[];
  schemas: readonly SchemaDefinition[];
  /** A cell with exactly this text clears the attribute. */
  nullMarker: string;
  knownSchemas?: readonly string[];
  signal?: AbortSignal;
  /**
   * When given, a file that cannot be read is reported here and the next file
   * is read (its lines already read were yielded); otherwise the error is thrown.
   */
  onUnreadable?: (file: OrderFile, error: ScimEtlError) => void;
  /** Notes on what was read (a column renamed to the schema's case, an empty file). */
  logger?: Logger;
  /** The dialect's columns it cannot write (lib/scim/dialects/): each non-empty cell refuses its line. */
  cannotWrite?: (path: ColumnPath) => string | undefined;
}

/**
 * A line (or a record over several lines) longer than this is refused: no
 * SCIM attribute value is that large, and a server would refuse the request
 * anyway. Bytes of one line; characters of a record's text.
 */
export const MAX_LINE_CHARS = 1024 * 1024;

/** Users files before membership files (a membership may name a user inserted in the run), then the refused ones. */
export function orderFiles(files: readonly OrderFile[]): OrderFile[] {
  const rank: Record<OrderFileKind, number> = { users: 0, members: 1, unsupported: 2 };
  return [...files].sort((a, b) => rank[a.kind] - rank[b.kind]);
}

const USER_COMMANDS = new Set<string>(['insert', 'update', 'delete']);
const MEMBER_COMMANDS = new Set<string>(['add', 'remove']);

/** The parsed header of one file: where the fixed columns are and what each attribute column writes. */
interface Header {
  command: number;
  id: number;
  orderId: number;
  /** Members files. */
  value: number;
  memberId: number;
  /** `secret`: the column's values are credentials (writeOnly, or named like a password). */
  attributes: Array<{ index: number; info: ColumnInfo; secret: boolean }>;
  /** Writable attributes the core schema requires (userName): an insert must give them. */
  required: string[];
  width: number;
}

export function createOrderSource(opts: OrderSourceOptions): Readable {
  return Readable.from(readOrders(opts), { objectMode: true });
}

/** The generator behind createOrderSource (also used to enumerate lines after a fatal error). */
export async function* readOrders(opts: OrderSourceOptions): AsyncGenerator<OrderRecord> {
  let seq = 0;
  for (let fileIndex = 0; fileIndex < opts.files.length; fileIndex++) {
    const file = opts.files[fileIndex]!;
    try {
      for await (const rec of readOrderFile(file, fileIndex, opts, seq)) {
        seq = rec.line.seq + 1;
        yield rec;
      }
    } catch (err) {
      if (!opts.onUnreadable || !isScimEtlError(err) || err.code !== 'ERR_FULFILL_ORDERS_READ') throw err;
      opts.onUnreadable(file, err);
    }
  }
}

/**
 * The header problems of the files (a column twice, a bad column path, bytes
 * that are not UTF-8 in the header…), one per file, read before anything is
 * sent: a run can refuse them whole (exit 78) instead of sending the other
 * files. Reads only up to each file's first order line.
 */
export async function checkOrderHeaders(opts: OrderSourceOptions): Promise<ScimEtlError[]> {
  const problems: ScimEtlError[] = [];
  for (let i = 0; i < opts.files.length; i++) {
    const lines = readOrderFile(opts.files[i]!, i, { ...opts, logger: undefined }, 0);
    const first = await lines.next();
    await lines.return(undefined);
    const rec = first.done ? undefined : first.value;
    if (rec?.kind === 'invalid' && HEADER_CODES.has(rec.error.code) && rec.error.context.line !== rec.line.line) problems.push(rec.error);
  }
  return problems;
}

const HEADER_CODES = new Set(['ERR_ORDER_BAD_HEADER', 'ERR_ORDER_BAD_ENCODING']);

async function* readOrderFile(file: OrderFile, fileIndex: number, opts: OrderSourceOptions, firstSeq: number): AsyncGenerator<OrderRecord> {
  const fileName = basename(file.path);
  // relax_quotes: a stray quote inside a cell is kept as text rather than
  // derailing the rest of the file; an unclosed quote still fails its record.
  // Every line end is one: csv-parse otherwise keeps to the first one it sees,
  // and the LF lines of a CRLF file would be read as one record.
  const parser = parse({
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  // Malformed records are skipped by the parser and reported here (with how
  // many records came before), to be merged back in order so that each of
  // their lines still gets its result row.
  const skipped: Array<{ before: number; err: CsvError & { raw?: string; records?: number } }> = [];
  parser.on('skip', (err: CsvError & { raw?: string; records?: number }) => skipped.push({ before: err.records ?? Number.POSITIVE_INFINITY, err }));
  // Lines with bytes that are not UTF-8, in line order.
  const badBytes: BadBytes[] = [];
  const input = createReadStream(file.path, opts.signal ? { signal: opts.signal } : {});
  // Errors reach the parser (destroyed with them), and so the loop below.
  // Lines longer than a record may be, in line order.
  const longLines: number[] = [];
  pipeline(input, utf8Decoder({ onBad: (b) => badBytes.push(b), onLong: (l) => longLines.push(l), maxLineBytes: MAX_LINE_CHARS }), parser, () => {});

  let header: Header | undefined;
  let headerError: ScimEtlError | undefined;
  let seq = firstSeq;
  let records = 0;
  // The line the next record (or the blank lines before it) starts on.
  let nextLine = 1;
  const lineOf = (line: number, orderId: string, command: string, id?: string): OrderLine => {
    const l: OrderLine = { seq: seq++, fileIndex, file: fileName, line, orderId, command };
    if (id) l.id = id;
    return l;
  };
  /** The first bad byte on lines [start, end), dropping those before. */
  const badIn = (start: number, end: number): BadBytes | undefined => {
    while (badBytes.length && badBytes[0]!.line < start) badBytes.shift();
    const b = badBytes[0];
    return b && b.line < end ? b : undefined;
  };
  const longIn = (start: number, end: number): boolean => {
    while (longLines.length && longLines[0]! < start) longLines.shift();
    return longLines.length > 0 && longLines[0]! < end;
  };
  const flushSkipped = function* (upTo: number): Generator<OrderRecord> {
    while (skipped.length && skipped[0]!.before <= upTo) {
      const { err } = skipped.shift()!;
      const at = recordLines(nextLine, err.raw ?? '');
      nextLine = at.next;
      for (const rec of syntaxFailures(err, at, file, lineOf)) {
        yield rec;
      }
    }
  };

  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      if (skipped.length) yield* flushSkipped(records);
      records++;
      const at = recordLines(nextLine, item.raw);
      const line = at.start;
      nextLine = at.next;
      const bad = badIn(line, Math.max(at.next, line + 1));
      const tooLong = item.raw.length > MAX_LINE_CHARS || longIn(line, Math.max(at.next, line + 1));
      if (!header && !headerError) {
        if (bad) headerError = encodingError(bad, file.path);
        else if (tooLong) headerError = new ScimEtlError('ERR_ORDER_BAD_HEADER', `the header line is longer than ${MAX_LINE_CHARS} bytes`, { file: file.path, line });
        else {
          try {
            header = parseHeader(item.record, file, opts, line);
          } catch (err) {
            headerError = isScimEtlError(err) ? err : new ScimEtlError('ERR_ORDER_BAD_HEADER', String(err));
          }
        }
        continue;
      }
      if (bad) {
        yield { kind: 'invalid', line: lineOf(line, String(line), firstCell(item.record)), error: encodingError(bad, file.path) };
      } else if (tooLong) {
        const error = new ScimEtlError('ERR_ORDER_LINE_TOO_LONG', `the line is longer than ${MAX_LINE_CHARS} bytes: not sent`, { file: file.path, line });
        yield { kind: 'invalid', line: lineOf(line, String(line), firstCell(item.record)), error };
      } else {
        yield toRecord(item.record, line, header, headerError, file, opts, lineOf);
      }
    }
  } catch (err) {
    if (isScimEtlError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ScimEtlError('ERR_FULFILL_ORDERS_READ', `cannot read order file ${file.path}: ${e.code ?? e.message}`, { file: file.path }, { cause: err });
  }
  yield* flushSkipped(Number.POSITIVE_INFINITY);
  if (!header && !headerError) opts.logger?.warn(`${file.path} is empty (not even a header line): no orders read from it`);
  else if (records <= 1 && !skipped.length) opts.logger?.debug(() => `${file.path} holds a header and no orders`);
}

/** The command cell of a line that is refused before its header is known (for its results row). */
function firstCell(cells: string[]): string {
  return (cells[0] ?? '').trim().toLowerCase().slice(0, 20);
}

function encodingError(bad: BadBytes, path: string): ScimEtlError {
  const hex = `0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')}`;
  const why =
    bad.offset === 0 && (bad.byte === 0xff || bad.byte === 0xfe)
      ? 'the file starts with a UTF-16 byte order mark: save it as UTF-8'
      : `invalid UTF-8 at byte offset ${bad.offset} (byte ${hex}): the line is not sent; save the file as UTF-8`;
  return new ScimEtlError('ERR_ORDER_BAD_ENCODING', why, { file: path, line: bad.line, offset: bad.offset });
}

/**
 * The records of a malformed CSV record: a quote never closed swallows every
 * line after it, so each of those lines gets its own refusal (one result row
 * per line, never fewer).
 */
function* syntaxFailures(
  err: CsvError & { raw?: string },
  at: { start: number; next: number },
  file: OrderFile,
  lineOf: (line: number, orderId: string, command: string) => OrderLine,
): Generator<OrderRecord> {
  const raw = (err.raw ?? '').replace(/^[\r\n]*/, '');
  const texts = raw.split(/\r\n|\r|\n/);
  if (texts.length > 1 && texts[texts.length - 1] === '') texts.pop();
  const last = at.start + Math.max(texts.length, 1) - 1;
  const message =
    err.code === 'CSV_QUOTE_NOT_CLOSED'
      ? `a quote opened on line ${at.start} is never closed: lines ${at.start}-${last} were read as one cell; none of them is sent`
      : err.message.replace(/ at line \d+/, '');
  if (err.code !== 'CSV_QUOTE_NOT_CLOSED') {
    yield { kind: 'invalid', line: lineOf(at.start, String(at.start), ''), error: new ScimEtlError('ERR_ORDER_CSV_SYNTAX', message, { file: file.path, line: at.start }) };
    return;
  }
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    if (i > 0 && text.trim() === '') continue;
    const n = at.start + i;
    const command = (text.split(',')[0] ?? '').replace(/"/g, '').trim().toLowerCase().slice(0, 20);
    yield { kind: 'invalid', line: lineOf(n, String(n), command), error: new ScimEtlError('ERR_ORDER_CSV_SYNTAX', message, { file: file.path, line: n }) };
  }
}

/**
 * Where a record starts, and where the one after it may start, counted from
 * its raw text: csv-parse's own line count (info.lines) counts a CRLF inside a
 * quoted cell twice. Leading line breaks are the skipped blank lines.
 */
function recordLines(from: number, raw: string): { start: number; next: number } {
  const lead = /^[\r\n]*/.exec(raw)![0];
  const start = from + lineBreaks(lead);
  return { start, next: start + lineBreaks(raw.slice(lead.length)) };
}

/** CRLF, CR and LF each end one line. */
function lineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function parseHeader(cells: string[], file: OrderFile, opts: OrderSourceOptions, line: number): Header {
  const where = { file: file.path, line };
  const colOf = (index: number, offset = 0) => cells.slice(0, index).reduce((n, c) => n + c.length + 1, 0) + offset + 1;
  const find = (name: string) => cells.findIndex((c) => c.trim().toLowerCase() === name.toLowerCase());
  // The same column twice, in any case: which one would win is anyone's guess.
  const seen = new Map<string, number>();
  const once = (key: string, index: number) => {
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `column ${index + 1} '${cells[index]!.trim()}' repeats column ${first + 1} '${cells[first]!.trim()}': give each column once`, { ...where, col: colOf(index) });
    }
    seen.set(key, index);
  };
  const header: Header = { command: find('command'), id: -1, orderId: find('orderId'), value: -1, memberId: -1, attributes: [], required: [], width: cells.length };
  if (header.command < 0) {
    throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `no 'command' column in the header (got ${JSON.stringify(cells.join(','))})`, where);
  }
  if (file.kind === 'members') {
    cells.forEach((c, i) => once(c.trim().toLowerCase(), i));
    header.value = find('value');
    header.memberId = find('MemberId');
    if (header.value < 0 || header.memberId < 0) {
      throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `a membership file needs the columns command, value, MemberId (got ${JSON.stringify(cells.join(','))})`, where);
    }
    return header;
  }
  header.id = find('id');
  if (file.kind !== 'users') {
    cells.forEach((c, i) => once(c.trim().toLowerCase(), i));
    return header;
  }
  cells.forEach((text, index) => {
    const name = text.trim().toLowerCase();
    if (name === 'command' || name === 'id' || name === 'orderid') return once(name, index);
    let path;
    try {
      path = parseColumnPath(text, opts.knownSchemas ?? KNOWN_SCHEMAS);
    } catch (err) {
      const offset = isScimEtlError(err) && typeof err.context.offset === 'number' ? err.context.offset : 0;
      throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `column ${index + 1} '${text}': ${(err as Error).message}`, { ...where, col: colOf(index, offset) });
    }
    once(columnKey(path), index);
    const info = withDialectLimit(describeColumn(path, opts.schemas), opts.cannotWrite);
    if (info.path !== path) opts.logger?.debug(() => `${file.path}: column '${path.text}' is sent as '${spelled(info.path)}', the schema's case`);
    const secret = info.attribute?.mutability === 'writeOnly' || /password|secret/i.test(info.path.attr);
    // Plans print these attributes' values masked, whatever the value.
    if (secret) registerSecretField(info.path.sub ?? info.path.attr);
    header.attributes.push({ index, info, secret });
  });
  const core = findSchema(opts.schemas, USER_SCHEMA);
  header.required = (core?.attributes ?? []).filter((a) => a.required && a.mutability !== 'readOnly').map((a) => a.name);
  return header;
}

/** What a column writes, case-blind: two columns with one key write the same value. */
function columnKey(p: ColumnPath): string {
  return `${(p.schema ?? USER_SCHEMA).toLowerCase()}|${p.attr.toLowerCase()}|${p.filter ? formatFilter(p.filter).toLowerCase() : ''}|${(p.sub ?? '').toLowerCase()}`;
}

function spelled(p: ColumnPath): string {
  return `${p.schema ? p.schema + ':' : ''}${p.attr}${p.filter ? `[${formatFilter(p.filter)}]` : ''}${p.sub ? ':' + p.sub : ''}`;
}

function toRecord(
  cells: string[],
  lineNo: number,
  header: Header | undefined,
  headerError: ScimEtlError | undefined,
  file: OrderFile,
  opts: OrderSourceOptions,
  lineOf: (line: number, orderId: string, command: string, id?: string) => OrderLine,
): OrderRecord {
  const at = (i: number | undefined) => (i !== undefined && i >= 0 ? (cells[i] ?? '').trim() : '');
  const explicit = header ? at(header.orderId) : '';
  const command = header ? at(header.command).toLowerCase() : (cells[0] ?? '').trim().toLowerCase();
  const id = header && header.id >= 0 ? at(header.id) : undefined;
  const line = lineOf(lineNo, explicit || String(lineNo), command, id || undefined);
  // Line numbers repeat across files: the key of a line-numbered insert names its file too.
  if (!explicit) line.key = `f${line.fileIndex}-l${lineNo}`;
  const invalid = (code: string, message: string): OrderRecord => ({ kind: 'invalid', line, error: new ScimEtlError(code, message, { file: file.path, line: lineNo }) });

  if (headerError || !header) {
    return { kind: 'invalid', line, error: headerError ?? new ScimEtlError('ERR_ORDER_BAD_HEADER', 'no header row') };
  }
  if (cells.length !== header.width) {
    return invalid('ERR_ORDER_COLUMN_COUNT', `line has ${cells.length} cells, the header has ${header.width}`);
  }
  if (file.kind === 'unsupported') {
    return invalid('ERR_ORDER_UNSUPPORTED_ENTITY', `orders for ${file.entity} are not supported: only Users are created, updated and deleted, and only memberships are changed`);
  }
  if (file.kind === 'members') {
    if (!MEMBER_COMMANDS.has(command)) return invalid('ERR_ORDER_UNKNOWN_COMMAND', `unknown command ${JSON.stringify(command)} for a membership (add or remove)`);
    const group = at(header.value);
    const member = at(header.memberId);
    if (!group) return invalid('ERR_ORDER_MISSING_VALUE', `'value' (the ${file.entity} id) is empty`);
    if (!member || member === '@') return invalid('ERR_ORDER_MISSING_VALUE', `'MemberId' is empty`);
    return { kind: 'member', line: { ...line, id: group }, command: command as MemberCommand, entity: file.entity, group, member, ...(file.attribute ? { attribute: file.attribute } : {}) };
  }
  if (!USER_COMMANDS.has(command)) return invalid('ERR_ORDER_UNKNOWN_COMMAND', `unknown command ${JSON.stringify(command)} (insert, update or delete)`);
  if ((command === 'update' || command === 'delete') && !id) return invalid('ERR_ORDER_MISSING_ID', `${command} needs the user's id in the 'id' column`);

  const typed: TypedCell[] = [];
  if (command !== 'delete') {
    // First, so that a refusal naming a secret cell's text is masked too.
    for (const { index, secret } of header.attributes) {
      const text = cells[index] ?? '';
      if (secret && text !== '' && text !== opts.nullMarker) (line.secrets ??= []).push(text);
    }
    for (const { index, info } of header.attributes) {
      const text = cells[index] ?? '';
      if (text === '') continue; // empty = unchanged
      if (info.problem) return { kind: 'invalid', line, error: new ScimEtlError(info.problem.code, info.problem.message, { file: file.path, line: lineNo, col: index + 1 }) };
      if (text === opts.nullMarker) {
        // Nothing to clear on a new resource.
        if (command === 'update') typed.push({ path: info.path, value: null, multiValued: info.multiValued });
        continue;
      }
      try {
        const value = typeCell(info, text);
        typed.push({ path: info.path, value, multiValued: info.multiValued });
      } catch (err) {
        if (!isScimEtlError(err)) throw err;
        return { kind: 'invalid', line, error: new ScimEtlError(err.code, err.message, { file: file.path, line: lineNo, col: index + 1 }) };
      }
    }
  }
  if (command === 'insert') {
    const missing = header.required.filter((name) => !typed.some((c) => !c.path.schema && c.path.attr.toLowerCase() === name.toLowerCase()));
    if (missing.length) return invalid('ERR_ORDER_MISSING_REQUIRED', `insert needs ${missing.map((m) => `'${m}'`).join(', ')} (required by the User schema)`);
  }
  return { kind: 'user', line, command: command as UserCommand, entity: 'Users', ...(id ? { id } : {}), cells: typed };
}
