/**
 * Export under server faults: every fault kind the sandbox injects (and all
 * of them mixed, about one request in three) still gives every user, group and
 * membership exactly once, each cell equal to the sandbox store.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import type { FaultSpec } from '../../lib/sandbox/types.js';
import { cli } from '../helpers/io.js';

const TOKEN = 'rel-export-token';
/** Largest size that keeps each run well under a second here; README names the bench for 10,000. */
const USERS = Number(process.env.REL_USERS ?? 1000);
const GROUPS = 20;

const FAULTS: Record<string, FaultSpec[]> = {
  '429 with Retry-After seconds': [{ kind: '429', retryAfter: 0, times: 5 }],
  '429 with Retry-After as a date': [{ kind: '429', retryAfter: 'date', times: 1 }],
  '503 with Retry-After 0': [{ kind: '503', retryAfter: 0, times: 5 }],
  '500': [{ kind: '500', times: 3 }],
  'connection reset': [{ kind: 'reset', times: 3, after: 1 }],
  // Two cuts in a row: within the retry limit.
  'truncated page': [{ kind: 'truncate', route: 'GET /v2/Groups', times: 2, after: 2 }],
  'slow replies': [{ kind: 'slow', delayMs: 5, times: 10 }],
  'a server that caps count': [{ kind: 'capCount', pageSize: 70 }],
  'a server that shifts items between pages': [{ kind: 'shiftItems', route: 'GET /v2/Users' }],
};

/** Every third request fails in turn with each failure kind. */
function mixed(): FaultSpec[] {
  const kinds: FaultSpec['kind'][] = ['429', '503', '500', 'reset'];
  const out: FaultSpec[] = [];
  for (let i = 0; i < 40; i++) out.push({ kind: kinds[i % kinds.length]!, after: 3 * i + 1, times: 1, ...(['429', '503'].includes(kinds[i % kinds.length]!) ? { retryAfter: 0 } : {}) });
  return out;
}

describe('reliability: export under faults', function () {
  this.timeout(30_000);
  let dir: string;
  let sb: Sandbox | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-rel-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function exportWith(faults: FaultSpec[]): Promise<{ code: number; stderr: string }> {
    sb = await startSandbox({ generate: { users: USERS, groups: GROUPS, members: 200, seed: 7 }, token: TOKEN, port: 0, faults });
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: T
  server: ${sb.url}
  oAuthToken: ${TOKEN}
  pageSize: 200
  concurrency: 4
  retry:
    backoff: 1
    maxRetryAfter: 2000
export:
  output: out
  entities:
    Users:
      columns: [id, userName, displayName, active, title]
    Groups:
      columns: [id, displayName]
      members: true
`,
    );
    return cli(['export', file], { cwd: dir });
  }

  async function table(name: string): Promise<Record<string, string>[]> {
    return parse(await readFile(join(dir, 'out', name), 'utf8'), { columns: true }) as Record<string, string>[];
  }

  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v));

  async function expectExact(): Promise<void> {
    const store = sb!.store;
    const users = await table('T_Users.csv');
    expect(users.length).to.equal(USERS);
    expect(new Set(users.map((u) => u.id)).size).to.equal(USERS);
    const want = new Map(store.users.map((u) => [String(u.id), u as Record<string, unknown>]));
    for (const row of users) {
      const u = want.get(row.id!);
      expect(u, row.id).to.not.equal(undefined);
      expect(row).to.deep.equal({ id: row.id, userName: cell(u!.userName), displayName: cell(u!.displayName), active: cell(u!.active), title: cell(u!.title) });
    }
    const groups = await table('T_Groups.csv');
    expect(groups.map((g) => [g.id, g.displayName]).sort()).to.deep.equal(store.groups.map((g) => [String(g.id), cell(g.displayName)]).sort());
    const members = await table('T_members_Groups.csv');
    const got = members.map((m) => Object.values(m).join('|')).sort();
    const expected = store.groups.flatMap((g) => store.memberIds(String(g.id)).map((m) => `${g.id}|${m}`)).sort();
    expect(got.length).to.equal(expected.length);
    expect(got).to.deep.equal(expected);
  }

  for (const [name, faults] of Object.entries({ ...FAULTS, 'all failures mixed, one request in three': mixed() })) {
    it(name, async () => {
      const r = await exportWith(faults);
      expect(r.code, r.stderr).to.equal(0);
      await expectExact();
    });
  }
});
