/**
 * Each dialect end to end through the real CLI against the sandbox in that
 * dialect: the shipped pipeline's export, its fulfill of the sample orders
 * (samples/orders/<dialect>/; RFC: samples/orders), and the export after it
 * must give exactly the files in samples/expected/<dialect>/{export,results,after-fulfill}/.
 * Created ids are sequential (sandbox option), so the files are reproducible.
 * SCIM_ETL_UPDATE_GOLDEN=1 rewrites them (review the diff before committing).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { perTestRig, RIGS, ROOT, startRig, type DialectKey } from './helpers.js';

const UPDATE = process.env.SCIM_ETL_UPDATE_GOLDEN === '1';

/** The visible files of a directory (the journal is a dot file: internal, not an output). */
function files(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
}

function expectSameFiles(actualDir: string, expectedDir: string): void {
  if (UPDATE) {
    rmSync(expectedDir, { recursive: true, force: true });
    mkdirSync(expectedDir, { recursive: true });
    for (const f of files(actualDir)) writeFileSync(join(expectedDir, f), readFileSync(join(actualDir, f)));
    return;
  }
  expect(existsSync(expectedDir), `${expectedDir} is missing: run with SCIM_ETL_UPDATE_GOLDEN=1`).to.equal(true);
  expect(files(actualDir), expectedDir).to.deep.equal(files(expectedDir));
  for (const f of files(expectedDir)) expect(readFileSync(join(actualDir, f), 'utf8'), `${expectedDir}/${f}`).to.equal(readFileSync(join(expectedDir, f), 'utf8'));
}

const ORDERS: Record<DialectKey, string> = {
  rfc: join(ROOT, 'samples/orders'),
  salesforce: join(ROOT, 'samples/orders/salesforce'),
  slack: join(ROOT, 'samples/orders/slack'),
  cyberark: join(ROOT, 'samples/orders/cyberark'),
};

describe('expected outputs per dialect (samples/expected/<dialect>/)', () => {
  const rig = perTestRig();

  for (const key of Object.keys(RIGS) as DialectKey[]) {
    it(`${key}: export, fulfill of the sample orders, export again`, async () => {
      const setup = RIGS[key];
      rig.sb = await startRig(key, { sequentialIds: true });
      const env = setup.env(rig.sb);
      const expected = join(ROOT, 'samples/expected', key);

      const first = await cli(['export', setup.pipeline, '--output', join(rig.dir, 'export'), '--no-progress'], { env });
      expect(first.code, first.stderr).to.equal(0);
      expectSameFiles(join(rig.dir, 'export'), join(expected, 'export'));

      const ful = await cli(['fulfill', setup.fulfillPipeline, '--orders', ORDERS[key], '--results', join(rig.dir, 'results')], { env });
      expect(ful.code, ful.stderr).to.equal(0);
      expectSameFiles(join(rig.dir, 'results'), join(expected, 'results'));

      const after = await cli(['export', setup.pipeline, '--output', join(rig.dir, 'after'), '--no-progress'], { env });
      expect(after.code, after.stderr).to.equal(0);
      expectSameFiles(join(rig.dir, 'after'), join(expected, 'after-fulfill'));
      const paths = rig.sb.requests.map((q) => `${q.method} ${q.path}`);
      // Bulk only where the pipeline asks for it and the dialect has it (RFC's sample does).
      expect(paths.some((p) => p.endsWith('/Bulk')), 'Bulk').to.equal(key === 'rfc');
      // The token endpoints the dialects' hooks name: Salesforce's oAuth2Url, CyberArk's /oauth2/token/<applicationId>.
      if (key === 'salesforce') expect(paths).to.include('POST /oauth2/token');
      if (key === 'cyberark') expect(paths).to.include('POST /oauth2/token/scim');
      // Discovery asks the path the dialect serves first: the root search meets no 404 on Salesforce and Slack.
      const firstSpc = paths.find((p) => /ServiceProviderConfigs?$/.test(p));
      expect(firstSpc, 'first discovery request').to.match(key === 'salesforce' || key === 'slack' ? /ServiceProviderConfigs$/ : /ServiceProviderConfig$/);
    });
  }
});
