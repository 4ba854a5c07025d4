/**
 * `export --resume`: a run killed (SIGKILL, a real child process) at several
 * points, or stopped by a lost network, goes on from its checkpoint and its
 * files come out byte-identical to an uninterrupted run's; a checkpoint of
 * other settings is refused; a run without --resume starts over and leaves
 * nothing of the interrupted run behind.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'resume-token';
const FILES = ['T_Groups.csv', 'T_Users.csv', 'T_members_Groups.csv'];

interface CheckpointView {
  tables: Record<string, { done: boolean; rows: number }>;
}

/** Runs the CLI as a child and kills it (SIGKILL) once the checkpoint satisfies `when`. */
function killWhen(file: string, out: string, when: (cp: CheckpointView) => boolean): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/scim-etl.ts'), 'export', file], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let killed = false;
    const timer = setInterval(() => {
      let cp: CheckpointView;
      try {
        cp = JSON.parse(readFileSync(join(out, '.T.resume.json'), 'utf8')) as CheckpointView;
      } catch {
        return;
      }
      if (!killed && when(cp)) killed = child.kill('SIGKILL');
    }, 2);
    child.on('error', rej);
    child.on('exit', () => {
      clearInterval(timer);
      res({ killed, stderr });
    });
  });
}

describe('export --resume', function () {
  this.timeout(60_000);
  let dir: string;
  let sb: Sandbox;
  let reference: Map<string, Buffer>;
  const out = () => join(dir, 'out');

  async function pipeline(opts: { output?: string; columns?: string; retry?: boolean; incrementalUsers?: boolean } = {}): Promise<string> {
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        'connection:',
        '  identifier: T',
        `  server: ${sb.url}`,
        `  oAuthToken: ${TOKEN}`,
        '  pageSize: 20',
        '  concurrency: 2',
        ...(opts.retry ? ['  retry: {limit: 1, backoff: 1}'] : []),
        'export:',
        `  output: ${opts.output ?? out()}`,
        '  entities:',
        '    Users:',
        `      columns: [${opts.columns ?? 'id, userName, name:givenName, emails:value, active'}]`,
        ...(opts.incrementalUsers ? ['      incremental: true'] : []),
        '    Groups:',
        '      columns: [id, displayName]',
        '      members: true',
        '',
      ].join('\n'),
    );
    return file;
  }
  const snapshot = async (d = out()) => new Map(await Promise.all(FILES.map(async (f) => [f, await readFile(join(d, f))] as const)));
  const leftovers = async () => (await readdir(out())).filter((n) => n.startsWith('.'));
  const listRequests = (path: string, from: number) => sb.requests.slice(from).filter((q) => q.method === 'GET' && q.path === path);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-resume-'));
    sb = await startSandbox({ generate: { users: 240, groups: 70, members: 30, seed: 7 }, token: TOKEN, port: 0 });
    const r = await cli(['export', await pipeline({ output: join(dir, 'ref') })]);
    expect(r.code, r.stderr).to.equal(0);
    reference = await snapshot(join(dir, 'ref'));
    expect(reference.get('T_Users.csv')!.toString().split('\r\n')).to.have.length(242);
    // Slow list pages, so that each kill lands where it is meant to.
    sb.setFaults([{ kind: 'slow', route: '/GET \\/v2\\/(Users|Groups)$/', delayMs: 25 }]);
  });
  beforeEach(async () => {
    await rm(out(), { recursive: true, force: true });
    await pipeline();
  });
  after(async () => {
    await sb?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const points: Array<[string, (cp: CheckpointView) => boolean]> = [
    ['after the first user page', (cp) => (cp.tables.Users?.rows ?? 0) >= 20],
    ['mid-second table, Users incremental (Groups partial)', (cp) => (cp.tables.Groups?.rows ?? 0) >= 20 && !cp.tables.Groups?.done],
    ['in the membership table (both resource tables done)', (cp) => cp.tables.Groups?.done === true],
  ];
  for (const [i, [where, when]] of points.entries()) {
    it(`killed -9 ${where}: --resume writes byte-identical files`, async () => {
      // The first run of an incremental entity is complete: the same Users file, and a cookie.
      if (i === 1) await pipeline({ incrementalUsers: true });
      const k = await killWhen(join(dir, 'p.yaml'), out(), when);
      expect(k.killed, `the run ended before the kill: ${k.stderr}`).to.equal(true);
      const left = await leftovers();
      expect(left).to.include('.T.resume.json');
      if (i === 0) {
        // Other settings than the interrupted run's: refused, and nothing is touched.
        await pipeline({ columns: 'id, userName' });
        const refused = await cli(['export', join(dir, 'p.yaml'), '--resume']);
        expect(refused.code).to.equal(78);
        expect(refused.stderr).to.include('ERR_RESUME_MISMATCH').and.include('without --resume');
        expect(await leftovers()).to.deep.equal(left);
        await pipeline();
      }
      const seen = sb.requests.length;
      const r = await cli(['export', join(dir, 'p.yaml'), '--resume']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('--resume: going on from the checkpoint');
      expect(await snapshot()).to.deep.equal(reference);
      expect(await leftovers()).to.deep.equal([]);
      // A partial table goes on after its checkpointed page; done tables are not read again,
      // except an incremental entity's, which starts over (its change tracking is not checkpointed).
      const users = listRequests('/v2/Users', seen);
      const firstPage = users.some((q) => /startIndex=1(&|$)/.test(q.query) && /count=20/.test(q.query));
      if (i === 0) expect(firstPage, 'Users read from page 1 again').to.equal(false);
      else if (i === 1) {
        expect(firstPage, 'the incremental Users table started over').to.equal(true);
        const cookie = JSON.parse(await readFile(join(out(), 'T.cookie.json'), 'utf8')) as { entities: { Users: { watermark: string } } };
        expect(cookie.entities.Users.watermark).to.be.a('string');
      } else expect(users, 'Users read again').to.deep.equal([]);
    });
  }

  /** A run that loses the network while listing Groups: exit 1, its temp files and checkpoint stay. */
  async function loseNetwork(): Promise<void> {
    await pipeline({ retry: true });
    sb.setFaults([{ kind: 'reset', route: 'GET /v2/Groups', after: 3, times: 1000 }]);
    try {
      const r = await cli(['export', join(dir, 'p.yaml')]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/ERR_TRANSPORT_/).and.include('--resume');
    } finally {
      sb.setFaults([]);
    }
    const left = await leftovers();
    expect(left).to.include('.T.resume.json');
    expect(left.filter((n) => n.endsWith(".tmp")), JSON.stringify(left)).to.have.length(2);
  }

  it('network loss: exit 1, the checkpoint is kept, and --resume completes byte-identically', async () => {
    await loseNetwork();
    const r = await cli(['export', join(dir, 'p.yaml'), '--resume']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await snapshot()).to.deep.equal(reference);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('without --resume a run starts over: the interrupted run\'s temp files, checkpoint and id file go', async () => {
    await loseNetwork();
    const seen = sb.requests.length;
    const fresh = await cli(['export', join(dir, 'p.yaml')]);
    expect(fresh.code, fresh.stderr).to.equal(0);
    expect(fresh.stderr).to.include('removed the checkpoint of an interrupted earlier run');
    expect(listRequests('/v2/Users', seen).length).to.be.greaterThan(10);
    expect(await leftovers()).to.deep.equal([]);
    expect(await snapshot()).to.deep.equal(reference);
  });

  it('--resume with nothing to resume exports from the beginning; with --stdout it is refused', async () => {
    const r = await cli(['export', join(dir, 'p.yaml'), '--resume']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('no checkpoint of an interrupted run');
    expect(await snapshot()).to.deep.equal(reference);
    const s = await cli(['export', join(dir, 'p.yaml'), '--resume', '--stdout', '--entity', 'Users']);
    expect(s.code).to.equal(78);
    expect(s.stderr).to.include('ERR_OPTION_RESUME');
  });
});
