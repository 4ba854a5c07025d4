/**
 * `npm run bench`: scim-etl side by side with the limit of what a client can
 * do, in one run on this machine, with interleaved repetitions.
 *
 *   npm run bench                  # standard sizes (1M users, 1M members), 3 repetitions
 *   npm run bench -- --quick       # 100k users / members, 2 repetitions, under two minutes
 *   npm run bench -- --reps 5      # more repetitions
 *   npm run bench -- --no-write    # print only; leave bench/RESULTS.md and README.md alone
 *
 * The servers (bench/servers.ts) run in child processes of their own on
 * 127.0.0.1: a static page server serving pre-serialized ListResponse pages
 * from memory, and a sink answering 201 to every insert. Every contestant is
 * a process of its own, measured by bench/measure.ts (wall time, peak RSS
 * from the OS). scim-etl runs as the built CLI (`node dist/bin/scim-etl.js`),
 * the way an installed `scim-etl` runs; `npm run build` is run first when
 * dist/ is older than lib/ or bin/.
 *
 * Results go to stdout, bench/RESULTS.md and README.md (between the bench
 * markers). Missed targets do not fail the run; a contestant that fails or
 * exceeds its time limit does (exit 1, after writing what was measured).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { insertOrders, USER_COLUMNS } from './data.js';
import { measure, RSS_METHOD, type Command, type Run } from './measure.js';
import { benchIdDiff } from './id-diff.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const QUICK = opts.quick!;
const REPS = opts.reps ? Number(opts.reps) : QUICK ? 2 : 3;
const USERS = QUICK ? 100_000 : 1_000_000;
const MEMBERS = QUICK ? 100_000 : 1_000_000;
// --quick halves the fulfill size, to stay under two minutes.
const INSERTS = QUICK ? 5_000 : 10_000;
const RSS_INSERTS = QUICK ? 20_000 : 100_000;
const PAGE = 1000;
/** scim-etl's default `connection.concurrency` and `fulfill.concurrency` (lib/config/spec.ts). */
const DEFAULT_CONCURRENCY = 4;
const RUN_TIMEOUT_MS = QUICK ? 90_000 : 900_000;
const TOKEN = 'bench-token';
const NODE = process.execPath;
const CLI_DIST = [NODE, join(ROOT, 'dist/bin/scim-etl.js')];
const CLI_TSX = [NODE, '--import', 'tsx', join(ROOT, 'bin/scim-etl.ts')];
const AUTOCANNON = join(ROOT, 'node_modules/autocannon/autocannon.js');
const SHIPPED_PIPELINE = 'pipelines/export-users-groups.yaml';

const fmtN = (n: number) => n.toLocaleString('en');
const short = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
const log = (s: string) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------- contestants

interface Contestant {
  id: string;
  scenario: string;
  label: string;
  items: number;
  unit: string;
  /** The contestant whose median wall this one is compared with. */
  limit?: string;
  /** Repetitions when fewer than the run's (a contestant measured once). */
  reps?: number;
  command: () => Command;
  prepare?: () => Promise<void>;
  /** Says what is wrong with a finished run's output, if anything. */
  check?: () => Promise<string | undefined>;
}

interface Result {
  c: Contestant;
  runs: Run[];
  failures: string[];
}

const results = new Map<string, Result>();
const notes: string[] = [];
let failed = false;

