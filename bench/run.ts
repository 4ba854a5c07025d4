/**
 * `npm run bench`: the real CLI against a sandbox in another process, so that
 * the figures are the tool's own (time and peak memory of the scim-etl
 * process only). Prints a table and writes it to bench/results.md and into
 * README.md between the bench markers.
 *
 *   npm run bench                 # the standard scenarios
 *   BENCH_SCALE=0.1 npm run bench # a quick pass at a tenth of the sizes
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const TOKEN = 'bench-token';
const size = (n: number) => Math.max(10, Math.round(n * SCALE));

interface Figure {
  scenario: string;
  items: number;
  unit: string;
  seconds: number;
  perSecond: number;
  maxRssMiB: number;
  note: string;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/** Starts `scim-etl sandbox` in its own process and resolves when it serves. */
async function sandbox(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/scim-etl.ts'), 'sandbox', '--port', String(port), '--token', TOKEN, '--quiet', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`sandbox exited: ${log}`);
    try {
      const r = await fetch(`${url}/v2/ServiceProviderConfig`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (r.ok) return { url, child };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('sandbox did not start within 60 s');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Runs the CLI through bench/measure.ts and returns its figures. */
async function measure(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; seconds: number; maxRssMiB: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/measure.ts'), ...argv, '--quiet', '--no-progress'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  let out = '';
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  if (code !== 0 && !out) throw new Error(`scim-etl ${argv.join(' ')} exited ${code}`);
  return JSON.parse(out);
}

function pipeline(dir: string, body: string[]): string {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, ['version: 1', 'connection:', '  identifier: Bench', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', ...body, ''].join('\n'));
  return file;
}

const USER_COLUMNS = '[id, userName, active, "name:givenName", "name:familyName", "emails:value", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"]';

async function exportUsers(dir: string, figures: Figure[]): Promise<void> {
  const users = size(200_000);
  const sb = await sandbox(['--users', String(users), '--groups', '0', '--members', '0']);
  try {
    for (const [pageSize, concurrency] of [
      [200, 1],
      [1000, 1],
      [1000, 4],
    ] as const) {
      const file = pipeline(dir, [`  pageSize: ${pageSize}`, `  concurrency: ${concurrency}`, 'export:', '  output: out', '  entities:', `    Users: { columns: ${USER_COLUMNS} }`]);
      const r = await measure(['export', file], { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN });
      if (r.code !== 0) throw new Error(`export exited ${r.code}`);
      figures.push({ scenario: `export Users, 7 columns, pageSize ${pageSize}, concurrency ${concurrency}`, items: users, unit: 'rows', seconds: r.seconds, perSecond: users / r.seconds, maxRssMiB: r.maxRssMiB, note: '' });
    }
  } finally {
    await stop(sb.child);
  }
}

async function exportMembers(dir: string, figures: Figure[]): Promise<void> {
  const members = size(1_000_000);
  const sb = await sandbox(['--users', String(members), '--groups', '1', '--members', String(members)]);
  try {
    const file = pipeline(dir, ['export:', '  output: out', '  entities:', '    Groups: { columns: [id, displayName], members: true }']);
    const r = await measure(['export', file, '--entity', 'members_Groups'], { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN });
    if (r.code !== 0) throw new Error(`export exited ${r.code}`);
    figures.push({ scenario: `export members of one group of ${members.toLocaleString('en')}`, items: members, unit: 'links', seconds: r.seconds, perSecond: members / r.seconds, maxRssMiB: r.maxRssMiB, note: 'streamed, never held' });
  } finally {
    await stop(sb.child);
  }
}

function writeOrders(dir: string, n: number): string {
  const orders = join(dir, `orders-${n}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(orders);
  const out = createWriteStream(join(orders, 'Bench_Users.csv'));
  out.write('command,orderId,userName,name:givenName,name:familyName,title\r\n');
  for (let i = 0; i < n; i++) out.write(`insert,o${i},bench.user.${i}@example.com,Bench,User ${i},Tester\r\n`);
  out.end();
  return orders;
}

async function fulfill(dir: string, figures: Figure[]): Promise<void> {
  const n = size(10_000);
  for (const mode of ['bulk', 'single'] as const) {
    const sb = await sandbox(['--users', '10', '--groups', '1', '--members', '0', '--bulk-max-operations', '1000']);
    try {
      const orders = writeOrders(dir, n);
      const settings = mode === 'bulk' ? ['  serviceSupportBulk: true', '  bulkMaxOperation: 100'] : ['  serviceSupportBulk: false', '  concurrency: 8'];
      const file = pipeline(dir, ['fulfill:', `  orders: ${orders}`, `  results: ${orders}-results`, ...settings]);
      const r = await measure(['fulfill', file], { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN });
      if (r.code !== 0) throw new Error(`fulfill exited ${r.code}`);
      const note = mode === 'bulk' ? '100 operations per POST /Bulk' : '8 requests in flight';
      figures.push({ scenario: `fulfill ${n.toLocaleString('en')} inserts, ${mode}`, items: n, unit: 'orders', seconds: r.seconds, perSecond: n / r.seconds, maxRssMiB: r.maxRssMiB, note });
    } finally {
      await stop(sb.child);
    }
  }
}

function table(figures: Figure[]): string {
  const head = '| scenario | items | seconds | per second | peak RSS (MiB) | note |\n|---|---:|---:|---:|---:|---|';
  const rows = figures.map(
    (f) => `| ${f.scenario} | ${f.items.toLocaleString('en')} ${f.unit} | ${f.seconds.toFixed(2)} | ${Math.round(f.perSecond).toLocaleString('en')} | ${Math.round(f.maxRssMiB)} | ${f.note} |`,
  );
  return [head, ...rows].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-etl-bench-'));
  const figures: Figure[] = [];
  try {
    await exportUsers(dir, figures);
    await exportMembers(dir, figures);
    await fulfill(dir, figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const when = new Date().toISOString().slice(0, 10);
  const machine = `${cpus().length} cores, Node ${process.version}${SCALE !== 1 ? `, BENCH_SCALE=${SCALE}` : ''}`;
  const text = `Measured ${when} on ${machine}; the sandbox runs in its own process, peak RSS is the scim-etl process alone.\n\n${table(figures)}\n`;
  console.log(text);
  writeFileSync(join(ROOT, 'bench/results.md'), `# Benchmark results\n\n${text}`);
  if (SCALE === 1) {
    const readmePath = join(ROOT, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const a = readme.indexOf(start);
    const b = readme.indexOf(end);
    if (a >= 0 && b > a) writeFileSync(readmePath, `${readme.slice(0, a + start.length)}\n${text}${readme.slice(b)}`);
  }
}

await main();
