/**
 * kill -9 in the middle of a fulfill, then the same orders again: the server
 * ends as after one uninterrupted run (nobody created twice, every change
 * made), every results line is `ok`, and the killed run's temp files are gone.
 * The killed runs are real child processes (`node --import tsx bin/scim-etl.ts`),
 * each against its own sandbox, started together to keep the test short.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { readResults, tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIRECTORY = join(ROOT, 'samples/directory.json');
const TOKEN = 'sandbox-token-for-crash-tests';
const TOUR_GUIDES = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
const EVERYONE = '0b5e2c1a-7d3f-4e8a-9b6c-5d4e3f2a1b0c';
const UPDATED = ['2819c223-7f76-453a-919d-413861904646', '9a1b7c3e-0f52-4d8e-8a4b-6c2d1e0f9a01', 'b3c4d5e6-1111-4a2b-9c3d-000000000003'];
const DELETED = ['b3c4d5e6-1111-4a2b-9c3d-000000000009', 'b3c4d5e6-1111-4a2b-9c3d-000000000010'];
const INSERTS = 30;

function orderFiles(dir: string, bulk = false): string {
  const users = ['command,id,orderId,userName,title'];
  for (let i = 0; i < INSERTS; i++) users.push(`insert,,n${i},crash${i}@example.com,T${i}`);
  for (const id of UPDATED) users.push(`update,${id},,,Updated`);
  for (const id of DELETED) users.push(`delete,${id},,,`);
  const members = ['command,value,MemberId'];
  for (let i = 0; i < INSERTS; i++) members.push(`add,${i % 2 ? TOUR_GUIDES : EVERYONE},@n${i}`);
  mkdirSync(join(dir, 'orders'), { recursive: true });
  writeFileSync(join(dir, 'orders/T_Users.csv'), users.join('\n') + '\n');
  // Sorted by group, a few members per PATCH: many requests to be killed in.
  writeFileSync(join(dir, 'orders/T_members_Groups.csv'), [members[0], ...members.slice(1).sort()].join('\n') + '\n');
  const file = join(dir, 'p.yaml');
  writeFileSync(
    file,
    ['version: 1', 'connection:', '  identifier: T', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'fulfill:', '  orders: orders', '  results: results', '  concurrency: 4', '  maxMembersPerPatch: 3', `  serviceSupportBulk: ${bulk}`, '  bulkMaxOperation: 4'].join('\n') + '\n',
  );
  return file;
}

/** The directory as comparable data: users by userName (no ids or meta), groups' members as userNames. */
function stateOf(sb: Sandbox) {
  const nameOf = new Map(sb.store.users.map((u) => [u.id!, u.userName as string]));
  const users = Object.fromEntries(
    sb.store.users.map((u) => {
      const { id: _id, meta: _meta, groups: _groups, ...rest } = u as Record<string, unknown>;
      return [u.userName as string, rest];
    }),
  );
  const groups = Object.fromEntries(sb.store.groups.map((g) => [g.displayName as string, sb.store.memberIds(g.id!).map((id) => nameOf.get(id) ?? id).sort()]));
  return { users, groups };
}

const writes = (sb: Sandbox) => [...sb.counts.entries()].filter(([route]) => !route.startsWith('GET')).reduce((n, [, c]) => n + c, 0);

/** Starts the real CLI as a child and kills it (-9) once the sandbox has taken `after` writes. */
function runAndKill(file: string, sb: Sandbox, after: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/scim-etl.ts'), 'fulfill', file, '--quiet'], {
      // tsx resolves from the working directory; the pipeline's paths are relative to its own file.
      cwd: ROOT,
      env: { ...process.env, SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN },
      stdio: 'ignore',
    });
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && writes(sb) >= after) {
        killed = child.kill('SIGKILL');
      }
    }, 1);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolvePromise({ killed, code });
    });
  });
}

describe('fulfill after kill -9', function () {
  this.timeout(60_000);
  const sandboxes: Sandbox[] = [];
  // Writes are slowed a little, so that a kill lands with requests in flight.
  const start = async () => {
    const sb = await startSandbox({ port: 0, data: DIRECTORY, token: TOKEN, faults: [{ route: '/^(POST|PATCH|DELETE) /', kind: 'slow', delayMs: 4 }] });
    sandboxes.push(sb);
    return sb;
  };
  after(async () => {
    for (const sb of sandboxes) await sb.stop();
  });

  it('a rerun of the same orders after a kill at random points ends like one uninterrupted run, every line ok', async () => {
    const reference = await start();
    const refDir = tempDir();
    const refFile = orderFiles(refDir);
    const r = await cli(['fulfill', refFile], { env: { SCIM_SERVER: reference.url, SCIM_TOKEN: TOKEN }, cwd: refDir });
    expect(r.code, r.stderr).to.equal(0);
    const total = writes(reference);
    const expected = stateOf(reference);
    const refRows = await readResults(join(refDir, 'results/T_Users.csv'));
    expect(refRows.every((x) => x.outcome === 'ok')).to.equal(true);

    // The same orders with Bulk (4 operations per request), for its number of writes.
    const bulkRef = await start();
    const bulkRefDir = tempDir();
    expect((await cli(['fulfill', orderFiles(bulkRefDir, true)], { env: { SCIM_SERVER: bulkRef.url, SCIM_TOKEN: TOKEN }, cwd: bulkRefDir })).code).to.equal(0);
    expect(stateOf(bulkRef)).to.deep.equal(expected);
    const bulkTotal = writes(bulkRef);

    // Kill points early to late (single requests), and one in Bulk mode, each in its own directory and sandbox.
    const jitter = (f: number, n: number) => Math.max(1, Math.min(n - 1, Math.floor(n * (f + (Math.random() - 0.5) * 0.2))));
    const points = [...[0.15, 0.5, 0.85].map((f) => ({ bulk: false, after: jitter(f, total) })), { bulk: true, after: jitter(0.5, bulkTotal) }];
    const runs = await Promise.all(
      points.map(async ({ bulk, after }) => {
        const sb = await start();
        const dir = tempDir();
        const file = orderFiles(dir, bulk);
        const killed = await runAndKill(file, sb, after);
        return { sb, dir, file, after: `${after}${bulk ? ' (Bulk)' : ''}`, killed };
      }),
    );
    for (const { sb, dir, file, after, killed } of runs) {
      const why = `killed after ${after} writes (of ${total}, Bulk ${bulkTotal})`;
      expect(killed.killed, `${why}: the child ended (${killed.code}) before the kill`).to.equal(true);
      const again = await cli(['fulfill', file], { env: { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN }, cwd: dir });
      expect(again.code, `${why}: ${again.stderr}`).to.equal(0);
      expect(stateOf(sb), why).to.deep.equal(expected);
      for (const name of ['T_Users.csv', 'T_members_Groups.csv']) {
        const rows = await readResults(join(dir, 'results', name));
        expect(rows.filter((x) => x.outcome !== 'ok').map((x) => [x.orderId, x.outcome, x.detail]), `${why}: ${name}`).to.deep.equal([]);
        expect(rows.length, why).to.equal((await readResults(join(refDir, 'results', name))).length);
      }
      // The ids reported are the users the server holds.
      for (const row of (await readResults(join(dir, 'results/T_Users.csv'))).filter((x) => x.command === 'insert')) {
        expect(sb.store.get('Users', row.id!)?.title, `${why}: ${row.orderId}`).to.equal(`T${row.orderId!.slice(1)}`);
      }
      expect(readdirSync(join(dir, 'results')).filter((n) => n.endsWith('.tmp')), why).to.deep.equal([]);
    }
  });
});
