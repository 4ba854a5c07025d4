/**
 * Per-table progress on stderr: `Users  1,200 / 5,000  24%  850/s  ETA 4s`.
 * On a TTY one line is redrawn in place; elsewhere (forced with --progress)
 * a line is printed at most every `intervalMs`. Never on stdout: data only there.
 */
import { escapeControls } from './terminal-safe.js';

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Off: every call is a no-op. */
  enabled: boolean;
  label: string;
  /** Injectable clock (tests). */
  now?: () => number;
  /** Least time between two redraws, ms (default 250 on a TTY, 5000 otherwise). */
  intervalMs?: number;
}

export interface Progress {
  /** Items done so far, and the total when known. */
  update(done: number, total?: number): void;
  /** Final redraw and newline. */
  finish(): void;
}

const noop: Progress = { update: () => undefined, finish: () => undefined };

export function createProgress(opts: ProgressOptions): Progress {
  if (!opts.enabled) return noop;
  const now = opts.now ?? Date.now;
  const tty = Boolean(opts.stream.isTTY);
  const interval = opts.intervalMs ?? (tty ? 250 : 5000);
  const started = now();
  let last = -Infinity;
  let done = 0;
  let total: number | undefined;
  let drawn = -1;

  const draw = (final: boolean) => {
    const line = formatProgress(opts.label, done, total, now() - started);
    if (tty) opts.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else opts.stream.write(line + '\n');
    drawn = done;
  };

  return {
    update(d, t) {
      done = d;
      if (t !== undefined) total = t;
      const at = now();
      if (at - last >= interval) {
        last = at;
        draw(false);
      }
    },
    finish() {
      // On a TTY the final draw ends the line; elsewhere only when it says something new.
      if (tty ? drawn >= 0 || done > 0 : drawn !== done) draw(true);
    },
  };
}

/** The progress text (pure, for tests). The label is shown with its control characters escaped. */
export function formatProgress(label: string, done: number, total: number | undefined, elapsedMs: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? done / secs : 0;
  let text = `${escapeControls(label)}  ${n(done)}`;
  if (total !== undefined && total > 0) {
    const pct = Math.min(100, Math.floor((done / total) * 100));
    text += ` / ${n(total)}  ${pct}%`;
  }
  text += `  ${n(Math.round(rate))}/s`;
  if (total !== undefined && rate > 0 && done < total) text += `  ETA ${formatDuration((total - done) / rate)}`;
  return text;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
