/**
 * One error type for the whole tool. The code is stable (tests and users match
 * on it); the category says what the user can do next and maps to an exit code.
 */

export type ErrorCategory =
  | 'config' // invalid configuration or bad input before anything was sent: exit 78
  | 'transport' // network or retriable server failure: exit 1
  | 'server' // fatal server answer: exit 1
  | 'auth' // credentials refused: exit 1
  | 'row' // one order line is bad: reported in results, the run goes on
  | 'internal'; // a bug: exit 1

export const EXIT = {
  ok: 0,
  failure: 1,
  partial: 2,
  /** A command line yargs could not parse or that contradicts itself (sysexits EX_USAGE). */
  usage: 64,
  config: 78,
} as const;

/** Where a problem sits in a file the user wrote. 1-based line and column. */
export interface SourcePosition {
  file?: string;
  line?: number;
  col?: number;
}

export interface ErrorContext extends SourcePosition {
  [key: string]: unknown;
}

export class ScimEtlError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly context: ErrorContext;

  constructor(
    code: string,
    message: string,
    context: ErrorContext = {},
    options: { cause?: unknown; category?: ErrorCategory } = {},
  ) {
    super(message);
    this.name = 'ScimEtlError';
    this.code = code;
    this.category = options.category ?? categoryOf(code);
    this.context = context;
    // The cause may hold a request with headers: keep it off enumerable
    // properties so that a JSON dump of the error never carries a token.
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true });
    }
  }

  /** `file:line:col CODE message`, the lint format (positions omitted when unknown). */
  format(): string {
    return formatProblem({ ...this.context, code: this.code, message: this.message });
  }

  get exitCode(): number {
    return exitCodeOf(this.category);
  }
}

/** Code prefixes decide the default category, so most call sites only name a code. */
function categoryOf(code: string): ErrorCategory {
  if (code.startsWith('ERR_CONFIG_') || code.startsWith('ERR_YAML_') || code.startsWith('ERR_FILTER_') || code.startsWith('ERR_PATH_') || code.startsWith('ERR_OPTION_')) return 'config';
  if (code.startsWith('ERR_AUTH_')) return 'auth';
  if (code.startsWith('ERR_ORDER_')) return 'row';
  if (code.startsWith('ERR_TRANSPORT_')) return 'transport';
  if (code.startsWith('ERR_SCIM_') || code.startsWith('ERR_EXPORT_') || code.startsWith('ERR_FULFILL_')) return 'server';
  return 'internal';
}

export function exitCodeOf(category: ErrorCategory): number {
  return category === 'config' ? EXIT.config : EXIT.failure;
}

export interface Problem extends SourcePosition {
  code: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  let where = '';
  if (p.file) {
    where = p.file;
    if (p.line !== undefined) {
      where += `:${p.line}`;
      if (p.col !== undefined) where += `:${p.col}`;
    }
    where += ' ';
  }
  return `${where}${p.code} ${p.message}`;
}

/** Several configuration problems found together; validation reports them all at once. */
export class ConfigProblems extends ScimEtlError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(problems[0]?.code ?? 'ERR_CONFIG_INVALID', `${problems.length} problem(s) in configuration`, {}, { category: 'config' });
    this.problems = problems;
  }
  override format(): string {
    return this.problems.map(formatProblem).join('\n');
  }
}

export function isScimEtlError(err: unknown): err is ScimEtlError {
  return err instanceof ScimEtlError;
}
