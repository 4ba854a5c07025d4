/**
 * fulfill.deprovision through the real CLI against the sandbox: `deactivate`
 * sends PATCH active=false (the user stays), a rerun on the inactive user is
 * `skipped` with a reason, and the default comes from the dialect.
 */
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { readResults, tempDir } from '../fulfill/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIRECTORY = join(ROOT, 'samples/directory.json');
const TOKEN = 'deprovision-test-token';
const BJENSEN = '2819c223-7f76-453a-919d-413861904646';
const JOSE = '9a1b7c3e-0f52-4d8e-8a4b-6c2d1e0f9a01';
const SEAN_INACTIVE = 'b3c4d5e6-1111-4a2b-9c3d-000000000004';

describe('fulfill.deprovision (delete | deactivate)', () => {
  let sb: Sandbox | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function fulfill(opts: { sandbox?: SandboxOptions; syntax?: string; settings?: string[]; orders: string; argv?: string[] }) {
    sb ??= await startSandbox({ data: DIRECTORY, token: TOKEN, ...opts.sandbox });
    // A fresh directory each run: no journal of an earlier run answers for the server.
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, 'orders'), { recursive: true });
    writeFileSync(join(dir, 'orders', 'T_Users.csv'), opts.orders);
    const yaml = ['version: 1', 'connection:', '  identifier: T', `  server: ${sb.url}`, `  oAuthToken: ${TOKEN}`, `  scimSyntax: ${opts.syntax ?? 'RFC'}`, 'fulfill:', '  orders: orders', '  results: results', ...(opts.settings ?? []).map((s) => `  ${s}`)];
    writeFileSync(join(dir, 'p.yaml'), yaml.join('\n') + '\n');
    const before = sb.requests.length;
    const r = await cli(['fulfill', join(dir, 'p.yaml'), ...(opts.argv ?? [])], {});
    return { ...r, rows: r.code === 78 || opts.argv?.includes('--dry-run') ? [] : await readResults(join(dir, 'results', 'T_Users.csv')), sent: sb.requests.slice(before).map((q) => `${q.method} ${q.path}`) };
  }

  it('deactivate: PATCH active=false, the user stays; a rerun on the inactive user is skipped with a reason', async () => {
    const orders = `command,id\r\ndelete,${BJENSEN}\r\ndelete,${SEAN_INACTIVE}\r\ndelete,no-such-user\r\n`;
    const first = await fulfill({ settings: ['deprovision: deactivate'], orders });
    expect(first.code, first.stderr).to.equal(0);
    expect(first.rows.map((r) => r.outcome)).to.deep.equal(['ok', 'skipped', 'skipped']);
    expect(first.rows[1]!.detail).to.match(/already inactive/);
    expect(first.rows[2]!.detail).to.match(/not found/);
    expect(first.sent.filter((s) => !s.includes('ServiceProviderConfig') && !s.includes('Schemas') && !s.includes('ResourceTypes'))).to.have.members([
      `GET /v2/Users/${BJENSEN}`,
      `PATCH /v2/Users/${BJENSEN}`,
      `GET /v2/Users/${SEAN_INACTIVE}`,
      'GET /v2/Users/no-such-user',
    ]);
    expect(sb!.store.get('Users', BJENSEN)).to.deep.include({ active: false });

    const again = await fulfill({ settings: ['deprovision: deactivate'], orders });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.rows.map((r) => r.outcome)).to.deep.equal(['skipped', 'skipped', 'skipped']);
    expect(again.rows[0]!.detail).to.match(/already inactive/);
    expect(again.sent.some((s) => s.startsWith('PATCH'))).to.equal(false);
  });

  it('deactivate in Bulk mode: the deactivation goes alone, in order, and is read first', async () => {
    const r = await fulfill({ settings: ['deprovision: deactivate', 'serviceSupportBulk: true'], orders: `command,id,title\r\nupdate,${JOSE},Guide\r\ndelete,${JOSE},\r\n` });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.rows.map((x) => x.outcome)).to.deep.equal(['ok', 'ok']);
    const writes = r.sent.filter((s) => !s.startsWith('GET /v2/S') && !s.startsWith('GET /v2/R'));
    expect(writes).to.deep.equal(['POST /v2/Bulk', `GET /v2/Users/${JOSE}`, `PATCH /v2/Users/${JOSE}`]);
    expect(sb!.store.get('Users', JOSE)).to.deep.include({ active: false, title: 'Guide' });
  });

  it('the default comes from the dialect: Slack deactivates, RFC deletes; the setting overrides it', async () => {
    const slack = await fulfill({ sandbox: { dialect: 'Slack' }, syntax: 'Slack', orders: `command,id\r\ndelete,${BJENSEN}\r\n` });
    expect(slack.code, slack.stderr).to.equal(0);
    expect(slack.sent).to.include(`PATCH /v2/Users/${BJENSEN}`);
    expect(slack.sent.some((s) => s.startsWith('DELETE'))).to.equal(false);
    await sb!.stop();
    sb = undefined;

    const rfc = await fulfill({ orders: `command,id\r\ndelete,${BJENSEN}\r\n` });
    expect(rfc.code, rfc.stderr).to.equal(0);
    expect(rfc.sent).to.include(`DELETE /v2/Users/${BJENSEN}`);
    expect(sb!.store.get('Users', BJENSEN)).to.equal(undefined);
    await sb!.stop();
    sb = undefined;

    const forced = await fulfill({ sandbox: { dialect: 'Slack' }, syntax: 'Slack', settings: ['deprovision: delete'], orders: `command,id\r\ndelete,${BJENSEN}\r\n` });
    expect(forced.sent).to.include(`DELETE /v2/Users/${BJENSEN}`);
  });

  it('--dry-run prints the deactivating PATCH', async () => {
    const r = await fulfill({ settings: ['deprovision: deactivate'], orders: `command,id\r\ndelete,${BJENSEN}\r\n`, argv: ['--dry-run'] });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.deep.include({ method: 'PATCH', path: `/Users/${BJENSEN}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] } });
  });

  it('a value other than delete or deactivate is a config error, nothing sent', async () => {
    const r = await fulfill({ settings: ['deprovision: freeze'], orders: `command,id\r\ndelete,${BJENSEN}\r\n` });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.match(/p\.yaml:\d+:\d+ ERR_CONFIG_\w+ .*deprovision/);
    expect(r.sent).to.deep.equal([]);
  });
});
