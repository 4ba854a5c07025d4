/** What every command handler receives besides its own arguments. */
import { Logger, type LogFormat } from '../log.js';

export interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
  logFormat?: LogFormat;
  progress?: boolean;
}

export interface CommandContext {
  logger: Logger;
  /** Where data goes (stdout unless a test captures it). */
  stdout: NodeJS.WritableStream;
  /** Where logs and progress go. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Progress display on stderr: on a TTY unless --no-progress; forced with --progress. */
  progress: boolean;
  /** Aborted on SIGINT/SIGTERM so that stages stop and temp files are removed. */
  signal: AbortSignal;
  /** Set by handlers instead of process.exit(). */
  setExitCode(code: number): void;
}
