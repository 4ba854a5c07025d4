/**
 * Logging to stderr only (stdout is for data). Text or JSON lines; every line
 * is redacted. Levels: quiet < normal < verbose.
 */
import { redact } from './redact.js';

export type LogFormat = 'text' | 'json';
export type Level = 'error' | 'warn' | 'info' | 'debug';

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

  log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
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
    this.stream.write(redact(line) + '\n');
  }

  error(m: string, f?: Record<string, unknown>): void { this.log('error', m, f); }
  warn(m: string, f?: Record<string, unknown>): void { this.log('warn', m, f); }
  info(m: string, f?: Record<string, unknown>): void { this.log('info', m, f); }
  debug(m: string, f?: Record<string, unknown>): void { this.log('debug', m, f); }
}

/** A logger that writes nothing: the default for library use and unit tests. */
export const silentLogger = new Logger({ quiet: true, stream: { write: () => true } as unknown as NodeJS.WritableStream });
