/**
 * Logging to stderr only (stdout is for data). Text or JSON lines; every line
 * is redacted and its control characters escaped. Levels: quiet < normal < verbose.
 *
 * A message may be given as a function: it is called only when the level is
 * on, so that a debug line on a hot path (one per request, per row) costs
 * nothing without --verbose: `logger.debug(() => `${method} ${safeUrl(url)}`)`.
 */
import { redact } from './redact.js';
import { escapeControls } from './terminal-safe.js';

export type LogFormat = 'text' | 'json';
export type Level = 'error' | 'warn' | 'info' | 'debug';
/** A message, or a function that builds it only when its level is on. */
export type Message = string | (() => string);
export type Fields = Record<string, unknown>;

export interface LoggerOptions {
  format?: LogFormat;
  verbose?: boolean;
  quiet?: boolean;
  stream?: NodeJS.WritableStream;
}

const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

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

  log(level: Level, msg: Message, f: Fields | (() => Fields) = {}): void {
    if (!this.enabled(level)) return;
    const message = typeof msg === 'function' ? msg() : msg;
    const fields = typeof f === 'function' ? f() : f;
    let line: string;
    if (this.format === 'json') {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields });
    } else {
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const prefix = level === 'info' ? '' : `${level}: `;
      line = `${prefix}${message}${extra ? ' ' + extra : ''}`;
    }
    this.stream.write(escapeControls(redact(line), this.format) + '\n');
  }

  error(m: Message, f?: Fields): void { this.log('error', m, f); }
  warn(m: Message, f?: Fields): void { this.log('warn', m, f); }
  info(m: Message, f?: Fields): void { this.log('info', m, f); }
  /** Give hot call sites a function: `debug(() => …)` builds nothing unless --verbose. */
  debug(m: Message, f?: Fields | (() => Fields)): void { this.log('debug', m, f); }
}

/** A logger that writes nothing: the default for library use and unit tests. */
export const silentLogger = new Logger({ quiet: true, stream: { write: () => true } as unknown as NodeJS.WritableStream });
