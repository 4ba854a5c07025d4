/**
 * verify: true against a server that does what it says (the sandbox): every
 * sample order reads back as applied, in Bulk and single mode, so that the
 * read-back gives no false `failed` either.
 */
import { expect } from 'chai';
import { join, resolve } from 'node:path';
import { runFulfill } from '../../lib/fulfill.js';
import { createScimClient } from '../../lib/scim/client.js';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import type { FulfillConfig } from '../../lib/config/types.js';
import { testFulfillPipeline } from '../helpers/model.js';
import { readResults, tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'sandbox-token-for-tests';

describe('fulfill verify: true against the sandbox', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  for (const [name, over] of [
    ['Bulk', { serviceSupportBulk: true }],
    ['Bulk, one operation per batch', { serviceSupportBulk: true, bulkMaxOperation: 1 }],
    ['single requests', { serviceSupportBulk: false, concurrency: 3 }],
  ] as Array<[string, Partial<FulfillConfig>]>) {
    it(`reads every sample order back as applied (${name})`, async () => {
      sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
      const dir = tempDir();
      const pipe = testFulfillPipeline(dir, { identifier: 'SCIMExport', server: sb.url, oAuthToken: TOKEN }, { orders: [join(ROOT, 'samples/orders')], verify: true, ...over });
      const client = createScimClient(pipe.connection);
      try {
        const report = await runFulfill(pipe, { client });
        const rows = [...(await readResults(join(dir, 'results/SCIMExport_Users.csv'))), ...(await readResults(join(dir, 'results/SCIMExport_members_Groups.csv')))];
        expect(rows.filter((r) => r.outcome !== 'ok'), JSON.stringify(rows)).to.deep.equal([]);
        expect(report.exitCode).to.equal(0);
      } finally {
        client.close();
      }
      const readBacks = sb.requests.filter((q) => q.method === 'GET' && /^\/v2\/(Users|Groups)$/.test(q.path));
      expect(readBacks.length).to.be.greaterThan(0);
    });
  }
});

describe('fulfill.verify in a pipeline file', () => {
  const load = async (yaml: string) => {
    const { loadPipeline } = await import('../../lib/config/load.js');
    const dir = tempDir({ 'p.yaml': `version: 1\nconnection:\n  identifier: T\n  server: http://h\nfulfill:\n${yaml}` });
    return loadPipeline(join(dir, 'p.yaml'), { env: {}, cwd: dir });
  };

  it('is off by default, on with `verify: true` (any key case), and refuses a non-boolean', async () => {
    expect((await load('  orders: o\n')).fulfill!.verify).to.equal(undefined);
    expect((await load('  Verify: true\n')).fulfill!.verify).to.equal(true);
    const err = await load('  verify: sometimes\n').then(
      () => undefined,
      (e: { problems?: Array<{ code: string; line?: number }> }) => e,
    );
    expect(err?.problems?.map((p) => [p.code, p.line])).to.deep.equal([['ERR_CONFIG_TYPE', 6]]);
  });
});
