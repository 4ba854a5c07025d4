/**
 * Deep paging against the sandbox's Salesforce dialect: startIndex above its
 * limit is refused (2,000 on Salesforce; 200 here, so that the tables stay
 * small: the full-size runs are bench scenarios, bench/scale.ts), and only
 * filtered lists come in id order (an unfiltered list does not), so keyset
 * paging must be id-ordered from its first page.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import nock from 'nock';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { createScimClient, type ScimClient } from '../../lib/scim/client.js';
import { listResources, type ListStats, type PagingMethod } from '../../lib/streams/sources/scim-list-source.js';
import { cli } from '../helpers/io.js';
import { connection } from '../secrets/helpers.js';

const TOKEN = 'salesforce-keyset-token';
/** The sandbox's deep-paging limit in these tests, and sizes just past it. */
const LIMIT = 200;
const USERS = 260;
const GROUPS = 210;
const PAGE = 20;

describe('Salesforce deep paging (sandbox)', function () {
  this.timeout(60_000);

  describe('resource tables', () => {
    let sb: Sandbox;
    let client: ScimClient;
    before(async () => {
      nock.enableNetConnect('127.0.0.1');
      sb = await startSandbox({ token: TOKEN, dialect: 'Salesforce', maxStartIndex: LIMIT, generate: { users: USERS, groups: 0 } });
      client = createScimClient(connection({ server: sb.url, oAuthToken: TOKEN, timeoutMs: 0 }));
    });
    after(async () => {
      client.close();
      await sb.stop();
    });

    async function ids(opts: { paging?: PagingMethod; concurrency?: number; filter?: string }, stats?: ListStats): Promise<string[]> {
      const out: string[] = [];
      for await (const r of listResources(client, { endpoint: 'Users', pageSize: PAGE, attributes: ['userName'], stats, ...opts })) out.push(r.id as string);
      return out;
    }
    const expected = (filter?: (u: Record<string, unknown>) => boolean) =>
      sb.store.users.filter((u) => !filter || filter(u as Record<string, unknown>)).map((u) => u.id as string).sort();

    for (const concurrency of [1, 4]) {
      it(`reads every user past the deep-paging limit by falling back to keyset paging (concurrency ${concurrency})`, async () => {
        const stats: ListStats = { pages: 0, resources: 0, duplicates: 0 };
        const got = await ids({ concurrency }, stats);
        expect(got.length).to.equal(USERS);
        expect([...got].sort()).to.deep.equal(expected());
        expect(stats.resources).to.equal(USERS);
        // Re-read rows after the switch are not server duplicates.
        expect(stats.duplicates).to.equal(0);
      });
    }

    it('reads every matching user with an entity filter', async () => {
      const got = await ids({ concurrency: 4, filter: 'active eq true' });
      expect([...got].sort()).to.deep.equal(expected((u) => u.active === true));
    });

    it('reads every user with keyset paging from the start', async () => {
      const got = await ids({ paging: 'keyset' });
      expect(got.length).to.equal(USERS);
      expect(new Set(got).size).to.equal(USERS);
    });
  });

  describe('membership tables', () => {
    let dir: string;
    let sb: Sandbox | undefined;
    beforeEach(async () => {
      nock.enableNetConnect('127.0.0.1');
      dir = await mkdtemp(join(tmpdir(), 'scim-etl-sf-keyset-'));
    });
    afterEach(async () => {
      await sb?.stop();
      sb = undefined;
      await rm(dir, { recursive: true, force: true });
    });

    async function exportGroups(membersMode?: string): Promise<{ code: number; stderr: string; groups: string[][]; links: string[][]; expected: string[] }> {
      sb = await startSandbox({ token: TOKEN, dialect: 'Salesforce', maxStartIndex: LIMIT, generate: { users: 50, groups: GROUPS, members: 5 } });
      if (membersMode === 'separate') sb.setFaults([{ kind: '500', route: 'GET /v2/Groups', times: 5 }]);
      const file = join(dir, 'p.yaml');
      await writeFile(
        file,
        `version: 1
connection:
  identifier: T
  server: \${SCIM_SERVER}
  oAuthToken: \${SCIM_TOKEN}
  scimSyntax: Salesforce
  pageSize: ${PAGE}
  retry:
    backoff: 1
export:
  output: out
  entities:
    Groups:
      columns: [id]
      members: true
`,
      );
      // Separately: the members table alone, so that the faults hit its inline listing.
      const args = membersMode === 'separate' ? ['export', file, '--entity', 'members_Groups'] : ['export', file];
      const r = await cli(args, { env: { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN }, cwd: dir });
      const read = async (name: string): Promise<string[][]> => {
        try {
          return parse(await readFile(join(dir, 'out', name), 'utf8'), { from_line: 2 }) as string[][];
        } catch {
          return [];
        }
      };
      const groups = await read('T_Groups.csv');
      const links = await read('T_members_Groups.csv');
      const expected: string[] = [];
      for (const g of sb.store.groups) for (const m of sb.store.memberIds(g.id as string)) expected.push(`${g.id},${m}`);
      return { code: r.code, stderr: r.stderr, groups, links, expected: expected.sort() };
    }

    it('writes every link of more groups than the deep-paging limit (keyset continuation of the owner listing)', async () => {
      const r = await exportGroups();
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/keyset paging/);
      expect(r.stderr).not.to.match(/duplicates=[1-9]/);
      expect(r.groups.length).to.equal(GROUPS);
      expect(r.links.map((l) => l.join(',')).sort()).to.deep.equal(r.expected);
    });

    it('writes every link of more groups than the deep-paging limit, listed separately', async () => {
      const r = await exportGroups('separate');
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/fetching each one's members separately/);
      expect(r.stderr).to.match(/keyset paging/);
      expect(r.links.map((l) => l.join(',')).sort()).to.deep.equal(r.expected);
    });
  });
});
