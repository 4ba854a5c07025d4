/**
 * fulfill.ifMatch, the 412 path: another writer changes the user between
 * our read and our PATCH (the test bumps the sandbox's version just before
 * the PATCH goes out). Once: re-read, retry, ok. Every time: the line fails
 * `preconditionFailed` and the other writer's change stays.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { runFulfill } from '../../lib/fulfill.js';
import { createScimClient, type ScimRequest } from '../../lib/scim/client.js';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { testFulfillPipeline } from '../helpers/model.js';
import { readResults, tempDir } from './helpers.js';

const TOKEN = 'sandbox-token-for-tests';

describe('fulfill.ifMatch: 412 re-reads once, then fails preconditionFailed', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
  });

  /** Runs one update order; `interfere` times, the user is changed by "someone else" right before our PATCH. */
  async function updateWithInterference(interfere: number) {
    sb = await startSandbox({ port: 0, token: TOKEN, generate: { users: 3, groups: 1, seed: 3 }, etag: true });
    const id = sb.store.users[0]!.id!;
    const dir = tempDir({ 'orders/T_Users.csv': `command,id,title\nupdate,${id},Ours\n` });
    const pipe = testFulfillPipeline(dir, { server: sb.url, oAuthToken: TOKEN }, { ifMatch: true });
    const real = createScimClient(pipe.connection);
    let left = interfere;
    const client = Object.create(real) as typeof real;
    client.request = async <T>(req: ScimRequest) => {
      if (req.method === 'PATCH' && left > 0) {
        left--;
        const e = sb!.store.entry('Users', id)!;
        e.res.title = 'Theirs';
        sb!.store.touch(e);
      }
      return real.request<T>(req);
    };
    try {
      const report = await runFulfill(pipe, { client });
      const [row] = await readResults(join(dir, 'results/T_Users.csv'));
      const patches = sb.requests.filter((q) => q.method === 'PATCH');
      return { report, row: row!, patches, title: sb.store.get('Users', id)!.title };
    } finally {
      real.close();
    }
  }

  it('a 412 once: the user is read again and the PATCH retried with the new version', async () => {
    const { report, row, patches, title } = await updateWithInterference(1);
    expect(report.exitCode).to.equal(0);
    expect(row).to.include({ outcome: 'ok', status: '200' });
    expect(patches.map((p) => p.status)).to.deep.equal([412, 200]);
    expect(patches[0]!.ifMatch).to.not.equal(patches[1]!.ifMatch);
    expect(title).to.equal('Ours');
  });

  it('a 412 twice: the line fails preconditionFailed and the other change is kept', async () => {
    const { report, row, patches, title } = await updateWithInterference(2);
    expect(report.exitCode).to.equal(2);
    expect(row).to.include({ outcome: 'failed', status: '412', scimType: 'preconditionFailed' });
    expect(row.detail).to.match(/changed while this order was sent/);
    expect(patches.map((p) => p.status)).to.deep.equal([412, 412]);
    expect(title).to.equal('Theirs');
  });
});
