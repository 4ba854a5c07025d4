/**
 * Bad order input end to end, the real CLI against the sandbox: what used to
 * go wrong (a corrupted name created, lines lost to mixed line ends, a
 * header in the wrong case refused by the server) now comes out right.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { tempDir, readResults } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'order-input-token';

function workspace(dir: string, users: string | Buffer, fulfill: string[] = []): string {
  mkdirSync(join(dir, 'orders'), { recursive: true });
  writeFileSync(join(dir, 'orders', 'T_Users.csv'), users);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, ['version: 1', 'connection:', '  identifier: T', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'fulfill:', '  orders: orders', '  results: results', ...fulfill.map((l) => `  ${l}`), ''].join('\n'));
  return file;
}

describe('bad order input against the sandbox', () => {
  let sb: Sandbox;
  let env: Record<string, string>;
  beforeEach(async () => {
    sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
    env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
  });
  afterEach(async () => sb.stop());
  const posts = () => sb.requests.filter((r) => r.method === 'POST');

  for (const bulk of [false, true]) {
    it(`creates users from a header in the wrong case, mixed line ends, and refuses the line with invalid UTF-8 unsent (${bulk ? 'Bulk' : 'single'})`, async () => {
      const dir = tempDir();
      const users = Buffer.concat([
        Buffer.from('Command,OrderId,UserName,Name:GivenName\r\ninsert,a,amy@example.com,Amy\ninsert,b,bo@example.com,Bo\r\ninsert,c,cy@example.com,C'),
        Buffer.from([0xe9]), // Latin-1 é: not UTF-8
        Buffer.from('line\ninsert,d,di@example.com,Di\n'),
      ]);
      const r = await cli(['fulfill', workspace(dir, users, [`serviceSupportBulk: ${bulk}`])], { env, cwd: dir });
      expect(r.code, r.stderr).to.equal(2);
      const rows = await readResults(join(dir, 'results', 'T_Users.csv'));
      expect(rows.map((row) => [row.orderId, row.outcome])).to.deep.equal([
        ['a', 'ok'],
        ['b', 'ok'],
        ['4', 'failed'],
        ['d', 'ok'],
      ]);
      expect(rows[2]!.detail).to.match(/^ERR_ORDER_BAD_ENCODING: invalid UTF-8 at byte offset \d+ \(byte 0xE9\)/);
      for (const name of ['amy@example.com', 'bo@example.com', 'di@example.com']) expect(sb.store.findUserByName(name), name).to.not.equal(undefined);
      expect(sb.store.findUserByName('cy@example.com')).to.equal(undefined);
      expect(sb.store.findUserByName('amy@example.com')!.name).to.deep.include({ givenName: 'Amy' });
      expect(JSON.stringify(sb.store.users)).not.to.include('\ufffd');
    });
  }

  it('refuses the run before anything is sent when a header names a column twice (exit 78, no results written)', async () => {
    const dir = tempDir();
    const r = await cli(['fulfill', workspace(dir, 'command,userName,UserName\ninsert,x@example.com,y@example.com\n')], { env, cwd: dir });
    expect(r.code, r.stderr).to.equal(78);
    expect(r.stderr).to.include("ERR_ORDER_BAD_HEADER").and.include("column 3 'UserName' repeats column 2 'userName'").and.include('nothing was sent');
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect(existsSync(join(dir, 'results', 'T_Users.csv'))).to.equal(false);
    expect(posts()).to.deep.equal([]);
    const dry = await cli(['fulfill', workspace(dir, 'command,userName,UserName\ninsert,x@example.com,y@example.com\n'), '--dry-run'], { env, cwd: dir });
    expect(dry.code, dry.stderr).to.equal(78);
    expect(dry.stdout).to.equal('');
  });

  it('plans a dry run over a 10 MB cell quickly: that line refused, the others planned', async () => {
    const dir = tempDir();
    const big = 'x'.repeat(10 * 1024 * 1024);
    const r = await cli(['fulfill', workspace(dir, `command,orderId,userName,title\ninsert,big,b@example.com,${big}\ninsert,ok,o@example.com,Boss\n`), '--dry-run'], { env, cwd: dir });
    expect(r.code, r.stderr.slice(0, 500)).to.equal(2);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).orderRefs)).to.deep.equal([['ok']]);
    expect(r.stderr).to.match(/order 2 \(insert\) would be refused: ERR_ORDER_LINE_TOO_LONG/);
    expect(r.stderr.length).to.be.below(2000);
    expect(sb.requests).to.deep.equal([]);
  });
});
