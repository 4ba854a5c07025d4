/**
 * The fulfill journal and reruns: what a run leaves for the next one, that
 * an entry applies only to the same order file content, that a completed
 * run's rerun sends nothing and reports the same, and --restart.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Journal, journalPath, orderFileKey } from '../../lib/fulfill/journal.js';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import type { LineOutcome, OrderLine } from '../../lib/fulfill/types.js';
import { cli } from '../helpers/io.js';
import { tempDir } from './helpers.js';

const line = (fileIndex: number, n: number): OrderLine => ({ seq: fileIndex * 100 + n, fileIndex, file: 'x', line: n, orderId: `o${n}`, command: 'insert' });
const ok = (l: OrderLine, id: string): LineOutcome => ({ seq: l.seq, fileIndex: l.fileIndex, orderId: l.orderId, command: 'insert', outcome: 'ok', status: 201, id, attempts: 1 });

describe('fulfill journal', () => {
  it('keeps intents and outcomes across runs; a torn last line and entries of other file contents are dropped', async () => {
    const dir = tempDir({ 'A_Users.csv': 'command,userName\ninsert,a\ninsert,b\ninsert,c\n', 'B_Users.csv': 'command,userName\ninsert,x\n' });
    const keyA = await orderFileKey(join(dir, 'A_Users.csv'));
    const keyB = await orderFileKey(join(dir, 'B_Users.csv'));
    expect(keyA).to.match(/^A_Users\.csv@[0-9a-f]{20}$/);
    const path = journalPath(join(dir, 'results'), 'T');
    const j = await Journal.open(path, [keyA, keyB]);
    await j.intend([line(0, 2), line(0, 3), line(1, 2)]);
    j.record([ok(line(0, 2), 'id-a'), ok(line(1, 2), 'id-x')], [line(0, 2), line(1, 2)]);
    await j.close();
    // Killed in the middle of a write.
    appendFileSync(path, '{"f":"' + keyA + '","l":4,"o":{"orde');

    const again = await Journal.open(path, [keyA, keyB]);
    expect(again.outcomeOf(line(0, 2))).to.deep.include({ outcome: 'ok', id: 'id-a', status: 201 });
    expect(again.sentWithoutOutcome(line(0, 3))).to.equal(true);
    expect(again.sentWithoutOutcome(line(0, 2))).to.equal(false);
    expect(again.outcomeOf(line(0, 4))).to.equal(undefined);
    await again.close();
    expect(readFileSync(path, 'utf8').endsWith('\n')).to.equal(true);

    // B changed: its entries no longer apply and are dropped from the file; A's stay.
    writeFileSync(join(dir, 'B_Users.csv'), 'command,userName\ninsert,y\n');
    const keyB2 = await orderFileKey(join(dir, 'B_Users.csv'));
    expect(keyB2).to.not.equal(keyB);
    const changed = await Journal.open(path, [keyA, keyB2]);
    expect(changed.outcomeOf(line(1, 2))).to.equal(undefined);
    expect(changed.outcomeOf(line(0, 2))?.id).to.equal('id-a');
    await changed.close();
    expect(readFileSync(path, 'utf8')).to.not.include(keyB);

    const restarted = await Journal.open(path, [keyA, keyB2], { restart: true });
    expect(restarted.size).to.equal(0);
    await restarted.close();
    expect(readFileSync(path, 'utf8')).to.equal('');
    expect(readdirSync(join(dir, 'results')).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  });
});

describe('fulfill reruns', function () {
  const TOKEN = 'sandbox-token-for-journal-tests';
  const GROUP = 'e9e30dba-f08f-4109-8486-d5c6a331660a';
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox({ port: 0, data: resolve(import.meta.dirname, '../../samples/directory.json'), token: TOKEN });
  });
  afterEach(async () => sb.stop());

  function setup(): { dir: string; file: string; env: Record<string, string> } {
    const dir = tempDir({
      'orders/T_Users.csv': 'command,id,orderId,userName,title\ninsert,,n1,rerun1@example.com,A\ninsert,,n2,rerun2@example.com,B\nupdate,2819c223-7f76-453a-919d-413861904646,,,Boss\ndelete,b3c4d5e6-1111-4a2b-9c3d-000000000010,,,\n',
      'orders/T_members_Groups.csv': `command,value,MemberId\nadd,${GROUP},@n1\nadd,${GROUP},@n2\n`,
    });
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'version: 1\nconnection:\n  identifier: T\n  server: ${SCIM_SERVER}\n  oAuthToken: ${SCIM_TOKEN}\nfulfill:\n  orders: orders\n  results: results\n');
    return { dir, file, env: { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN } };
  }
  const writes = () => sb.requests.filter((q) => q.method !== 'GET').length;
  const results = (dir: string) => ['T_Users.csv', 'T_members_Groups.csv'].map((n) => readFileSync(join(dir, 'results', n), 'utf8'));

  it('a completed run, rerun on unchanged orders, sends nothing and reports every line as before', async () => {
    const { dir, file, env } = setup();
    const first = await cli(['fulfill', file], { env, cwd: dir });
    expect(first.code, first.stderr).to.equal(0);
    const before = results(dir);
    const sent = writes();
    expect(sent).to.equal(5);

    const again = await cli(['fulfill', file], { env, cwd: dir });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.match(/resuming: 6 order line\(s\) known from the journal/);
    expect(writes()).to.equal(sent);
    expect(results(dir)).to.deep.equal(before);
    expect(sb.store.users.filter((u) => /^rerun/.test(u.userName as string))).to.have.length(2);
  });

  it('--restart ignores and resets the journal: every line is sent again', async () => {
    const { dir, file, env } = setup();
    expect((await cli(['fulfill', file], { env, cwd: dir })).code).to.equal(0);
    const sent = writes();
    const r = await cli(['fulfill', file, '--restart'], { env, cwd: dir });
    // Sent again, as asked: the inserts meet their users (409, onConflict: fail), so their
    // memberships are not sent; the update and the delete (404, skipped) go again.
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--restart: the journal .*\.T\.journal\.ndjson was reset/);
    expect(writes()).to.equal(sent + 4);
    expect(readFileSync(join(dir, 'results/T_Users.csv'), 'utf8')).to.match(/n1,insert,,409,failed,uniqueness/);
  });

  it('an edited order file is a new order: its lines are sent, and the old entries leave the journal', async () => {
    const { dir, file, env } = setup();
    expect((await cli(['fulfill', file], { env, cwd: dir })).code).to.equal(0);
    const sent = writes();
    const journal = readFileSync(join(dir, 'results/.T.journal.ndjson'), 'utf8');
    rmSync(join(dir, 'orders/T_members_Groups.csv'));
    // Same name, same update line: another content all the same.
    writeFileSync(join(dir, 'orders/T_Users.csv'), 'command,id,orderId,userName,title\nupdate,2819c223-7f76-453a-919d-413861904646,,,Boss\n');
    const r = await cli(['fulfill', file], { env, cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.not.match(/resuming/);
    expect(writes()).to.equal(sent + 1);
    expect(journal.split('\n').filter(Boolean)).to.have.length.above(0);
    const now = readFileSync(join(dir, 'results/.T.journal.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(now.map((e) => [e.l, e.o?.outcome])).to.deep.equal([[2, 'ok']]);
  });
});

describe('fulfill --dry-run into a closed pipe', () => {
  it('ends quietly with exit 0 when the reader stops after one line (`| head -1`)', async () => {
    const users = ['command,orderId,userName'];
    for (let i = 0; i < 3000; i++) users.push(`insert,o${i},pipe${i}@example.com`);
    const dir = tempDir({ 'orders/T_Users.csv': users.join('\n') + '\n' });
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'version: 1\nconnection:\n  identifier: T\n  server: http://127.0.0.1:1\n  oAuthToken: t\nfulfill:\n  orders: orders\n  results: results\n');
    // A real pipe into `head -1`, which exits after the first line.
    const head = spawn('head', ['-1'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let first = '';
    head.stdout.on('data', (d) => (first += d));
    const headDone = new Promise((r) => head.on('exit', r));
    const { run } = await import('../../lib/cli/main.js');
    const { sink } = await import('../helpers/io.js');
    const stderr = sink();
    const code = await run({ argv: ['fulfill', file, '--dry-run'], stdout: head.stdin, stderr, env: {}, cwd: dir });
    await headDone;
    expect(code, stderr.text()).to.equal(0);
    expect(stderr.text()).to.not.match(/EPIPE|Error|at /);
    expect(JSON.parse(first.trim())).to.deep.include({ method: 'POST', path: '/Users' });
  });
});
