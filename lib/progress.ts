/**
 * Progress of a long job on stderr: `Users  1,200 / 5,000  24%  850/s  ETA 4s`.
 * On a TTY one line is redrawn in place; elsewhere (forced with --progress)
 * a line is printed at most every `intervalMs`. With `format: 'json'` each
 * report is a JSON event line instead (`{"event":"progress",…}`), never text,
 * so a JSON log stream stays parseable. Never on stdout: data only there.
 */
import { escapeControls } from './terminal-safe.js';

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Off: every call is a no-op. */
  enabled: boolean;
  label: string;
  /** text (default) or json: the log format of the run. */
  format?: 'text' | 'json';
  /** Counters shown after the rate, e.g. `{ failed: 3 }` → `3 failed` (only when not 0). */
  detail?: () => Record<string, number>;
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

/** What a JSON progress event carries. */
export interface ProgressEvent {
  label: string;
  done: number;
  total?: number;
  percent?: number;
  /** Items per second since the start. */
  rate: number;
  etaSeconds?: number;
  elapsedSeconds: number;
  [counter: string]: unknown;
}

const noop: Progress = { update: () => undefined, finish: () => undefined };

export function createProgress(opts: ProgressOptions): Progress {
  if (!opts.enabled) return noop;
  const now = opts.now ?? Date.now;
  const json = opts.format === 'json';
  const tty = Boolean(opts.stream.isTTY) && !json;
  const interval = opts.intervalMs ?? (tty ? 250 : 5000);
  const started = now();
  let last = -Infinity;
  let done = 0;
  let total: number | undefined;
  let drawn = -1;

  const draw = (final: boolean) => {
    const elapsed = now() - started;
    const detail = opts.detail?.() ?? {};
    if (json) {
      const event = { time: new Date().toISOString(), level: 'info', event: 'progress', ...progressEvent(opts.label, done, total, elapsed), ...detail, final };
      opts.stream.write(escapeControls(JSON.stringify(event), 'json') + '\n');
    } else {
      const line = formatProgress(opts.label, done, total, elapsed) + formatDetail(detail);
      if (tty) opts.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
      else opts.stream.write(line + '\n');
    }
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
      // On a TTY the final draw ends the line, in JSON it is the `final` event; elsewhere only when it says something new.
      if (tty || json ? drawn >= 0 || done > 0 : drawn !== done) draw(true);
    },
  };
}

/** The progress text (pure, for tests). The label is shown with its control characters escaped. */
export function formatProgress(label: string, done: number, total: number | undefined, elapsedMs: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const e = progressEvent(label, done, total, elapsedMs);
  let text = `${escapeControls(label)}  ${n(done)}`;
  if (e.percent !== undefined) text += ` / ${n(total!)}  ${e.percent}%`;
  const secs = elapsedMs / 1000;
  text += `  ${n(Math.round(secs > 0 ? done / secs : 0))}/s`;
  if (e.etaSeconds !== undefined) text += `  ETA ${formatDuration(e.etaSeconds)}`;
  return text;
}

/** The figures of one report (pure): percent and ETA only with a known total. */
export function progressEvent(label: string, done: number, total: number | undefined, elapsedMs: number): ProgressEvent {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? done / secs : 0;
  const e: ProgressEvent = { label, done, rate: Math.round(rate * 10) / 10, elapsedSeconds: Math.round(secs * 10) / 10 };
  if (total !== undefined && total > 0) {
    e.total = total;
    e.percent = Math.min(100, Math.floor((done / total) * 100));
    if (rate > 0 && done < total) e.etaSeconds = Math.round((total - done) / rate);
  }
  return e;
}

/** `  3 failed` for the counters that are not 0. */
function formatDetail(detail: Record<string, number>): string {
  return Object.entries(detail)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `  ${v.toLocaleString('en-US')} ${k}`)
    .join('');
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
