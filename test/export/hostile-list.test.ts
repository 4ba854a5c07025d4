/**
 * The export CLI against servers that lie in their list replies: every case
 * either writes the whole table or fails with a code, exit 1, and the
 * previous file left as it was.
 */
import { expect } from 'chai';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { parse } from 'csv-parse/sync';
import { cli } from '../helpers/io.js';
import { listResponse, sendJson, startHttp, type SeenRequest, type TestServer } from '../helpers/http-server.js';

const PREVIOUS = 'id,userName\r\nold,previous run\r\n';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

type User = { id: string; userName: string };
const users = (n: number): User[] => Array.from({ length: n }, (_, i) => ({ id: `u${String(i + 1).padStart(4, '0')}`, userName: `user${i + 1}` }));

/** startIndex and count of a list request (undefined for other paths). */
function listQuery(req: SeenRequest, endpoint = 'Users'): { start: number; count: number } | undefined {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== `/v2/${endpoint}`) return undefined;
  return { start: Number(url.searchParams.get('startIndex') ?? 1), count: Number(url.searchParams.get('count') ?? 100) };
}

/** The discovery requests get a 404: index paging. */
function discovery(req: SeenRequest, res: ServerResponse): boolean {
  if (!req.url.startsWith('/v2/ServiceProviderConfig')) return false;
  sendJson(res, 404, { schemas: [ERROR_SCHEMA], status: '404' });
  return true;
}

