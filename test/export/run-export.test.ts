import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadPipeline } from '../../lib/config/load.js';
import { runExport, planTables, selectTables, type ExportClient } from '../../lib/export.js';
import { Logger } from '../../lib/log.js';
import { formatProgress, formatDuration, createProgress } from '../../lib/progress.js';
import type { ScimRequest } from '../../lib/scim/client.js';
import type { Pipeline } from '../../lib/config/types.js';
import { choosePaging, pagingFromConfig } from '../../lib/streams/sources/choose-paging.js';
import { ScimEtlError } from '../../lib/errors.js';
import { ScimHttpError } from '../../lib/scim/errors.js';

const users = Array.from({ length: 30 }, (_, i) => ({ id: `u${i}`, userName: `user${i}` }));

function client(onPage?: (start: number) => void): ExportClient & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    stats: { requests: 0, retries: 0 },
    async request<T>(req: ScimRequest) {
      paths.push(req.path);
      const start = Number(req.searchParams?.startIndex ?? 1);
      onPage?.(start);
      if (req.signal?.aborted) throw req.signal.reason;
      const body = { totalResults: users.length, Resources: users.slice(start - 1, start - 1 + Number(req.searchParams?.count)) };
      return { status: 200, headers: {}, body: body as T, attempts: 1 };
    },
    async requestStream() {
      throw new Error('not used');
    },
  };
}

