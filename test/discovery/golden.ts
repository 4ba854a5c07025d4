/** Golden files under test/fixtures/discovery: SCIM_ETL_UPDATE_GOLDEN=1 rewrites them instead of comparing. */
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const GOLDEN_DIR = resolve(import.meta.dirname, '../fixtures/discovery');

export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.SCIM_ETL_UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.SCIM_ETL_UPDATE_GOLDEN !== '1') throw new Error(`no golden file ${name}: run with SCIM_ETL_UPDATE_GOLDEN=1`);
    writeFileSync(file, actual);
    return;
  }
  expect(actual, `differs from test/fixtures/discovery/${name}`).to.equal(readFileSync(file, 'utf8'));
}

/** The sandbox's port changes every run. */
export function portless(text: string, url: string): string {
  return text.split(url).join('http://SANDBOX');
}
