/**
 * The set-up most CLI tests share: per test, a fresh temp directory and a
 * sandbox slot that is stopped (and emptied) after the test, with the
 * directory removed. Call it inside a describe; use `t.dir` and `t.sb`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../lib/sandbox/index.js';

export function perTestSandbox(prefix = 'scim-etl-test-'): { dir: string; sb: Sandbox | undefined } {
  const t: { dir: string; sb: Sandbox | undefined } = { dir: '', sb: undefined };
  beforeEach(() => {
    t.dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await t.sb?.stop();
    t.sb = undefined;
    rmSync(t.dir, { recursive: true, force: true });
  });
  return t;
}
