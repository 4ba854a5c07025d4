/**
 * SIGINT and SIGTERM stop a run: the first aborts the run's AbortSignal (every
 * stage and loop checks it, temp files are removed, results of what was sent
 * are written); a second one, or a run still going after the grace period,
 * exits at once. The exit code is the shell's: 128 + the signal number.
 */
import { ScimEtlError } from '../errors.js';

export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT;

/** What handleSignals needs of `process` (a fake in tests). */
export interface SignalHost {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
  exit(code: number): void;
  stderr: { write(text: string): unknown };
}

export interface SignalHandling {
  /** The first signal received, if any. */
  readonly received: StopSignal | undefined;
  dispose(): void;
}

/**
 * The exit code of a run that a signal may have stopped: 128 + the signal
 * when it did not finish its work; a run that still ended well (the sandbox,
 * whose normal end is Ctrl-C, or a run finished just as the signal came)
 * keeps its 0.
 */
export function exitCodeAfter(code: number, received: StopSignal | undefined): number {
  return received && code !== 0 ? SIGNAL_EXIT[received] : code;
}

/** How long a run may take to stop after the first signal before it is ended (ms). */
export const GRACE_MS = 5000;

export function handleSignals(controller: AbortController, host: SignalHost = process as unknown as SignalHost, graceMs = GRACE_MS, format: 'text' | 'json' = 'text'): SignalHandling {
  let received: StopSignal | undefined;
  let timer: NodeJS.Timeout | undefined;
  // With JSON logs a signal line is a JSON event too: the stream stays parseable.
  const say = (sig: StopSignal, action: 'stopping' | 'exiting', text: string) =>
    host.stderr.write(format === 'json' ? JSON.stringify({ time: new Date().toISOString(), level: 'warn', event: 'signal', signal: sig, action, msg: text }) + '\n' : `scim-etl: ${text}\n`);
  const listeners = (Object.keys(SIGNAL_EXIT) as StopSignal[]).map((sig) => {
    const listener = () => {
      if (received) {
        say(sig, 'exiting', `${sig} again: exiting now`);
        host.exit(SIGNAL_EXIT[received]);
        return;
      }
      received = sig;
      say(sig, 'stopping', `${sig}: stopping (send it again to exit at once)`);
      // Coded: stages that rethrow the signal's reason (the client) print
      // ERR_INTERRUPTED, not an internal error.
      controller.abort(new ScimEtlError('ERR_INTERRUPTED', `interrupted by ${sig}`));
      timer = setTimeout(() => {
        say(sig, 'exiting', `still running ${graceMs / 1000}s after ${sig}: exiting now`);
        host.exit(SIGNAL_EXIT[sig]);
      }, graceMs);
      // The timer only ends a run that would not stop; it keeps nothing alive.
      timer.unref?.();
    };
    host.on(sig, listener);
    return [sig, listener] as const;
  });
  return {
    get received() {
      return received;
    },
    dispose() {
      if (timer) clearTimeout(timer);
      for (const [sig, listener] of listeners) host.off(sig, listener);
    },
  };
}
