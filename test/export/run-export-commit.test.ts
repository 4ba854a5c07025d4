/**
 * runExport commits once per run: a failed, interrupted or timed-out run
 * leaves every previous table as it was and no temp file behind.
 */
import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline } from '../../lib/config/load.js';
import { runExport, type ExportClient } from '../../lib/export.js';
import type { ScimRequest } from '../../lib/scim/client.js';
import { ScimHttpError } from '../../lib/scim/errors.js';
import type { Pipeline } from '../../lib/config/types.js';

const data: Record<string, Array<Record<string, unknown>>> = {
  Users: Array.from({ length: 12 }, (_, i) => ({ id: `u${i}`, userName: `user${i}` })),
  Groups: [{ id: 'g1', displayName: 'All' }],
};

/** Lists `data`; `hook` may throw or stall a request. */
function client(hook: (req: ScimRequest) => Promise<void> | void = () => undefined): ExportClient {
  return {
    stats: { requests: 0, retries: 0 },
    async request<T>(req: ScimRequest) {
      await hook(req);
      const list = data[req.path];
      if (!list) throw new ScimHttpError({ method: 'GET', path: req.path }, 404, {}, 1);
      const start = Number(req.searchParams?.startIndex ?? 1);
      const body = { totalResults: list.length, Resources: list.slice(start - 1, start - 1 + Number(req.searchParams?.count)) };
      return { status: 200, headers: {}, body: body as T, attempts: 1 };
    },
    async requestStream() {
      throw new Error('not used');
    },
  };
}

/** Never answers; rejects when the request's signal aborts. */
const stall = (req: ScimRequest) =>
  new Promise<void>((_, reject) => {
    if (req.signal?.aborted) return reject(req.signal.reason);
    req.signal?.addEventListener('abort', () => reject(req.signal!.reason), { once: true });
  });

describe('runExport: one commit per run', () => {
  let dir: string;
  let out: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-onecommit-'));
    out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(out, 'R_Users.csv'), 'previous users');
    await writeFile(join(out, 'R_Groups.csv'), 'previous groups');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function pipe(extra = ''): Promise<Pipeline> {
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: R
  server: http://127.0.0.1:9
  pageSize: 5
export:
  output: out
${extra}  entities:
    Users:
      columns: [id, userName]
    Groups:
      columns: [id, displayName]
`,
    );
    return loadPipeline(file, { env: {} });
  }
  const files = async () => (await readdir(out)).sort();
  const previousKept = async () => {
    expect(await files()).to.deep.equal(['R_Groups.csv', 'R_Users.csv']);
    expect(await readFile(join(out, 'R_Users.csv'), 'utf8')).to.equal('previous users');
    expect(await readFile(join(out, 'R_Groups.csv'), 'utf8')).to.equal('previous groups');
  };

  it('commits every table together when all succeed', async () => {
    const res = await runExport(await pipe(), { client: client(), paging: 'index' });
    expect(res.failed).to.equal(0);
    expect(res.tables.map((t) => t.file)).to.deep.equal([join(out, 'R_Users.csv'), join(out, 'R_Groups.csv')]);
    expect(await files()).to.deep.equal(['R_Groups.csv', 'R_Users.csv']);
    expect((await readFile(join(out, 'R_Users.csv'), 'utf8')).split('\r\n')).to.have.length(14);
  });

  it('a table that fails after another succeeded: the succeeded one is not committed either', async () => {
    const failGroups = (req: ScimRequest) => {
      if (req.path === 'Groups') throw new ScimHttpError({ method: 'GET', path: 'Groups' }, 500, { detail: 'boom' }, 1);
    };
    const res = await runExport(await pipe(), { client: client(failGroups), paging: 'index' });
    expect(res.failed).to.equal(1);
    expect(res.tables.map((t) => [t.table, t.ok, t.file])).to.deep.equal([
      ['Users', true, undefined],
      ['Groups', false, undefined],
    ]);
    await previousKept();
  });

  it('an interrupt during the second table commits nothing: ERR_EXPORT_ABORTED', async () => {
    const ac = new AbortController();
    const c = client((req) => {
      if (req.path === 'Groups') {
        ac.abort(new Error('SIGINT'));
        return stall(req);
      }
    });
    const err = await runExport(await pipe(), { client: c, paging: 'index', signal: ac.signal }).catch((e) => e);
    expect(err?.code).to.equal('ERR_EXPORT_ABORTED');
    await previousKept();
  });

  it('export.deadline stops a run that is still going: ERR_EXPORT_DEADLINE, nothing committed', async () => {
    const c = client((req) => {
      if (req.path === 'Groups') return stall(req);
    });
    const p = await pipe('  deadline: 40\n');
    expect(p.export!.deadline).to.equal(40);
    const err = await runExport(p, { client: c, paging: 'index' }).catch((e) => e);
    expect(err?.code).to.equal('ERR_EXPORT_DEADLINE');
    expect(err?.message).to.match(/export\.deadline \(40 ms\) after 1 of 2 table\(s\): nothing committed/);
    await previousKept();
  });

  it('export.deadline also covers the requests before the first table (ServiceProviderConfig)', async () => {
    const c = client((req) => {
      if (req.path.startsWith('ServiceProviderConfig')) return stall(req);
    });
    const err = await runExport(await pipe('  deadline: 30\n'), { client: c }).catch((e) => e);
    expect(err?.code).to.equal('ERR_EXPORT_DEADLINE');
    await previousKept();
  });

  it('removes the temp files a hard-killed earlier run left, and only those of this identifier', async () => {
    await writeFile(join(out, '.R_Users.csv.0badc0de.tmp'), 'half');
    await writeFile(join(out, '.Other_Users.csv.0badc0de.tmp'), 'not ours');
    const res = await runExport(await pipe(), { client: client(), paging: 'index' });
    expect(res.failed).to.equal(0);
    expect(await files()).to.deep.equal(['.Other_Users.csv.0badc0de.tmp', 'R_Groups.csv', 'R_Users.csv']);
  });
});