describe('runExport', () => {
  let dir: string;
  let pipe: Pipeline;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-run-'));
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: R
  server: http://127.0.0.1:9
  pageSize: 10
export:
  output: out
  entities:
    Users:
      columns: [id, userName]
      incremental: true
    Groups:
      columns: [id]
      members: true
`,
    );
    pipe = await loadPipeline(file, { env: {} });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('plans one table per entity plus membership tables, and selects them by name', () => {
    const plans = planTables(pipe);
    expect(plans.map((p) => p.name)).to.deep.equal(['Users', 'Groups', 'members_Groups']);
    expect(selectTables(plans, ['groups'], false).map((p) => p.name)).to.deep.equal(['Groups', 'members_Groups']);
    expect(selectTables(plans, ['MEMBERS_groups'], true).map((p) => p.name)).to.deep.equal(['members_Groups']);
    expect(selectTables(plans, ['Groups'], true).map((p) => p.name)).to.deep.equal(['Groups']);
    expect(() => selectTables(plans, undefined, true)).to.throw().with.property('code', 'ERR_OPTION_STDOUT');
    expect(() => selectTables(plans, ['Roles'], false)).to.throw().with.property('code', 'ERR_OPTION_ENTITY');
  });

  it('writes the selected table, warns that the server ignores the meta.lastModified filter (a complete export), and returns the counts', async () => {
    const err = new PassThrough();
    let logs = '';
    err.on('data', (c) => (logs += c));
    const res = await runExport(pipe, { client: client(), entities: ['Users'], logger: new Logger({ stream: err }) });
    expect(res.failed).to.equal(0);
    expect(res.tables).to.have.length(1);
    expect(res.tables[0]).to.include({ table: 'Users', ok: true, rows: 30, pages: 3, retries: 0, duplicates: 0, file: join(dir, 'out', 'R_Users.csv') });
    expect((await readFile(join(dir, 'out', 'R_Users.csv'), 'utf8')).split('\r\n')).to.have.length(32);
    expect(logs).to.match(/warn: Users: incremental export is not possible: meta.lastModified gt a future date gives 30 results instead of 0/);
    expect(res.tables[0]!.incremental).to.equal(undefined);
  });

  it('writes one table to a stdout stream, and treats a reader that closes the pipe as done', async () => {
    const { Writable } = await import('node:stream');
    let text = '';
    const stdout = new Writable({
      write(chunk, _e, done) {
        text += chunk;
        done();
      },
    });
    const ok = await runExport(pipe, { client: client(), entities: ['Users'], stdout, paging: 'index' });
    expect(ok.failed).to.equal(0);
    expect(text.split('\r\n')[0]).to.equal('id,userName');
    expect(text.split('\r\n')).to.have.length(32);
    expect(stdout.writableEnded).to.equal(false);

    const closed = new Writable({
      write(_c, _e, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const res = await runExport(pipe, { client: client(), entities: ['Users'], stdout: closed, paging: 'index' });
    expect(res.failed).to.equal(0);
  });

  it('stops on abort, removes the temp file and keeps the previous file', async () => {
    const ac = new AbortController();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'R_Users.csv'), 'previous');
    const c = client((start) => {
      if (start === 21) ac.abort(new Error('interrupted'));
    });
    let error: any;
    try {
      await runExport(pipe, { client: c, signal: ac.signal });
    } catch (e) {
      error = e;
    }
    expect(error?.code).to.equal('ERR_EXPORT_ABORTED');
    expect(await readdir(join(dir, 'out'))).to.deep.equal(['R_Users.csv']);
    expect(await readFile(join(dir, 'out', 'R_Users.csv'), 'utf8')).to.equal('previous');
    // The meta.lastModified probe (3 counts), the projection probe, then pages 1, 11 and 21.
    expect(c.paths.filter((p) => p !== 'ServiceProviderConfig')).to.deep.equal(Array(7).fill('Users'));
  });
});

describe('progress', () => {
  it('formats fetched / total, rate and ETA', () => {
    expect(formatProgress('X_Users.csv', 1200, 5000, 2000)).to.equal('X_Users.csv  1,200 / 5,000  24%  600/s  ETA 6s');
    expect(formatProgress('X_members_Groups.csv', 10, undefined, 0)).to.equal('X_members_Groups.csv  10  0/s');
    expect(formatDuration(59)).to.equal('59s');
    expect(formatDuration(61)).to.equal('1m01s');
    expect(formatDuration(3700)).to.equal('1h01m');
  });

  it('redraws at most once per interval (injected clock) and writes nothing when disabled', () => {
    let t = 0;
    let text = '';
    const stream = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WritableStream;
    const p = createProgress({ stream, enabled: true, label: 'T', now: () => t, intervalMs: 1000 });
    p.update(1, 10);
    t = 500;
    p.update(5, 10);
    t = 1500;
    p.update(10, 10);
    p.finish();
    expect(text.trim().split('\n')).to.deep.equal(['T  1 / 10  10%  0/s', 'T  10 / 10  100%  7/s']);
    let none = '';
    createProgress({ stream: { write: (s: string) => ((none += s), true) } as unknown as NodeJS.WritableStream, enabled: false, label: 'T' }).update(1, 2);
    expect(none).to.equal('');
  });
});

describe('choosePaging', () => {
  it('takes cursor paging when the server advertises it as default or only method, and caps the page size', () => {
    expect(pagingFromConfig({ pagination: { cursor: true, index: true, defaultPaginationMethod: 'cursor', maxPageSize: 100 } }, 200)).to.include({ paging: 'cursor', pageSize: 100 });
    expect(pagingFromConfig({ pagination: { cursor: true, index: false } }, 200)).to.include({ paging: 'cursor', pageSize: 200 });
    expect(pagingFromConfig({ pagination: { cursor: true, index: true, defaultPaginationMethod: 'index' } }, 200)).to.include({ paging: 'index' });
    expect(pagingFromConfig({ patch: { supported: true } }, 50)).to.include({ paging: 'index', pageSize: 50 });
    expect(pagingFromConfig(undefined, 50)).to.include({ paging: 'index' });
  });

  it('tries the plural path, falls back to index paging, and stops on refused credentials', async () => {
    const asked: string[] = [];
    const make = (answer: (path: string) => unknown) => ({
      async request<T>(req: ScimRequest) {
        asked.push(req.path);
        const a = answer(req.path);
        if (a instanceof Error) throw a;
        return { status: 200, headers: {}, body: a as T, attempts: 1 };
      },
    });
    const notFound = (path: string) => new ScimHttpError({ method: 'GET', path }, 404, {}, 1);
    const plural = make((p) => (p === 'ServiceProviderConfigs' ? { pagination: { cursor: true, index: false } } : notFound(p)));
    expect(await choosePaging(plural, 200)).to.include({ paging: 'cursor' });
    expect(asked).to.deep.equal(['ServiceProviderConfig', 'ServiceProviderConfigs']);
    expect(await choosePaging(make(notFound), 200)).to.include({ paging: 'index', pageSize: 200 });
    const refused = make(() => new ScimEtlError('ERR_AUTH_REJECTED', 'credentials rejected', {}, { category: 'auth' }));
    let err: any;
    try {
      await choosePaging(refused, 200);
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('ERR_AUTH_REJECTED');
  });
});
