/**
 * Runs one contestant as a process of its own and reports what it cost:
 * wall time (from spawn to exit, measured here) and peak RSS from the OS.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -f %M`, the kernel's
 * ru_maxrss of the process, and for a shell pipeline the largest process in
 * it) when it is installed, else from polling `/proc/<pid>/status` VmHWM of
 * the process and its descendants every 20 ms (the largest one seen).
 * `RSS_METHOD` says which one is in use; BENCH_RSS=proc forces polling.
 *
 * Every run is bounded: past `timeoutMs` its whole process group is killed
 * and the run counts as failed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = process.env.BENCH_RSS !== 'proc' && existsSync(GNU_TIME) && /GNU/.test(safeHelp());
export const RSS_METHOD = hasGnuTime ? 'GNU time (/usr/bin/time -f %M: ru_maxrss)' : 'polling /proc/<pid>/status VmHWM every 20 ms';

/** `--version` names GNU time; busybox's `time` has no such option. */
function safeHelp(): string {
  try {
    return String(execFileSync(GNU_TIME, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    return String(e.stdout ?? '') + String(e.stderr ?? '');
  }
}

export interface Command {
  /** argv[0] and its arguments; or a shell pipeline for `sh -c`. */
  argv?: string[];
  shell?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the contestant's stdout goes (default: discarded). */
  stdoutFile?: string;
  timeoutMs: number;
}

export interface Run {
  ok: boolean;
  code: number | null;
  seconds: number;
  rssMiB: number;
  /** The end of stderr, when the run failed. */
  error?: string;
}

export async function measure(cmd: Command): Promise<Run> {
  const argv = cmd.shell !== undefined ? ['sh', '-c', cmd.shell] : cmd.argv!;
  const scratch = mkdtempSync(join(tmpdir(), 'scim-etl-measure-'));
  const rssFile = join(scratch, 'rss');
  const full = hasGnuTime ? [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv] : argv;
  const out = cmd.stdoutFile ? openSync(cmd.stdoutFile, 'w') : 'ignore';
  const started = process.hrtime.bigint();
  const child = spawn(full[0]!, full.slice(1), { cwd: cmd.cwd, env: cmd.env ?? process.env, stdio: ['ignore', out, 'pipe'], detached: true });
  if (typeof out === 'number') closeSync(out);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let polled = 0;
  const poll = hasGnuTime
    ? undefined
    : setInterval(() => {
        if (child.pid !== undefined) polled = Math.max(polled, treeHwmKiB(child.pid));
      }, 20);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }, cmd.timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      stderr += String(err);
      resolve(null);
    });
    child.on('close', (c) => resolve(c));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearTimeout(timer);
  if (poll) clearInterval(poll);
  let rssKiB = polled;
  if (hasGnuTime) {
    try {
      // GNU time writes "Command exited with non-zero status N" above the figure.
      const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
      rssKiB = Number(lines[lines.length - 1]);
    } catch {
      rssKiB = NaN;
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  const ok = code === 0 && !timedOut;
  const run: Run = { ok, code, seconds, rssMiB: rssKiB / 1024 };
  if (!ok) run.error = timedOut ? `killed after ${cmd.timeoutMs / 1000} s` : `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
  return run;
}

/** The largest VmHWM (KiB) of a process and its descendants. */
function treeHwmKiB(pid: number): number {
  let max = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) max = Math.max(max, Number(m[1]));
      for (const t of readdirSync(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) stack.push(Number(c));
      }
    } catch {
      /* exited meanwhile */
    }
  }
  return max;
}
