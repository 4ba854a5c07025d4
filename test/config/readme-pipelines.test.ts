/**
 * The README shows every shipped pipeline as it is in pipelines/, so that the
 * examples never drift; what its table of shipped pipelines says about each
 * one is true of the file; and no two shipped pipelines write the same file.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPipeline } from '../../lib/config/load.js';
import type { Pipeline } from '../../lib/config/types.js';
import { planTables, tableFileName } from '../../lib/export.js';
import { journalPath } from '../../lib/fulfill/journal.js';

const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const files = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.yaml')).sort();
/** The variables the examples need and have no default for (as test/config/pipelines.test.ts). */
const env = {
  SF_CLIENT_ID: 'consumer-key',
  SF_CLIENT_SECRET: 'consumer-secret',
  SF_LOGIN: 'admin@example.com',
  SF_PASSWORD: 'password-and-token',
  SLACK_TOKEN: 'xoxp-test-token',
  CYBERARK_LOGIN: 'svc-scim',
  CYBERARK_PASSWORD: 'cyberark-password',
};
const load = (file: string) => loadPipeline(join(ROOT, 'pipelines', file), { env, cwd: ROOT });

/** The row of the README's "Shipped pipelines" table for a file. */
function claimOf(file: string): string {
  const row = readme.split('\n').find((l) => l.startsWith(`| \`pipelines/${file}\` |`));
  expect(row, `the README's table of shipped pipelines has no row for pipelines/${file}`).to.be.a('string');
  return row!.split('|')[2]!.trim();
}

/** Words in a claim and what they require of the pipeline. */
const CHECKS: Array<[RegExp, (p: Pipeline, m: RegExpMatchArray) => boolean]> = [
  [/incremental (\w+)/i, (p, m) => Boolean(p.export?.entities.find((e) => e.name === m[1])?.incremental)],
  [/(\w+) with members/i, (p, m) => Boolean(p.export?.entities.find((e) => e.name === m[1])?.members)],
  [/no Bulk/i, (p) => p.fulfill?.serviceSupportBulk === false],
  [/with SCIM Bulk/i, (p) => p.fulfill?.serviceSupportBulk === true],
  [/active Users only/i, (p) => /\bactive eq true\b/.test(p.export?.entities.find((e) => e.name === 'Users')?.filter ?? '')],
  [/`privilegedData`/, (p) => Boolean(p.export?.entities.some((e) => e.privilegedData))],
  [/Entitlements/, (p) => Boolean(p.export?.entities.some((e) => e.name === 'Entitlements'))],
  [/thresholds/, (p) => Boolean(p.fulfill?.maxDeletes || p.fulfill?.maxChanges)],
  [/null marker/, (p) => Boolean(p.fulfill?.nullMarker)],
];

describe('README pipeline examples', () => {
  for (const file of files) {
    it(`shows pipelines/${file} verbatim`, () => {
      const body = readFileSync(join(ROOT, 'pipelines', file), 'utf8').trimEnd();
      expect(readme.includes('```yaml\n' + body + '\n```'), `README's copy of pipelines/${file} differs`).to.equal(true);
    });

    it(`says only what is true of pipelines/${file}`, async () => {
      const claim = claimOf(file);
      const p = await load(file);
      const wrong: string[] = [];
      for (const [re, holds] of CHECKS) {
        const m = claim.match(re);
        if (m && !holds(p, m)) wrong.push(m[0]);
      }
      expect(wrong, `README claims about pipelines/${file}: "${claim}"`).to.deep.equal([]);
    });
  }

  it('the claim checks catch a false claim (an "incremental Users" the pipeline does not have)', async () => {
    const p = await load('export-users-groups.yaml');
    const [re, holds] = CHECKS[0]!;
    expect(holds(p, 'incremental Users'.match(re)!)).to.equal(false);
  });

  it('no two shipped pipelines write the same file (export tables, fulfill journal)', async () => {
    const writers = new Map<string, string>();
    const clashes: string[] = [];
    const claim = (path: string, file: string) => {
      const other = writers.get(path);
      if (other && other !== file) clashes.push(`${path}: ${other} and ${file}`);
      writers.set(path, file);
    };
    for (const file of files) {
      const p = await load(file);
      if (p.export) for (const t of planTables(p)) claim(join(p.export.output, tableFileName(p.connection.identifier, t.name, p.export.format)), file);
      if (p.fulfill) claim(journalPath(resolve(join(ROOT, 'pipelines'), p.fulfill.results), p.connection.identifier), file);
    }
    expect(writers.size).to.be.above(files.length);
    expect(clashes).to.deep.equal([]);
  });
});
