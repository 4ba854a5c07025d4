/** The CLI's side of one commit per run: exit code, message, files left as they were. */
import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/io.js';
import { listResponse, sendJson, startHttp, type TestServer } from '../helpers/http-server.js';

describe('scim-etl export: one commit per run (CLI)', function () {
  this.timeout(20_000);
  let dir: string;
  let server: TestServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-cli-commit-'));
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'D_Users.csv'), 'previous users');
    await writeFile(join(dir, 'out', 'D_Roles.csv'), 'previous roles');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a bad export.deadline or filterFallback with file:line:col before any request (exit 78)', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'version: 1\nconnection:\n  identifier: D\n  server: http://127.0.0.1:9\nexport:\n  deadline: 0\n  filterFallback: later\n  entities:\n    Users:\n      columns: [id]\n');
    const r = await cli(['export', file]);
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include(`${file}:6:13 ERR_CONFIG_TYPE expected integer ≥ 1, got 0 (export.deadline)`);
    expect(r.stderr).to.include(`${file}:7:19 ERR_CONFIG_TYPE expected one of local, fail, got "later" (export.filterFallback)`);
  });

  it('a run past export.deadline exits 1 with ERR_EXPORT_DEADLINE and replaces no file', async () => {
    // Users answers; Roles never does.
    server = await startHttp((req, res) => {
      if (req.url.startsWith('/v2/Users')) return sendJson(res, 200, listResponse([{ id: 'u1', userName: 'a' }], 1));
      if (req.url.startsWith('/v2/Roles')) return; // hangs until the client gives up
      sendJson(res, 404, { status: '404' });
    });
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: D
  server: ${server.url}
  oAuthToken: t
export:
  output: out
  deadline: 300
  entities:
    Users:
      columns: [id, userName]
    Roles:
      columns: [id]
`,
    );
    const r = await cli(['export', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_DEADLINE export stopped by export\.deadline \(300 ms\) after 1 of 2 table\(s\): nothing committed/);
    expect(r.stderr).not.to.match(/\n\s+at /);
    expect((await readdir(join(dir, 'out'))).sort()).to.deep.equal(['D_Roles.csv', 'D_Users.csv']);
    expect(await readFile(join(dir, 'out', 'D_Users.csv'), 'utf8')).to.equal('previous users');
  });
});
