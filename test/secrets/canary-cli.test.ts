/**
 * End to end: a canary secret in the credential fields of a pipeline must not
 * come out of export, fulfill (single, Bulk and --dry-run) or a refused login:
 * not on stdout, not on stderr (verbose, text and JSON), not in any file written.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli, type Captured } from '../helpers/io.js';
import { expectNoCanary } from './helpers.js';

function canary(): string {
  return `CANARY-${randomBytes(6).toString('hex')}`;
}

/** Every file below `dir`, as text. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

function writeWorkspace(dir: string, credentials: string[], fulfill: string[] = []): string {
  mkdirSync(join(dir, 'orders'), { recursive: true });
  writeFileSync(
    join(dir, 'orders', 'Canary_Users.csv'),
    'command,orderId,userName,name:givenName\r\ninsert,c1,canary.user@example.com,Canary\r\nupdate,,,\r\n',
  );
  writeFileSync(join(dir, 'orders', 'Canary_members_Groups.csv'), 'command,value,MemberId\r\nadd,no-such-group,@c1\r\n');
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'connection:',
      '  identifier: Canary',
      '  server: ${SCIM_SERVER}',
      '  retry: { limit: 0 }',
      ...credentials.map((l) => `  ${l}`),
      'export:',
      '  output: out',
      '  entities:',
      '    Users: { columns: [id, userName, "name:givenName"] }',
      '    Groups: { columns: [id, displayName], members: true }',
      'fulfill:',
      '  orders: orders',
      '  results: results',
      ...fulfill.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  return file;
}

function expectClean(c: string, r: Captured, dir: string): void {
  expectNoCanary(c, [r.stdout], 'stdout');
  expectNoCanary(c, [r.stderr], 'stderr');
  expectNoCanary(c, filesUnder(dir).filter((t) => !t.startsWith('version: 1')), 'an output file');
}

describe('canary: secrets never leak from the commands', () => {
  let sb: Sandbox;
  let dir: string;
  afterEach(async () => {
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const logFormat of ['text', 'json']) {
    it(`export, fulfill (single and Bulk) and dry-run with a canary bearer token (${logFormat} logs, verbose)`, async () => {
      const c = canary();
      sb = await startSandbox({ data: 'samples/directory.json', token: c });
      dir = mkdtempSync(join(tmpdir(), 'scim-etl-canary-'));
      const env = { SCIM_SERVER: sb.url, SCIM_TOKEN: c };
      const common = ['--verbose', '--log-format', logFormat, '--progress'];

      const file = writeWorkspace(dir, ['oAuthToken: ${SCIM_TOKEN}']);
      const exp = await cli(['export', file, ...common], { env });
      expect(exp.code, exp.stderr).to.equal(0);
      expectClean(c, exp, dir);

      const dry = await cli(['fulfill', file, '--dry-run', ...common], { env });
      expect(dry.code, dry.stderr).to.equal(2); // a refused line makes a dry run partial too
      expect(dry.stdout).to.match(/"method":"POST"/);
      expectClean(c, dry, dir);

      const single = await cli(['fulfill', file, ...common], { env });
      expect(single.code, single.stderr).to.equal(2); // the bad lines fail, reported
      expectClean(c, single, dir);

      const bulkFile = writeWorkspace(dir, ['oAuthToken: ${SCIM_TOKEN}'], ['serviceSupportBulk: true', 'onConflict: skip']);
      const bulk = await cli(['fulfill', bulkFile, ...common], { env });
      expect(bulk.code, bulk.stderr).to.equal(2);
      expectClean(c, bulk, dir);
    });
  }

  it('export and fulfill with a canary Basic password', async () => {
    const c = canary();
    sb = await startSandbox({ data: 'samples/directory.json', basic: { login: 'svc-scim', password: c } });
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-canary-'));
    const env = { SCIM_SERVER: sb.url, SCIM_PASSWORD: c };
    const file = writeWorkspace(dir, ['login: svc-scim', 'password: ${SCIM_PASSWORD}']);
    const exp = await cli(['export', file, '--verbose'], { env });
    expect(exp.code, exp.stderr).to.equal(0);
    const ful = await cli(['fulfill', file, '--verbose'], { env });
    expect(ful.code, ful.stderr).to.equal(2);
    const dry = await cli(['fulfill', file, '--dry-run', '--verbose'], { env });
    expect(dry.code, dry.stderr).to.equal(2);
    for (const r of [exp, ful, dry]) expectClean(c, r, dir);
  });

  it('a refused token: exit 1, a clear auth error, no canary in any field', async () => {
    const c = canary();
    sb = await startSandbox({ data: 'samples/directory.json', token: 'the-right-token' });
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-canary-'));
    const file = writeWorkspace(dir, ['oAuthToken: ' + c, 'applicationKey: ' + c + '-key', 'password: ' + c + '-pw']);
    for (const argv of [['export', file, '--verbose'], ['fulfill', file, '--verbose'], ['export', file, '--log-format', 'json']]) {
      const r = await cli(argv, { env: { SCIM_SERVER: sb.url } });
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/ERR_AUTH_REJECTED/);
      expect(r.stderr).not.to.match(/\n\s+at /);
      expectClean(c, r, dir);
      expectNoCanary(`${c}-key`, [r.stderr, r.stdout]);
      expectNoCanary(`${c}-pw`, [r.stderr, r.stdout]);
    }
  });
});
