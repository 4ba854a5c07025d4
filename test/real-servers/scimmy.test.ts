/**
 * scim-etl against SCIMMY 1.3.5 + scimmy-routers 1.3.2 (express 5), a SCIM
 * server library the team did not write, with the in-memory storage glue of
 * scimmy-server.ts.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScimmy } from './scimmy-server.js';
import { api, type RealServer } from './real-server.js';
import { seed, type Seeded } from './seed.js';
import { ID, readTable, realServerSuite, runCli, writePipeline, wrongCells } from './suite.js';
import { cellOf } from '../helpers/cells.js';

describe('real server: SCIMMY (scimmy + scimmy-routers)', () => {
  realServerSuite(() => startScimmy(), { enterprise: true, bulk: true });

  describe('projection without the extension column', () => {
    let server: RealServer;
    let seeded: Seeded;
    let dir: string;
    before(async () => {
      server = await startScimmy();
      seeded = await seed(api(server), { users: 60, enterprise: true });
      dir = mkdtempSync(join(tmpdir(), 'scim-etl-scimmy-'));
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // SCIMMY answers attributes=<extension URN path> with 400; core attributes project fine.
    it('core columns only: every user, every cell as GET /Users/{id} returns it', async () => {
      const columns = ['id', 'userName', 'name:givenName', 'name:familyName', 'emails:value', 'active'];
      const file = writePipeline(dir, ['export:', '  output: out', '  entities:', '    Users:', `      columns: [${columns.join(', ')}]`].join('\n'));
      const r = await runCli(server, dir, ['export', file]);
      expect(r.code, r.stderr).to.equal(0);
      const { header, rows } = readTable(join(dir, 'out', `${ID}_Users.csv`));
      expect(header).to.deep.equal(columns);
      expect(rows.map((x) => x.id)).to.have.members(seeded.users.map((u) => u.id));
      expect(await wrongCells(api(server), rows, header)).to.deep.equal([]);
    });
  });

  describe('columns: auto', () => {
    let server: RealServer;
    let seeded: Seeded;
    let dir: string;
    before(async () => {
      server = await startScimmy();
      seeded = await seed(api(server), { users: 12, enterprise: true });
      dir = mkdtempSync(join(tmpdir(), 'scim-etl-scimmy-'));
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("every readable attribute of SCIMMY's /Schemas, every cell as GET /Users/{id} returns it", async () => {
      const file = writePipeline(dir, ['export:', '  output: out', '  entities:', '    Users: {columns: auto}'].join('\n'));
      const r = await runCli(server, dir, ['export', file, '--verbose']);
      expect(r.code, r.stderr).to.equal(0);
      const { header, rows } = readTable(join(dir, 'out', `${ID}_Users.csv`));
      expect(r.stderr).to.include('Users: columns: auto → columns: [id,');
      expect(header).to.include.members(['id', 'userName', 'name:givenName', 'emails:value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber']);
      expect(header).to.not.include('password');
      expect(rows.map((x) => x.id)).to.have.members(seeded.users.map((u) => u.id));
      const truths = await api(server).getAll(rows.map((row) => `/Users/${row.id}`));
      const wrong = rows.flatMap((row, i) => header.filter((c) => row[c] !== cellOf(truths[i]!, c)).map((c) => `${row.id} ${c}: wrote ${JSON.stringify(row[c])}, server has ${JSON.stringify(cellOf(truths[i]!, c))}`));
      expect(wrong).to.deep.equal([]);
    });
  });

  describe('wired as its README shows: startIndex and count reach SCIMMY as strings and are ignored', () => {
    let server: RealServer;
    let seeded: Seeded;
    let dir: string;
    before(async () => {
      server = await startScimmy({ numericPaging: false });
      seeded = await seed(api(server), { users: 60, enterprise: true });
      dir = mkdtempSync(join(tmpdir(), 'scim-etl-scimmy-'));
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the server serves the same first 20 users whatever page is asked', async () => {
      const page = (await api(server).request('GET', '/Users?startIndex=41&count=5&attributes=id')).json as { totalResults: number; startIndex: number; Resources: { id: string }[] };
      expect(page.totalResults).to.equal(60);
      expect(page.startIndex).to.equal(1);
      expect(page.Resources.map((u) => u.id)).to.deep.equal(seeded.users.slice(0, 20).map((u) => u.id));
    });

    it('export of 60 users: never 20 rows passed off as the table; a coded failure and no file', async () => {
      const file = writePipeline(dir, ['export:', '  output: out', '  entities:', '    Users:', '      columns: [id, userName]'].join('\n'));
      const r = await runCli(server, dir, ['export', file]);
      const out = join(dir, 'out', `${ID}_Users.csv`);
      if (r.code === 0) {
        // A tool that finds another way to page (keyset by id) must then have every user.
        expect(readTable(out).rows.map((x) => x.id)).to.have.members(seeded.users.map((u) => u.id));
      } else {
        expect(r.stderr).to.match(/ERR_EXPORT_[A-Z_]+/);
        expect(existsSync(out)).to.equal(false);
      }
    });
  });
});
