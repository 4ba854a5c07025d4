/**
 * An export killed mid-run (kill -9, SIGTERM, SIGINT) replaces nothing: the
 * previous files stay byte-identical, and the next run removes the killed
 * run's temp files and writes complete output. The killed runs are real child
 * processes (`node --import tsx bin/scim-etl.ts export`).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'rel-kill-token';
const USERS = 2000;
const FILES = ['T_Groups.csv', 'T_Users.csv', 'T_members_Groups.csv'];

const userPages = (sb: Sandbox) => sb.requests.filter((q) => q.method === 'GET' && q.path.startsWith('/v2/Users')).length;

/** Runs the CLI as a child; sends `sig` once the sandbox has served `after` user pages. */
function runAndSignal(file: string, sb: Sandbox, after: number, sig: NodeJS.Signals): Promise<{ sent: boolean; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/scim-etl.ts'), 'export', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let sent = false;
    const base = userPages(sb); // the log holds earlier runs' requests too
    const timer = setInterval(() => {
      if (!sent && userPages(sb) - base >= after) sent = child.kill(sig);
    }, 1);
    child.on('error', rej);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      res({ sent, code, signal, stderr });
    });
  });
}

describe('reliability: export killed mid-run', function () {
  this.timeout(60_000);
  let dir: string;
  let sb: Sandbox;
  let previous: Map<string, Buffer>;

  async function pipeline(columns: string): Promise<string> {
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1\nconnection:\n  identifier: T\n  server: ${sb.url}\n  oAuthToken: ${TOKEN}\n  pageSize: 50\n  concurrency: 2\nexport:\n  output: ${join(dir, 'out')}\n  entities:\n    Users:\n      columns: [${columns}]\n    Groups:\n      columns: [id]\n      members: true\n`,
    );
    return file;
  }
  const snapshot = async () => new Map(await Promise.all(FILES.map(async (f) => [f, await readFile(join(dir, 'out', f))] as const)));
  const temps = async () => (await readdir(join(dir, 'out'))).filter((n) => n.endsWith('.tmp'));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-kill-'));
    // Slow user pages, so that each signal lands mid-table.
    sb = await startSandbox({ generate: { users: USERS, groups: 5, members: 100, seed: 11 }, token: TOKEN, port: 0, faults: [{ kind: 'slow', route: 'GET /v2/Users', delayMs: 15 }] });
    // The previous run wrote ids only; the killed runs would write userName too.
    const r = await cli(['export', await pipeline('id')]);
    expect(r.code, r.stderr).to.equal(0);
    previous = await snapshot();
    await pipeline('id, userName');
  });
  after(async () => {
    await sb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const after of [1, 25]) {
    it(`kill -9 after ${after} user page(s): the previous files are byte-identical`, async () => {
      const r = await runAndSignal(join(dir, 'p.yaml'), sb, after, 'SIGKILL');
      expect(r.sent, 'the run ended before the kill').to.equal(true);
      expect(r.signal).to.equal('SIGKILL');
      // Killed mid-table: its temp file is there (an earlier kill's was swept by this run's start).
      expect(await temps()).to.have.length(1);
      expect(await snapshot()).to.deep.equal(previous);
    });
  }

  for (const [sig, exit] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${sig} mid-export: exit ${exit}, its temp files removed, the previous files byte-identical`, async () => {
      const r = await runAndSignal(join(dir, 'p.yaml'), sb, 5, sig);
      expect(r.sent).to.equal(true);
      expect(r.code, `${sig}: exit ${r.code} signal ${r.signal}: ${r.stderr}`).to.equal(exit);
      expect(r.stderr).to.match(/ERR_/).and.not.match(/^\s+at /m);
      expect(await temps()).to.deep.equal([]);
      expect(await snapshot()).to.deep.equal(previous);
    });
  }

  it('the next run sweeps the killed runs\' temp files and writes complete output', async () => {
    const r = await cli(['export', join(dir, 'p.yaml')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await temps()).to.deep.equal([]);
    const users = parse(await readFile(join(dir, 'out', 'T_Users.csv'), 'utf8'), { columns: true }) as Array<{ id: string; userName: string }>;
    expect(users.length).to.equal(USERS);
    expect(users.map((u) => u.id).sort()).to.deep.equal([...sb.store.ids('Users')].sort());
    for (const u of users) expect(u.userName).to.equal(sb.store.get('Users', u.id)!.userName);
  });
});
