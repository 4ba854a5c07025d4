/**
 * `scim-etl run`: export, then fulfill, against the in-process sandbox.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync, mkdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'run-test-token';

function writePipeline(dir: string): string {
  mkdirSync(join(dir, 'orders'), { recursive: true });
  writeFileSync(
    join(dir, 'orders', 'RunTest_Users.csv'),
    'command,orderId,userName,name:givenName\r\ninsert,o1,new.person@example.com,Nouveau\r\n',
  );
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'connection:',
      '  identifier: RunTest',
      '  server: ${SCIM_SERVER}',
      '  oAuthToken: ${SCIM_TOKEN}',
      '  retry: { limit: 1, backoff: 1 }',
      'export:',
      '  output: out',
      '  entities:',
      '    Users:',
      '      columns: [id, userName]',
      'fulfill:',
      '  orders: orders',
      '  results: results',
      '',
    ].join('\n'),
  );
  return file;
}

describe('run command', () => {
  let sb: Sandbox;
  let dir: string;

  beforeEach(async () => {
    sb = await startSandbox({ data: join(ROOT, 'samples/directory.json'), token: TOKEN });
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-run-'));
  });
  afterEach(async () => {
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports, then fulfills, with one connection', async () => {
    const before = sb.store.users.length;
    const file = writePipeline(dir);
    const r = await cli(['run', file, '--no-progress'], { env: { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN } });
    expect(r.code, r.stderr).to.equal(0);
    const table = readFileSync(join(dir, 'out', 'RunTest_Users.csv'), 'utf8');
    expect(table.split(/\r?\n/)[0]).to.equal('id,userName');
    expect(table.split(/\r?\n/).filter(Boolean)).to.have.length(before + 1);
    const results = readFileSync(join(dir, 'results', 'RunTest_Users.csv'), 'utf8');
    expect(results).to.match(/o1,insert,[^,]+,201,ok/);
    expect(sb.store.users.length).to.equal(before + 1);
  });

  it('does not fulfill when the export failed, and exits 1', async () => {
    const before = sb.store.users.length;
    sb.setFaults([{ route: 'GET /v2/Users', kind: '500', times: 100 }]);
    const file = writePipeline(dir);
    const r = await cli(['run', file, '--no-progress'], { env: { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN } });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/fulfill not started/);
    expect(existsSync(join(dir, 'results'))).to.equal(false);
    expect(sb.store.users.length).to.equal(before);
  });

  it('refuses a pipeline with nothing to run before any request (exit 78)', async () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, 'version: 1\nconnection:\n  identifier: RunTest\n  server: ${SCIM_SERVER}\n');
    const r = await cli(['run', file], { env: { SCIM_SERVER: sb.url } });
    expect(r.code, r.stderr).to.equal(78);
    expect(r.stderr).to.match(/ERR_CONFIG_NOTHING_TO_RUN/);
    expect(sb.requests).to.have.length(0);
  });
});
