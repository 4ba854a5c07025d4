/**
 * Export and fulfill decide from the verdicts `check` cached, while the
 * cache matches the server's root and SPC: Bulk PATCH found ignored goes
 * singly from the first order; a projection found broken starts where it
 * works. A changed SPC makes the cache stale: the run discovers as it goes.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { perTestSandbox } from '../helpers/per-test.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USERS = [1, 2, 3, 4].map((i) => ({ id: `u${i}`, userName: `user${i}`, name: { givenName: `G${i}`, familyName: `F${i}` }, [ENT]: { employeeNumber: `E${i}` } }));

describe('export and fulfill read the verdict cache', () => {
  const t = perTestSandbox('scim-etl-cached-run-');

  async function start(opts: SandboxOptions) {
    t.sb = await startSandbox({ token: 't', data: { users: USERS, groups: [] } as never, ...opts });
  }

  function pipeline(): string {
    const file = join(t.dir, 'p.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'connection:',
        '  identifier: C',
        '  server: ${S}',
        '  oAuthToken: ${T}',
        'export:',
        '  output: out',
        '  entities:',
        `    Users: {columns: [id, userName, "${ENT}:employeeNumber"]}`,
        'fulfill:',
        '  orders: orders',
        '  results: results',
        '  serviceSupportBulk: true',
      ].join('\n') + '\n',
    );
    mkdirSync(join(t.dir, 'orders'), { recursive: true });
    writeFileSync(join(t.dir, 'orders/C_Users.csv'), 'command,id,title\n' + USERS.map((u) => `update,${u.id},T-${u.id}\n`).join(''));
    return file;
  }

  const env = () => ({ env: { S: t.sb!.url, T: 't' }, cwd: t.dir });
  const cacheFile = () => join(t.dir, 'out', 'C.server.json');

  it('fulfill sends PATCH singly from the first order when the cache says Bulk PATCH is ignored, and says so', async () => {
    await start({ quirks: ['bulkPatchIgnored'], bulk: { supported: true } });
    const file = pipeline();
    expect((await cli(['check', file, '--write'], env())).code).to.equal(0);
    const before = t.sb!.requests.length;
    const r = await cli(['fulfill', file, '--verbose'], env());
    expect(r.code, r.stderr).to.equal(0);
    const sent = t.sb!.requests.slice(before);
    expect(sent.filter((q) => q.path === '/v2/Bulk')).to.deep.equal([]);
    expect(sent.filter((q) => q.method === 'PATCH')).to.have.length(USERS.length);
    expect(r.stderr).to.include(`cached verdict from ${cacheFile()}`);
    expect(r.stderr).to.match(/bulk\.patch fails/);
    for (const u of USERS) expect(t.sb!.store.get('Users', u.id)!.title).to.equal(`T-${u.id}`);
  });

  it('a changed ServiceProviderConfig makes the cache stale: fulfill tries Bulk again', async () => {
    await start({ quirks: ['bulkPatchIgnored'], bulk: { supported: true } });
    const file = pipeline();
    expect((await cli(['check', file, '--write'], env())).code).to.equal(0);
    const port = t.sb!.port;
    await t.sb!.stop();
    // The same root, another SPC (a lower maxOperations): the server was reconfigured.
    await start({ port, quirks: ['bulkPatchIgnored'], bulk: { supported: true, maxOperations: 50 } });
    const r = await cli(['fulfill', file, '--verbose'], env());
    expect(r.stderr).to.include('verdict cache not used: the ServiceProviderConfig changed');
    expect(r.stderr).to.not.include('cached verdict from');
    expect(t.sb!.requests.filter((q) => q.path === '/v2/Bulk').length).to.be.greaterThan(0);
  });

  it('fulfill sends sub-attributes as complex values from the first PATCH when the cache says dotted paths are ignored', async () => {
    await start({ quirks: ['ignoreDottedReplace'] });
    const file = pipeline();
    writeFileSync(join(t.dir, 'orders/C_Users.csv'), 'command,id,name:givenName\n' + USERS.map((u) => `update,${u.id},New${u.id}\n`).join(''));
    // Single requests: the pipeline without Bulk.
    writeFileSync(file, readFileSync(file, 'utf8').replace('  serviceSupportBulk: true\n', ''));
    const runOnce = async () => {
      const before = t.sb!.requests.length;
      const r = await cli(['fulfill', file, '--verbose'], env());
      expect(r.code, r.stderr).to.equal(0);
      return { r, patches: t.sb!.requests.slice(before).filter((q) => q.method === 'PATCH').length };
    };
    // Without a cache: each update is sent dotted, seen ignored in the reply, sent again as a complex value.
    expect((await runOnce()).patches).to.equal(2 * USERS.length);
    expect((await cli(['check', file, '--write'], env())).code).to.equal(0);
    rmSync(join(t.dir, 'results'), { recursive: true, force: true });
    writeFileSync(join(t.dir, 'orders/C_Users.csv'), 'command,id,name:givenName\n' + USERS.map((u) => `update,${u.id},Again${u.id}\n`).join(''));
    const { r, patches } = await runOnce();
    expect(patches).to.equal(USERS.length);
    expect(r.stderr).to.include(`cached verdict from ${cacheFile()}`);
    expect(r.stderr).to.match(/patch\.dotted fails/);
    for (const u of USERS) expect(t.sb!.store.get('Users', u.id)!.name).to.deep.equal({ givenName: `Again${u.id}`, familyName: u.name.familyName });
  });

  it('export starts the projection at excludedAttributes when the cache says extension values are dropped', async () => {
    await start({ quirks: ['dropExtensionAttributes'] });
    const file = pipeline();
    expect((await cli(['check', file], env())).code).to.equal(0);
    expect(JSON.parse(readFileSync(cacheFile(), 'utf8')).verdicts['projection.extension'].verdict).to.equal('fails');
    const before = t.sb!.requests.length;
    const r = await cli(['export', file, '--verbose', '--no-progress'], env());
    expect(r.code, r.stderr).to.equal(0);
    const lists = t.sb!.requests.slice(before).filter((q) => q.method === 'GET' && q.path === '/v2/Users');
    // Not one request with attributes=: the cache said it loses the extension.
    expect(lists.length).to.be.greaterThan(0);
    expect(lists.every((q) => !new URLSearchParams(q.query).has('attributes'))).to.equal(true);
    expect(r.stderr).to.include(`projection starts at excluded (cached verdict from ${cacheFile()}: projection.extension fails)`);
    const csv = readFileSync(join(t.dir, 'out/C_Users.csv'), 'utf8');
    expect(csv).to.include('u1,user1,E1');
  });
});
