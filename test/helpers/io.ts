/** Shared test helpers: capture CLI output, run the real parser in-process. */
import { PassThrough } from 'node:stream';
import { run } from '../../lib/cli/main.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** A writable that keeps what was written, as the CLI's stdout or stderr. */
export function sink(): PassThrough & { text(): string } {
  const chunks: Buffer[] = [];
  const s = new PassThrough() as PassThrough & { text(): string };
  s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

/** Runs `scim-etl <argv…>` through the exported parser and returns exit code and output. */
export async function cli(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal } = {}): Promise<Captured> {
  const stdout = sink();
  const stderr = sink();
  const code = await run({ argv, stdout, stderr, env: { ...opts.env }, cwd: opts.cwd, signal: opts.signal });
  // Let the PassThroughs flush their last chunks.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
