/**
 * Order CSVs → OrderRecord, one record per order line, in file order.
 *
 * Files named `<identifier>_Users.csv` hold user orders, files named
 * `<identifier>_members_<Entity>.csv` membership orders; any other entity is
 * refused row by row (the seed changes no other entity). Every problem with a
 * line becomes an `invalid` record carrying a coded error, so that the
 * results file still gets exactly one row for it; a bad header makes every
 * line of its file invalid.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { ScimEtlError, isScimEtlError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { KNOWN_SCHEMAS, parseColumnPath } from '../../scim/path.js';
import { findSchema, USER_SCHEMA, type SchemaDefinition } from '../../scim/schemas.js';
import { describeColumn, typeCell, type ColumnInfo } from '../../scim/columns.js';
import type { OrderLine, OrderRecord, TypedCell, UserCommand, MemberCommand } from '../../types.js';

export type OrderFileKind = 'users' | 'members' | 'unsupported';

export interface OrderFile {
  path: string;
  kind: OrderFileKind;
  /** Users / the resource type whose members change (Groups, Entitlements…) / the refused entity. */
  entity: string;
}

/** What a file name says it holds. */
export function classifyOrderFile(path: string): OrderFile {
  const name = basename(path);
  const members = /_members_([^_]+)\.csv$/i.exec(name);
  if (members) return { path, kind: 'members', entity: members[1]! };
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
}

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
  attributes: Array<{ index: number; info: ColumnInfo }>;
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

async function* readOrderFile(file: OrderFile, fileIndex: number, opts: OrderSourceOptions, firstSeq: number): AsyncGenerator<OrderRecord> {
  const fileName = basename(file.path);
  // relax_quotes: a stray quote inside a cell is kept as text rather than
  // derailing the rest of the file; an unclosed quote still fails its record.
  const parser = parse({ info: true, raw: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true, skip_records_with_error: true });
  // Malformed records are skipped by the parser and reported here; they are
  // merged back in line order so that each still gets its result row.
  const skipped: Array<{ line: number; error: ScimEtlError }> = [];
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    skipped.push({ line: err.lines ?? 0, error: new ScimEtlError('ERR_ORDER_CSV_SYNTAX', err.message.replace(/ at line \d+/, ''), { file: file.path, line: err.lines }) });
  });
  const input = createReadStream(file.path, opts.signal ? { signal: opts.signal } : {});
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  let header: Header | undefined;
  let headerError: ScimEtlError | undefined;
  let seq = firstSeq;
  // The line the next record (or the blank lines before it) starts on.
  let nextLine = 1;
  const lineOf = (line: number, orderId: string, command: string, id?: string): OrderLine => {
    const l: OrderLine = { seq: seq++, fileIndex, file: fileName, line, orderId, command };
    if (id) l.id = id;
    return l;
  };
  const flushSkipped = function* (before: number): Generator<OrderRecord> {
    while (skipped.length && skipped[0]!.line < before) {
      const s = skipped.shift()!;
      yield { kind: 'invalid', line: lineOf(s.line, String(s.line), ''), error: s.error };
    }
  };

  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      const at = recordLines(nextLine, item.raw);
      const line = at.start;
      nextLine = at.next;
      yield* flushSkipped(line);
      if (!header && !headerError) {
        try {
          header = parseHeader(item.record, file, opts);
        } catch (err) {
          headerError = isScimEtlError(err) ? err : new ScimEtlError('ERR_ORDER_BAD_HEADER', String(err));
        }
        continue;
      }
      yield toRecord(item.record, line, header, headerError, file, opts, lineOf);
    }
  } catch (err) {
    if (isScimEtlError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ScimEtlError('ERR_FULFILL_ORDERS_READ', `cannot read order file ${file.path}: ${e.code ?? e.message}`, { file: file.path }, { cause: err });
  }
  yield* flushSkipped(Number.POSITIVE_INFINITY);
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

function parseHeader(cells: string[], file: OrderFile, opts: OrderSourceOptions): Header {
  const find = (name: string) => cells.findIndex((c) => c.trim().toLowerCase() === name.toLowerCase());
  const header: Header = { command: find('command'), id: -1, orderId: find('orderId'), value: -1, memberId: -1, attributes: [], required: [], width: cells.length };
  const where = { file: file.path, line: 1 };
  if (header.command < 0) {
    throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `no 'command' column in the header (got ${JSON.stringify(cells.join(','))})`, where);
  }
  if (file.kind === 'members') {
    header.value = find('value');
    header.memberId = find('MemberId');
    if (header.value < 0 || header.memberId < 0) {
      throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `a membership file needs the columns command, value, MemberId (got ${JSON.stringify(cells.join(','))})`, where);
    }
    return header;
  }
  header.id = find('id');
  if (file.kind !== 'users') return header;
  cells.forEach((text, index) => {
    if (index === header.command || index === header.id || index === header.orderId) return;
    let path;
    try {
      path = parseColumnPath(text, opts.knownSchemas ?? KNOWN_SCHEMAS);
    } catch (err) {
      const offset = isScimEtlError(err) && typeof err.context.offset === 'number' ? err.context.offset : 0;
      const col = cells.slice(0, index).reduce((n, c) => n + c.length + 1, 0) + offset + 1;
      throw new ScimEtlError('ERR_ORDER_BAD_HEADER', `column ${index + 1} '${text}': ${(err as Error).message}`, { ...where, col });
    }
    header.attributes.push({ index, info: describeColumn(path, opts.schemas) });
  });
  const core = findSchema(opts.schemas, USER_SCHEMA);
  header.required = (core?.attributes ?? []).filter((a) => a.required && a.mutability !== 'readOnly').map((a) => a.name);
  return header;
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
    return { kind: 'member', line: { ...line, id: group }, command: command as MemberCommand, entity: file.entity, group, member };
  }
  if (!USER_COMMANDS.has(command)) return invalid('ERR_ORDER_UNKNOWN_COMMAND', `unknown command ${JSON.stringify(command)} (insert, update or delete)`);
  if ((command === 'update' || command === 'delete') && !id) return invalid('ERR_ORDER_MISSING_ID', `${command} needs the user's id in the 'id' column`);

  const typed: TypedCell[] = [];
  if (command !== 'delete') {
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
        if (info.attribute?.mutability === 'writeOnly' || /password|secret/i.test(info.path.attr)) registerSecret(text);
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