describe('export against hostile list replies', function () {
  this.timeout(20_000);
  let dir: string;
  let server: TestServer | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-hostile-'));
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'H_Users.csv'), PREVIOUS);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** Serves `page(start, count, req)` for GET /v2/Users; returns the CLI's outcome. */
  async function exportUsers(page: (q: { start: number; count: number }, res: ServerResponse, req: SeenRequest) => void, opts: { concurrency?: number; exportExtra?: string; entityExtra?: string } = {}) {
    server = await startHttp((req, res) => {
      if (discovery(req, res)) return;
      const q = listQuery(req);
      if (!q) return sendJson(res, 404, { schemas: [ERROR_SCHEMA], status: '404' });
      page(q, res, req);
    });
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: H
  server: ${server.url}
  pageSize: 10
  concurrency: ${opts.concurrency ?? 1}
  retry: {limit: 0}
export:
  output: out
${opts.exportExtra ?? ''}  entities:
    Users:
      columns: [id, userName]
${opts.entityExtra ?? ''}`,
    );
    const res = await cli(['export', file, '--no-progress']);
    const text = await readFile(join(dir, 'out', 'H_Users.csv'), 'utf8');
    const rows = parse(text, { columns: true }) as User[];
    // List requests of the source; the export's projection probe (no startIndex) comes first and is left out.
    return { ...res, text, rows, requests: server.requests.filter((r) => listQuery(r) && new URL(r.url, 'http://x').searchParams.has('startIndex')) };
  }

  const honest = (data: User[]) => (q: { start: number; count: number }, res: ServerResponse) =>
    sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + q.count), data.length, q.start));

  it('a 200 whose body is a SCIM Error fails the table (ERR_EXPORT_BAD_LIST) and keeps the previous file', async () => {
    const r = await exportUsers((_q, res) => sendJson(res, 200, { schemas: [ERROR_SCHEMA], status: '500', detail: 'database unavailable' }));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_BAD_LIST GET Users \(startIndex 1\): the server answered 2xx with a SCIM Error.*status 500: database unavailable/);
    expect(r.text).to.equal(PREVIOUS);
  });

  for (const concurrency of [1, 4]) {
    it(`an Error body at page 3 of 50 fails the table, naming the page (concurrency ${concurrency})`, async () => {
      const data = users(50);
      const r = await exportUsers(
        (q, res) => (q.start === 21 ? sendJson(res, 200, { schemas: [ERROR_SCHEMA], status: 503, detail: 'busy' }) : honest(data)(q, res)),
        { concurrency },
      );
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include('ERR_EXPORT_BAD_LIST GET Users (startIndex 21)');
      expect(r.text).to.equal(PREVIOUS);
    });
  }

  it('totalResults 40 without Resources fails the table; an HTML page with 200 too', async () => {
    const r = await exportUsers((_q, res) => sendJson(res, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 40 }));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_BAD_LIST .*totalResults is 40 but the reply has no Resources/);
    expect(r.text).to.equal(PREVIOUS);

    await server!.close();
    const html = await exportUsers((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Sign in to continue</body></html>');
    });
    expect(html.code).to.equal(1);
    expect(html.stderr).to.match(/ERR_EXPORT_BAD_LIST .*not JSON but text: <html><body>Sign in/);
    expect(html.text).to.equal(PREVIOUS);
  });

  it('totalResults too high (100 for 30): ERR_EXPORT_COUNT_MISMATCH; with countMismatch: warn the 30 rows are written with a warning', async () => {
    const data = users(30);
    const liar = (q: { start: number; count: number }, res: ServerResponse) => sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + q.count), 100, q.start));
    const r = await exportUsers(liar, { concurrency: 4 });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_COUNT_MISMATCH Users: only 30 distinct resources arrived but the server said totalResults 100/);
    expect(r.stderr).to.match(/expected=100 received=30/);
    expect(r.text).to.equal(PREVIOUS);

    await server!.close();
    const warned = await exportUsers(liar, { entityExtra: '      countMismatch: warn\n' });
    expect(warned.code, warned.stderr).to.equal(0);
    expect(warned.rows.map((u) => u.id)).to.deep.equal(data.map((u) => u.id));
    expect(warned.stderr).to.match(/warn: Users: only 30 distinct resources arrived but the server said totalResults 100; writing the table anyway/);
  });

  for (const concurrency of [1, 4]) {
    it(`totalResults too low (25 for 50): every row is read, with a warning naming the behaviour (concurrency ${concurrency})`, async () => {
      const data = users(50);
      const r = await exportUsers((q, res) => sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + q.count), 25, q.start)), { concurrency });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.rows.map((u) => u.id)).to.deep.equal(data.map((u) => u.id));
      expect(r.stderr).to.match(/totalResults \(25\) is lower than the 30 items already served.*the server does not count the whole listing/);
    });
  }

  it('python scim2-server: totalResults equal to the items of the page (300 users, 50 a page) still gives every row', async () => {
    const data = users(300);
    const r = await exportUsers((q, res) => {
      const slice = data.slice(q.start - 1, q.start - 1 + Math.min(q.count, 50));
      sendJson(res, 200, listResponse(slice, slice.length, q.start));
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.rows.length).to.equal(300);
    expect(r.stderr).to.match(/equal to the items of one page/);
  });

  for (const concurrency of [1, 4]) {
    it(`a user deleted mid-paging (totalResults 50 → 49) does not make a live user go missing (concurrency ${concurrency})`, async () => {
      const data = users(50);
      let live = [...data];
      let served = 0;
      const r = await exportUsers(
        (q, res) => {
          // Pages are served in order at concurrency 1; at 4 the first page alone, then three at once.
          if (++served === 3) live = live.filter((u) => u.id !== 'u0005');
          sendJson(res, 200, listResponse(live.slice(q.start - 1, q.start - 1 + q.count), live.length, q.start));
        },
        { concurrency },
      );
      expect(r.code, r.stderr).to.equal(0);
      const got = new Set(r.rows.map((u) => u.id));
      expect(live.filter((u) => !got.has(u.id))).to.deep.equal([]);
      expect(r.rows.length).to.equal(got.size);
      expect(r.stderr).to.match(/totalResults dropped during the run .* reading again from startIndex/);
    });
  }

  it('10^9 pages of one item stop after the first page with ERR_EXPORT_PAGE_BUDGET', async () => {
    const r = await exportUsers((q, res) => sendJson(res, 200, listResponse([{ id: `u${q.start}`, userName: `x${q.start}` }], 1_000_000_000, q.start)));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_PAGE_BUDGET Users: stopped after the server reports totalResults 1000000000 and serves 1 per page \(asked 10\): 1000000000 requests, more than export.maxPages \(100000\)/);
    expect(r.requests.length).to.equal(1);
    expect(r.text).to.equal(PREVIOUS);
  });

  it('an endless listing without totalResults stops at export.maxPages', async () => {
    const r = await exportUsers((q, res) => sendJson(res, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], Resources: [{ id: `u${q.start}`, userName: 'x' }] }), {
      exportExtra: '  maxPages: 30\n',
    });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_PAGE_BUDGET Users: stopped after 30 list requests without reaching the end \(export.maxPages\)/);
    expect(r.requests.length).to.equal(30);
    expect(r.text).to.equal(PREVIOUS);
  });

  it('pages far smaller than the first one stop at twice the expected pages', async () => {
    const data = users(100);
    const r = await exportUsers((q, res) => sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + (q.start === 1 ? 10 : 1)), 100, q.start)));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_PAGE_BUDGET .*more than twice the 10 expected/);
    expect(r.requests.length).to.equal(22);
  });

  it('an honest table costs at most one extra request', async () => {
    const small = await exportUsers(honest(users(7)));
    expect(small.code, small.stderr).to.equal(0);
    expect(small.requests.map((q) => listQuery(q)!.start)).to.deep.equal([1, 8]);
    await server!.close();
    const paged = await exportUsers(honest(users(25)), { concurrency: 4 });
    expect(paged.code, paged.stderr).to.equal(0);
    expect(paged.rows.length).to.equal(25);
    expect(paged.requests.map((q) => listQuery(q)!.start)).to.deep.equal([1, 11, 21]);
    expect(paged.stderr).to.match(/rows=25 expected=25 received=25 pages=3/);
  });
});
