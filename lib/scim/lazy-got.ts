/**
 * got, imported on first use: loading it costs ~0.1-0.2 s of start-up, which
 * `--help`, `validate` and every command that never streams a reply would pay.
 */
import type { Got } from 'got';

let loading: Promise<Got> | undefined;

export function loadGot(): Promise<Got> {
  loading ??= import('got').then((m) => m.default);
  return loading;
}
