/**
 * The yargs parser, exported so that tests drive it with parseAsync(). Handlers
 * set the exit code through the context; nothing here calls process.exit().
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { Logger, type LogFormat } from '../log.js';
import { redact } from '../redact.js';
import { escapeControls } from '../terminal-safe.js';
import { EXIT, isScimEtlError, ConfigProblems, formatProblem } from '../errors.js';
import type { CommandContext } from './context.js';
import { commands } from './commands/index.js';
import { exitCodeAfter, handleSignals } from './signals.js';

// yargs' ESM build wraps help inside words (cliui's naive ESM wrap); its CommonJS
// build wraps at word boundaries with wrap-ansi. Same parser otherwise.
const yargs = createRequire(import.meta.url)('yargs') as (argv: string[]) => Argv;

export interface RunIO {
  argv: string[];
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
}

export function buildParser(io: RunIO, state: { exitCode: number }): Argv {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const signal = io.signal ?? new AbortController().signal;

  const defaults = globalDefaults(env);
  let parser = yargs(io.argv)
    .scriptName('scim-etl')
    .usage('$0 <command> [options]\n\nExport SCIM 2.0 entities to CSV and fulfill provisioning orders.')
    .option('verbose', { alias: 'v', type: 'boolean', default: defaults.verbose, description: 'Log requests and decisions (env SCIM_ETL_LOG_LEVEL=debug)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: defaults.quiet, description: 'Log errors only (env SCIM_ETL_LOG_LEVEL=error)' })
    .option('log-format', { choices: ['text', 'json'] as const, default: defaults.logFormat, description: 'Log line format on stderr (env SCIM_ETL_LOG_FORMAT)' })
    .option('progress', { type: 'boolean', default: defaults.progress, description: 'Progress on stderr (default: only on a TTY; env SCIM_ETL_PROGRESS=1|0); --no-progress turns it off' })
    .check((argv) => {
      // Both given on the command line contradict each other; an env default yields to the flag.
      if (io.argv.some((a) => a === '--quiet' || a === '-q') && io.argv.some((a) => a === '--verbose' || a === '-v')) {
        throw new UsageError('--quiet and --verbose contradict each other: give one');
      }
      return argv !== undefined;
    })
    .middleware((argv) => {
      const logger = new Logger({
        format: argv.logFormat as LogFormat,
        verbose: Boolean(argv.verbose),
        quiet: Boolean(argv.quiet),
        stream: stderr,
      });
      const ctx: CommandContext = {
        logger,
        stdout,
        stderr,
        env,
        cwd,
        progress: argv.progress === undefined ? Boolean(stderr.isTTY) && !argv.quiet : Boolean(argv.progress),
        signal,
        setExitCode: (code) => {
          state.exitCode = code;
        },
      };
      (argv as Record<string, unknown>).ctx = ctx;
    })
    .demandCommand(1, 'Name a command: export, fulfill, run, validate, discover, check, sandbox, encrypt or completion.')
    .strict()
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version()
    .alias('version', 'V')
    .completion('completion', 'Print a bash/zsh completion script: scim-etl completion >> ~/.bashrc')
    .wrap(Math.min(100, (stdout as { columns?: number }).columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // Usage errors come as a message; handler errors are rethrown for main().
      if (err) throw err;
      throw new UsageError(msg);
    });
  for (const cmd of commands) parser = parser.command(cmd as never);
  return parser;
}

/**
 * Global options from the environment (SCIM_ETL_LOG_FORMAT, SCIM_ETL_LOG_LEVEL,
 * SCIM_ETL_PROGRESS), so CI sets them once; a flag on the command line wins.
 */