async function runInterleaved(contestants: Contestant[], reps: number): Promise<void> {
  for (const c of contestants) results.set(c.id, { c, runs: [], failures: [] });
  for (let r = 0; r < reps; r++) {
    // Rotate the order each repetition, so that no contestant always runs first.
    const order = contestants.map((_, i) => contestants[(i + r) % contestants.length]!);
    for (const c of order) {
      if (r >= (c.reps ?? reps)) continue;
      const res = results.get(c.id)!;
      await c.prepare?.();
      const run = await measure(c.command());
      let problem = run.error;
      if (run.ok && c.check) problem = await c.check();
      if (problem) {
        failed = true;
        res.failures.push(problem);
        log(`  ${c.id} rep ${r + 1}: FAILED ${problem}`);
      } else {
        res.runs.push(run);
        log(`  ${c.id.padEnd(24)} rep ${r + 1}/${c.reps ?? reps}  ${run.seconds.toFixed(2).padStart(7)} s  ${run.rssMiB.toFixed(0).padStart(5)} MiB`);
      }
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const wall = (id: string) => median(results.get(id)?.runs.map((r) => r.seconds) ?? []);
const peak = (id: string) => {
  const rss = results.get(id)?.runs.map((r) => r.rssMiB) ?? [];
  return rss.length ? Math.max(...rss) : NaN;
};
const rate = (id: string) => (results.get(id)?.c.items ?? NaN) / wall(id);
const measured = (id: string) => (results.get(id)?.runs.length ?? 0) > 0;

// ---------------------------------------------------------------- helpers

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const b = chunk as Buffer;
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

function ensureBuilt(): void {
  const built = join(ROOT, 'dist/bin/scim-etl.js');
  const sources = Math.max(newestMtime(join(ROOT, 'lib')), newestMtime(join(ROOT, 'bin')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  log('dist/ is older than lib/ or bin/: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

function toolVersion(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGTERM');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** Starts a bench server in its own process; resolves with the JSON line it prints once it serves. */
async function startServer(args: string[], timeoutMs: number): Promise<{ url: string } & Record<string, unknown>> {
  const child = spawn(NODE, ['--max-old-space-size=8192', '--import', 'tsx', join(ROOT, 'bench/servers.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolveReady, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`bench server ${args[0]} not ready in ${timeoutMs / 1000} s`)), timeoutMs);
    child.on('exit', (code) => reject(new Error(`bench server ${args[0]} exited ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolveReady(JSON.parse(out.slice(0, nl)));
      }
    });
  });
}

async function getJson(url: string, method = 'GET'): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method });
  return (await r.json()) as Record<string, unknown>;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = Date.now();
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'scim-etl-bench-'));
  try {
    ensureBuilt();
    const jq = toolVersion('jq', ['--version']);
    const curl = toolVersion('curl', ['--version']);
    if (!jq) notes.push('jq is not installed, so the `curl | jq` contestant was skipped: `apt-get install -y jq` (Debian package) to include it.');
    if (!curl) notes.push('curl is not installed, so the `curl | jq` contestant was skipped: `apt-get install -y curl` to include it.');
    const hasAutocannon = existsSync(AUTOCANNON);
    if (!hasAutocannon) notes.push('autocannon is missing (a dev dependency: `npm ci`), so the fulfill limit was skipped.');

    log(`starting the page server (${fmtN(USERS)} users, a group of ${fmtN(MEMBERS)} members) and the sink…`);
    const [pages, sink] = await Promise.all([
      startServer(['pages', '--users', String(USERS), '--members', String(MEMBERS)], 600_000),
      startServer(['sink'], 60_000),
    ]);
    log(`  pages ${pages.url}: ${fmtN(Math.round(Number(pages.userBytes) / 1e6))} MB of user pages, group ${fmtN(Math.round(Number(pages.groupBytes) / 1e6))} MB; sink ${sink.url}`);

    const pipeline = (name: string, lines: string[]) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, ['version: 1', 'connection:', '  identifier: Bench', ...lines, ''].join('\n'));
      return file;
    };
    const cli = (runner: string[], ...args: string[]): Command => ({ argv: [...runner, ...args, '--quiet', '--no-progress'], cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
    const columns = `[${USER_COLUMNS.map(([c]) => JSON.stringify(c)).join(', ')}]`;
    const outDir = (id: string) => join(dir, `out-${id}`);
    const expectLines = async (file: string, n: number) => {
      if (!existsSync(file)) return `${file} was not written`;
      const got = await countLines(file);
      rmSync(file, { force: true });
      return got === n ? undefined : `${file}: ${got} lines, expected ${n}`;
    };
    const expectStdout = async (file: string, n: number) => {
      const got = readFileSync(file, 'utf8').trim();
      return got === String(n) ? undefined : `printed ${got}, expected ${n}`;
    };

    // ------------------------------------------------ export users
    const exportScenario = `export ${short(USERS)} users × 8 columns, count=${PAGE}`;
    const exportFile = (id: string, base: string, concurrency?: number) =>
      pipeline(id, [`  server: ${base}`, `  oAuthToken: ${TOKEN}`, `  pageSize: ${PAGE}`, ...(concurrency ? [`  concurrency: ${concurrency}`] : []), 'export:', `  output: ${outDir(id)}`, '  entities:', `    Users: { columns: ${columns} }`]);
    const small = USERS / 10;
    const exportOf = (id: string, label: string, runner: string[], base: string, n: number, concurrency: number | undefined, extra: Partial<Contestant> = {}): Contestant => {
      const file = exportFile(id, base, concurrency);
      return { id, scenario: exportScenario, label, items: n, unit: 'rows', command: () => cli(runner, 'export', file), check: () => expectLines(join(outDir(id), 'Bench_Users.csv'), n + 1), ...extra };
    };
    const limitUsers = (id: string, concurrency: number): Contestant => ({
      id,
      scenario: exportScenario,
      label: `limit: fetch + JSON.parse every page, ${concurrency} in flight`,
      items: USERS,
      unit: 'rows',
      command: () => ({ argv: [NODE, join(ROOT, 'bench/limit.mjs'), 'users', `${pages.url}/v2/Users`, String(PAGE), String(concurrency)], stdoutFile: join(dir, `${id}.out`), timeoutMs: RUN_TIMEOUT_MS }),
      check: () => expectStdout(join(dir, `${id}.out`), USERS),
    });
    const exportContestants: Contestant[] = [
      limitUsers('limit-users-c1', 1),
      limitUsers('limit-users-c4', DEFAULT_CONCURRENCY),
      exportOf('scim-etl-export-c1', 'scim-etl export, concurrency 1', CLI_DIST, pages.url, USERS, 1, { limit: 'limit-users-c1' }),
      exportOf('scim-etl-export', `scim-etl export, default concurrency (from 1, adaptive up to ${DEFAULT_CONCURRENCY})`, CLI_DIST, pages.url, USERS, undefined, { limit: 'limit-users-c4' }),
      exportOf('scim-etl-export-small', `scim-etl export, default concurrency, ${short(small)} users (memory baseline)`, CLI_DIST, `${pages.url}/n/${small}`, small, undefined),
      ...(QUICK ? [] : [exportOf('scim-etl-export-tsx', 'scim-etl export via `node --import tsx bin/scim-etl.ts`, default concurrency (once)', CLI_TSX, pages.url, USERS, undefined, { limit: 'limit-users-c4', reps: 1 })]),
    ];
    if (jq && curl) {
      const filter = `.Resources[] | [${USER_COLUMNS.map(([, q]) => q).join(', ')}] | @csv`;
      const out = join(dir, 'jq.csv');
      exportContestants.splice(2, 0, {
        id: 'curl-jq',
        scenario: exportScenario,
        label: "`curl` of every page `| jq -r '.Resources[] | [8 fields] | @csv'`",
        items: USERS,
        unit: 'rows',
        limit: 'limit-users-c1',
        command: () => ({ shell: `curl -sS --fail -H 'authorization: Bearer ${TOKEN}' '${pages.url}/v2/Users?startIndex=[1-${USERS}:${PAGE}]&count=${PAGE}' | jq -r '${filter}'`, stdoutFile: out, timeoutMs: RUN_TIMEOUT_MS }),
        check: () => expectLines(out, USERS),
      });
    }
    log(`\n${exportScenario}`);
    await runInterleaved(exportContestants, REPS);

    // ------------------------------------------------ one big group
    const groupScenario = `one group of ${short(MEMBERS)} members`;
    const groupFile = pipeline('members', [`  server: ${pages.url}`, `  oAuthToken: ${TOKEN}`, 'export:', `  output: ${outDir('members')}`, '  entities:', '    Groups: { columns: [id, displayName], members: true }']);
    log(`\n${groupScenario}`);
    await runInterleaved(
      [
        {
          id: 'limit-group',
          scenario: groupScenario,
          label: 'limit: fetch the group, JSON.parse it whole',
          items: MEMBERS,
          unit: 'links',
          command: () => ({ argv: [NODE, join(ROOT, 'bench/limit.mjs'), 'group', `${pages.url}/v2/Groups?startIndex=1&count=${PAGE}&attributes=id,members`], stdoutFile: join(dir, 'limit-group.out'), timeoutMs: RUN_TIMEOUT_MS }),
          check: () => expectStdout(join(dir, 'limit-group.out'), MEMBERS),
        },
        {
          id: 'scim-etl-members',
          scenario: groupScenario,
          label: 'scim-etl export, membership table (`--entity members_Groups`)',
          items: MEMBERS,
          unit: 'links',
          limit: 'limit-group',
          command: () => cli(CLI_DIST, 'export', groupFile, '--entity', 'members_Groups'),
          check: () => expectLines(join(outDir('members'), 'Bench_members_Groups.csv'), MEMBERS + 1),
        },
      ],
      REPS,
    );

    // ------------------------------------------------ fulfill
    const orders = (name: string, n: number, password: boolean) => {
      const d = join(dir, name);
      mkdirSync(d);
      writeFileSync(join(d, 'Bench_Users.csv'), insertOrders(n, password));
      return d;
    };
    const fulfillFile = (id: string, orderDir: string, settings: string[]) =>
      pipeline(id, [`  server: ${sink.url}`, `  oAuthToken: ${TOKEN}`, 'fulfill:', `  orders: ${orderDir}`, `  results: ${join(dir, `results-${id}`)}`, ...settings]);
    const single = ['  serviceSupportBulk: false', `  concurrency: ${DEFAULT_CONCURRENCY}`];
    const reset = async () => void (await getJson(`${sink.url}/_bench/reset`, 'POST'));
    const fulfillOf = (id: string, label: string, scenario: string, n: number, orderDir: string, settings: string[], counter: 'users' | 'bulkOps', extra: Partial<Contestant> = {}): Contestant => {
      const file = fulfillFile(id, orderDir, settings);
      const resultsDir = join(dir, `results-${id}`);
      return {
        id,
        scenario,
        label,
        items: n,
        unit: 'orders',
        command: () => cli(CLI_DIST, 'fulfill', file),
        prepare: async () => {
          rmSync(resultsDir, { recursive: true, force: true });
          await reset();
        },
        check: async () => {
          const stats = await getJson(`${sink.url}/_bench/stats`);
          if (stats[counter] !== n) return `the sink counted ${String(stats[counter])} ${counter}, expected ${n}`;
          return expectLines(join(resultsDir, 'Bench_Users.csv'), n + 1);
        },
        ...extra,
      };
    };
    // A small warm-up run shows the body scim-etl POSTs: autocannon sends exactly that one.
    await reset();
    const warm = await measure(cli(CLI_DIST, 'fulfill', fulfillFile('warm-up', orders('orders-warm-up', 5, false), single)));
    if (!warm.ok) throw new Error(`the warm-up fulfill failed: ${warm.error}`);
    const body = await (await fetch(`${sink.url}/_bench/first-body`)).text();

    const fulfillScenario = `fulfill ${short(INSERTS)} inserts`;
    const plain = orders('orders-plain', INSERTS, false);
    const fulfillContestants: Contestant[] = [
      fulfillOf('scim-etl-single', `scim-etl fulfill, single requests, concurrency ${DEFAULT_CONCURRENCY}`, fulfillScenario, INSERTS, plain, single, 'users', { limit: 'autocannon' }),
      fulfillOf('scim-etl-bulk', 'scim-etl fulfill, Bulk, 100 operations per request', fulfillScenario, INSERTS, plain, ['  serviceSupportBulk: true', '  bulkMaxOperation: 100'], 'bulkOps', { limit: 'autocannon' }),
      fulfillOf('scim-etl-password', `scim-etl fulfill, single requests, concurrency ${DEFAULT_CONCURRENCY}, with a password column`, fulfillScenario, INSERTS, orders('orders-password', INSERTS, true), single, 'users', {
        limit: 'autocannon',
      }),
    ];
    if (hasAutocannon) {
      const out = join(dir, 'autocannon.json');
      fulfillContestants.unshift({
        id: 'autocannon',
        scenario: fulfillScenario,
        label: `limit: autocannon, ${DEFAULT_CONCURRENCY} connections, the same POST body`,
        items: INSERTS,
        unit: 'requests',
        command: () => ({
          argv: [NODE, AUTOCANNON, '-c', String(DEFAULT_CONCURRENCY), '-a', String(INSERTS), '-m', 'POST', '-H', 'content-type=application/scim+json', '-H', 'accept=application/scim+json', '-H', `authorization=Bearer ${TOKEN}`, '-b', body, '-n', '-j', `${sink.url}/v2/Users`],
          stdoutFile: out,
          timeoutMs: RUN_TIMEOUT_MS,
        }),
        prepare: reset,
        check: async () => {
          const r = JSON.parse(readFileSync(out, 'utf8')) as { non2xx: number; errors: number; '2xx': number };
          const stats = await getJson(`${sink.url}/_bench/stats`);
          if (r.non2xx || r.errors || stats.users !== INSERTS) return `autocannon: ${r['2xx']} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors; the sink counted ${String(stats.users)}`;
          return undefined;
        },
      });
    }
    log(`\n${fulfillScenario}`);
    await runInterleaved(fulfillContestants, REPS);

    const rssScenario = `${short(RSS_INSERTS)} inserts, single requests`;
    log(`\n${rssScenario}`);
    await runInterleaved([fulfillOf('scim-etl-single-rss', `scim-etl fulfill, single requests, concurrency ${DEFAULT_CONCURRENCY}`, rssScenario, RSS_INSERTS, orders('orders-rss', RSS_INSERTS, false), single, 'users')], REPS);

    // ------------------------------------------------ scale checks (moved here from the unit suite)
    const scaleScenario = 'scale checks (sandbox in the same process: correctness at size, not client speed)';
    /** `rows` is what the scenario defines; for generated groups the links are counted by scale.ts against the sandbox's store. */
    const scale = (id: string, label: string, rows: number, exact = true): Contestant => ({
      id: `scale-${id}`,
      scenario: scaleScenario,
      label,
      items: rows,
      unit: 'rows',
      reps: 1,
      command: () => ({ argv: [NODE, '--import', 'tsx', join(ROOT, 'bench/scale.ts'), id], cwd: ROOT, stdoutFile: join(dir, `scale-${id}.out`), timeoutMs: 300_000 }),
      check: async () => {
        const out = readFileSync(join(dir, `scale-${id}.out`), 'utf8').trim();
        return (exact ? out.startsWith(`ok ${rows} `) : /^ok \d+ /.test(out)) ? undefined : out || 'printed nothing';
      },
    });
    log(`\n${scaleScenario}`);
    await runInterleaved(
      [
        scale('salesforce-users', 'Salesforce dialect: 2,600 users past startIndex 2,000 (keyset fallback), every row checked', 2600),
        scale('salesforce-groups', 'Salesforce dialect: links of 2,100 groups (keyset continuation of the owners), every link checked', 38_410, false),
        scale('salesforce-groups-separately', 'the same, each group fetched separately after 500s on the listing', 38_410, false),
        scale('big-group', 'a group of 200,000 members through the CLI, every link checked', 200_001),
      ],
      1,
    );

    // ------------------------------------------------ start-up
    const startScenario = 'start-up (median of 5)';
    const start = (id: string, label: string, runner: string[], args: string[]): Contestant => ({
      id,
      scenario: startScenario,
      label,
      items: 1,
      unit: 'run',
      command: () => ({ argv: [...runner, ...args], cwd: ROOT, timeoutMs: 60_000 }),
    });
    log(`\n${startScenario}`);
    await runInterleaved(
      [
        start('help', '`scim-etl --help` (dist)', CLI_DIST, ['--help']),
        start('validate', `\`scim-etl validate ${SHIPPED_PIPELINE}\` (dist)`, CLI_DIST, ['validate', SHIPPED_PIPELINE]),
        start('help-tsx', '`scim-etl --help` via tsx', CLI_TSX, ['--help']),
        start('validate-tsx', `\`scim-etl validate ${SHIPPED_PIPELINE}\` via tsx`, CLI_TSX, ['validate', SHIPPED_PIPELINE]),
      ],
      5,
    );

    // Deletion detection at 1M ids (bench/id-diff.ts, owned by the incremental work): one line in the notes.
    notes.push((await benchIdDiff({ ids: QUICK ? 200_000 : 1_000_000 })).summary);
    const report = write({ loadStart, loadEnd: loadavg(), seconds: (Date.now() - t0) / 1000, jq, curl });
    console.log(report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

interface Target {
  text: string;
  value: () => number;
  show: (v: number) => string;
  met: (v: number) => boolean;
  needs: string[];
  note?: string;
}

const x = (v: number) => `${v.toFixed(2)}×`;
const mib = (v: number) => `${v.toFixed(0)} MiB`;
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

function targets(): Target[] {
  const flat = QUICK ? ` (this run: ${short(USERS)} vs ${short(USERS / 10)}; the target is 1M vs 100k)` : '';
  return [
    { text: `export: wall ≤ 1.2× the limit (default concurrency vs the limit at ${DEFAULT_CONCURRENCY} in flight)`, value: () => wall('scim-etl-export') / wall('limit-users-c4'), show: x, met: (v) => v <= 1.2, needs: ['scim-etl-export', 'limit-users-c4'] },
    { text: 'export: wall ≤ 1.2× the limit (concurrency 1 vs the limit at 1 in flight)', value: () => wall('scim-etl-export-c1') / wall('limit-users-c1'), show: x, met: (v) => v <= 1.2, needs: ['scim-etl-export-c1', 'limit-users-c1'] },
    { text: 'export: ≥ 1.5× faster than curl | jq (default concurrency)', value: () => wall('curl-jq') / wall('scim-etl-export'), show: x, met: (v) => v >= 1.5, needs: ['curl-jq', 'scim-etl-export'] },
    { text: 'export: peak RSS ≤ 120 MB', value: () => Math.max(peak('scim-etl-export'), peak('scim-etl-export-c1')), show: mib, met: (v) => v <= 120, needs: ['scim-etl-export'] },
    { text: `export: peak RSS at 1M ≤ 1.1× at 100k${flat}`, value: () => peak('scim-etl-export') / peak('scim-etl-export-small'), show: x, met: (v) => v <= 1.1, needs: ['scim-etl-export', 'scim-etl-export-small'] },
    { text: 'one group: wall ≤ 1.3× the limit', value: () => wall('scim-etl-members') / wall('limit-group'), show: x, met: (v) => v <= 1.3, needs: ['scim-etl-members', 'limit-group'] },
    { text: 'one group: peak RSS ≤ 160 MB', value: () => peak('scim-etl-members'), show: mib, met: (v) => v <= 160, needs: ['scim-etl-members'] },
    { text: `fulfill: single requests ≥ 60% of autocannon's rate (both ${DEFAULT_CONCURRENCY} in flight)`, value: () => rate('scim-etl-single') / rate('autocannon'), show: pct, met: (v) => v >= 0.6, needs: ['scim-etl-single', 'autocannon'] },
    { text: 'fulfill: Bulk (100 per request) ≥ 5× single', value: () => rate('scim-etl-bulk') / rate('scim-etl-single'), show: x, met: (v) => v >= 5, needs: ['scim-etl-bulk', 'scim-etl-single'] },
    { text: 'fulfill: a password column costs ≤ 10%', value: () => wall('scim-etl-password') / wall('scim-etl-single') - 1, show: pct, met: (v) => v <= 0.1, needs: ['scim-etl-password', 'scim-etl-single'] },
    { text: `${short(RSS_INSERTS)} inserts in single mode: peak RSS ≤ 150 MB${QUICK ? ' (the target is at 100k)' : ''}`, value: () => peak('scim-etl-single-rss'), show: mib, met: (v) => v <= 150, needs: ['scim-etl-single-rss'] },
    { text: 'start-up: `scim-etl --help` < 0.5 s', value: () => wall('help'), show: (v) => `${v.toFixed(2)} s`, met: (v) => v < 0.5, needs: ['help'] },
    { text: `start-up: \`scim-etl validate ${SHIPPED_PIPELINE}\` < 0.5 s`, value: () => wall('validate'), show: (v) => `${v.toFixed(2)} s`, met: (v) => v < 0.5, needs: ['validate'] },
  ];
}

/** A table cell: a `|` (curl | jq) would end the cell. */
const cell = (s: string) => s.replace(/\|/g, '\\|');

function resultsTable(): string {
  const rows = ['| scenario | contestant | items | runs | min wall (s) | median wall (s) | per second (median) | peak RSS (MiB) | × limit (median wall) |', '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  let last = '';
  for (const { c, runs, failures } of results.values()) {
    const scenario = c.scenario === last ? '' : c.scenario;
    last = c.scenario;
    const failedNote = failures.length ? ` (${failures.length} failed)` : '';
    if (runs.length === 0) {
      rows.push(`| ${cell(scenario)} | ${cell(c.label)} | ${fmtN(c.items)} ${c.unit} | 0${failedNote} | – | – | – | – | – |`);
      continue;
    }
    const walls = runs.map((r) => r.seconds);
    const isLimit = [...results.values()].some((o) => o.c.limit === c.id);
    const ratio = c.limit && measured(c.limit) ? x(wall(c.id) / wall(c.limit)) : isLimit ? 'limit' : '';
    const perSecond = c.unit === 'run' ? '' : fmtN(Math.round(rate(c.id)));
    rows.push(`| ${cell(scenario)} | ${cell(c.label)} | ${fmtN(c.items)} ${c.unit} | ${runs.length}${failedNote} | ${Math.min(...walls).toFixed(2)} | ${wall(c.id).toFixed(2)} | ${perSecond} | ${peak(c.id).toFixed(0)} | ${ratio} |`);
  }
  return rows.join('\n');
}

function targetsTable(): string {
  const rows = ['| target | measured | |', '|---|---:|---|'];
  for (const t of targets()) {
    if (!t.needs.every(measured)) {
      rows.push(`| ${cell(t.text)} | – | not measured |`);
      continue;
    }
    const v = t.value();
    rows.push(`| ${cell(t.text)} | ${t.show(v)} | ${t.met(v) ? 'met' : '**missed**'} |`);
  }
  return rows.join('\n');
}

function write(run: { loadStart: number[]; loadEnd: number[]; seconds: number; jq?: string; curl?: string }): string {
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  const cores = cpus().length;
  // The end figure counts the bench's own last minute: only the start tells whether other work was running.
  const busy = run.loadStart[0]! > cores * 0.75;
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const text = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench${QUICK ? ' -- --quick' : ''}\` (${REPS} interleaved repetitions, ${Math.round(run.seconds)} s in all) on ${cores} cores (${cpu}), Node ${process.version}, ${run.jq ?? 'no jq'}, ${run.curl?.split(' ').slice(0, 2).join(' ') ?? 'no curl'}.`,
    '',
    `**Load average (1 / 5 / 15 min): ${load(run.loadStart)} at start, ${load(run.loadEnd)} at the end (the bench's own work included)** on ${cores} cores.${busy ? ' The machine was busy with other work, so these figures are not representative: compare the ratios of one run, not the absolute times.' : ''}`,
    '',
    `Servers: a static page server (pre-serialized ListResponse pages of ${PAGE} users, about 1 KB of JSON each, served from memory) and a sink (201 per insert), each in a child process of its own on 127.0.0.1. Peak RSS is the contestant's process alone, from ${RSS_METHOD}; for \`curl | jq\` it is the larger of the two. scim-etl runs as the built CLI, \`node dist/bin/scim-etl.js\`, as an installed \`scim-etl\` does; the tsx runner (\`node --import tsx bin/scim-etl.ts\`) is measured beside it for start-up, and once for the export in a full run: it adds start-up time and memory, and is not what users run.`,
    '',
    resultsTable(),
    '',
    'Targets (medians; goals for later work):',
    '',
    targetsTable(),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
  // What limits each missed target, with the profile's top entries: kept by hand in
  // bench/PROFILES.md and appended to RESULTS.md by every run (linked from the README).
  const profilesPath = join(ROOT, 'bench/PROFILES.md');
  const profiles = existsSync(profilesPath) ? readFileSync(profilesPath, 'utf8').replace(/^# .*\n+/, '') : '';
  const profilesLink = (href: string) => (profiles ? `Where a target is missed, what limits it (profiles, by hand): [${href}](${href}).\n\n` : '');
  if (!opts['no-write']) {
    writeFileSync(
      join(ROOT, 'bench/RESULTS.md'),
      `# Benchmark results\n\n<!-- written by \`npm run bench\`; do not edit by hand (the profiles section comes from bench/PROFILES.md) -->\n\n${text}${profiles ? `\n## Profiles (bench/PROFILES.md)\n\n${profiles.trimEnd()}\n` : ''}`,
    );
    const readmePath = join(ROOT, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const startMark = '<!-- bench:start -->';
    const endMark = '<!-- bench:end -->';
    const a = readme.indexOf(startMark);
    const b = readme.indexOf(endMark);
    if (a >= 0 && b > a) writeFileSync(readmePath, `${readme.slice(0, a + startMark.length)}\n${text}\n${profilesLink('bench/PROFILES.md')}${readme.slice(b)}`);
    else notes.push('README.md has no bench markers: not updated.');
  }
  return text;
}

try {
  await main();
} catch (err) {
  log(`bench: ${(err as Error).message}`);
  process.exitCode = 1;
}
if (failed) process.exitCode = 1;
process.exit();
