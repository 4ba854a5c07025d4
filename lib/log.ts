/**
 * Logging to stderr only (stdout is for data). Text or JSON lines; every line
 * is redacted and its control characters escaped. Levels: quiet < normal < verbose.
 *
 * Two ways to log:
 * - `logger.emit(level, event, fields, text?)`: a structured event. JSON lines
 *   are `{time, level, event, msg?, ...fields}` with the fields typed (numbers
 *   stay numbers); text lines are `text` (or `event key=value …` without it;
 *   `{msg, append}` prints msg, then the `append` fields as key=value).
 *   The events and their fields are listed in the README ("Log events").
 * - `logger.info(msg, fields?)` (and warn/error/debug): a plain message; in
 *   JSON its event is `message` (`warning` / `error` at those levels).
 *
 * A message or the fields may be given as a function: it is called only when
 * the level is on, so a line on a hot path (one per request) costs nothing
 * without --verbose: `logger.emit('debug', 'http.request', () => ({…}), fmt)`.
 */
import { redact } from './redact.js';
import { escapeControls } from './terminal-safe.js';

export type LogFormat = 'text' | 'json';
export type Level = 'error' | 'warn' | 'info' | 'debug';
/** A message, or a function that builds it only when its level is on. */
export type Message = string | (() => string);
export type Fields = Record<string, unknown>;
/** A human line and the fields the text format shows after it as key=value (JSON has them as fields already). */
export interface TextLine {
  msg: string;
  append: Fields;
}
/** The human line of an event: as is, or built from its fields. */
export type EventText<F extends Fields = Fields> = string | TextLine | ((fields: F) => string | TextLine);

export interface LoggerOptions {
  format?: LogFormat;
  verbose?: boolean;
  quiet?: boolean;
  stream?: NodeJS.WritableStream;
}

const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** The event of a plain message, by level. */
const PLAIN_EVENT: Record<Level, string> = { error: 'error', warn: 'warning', info: 'message', debug: 'message' };

export class Logger {
  readonly format: LogFormat;
  private readonly max: number;
  private readonly stream: NodeJS.WritableStream;

  constructor(opts: LoggerOptions = {}) {
    this.format = opts.format ?? 'text';
    this.max = opts.quiet ? ORDER.error : opts.verbose ? ORDER.debug : ORDER.info;
    this.stream = opts.stream ?? process.stderr;
  }

  enabled(level: Level): boolean {
    return ORDER[level] <= this.max;
  }

  /** A plain message (event `message`, `warning` or `error`); text: the message, then the fields as key=value. */
  log(level: Level, msg: Message, f: Fields | (() => Fields) = {}): void {
    if (!this.enabled(level)) return;
    const message = typeof msg === 'function' ? msg() : msg;
    const fields = (typeof f === 'function' ? f() : f) ?? {};
    if (this.format === 'json') return this.writeJson(level, PLAIN_EVENT[level], message, fields);
    const extra = keyValues(fields);
    this.writeText(level, `${message}${extra ? ' ' + extra : ''}`);
  }

  /** A structured event: `fields` typed in JSON; `text` is the human line (default: `event key=value …`). */
  emit<F extends Fields>(level: Level, event: string, f: F | (() => F), text?: EventText<F>): void {
    if (!this.enabled(level)) return;
    const fields = typeof f === 'function' ? f() : f;
    const built = typeof text === 'function' ? text(fields) : text;
    const line = typeof built === 'object' ? built : built === undefined ? { msg: event, append: fields } : { msg: built, append: {} };
    if (this.format === 'json') return this.writeJson(level, event, built === undefined ? undefined : line.msg, fields);
    const extra = keyValues(line.append);
    this.writeText(level, `${line.msg}${extra ? ' ' + extra : ''}`);
  }

  error(m: Message, f?: Fields): void { this.log('error', m, f); }
  warn(m: Message, f?: Fields): void { this.log('warn', m, f); }
  info(m: Message, f?: Fields): void { this.log('info', m, f); }
  /** Give hot call sites a function: `debug(() => …)` builds nothing unless --verbose. */
  debug(m: Message, f?: Fields | (() => Fields)): void { this.log('debug', m, f); }

  private writeJson(level: Level, event: string, msg: string | undefined, fields: Fields): void {
    // time, level and event first and never overwritten by a field of the same name.
    const record: Fields = { time: new Date().toISOString(), level, event };
    if (msg !== undefined) record.msg = msg;
    for (const [k, v] of Object.entries(fields)) if (!(k in record) && v !== undefined) record[k] = v;
    this.stream.write(escapeControls(redact(JSON.stringify(record)), 'json') + '\n');
  }

  private writeText(level: Level, text: string): void {
    const prefix = level === 'info' ? '' : `${level}: `;
    this.stream.write(escapeControls(redact(prefix + text), 'text') + '\n');
  }
}

/** Fields as `k=v k2=v2` (strings bare, the rest as JSON); undefined values left out. */
export function keyValues(fields: Fields): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** A logger that writes nothing: the default for library use and unit tests. */
export const silentLogger = new Logger({ quiet: true, stream: { write: () => true } as unknown as NodeJS.WritableStream });
