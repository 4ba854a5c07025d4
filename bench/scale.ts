/**
 * Scale checks: the runs that were too slow for the unit suite (the unit
 * tests keep small variants of each), run by `npm run bench` as scenarios of
 * their own. Each starts a sandbox in this process, runs the CLI in-process
 * (lib/cli/main.ts run(), as the tests do), checks every row, and prints one
 * line: `ok <rows> <sha256 of the sorted rows>` (exit 0), or what is wrong (exit 1).
 * The time includes the sandbox, which is the bottleneck: these are
 * correctness checks at scale, not client measurements.
 *
 *   node --import tsx bench/scale.ts salesforce-groups            # 2,100 groups, keyset continuation past startIndex 2,000
 *   node --import tsx bench/scale.ts salesforce-groups-separately # the same, each group's members fetched separately
 *   node --import tsx bench/scale.ts salesforce-users             # 2,600 users past startIndex 2,000 by keyset fallback
 *   node --import tsx bench/scale.ts big-group                    # one group of 200,000 members through the CLI
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { run } from '../lib/cli/main.js';
import { startSandbox, type Sandbox } from '../lib/sandbox/index.js';

const TOKEN = 'bench-scale-token';
const scenario = process.argv[2] ?? '';

function capture(): PassThrough & { text(): string } {
  const chunks: Buffer[] = [];
  const s = new PassThrough() as PassThrough & { text(): string };
  s.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

async function cli(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await run({ argv, stdout, stderr, env, cwd });
  await new Promise((r) => setImmediate(r));
  return { code, stderr: stderr.text() };
}

const digest = (rows: string[]) => createHash('sha256').update(rows.join('\n')).digest('hex').slice(0, 16);

function fail(why: string): never {
  process.stdout.write(`FAILED ${scenario}: ${why}\n`);
  process.exit(1);
}

/** Compares the table's rows (after the header) with the expected ones, order ignored. */
function compare(file: string, expected: string[], label: string): void {
  const rows = (parse(readFileSync(file, 'utf8'), { from_line: 2 }) as string[][]).map((r) => r.join(',')).sort();
  expected.sort();
  if (rows.length !== expected.length) fail(`${label}: ${rows.length} rows, expected ${expected.length}`);
  const a = digest(rows);
  const b = digest(expected);
  if (a !== b) fail(`${label}: the rows differ from the server's (sha ${a} vs ${b})`);
  process.stdout.write(`ok ${rows.length} ${a}\n`);
}

const pipeline = (entities: string, pageSize: number) => `version: 1
connection:
  identifier: T
  server: \${SCIM_SERVER}
  oAuthToken: \${SCIM_TOKEN}
  scimSyntax: Salesforce
  pageSize: ${pageSize}
  retry:
    backoff: 1
export:
  output: out
  entities:
${entities}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-etl-scale-'));
  let sb: Sandbox | undefined;
  try {
    const file = join(dir, 'p.yaml');
    const env = () => ({ SCIM_SERVER: sb!.url, SCIM_TOKEN: TOKEN });
    if (scenario === 'salesforce-groups' || scenario === 'salesforce-groups-separately') {
      const separately = scenario === 'salesforce-groups-separately';
      sb = await startSandbox({ token: TOKEN, dialect: 'Salesforce', generate: { users: 50, groups: 2100, members: 5 } });
      // Faults on the inline listing make the members source fetch each group separately.
      if (separately) sb.setFaults([{ kind: '500', route: 'GET /v2/Groups', times: 5 }]);
      writeFileSync(file, pipeline('    Groups:\n      columns: [id]\n      members: true\n', 200));
      const r = await cli(['export', file, ...(separately ? ['--entity', 'members_Groups'] : []), '--no-progress'], dir, env());
      if (r.code !== 0) fail(`exit ${r.code}: ${r.stderr.slice(-400)}`);
      if (!/keyset paging/.test(r.stderr)) fail('no switch to keyset paging was logged');
      if (separately && !/fetching each one's members separately/.test(r.stderr)) fail('the groups were not fetched separately');
      const expected: string[] = [];
      for (const g of sb.store.groups) for (const m of sb.store.memberIds(g.id as string)) expected.push(`${g.id},${m}`);
      compare(join(dir, 'out', 'T_members_Groups.csv'), expected, 'members_Groups');
    } else if (scenario === 'salesforce-users') {
      sb = await startSandbox({ token: TOKEN, dialect: 'Salesforce', generate: { users: 2600, groups: 0 } });
      writeFileSync(file, pipeline('    Users:\n      columns: [id, userName]\n', 200));
      const r = await cli(['export', file, '--no-progress'], dir, env());
      if (r.code !== 0) fail(`exit ${r.code}: ${r.stderr.slice(-400)}`);
      if (!/keyset paging/.test(r.stderr)) fail('no switch to keyset paging was logged');
      if (/duplicates=[1-9]/.test(r.stderr)) fail('re-read rows were counted as duplicates');
      compare(join(dir, 'out', 'T_Users.csv'), sb.store.users.map((u) => `${u.id},${u.userName}`), 'Users');
    } else if (scenario === 'big-group') {
      const n = 200_000;
      const Users = Array.from({ length: n }, (_, i) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: `m${i}`, userName: `m${i}` }));
      const Groups = [
        { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'big', displayName: 'Big', members: Users.map((u) => ({ value: u.id })) },
        { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'small', displayName: 'Small', members: [{ value: 'm7' }] },
      ];
      sb = await startSandbox({ token: TOKEN, data: { Users, Groups } });
      writeFileSync(file, pipeline('    Groups:\n      columns: [id, displayName]\n      members: true\n', 100).replace('  scimSyntax: Salesforce\n', ''));
      const r = await cli(['export', file, '--entity', 'members_Groups', '--no-progress'], dir, env());
      if (r.code !== 0) fail(`exit ${r.code}: ${r.stderr.slice(-400)}`);
      compare(join(dir, 'out', 'T_members_Groups.csv'), [...Users.map((u) => `big,${u.id}`), 'small,m7'], 'members_Groups');
    } else {
      fail('unknown scenario (salesforce-groups, salesforce-groups-separately, salesforce-users, big-group)');
    }
  } finally {
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
