/**
 * The membership table (streamed token by token) against servers that lie in
 * their list replies: the same checks as resource tables, counted in groups.
 */
import { expect } from 'chai';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { parse } from 'csv-parse/sync';
import { cli } from '../helpers/io.js';
import { listResponse, sendJson, startHttp, type SeenRequest, type TestServer } from '../helpers/http-server.js';

const PREVIOUS = 'value,MemberId\r\nold,previous run\r\n';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Group {
  id: string;
  members: Array<{ value: string }>;
}
/** n groups; group i has (i % 7) members: 0..6. */
const groups = (n: number): Group[] =>
  Array.from({ length: n }, (_, i) => ({ id: `g${String(i + 1).padStart(3, '0')}`, members: Array.from({ length: i % 7 }, (_, j) => ({ value: `u${i + 1}-${j}` })) }));
const links = (gs: Group[]) => gs.flatMap((g) => g.members.map((m) => ({ value: g.id, MemberId: m.value })));

interface ListQuery {
  start: number;
  count: number;
  /** attributes=id,members asked (inline) rather than excludedAttributes=members. */
  inline: boolean;
}

describe('membership export against hostile list replies', function () {
  this.timeout(20_000);
  let dir: string;
  let server: TestServer | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scim-etl-hostile-m-'));
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'H_members_Groups.csv'), PREVIOUS);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** `list` answers GET /v2/Groups, `one` GET /v2/Groups/{id}; returns the CLI outcome and the members table. */
  async function exportMembers(list: (q: ListQuery, res: ServerResponse) => void, one?: (id: string, res: ServerResponse) => void) {
    server = await startHttp((req: SeenRequest, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname.startsWith('/v2/ServiceProviderConfig')) return sendJson(res, 404, { schemas: [ERROR_SCHEMA], status: '404' });
      if (url.pathname === '/v2/Groups') {
        const p = url.searchParams;
        return list({ start: Number(p.get('startIndex') ?? 1), count: Number(p.get('count') ?? 100), inline: (p.get('attributes') ?? '').includes('members') }, res);
      }
      const m = /^\/v2\/Groups\/(.+)$/.exec(url.pathname);
      if (m && one) return one(decodeURIComponent(m[1]!), res);
      sendJson(res, 404, { schemas: [ERROR_SCHEMA], status: '404' });
    });
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      `version: 1
connection:
  identifier: H
  server: ${server.url}
  pageSize: 10
  retry: {limit: 0}
export:
  output: out
  entities:
    Groups:
      columns: [id]
      members: true
`,
    );
    const res = await cli(['export', file, '--entity', 'members_Groups', '--no-progress']);
    const text = await readFile(join(dir, 'out', 'H_members_Groups.csv'), 'utf8');
    return { ...res, text, rows: parse(text, { columns: true }) as Array<{ value: string; MemberId: string }> };
  }

  const honest = (data: Group[]) => (q: ListQuery, res: ServerResponse) => sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + q.count), data.length, q.start));

  it('a list page answered 200 with a SCIM Error fails the table and keeps the previous file', async () => {
    const data = groups(30);
    const r = await exportMembers((q, res) => (q.start === 11 ? sendJson(res, 200, { schemas: [ERROR_SCHEMA], status: '500', detail: 'timeout in backend' }) : honest(data)(q, res)));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_BAD_LIST GET Groups \(startIndex 11\): the server answered 2xx with a SCIM Error.*status 500: timeout in backend/);
    expect(r.text).to.equal(PREVIOUS);
  });

  it('members projected hollow ([{}]) for attributes=id,members: asked again as members.value, every link written', async () => {
    const data = groups(30);
    const r = await exportMembers((q, res) => {
      const asked = new URL(server!.requests.at(-1)!.url, 'http://x').searchParams.get('attributes') ?? '';
      const page = data.slice(q.start - 1, q.start - 1 + q.count);
      const hollow = asked === 'id,members' ? page.map((g) => ({ id: g.id, members: g.members.map(() => ({})) })) : page;
      sendJson(res, 200, listResponse(hollow, data.length, q.start));
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.rows).to.deep.equal(links(data).map((l) => ({ ...l })));
    expect(r.stderr).to.match(/warn: Groups: .*members elements without a value.*asking for members\.value instead/);
  });

  it('members hollow whatever is asked: ERR_EXPORT_HOLLOW_MEMBERS, the previous file kept', async () => {
    const data = groups(30);
    const r = await exportMembers((q, res) => sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + q.count).map((g) => ({ id: g.id, members: g.members.map(() => ({})) })), data.length, q.start)));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_HOLLOW_MEMBERS .*attributes=members\.value/);
    expect(r.text).to.equal(PREVIOUS);
  });

  it('an HTML page, or totalResults without Resources, fails the table', async () => {
    const html = await exportMembers((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Maintenance</title>');
    });
    expect(html.code).to.equal(1);
    expect(html.stderr).to.match(/ERR_EXPORT_BAD_LIST GET Groups \(startIndex 1\): the server answered 2xx with text\/html instead of SCIM JSON: <!doctype html>/);
    expect(html.text).to.equal(PREVIOUS);

    await server!.close();
    const empty = await exportMembers((_q, res) => sendJson(res, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 40 }));
    expect(empty.code).to.equal(1);
    expect(empty.stderr).to.match(/ERR_EXPORT_BAD_LIST .*totalResults is 40 but the reply has no Resources/);
    expect(empty.text).to.equal(PREVIOUS);
  });

  it('a group read on its own and answered 200 with a SCIM Error fails the table', async () => {
    const data = groups(5);
    const r = await exportMembers(
      // The inline listing fails on the server side: the export lists ids and reads each group separately.
      (q, res) => (q.inline ? sendJson(res, 504, { schemas: [ERROR_SCHEMA], status: '504' }) : honest(data.map((g) => ({ id: g.id, members: [] })))(q, res)),
      (id, res) => (id === 'g003' ? sendJson(res, 200, { schemas: [ERROR_SCHEMA], status: '403', detail: 'not allowed' }) : sendJson(res, 200, data.find((g) => g.id === id))),
    );
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_BAD_LIST GET Groups\/g003: the server answered 2xx with a SCIM Error instead of the resource \(status 403: not allowed\)/);
    expect(r.text).to.equal(PREVIOUS);
  });

  it('fewer groups than totalResults: ERR_EXPORT_COUNT_MISMATCH, counted in groups', async () => {
    const data = groups(15);
    const r = await exportMembers((q, res) => sendJson(res, 200, listResponse(data.slice(q.start - 1, q.start - 1 + q.count), 20, q.start)));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ERR_EXPORT_COUNT_MISMATCH Groups: only 15 distinct owners arrived but the server said totalResults 20/);
    expect(r.stderr).to.match(/expected=20 received=15/);
    expect(r.text).to.equal(PREVIOUS);
  });

  it('python scim2-server: totalResults equal to the groups of the page still gives every link', async () => {
    const data = groups(70);
    const r = await exportMembers((q, res) => {
      const slice = data.slice(q.start - 1, q.start - 1 + Math.min(q.count, 5));
      sendJson(res, 200, listResponse(slice, slice.length, q.start));
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.rows).to.deep.equal(links(data));
    expect(r.stderr).to.match(/the server does not count the whole listing/);
  });

  it('a group deleted mid-paging does not make a live group lose its links', async () => {
    const data = groups(30);
    let live = [...data];
    let served = 0;
    const r = await exportMembers((q, res) => {
      if (++served === 3) live = live.filter((g) => g.id !== 'g002');
      sendJson(res, 200, listResponse(live.slice(q.start - 1, q.start - 1 + q.count), live.length, q.start));
    });
    expect(r.code, r.stderr).to.equal(0);
    const got = new Set(r.rows.map((l) => `${l.value}/${l.MemberId}`));
    expect(links(live).filter((l) => !got.has(`${l.value}/${l.MemberId}`))).to.deep.equal([]);
    expect(got.size).to.equal(r.rows.length);
    expect(r.stderr).to.match(/totalResults dropped during the run .* listing again from startIndex/);
  });

  it('10^9 groups served one per page stop after the first page with ERR_EXPORT_PAGE_BUDGET', async () => {
    const r = await exportMembers((q, res) => sendJson(res, 200, listResponse([{ id: `g${q.start}`, members: [] }], 1_000_000_000, q.start)));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('ERR_EXPORT_PAGE_BUDGET');
    expect(server!.requests.filter((q) => q.url.startsWith('/v2/Groups')).length).to.equal(1);
    expect(r.text).to.equal(PREVIOUS);
  });
});