export function globalDefaults(env: NodeJS.ProcessEnv): { logFormat: LogFormat; verbose?: boolean; quiet?: boolean; progress?: boolean } {
  const format = env.SCIM_ETL_LOG_FORMAT?.trim().toLowerCase();
  if (format !== undefined && format !== '' && format !== 'text' && format !== 'json') {
    throw new UsageError(`SCIM_ETL_LOG_FORMAT must be text or json, got ${JSON.stringify(env.SCIM_ETL_LOG_FORMAT)}`);
  }
  const level = env.SCIM_ETL_LOG_LEVEL?.trim().toLowerCase();
  if (level !== undefined && level !== '' && !['error', 'info', 'debug'].includes(level)) {
    throw new UsageError(`SCIM_ETL_LOG_LEVEL must be error, info or debug, got ${JSON.stringify(env.SCIM_ETL_LOG_LEVEL)}`);
  }
  const progress = env.SCIM_ETL_PROGRESS?.trim().toLowerCase();
  if (progress !== undefined && progress !== '' && !['1', '0', 'true', 'false'].includes(progress)) {
    throw new UsageError(`SCIM_ETL_PROGRESS must be 1 or 0, got ${JSON.stringify(env.SCIM_ETL_PROGRESS)}`);
  }
  return {
    logFormat: (format || 'text') as LogFormat,
    verbose: level === 'debug' ? true : undefined,
    quiet: level === 'error' ? true : undefined,
    progress: progress ? progress === '1' || progress === 'true' : undefined,
  };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Runs the CLI and resolves to the exit code. Errors are printed as one clean line each. */
export async function run(io: RunIO): Promise<number> {
  const state = { exitCode: EXIT.ok as number };
  const stderr = io.stderr ?? process.stderr;
  const jsonLogs = wantsJsonLogs(io.argv, io.env ?? process.env);
  try {
    // With a parse callback yargs hands us --help/--version text instead of printing to process.stdout.
    let output = '';
    await buildParser(io, state).parseAsync(io.argv, {}, (_err: unknown, _argv: unknown, out: string) => {
      output = out;
    });
    if (output) (io.stdout ?? process.stdout).write(output.endsWith('\n') ? output : output + '\n');
  } catch (err) {
    state.exitCode = reportError(err, stderr, jsonLogs);
  }
  return state.exitCode;
}

/** Whether the run logs JSON, read before the parser runs (errors of the parse itself, signals). */
export function wantsJsonLogs(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const envFormat = env.SCIM_ETL_LOG_FORMAT?.trim().toLowerCase();
  const line = argv.join(' ');
  return argv.includes('--log-format=json') || line.includes('--log-format json') || (envFormat === 'json' && !line.includes('--log-format'));
}

export function reportError(err: unknown, stderr: NodeJS.WritableStream, json = false): number {
  const write = (code: string, message: string, extra: Record<string, unknown> = {}, event = 'error') => {
    const line = json ? JSON.stringify({ time: new Date().toISOString(), level: 'error', event, code, msg: message, ...extra }) : message;
    stderr.write(escapeControls(redact(line), json ? 'json' : 'text') + '\n');
  };
  if (err instanceof ConfigProblems) {
    for (const p of err.problems) write(p.code, formatProblem(p), { ...p }, 'config.problem');
    return EXIT.config;
  }
  if (isScimEtlError(err)) {
    write(err.code, `error: ${err.format()}`);
    return err.exitCode;
  }
  if (err instanceof UsageError) {
    write('ERR_USAGE', `error: ERR_USAGE ${err.message}\nRun 'scim-etl --help' for usage.`);
    return EXIT.usage;
  }
  // Unknown errors are bugs: one line, no stack unless asked for.
  const message = err instanceof Error ? err.message : String(err);
  write('ERR_INTERNAL', `error: ERR_INTERNAL ${message}`);
  if (process.env.SCIM_ETL_DEBUG && err instanceof Error && err.stack) stderr.write(escapeControls(redact(err.stack)) + '\n');
  return EXIT.failure;
}


/** Entry point for bin/: wires process signals and the exit code (130 / 143 for a run SIGINT / SIGTERM stopped). */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  const signals = handleSignals(controller, undefined, undefined, wantsJsonLogs(argv, process.env) ? 'json' : 'text');
  try {
    const code = await run({ argv, signal: controller.signal });
    process.exitCode = exitCodeAfter(code, signals.received);
  } finally {
    signals.dispose();
  }
}
