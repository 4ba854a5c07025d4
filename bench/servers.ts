/**
 * The two servers the benchmark measures clients against, each started by
 * bench/run.ts in a child process of its own (so that the measured process is
 * only the contestant). Both listen on 127.0.0.1, accept any bearer token and
 * print one JSON line `{"url": …}` on stdout once they serve.
 *
 *   node --import tsx bench/servers.ts pages --users 1000000 --members 1000000
 *   node --import tsx bench/servers.ts sink
 *
 * pages: a static page server. Every ListResponse page of `count=1000` is
 *   serialized once at start-up and then served from memory, so a page costs
 *   the server a header and one write. `/v2/Users` lists all the users;
 *   `/n/<T>/v2/Users` lists the first T of them (T a multiple of the page
 *   size), so that one server serves both sizes of the memory comparison.
 *   `attributes=` is ignored (every contestant gets the same bytes).
 *   `/v2/Groups` lists one group holding every generated member, also served
 *   as `/v2/Groups/<id>`.
 * sink: a fast provisioning target. `POST /v2/Users` answers 201 with a body
 *   holding an id; `POST /v2/Bulk` answers 200 with a 201 per operation.
 *   `/_bench/stats` counts what arrived, `/_bench/reset` zeroes the counts,
 *   `/_bench/first-body` returns the first POST /Users body (autocannon sends
 *   exactly that one).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { CORE_USER, groupId, member, user } from './data.js';

export const PAGE = 1000;
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const JSON_TYPE = 'application/scim+json';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function spc(base: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 16 * 1024 * 1024 },
      filter: { supported: true, maxResults: PAGE },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      pagination: { cursor: false, index: true, defaultPaginationMethod: 'index', defaultPageSize: PAGE, maxPageSize: PAGE },
      authenticationSchemes: [{ type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'any token', primary: true }],
      meta: { resourceType: 'ServiceProviderConfig', location: `${base}/v2/ServiceProviderConfig` },
    }),
  );
}

function send(res: ServerResponse, status: number, ...parts: Buffer[]): void {
  let length = 0;
  for (const p of parts) length += p.length;
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': length });
  for (let i = 0; i < parts.length - 1; i++) res.write(parts[i]);
  res.end(parts[parts.length - 1]);
}

function scimError(res: ServerResponse, status: number, detail: string): void {
  send(res, status, Buffer.from(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail })));
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  process.on('SIGTERM', () => process.exit(0));
  return `http://127.0.0.1:${port}`;
}

function listHeader(total: number, items: number, start: number): Buffer {
  return Buffer.from(`{"schemas":["${LIST}"],"totalResults":${total},"itemsPerPage":${items},"startIndex":${start},"Resources":[`);
}
const LIST_END = Buffer.from(']}');

async function pages(): Promise<void> {
  const users = arg('users', 100_000);
  const members = arg('members', 0);
  if (users % PAGE !== 0) throw new Error(`--users must be a multiple of ${PAGE}`);
  let ready = false;
  let served = 0;
  const chunks: Buffer[] = [];
  let group: Buffer = Buffer.alloc(0);
  let spcBody: Buffer = Buffer.alloc(0);
  const gid = groupId(0);
  const base = await listen((req, res) => {
    served++;
    if (!ready) return scimError(res, 503, 'starting');
    const url = new URL(req.url ?? '/', 'http://x');
    let path = url.pathname;
    let total = users;
    const view = /^\/n\/(\d+)(\/.*)$/.exec(path);
    if (view) {
      total = Number(view[1]);
      path = view[2]!;
      if (total > users || total % PAGE !== 0) return scimError(res, 400, `view size must be a multiple of ${PAGE} up to ${users}`);
    }
    if (path === '/v2/ServiceProviderConfig') return send(res, 200, spcBody);
    if (path === '/_bench/stats') return send(res, 200, Buffer.from(JSON.stringify({ served })));
    if (path === '/v2/Users') {
      const start = Number(url.searchParams.get('startIndex') ?? 1);
      const count = Number(url.searchParams.get('count') ?? PAGE);
      if (start > total) return send(res, 200, listHeader(total, 0, start), LIST_END);
      // A small first page (scim-etl's projection probe asks for ≤ 10) is built on demand: cheap, and outside the measured paging.
      if (start === 1 && count > 0 && count < PAGE) {
        const few = Array.from({ length: count }, (_, i) => JSON.stringify(user(i, base))).join(',');
        return send(res, 200, listHeader(total, count, 1), Buffer.from(few), LIST_END);
      }
      if (count !== PAGE || (start - 1) % PAGE !== 0 || start < 1) {
        return scimError(res, 400, `the bench page server serves count=${PAGE} pages at startIndex 1, ${PAGE + 1}, … (got startIndex=${start}, count=${count})`);
      }
      return send(res, 200, listHeader(total, PAGE, start), chunks[(start - 1) / PAGE]!, LIST_END);
    }
    if (path === '/v2/Groups') {
      const start = Number(url.searchParams.get('startIndex') ?? 1);
      if (start > 1) return send(res, 200, listHeader(1, 0, start), LIST_END);
      return send(res, 200, listHeader(1, 1, 1), group, LIST_END);
    }
    if (path === `/v2/Groups/${gid}`) return send(res, 200, group);
    return scimError(res, 404, `${path} is not served by the bench page server`);
  });
  spcBody = spc(base);
  for (let p = 0; p < users / PAGE; p++) {
    const parts: string[] = [];
    for (let i = p * PAGE; i < (p + 1) * PAGE; i++) parts.push(JSON.stringify(user(i, base)));
    chunks.push(Buffer.from(parts.join(',')));
  }
  const memberParts: string[] = [];
  for (let i = 0; i < members; i++) memberParts.push(JSON.stringify(member(i, base)));
  const meta = { resourceType: 'Group', created: '2024-01-01T00:00:00.000Z', lastModified: '2024-01-01T00:00:00.000Z', location: `${base}/v2/Groups/${gid}`, version: 'W/"1"' };
  group = Buffer.from(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"${gid}","displayName":"Everyone","meta":${JSON.stringify(meta)},"members":[${memberParts.join(',')}]}`);
  memberParts.length = 0;
  ready = true;
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  process.stdout.write(JSON.stringify({ url: base, users, members, userBytes: bytes, groupBytes: group.length }) + '\n');
}

async function sink(): Promise<void> {
  let users = 0;
  let bulkRequests = 0;
  let bulkOps = 0;
  let firstBody: Buffer | undefined;
  let spcBody: Buffer = Buffer.alloc(0);
  let base = '';
  const created = (n: number) => `${base}/v2/Users/u${n}`;
  base = await listen((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v2/ServiceProviderConfig') return send(res, 200, spcBody);
    if (path === '/_bench/stats') return send(res, 200, Buffer.from(JSON.stringify({ users, bulkRequests, bulkOps })));
    if (path === '/_bench/reset') {
      users = bulkRequests = bulkOps = 0;
      return send(res, 200, Buffer.from('{}'));
    }
    if (path === '/_bench/first-body') return firstBody ? send(res, 200, firstBody) : scimError(res, 404, 'no POST /Users yet');
    if (req.method === 'POST' && path === '/v2/Users') {
      body(req).then(
        (b) => {
          if (!firstBody) firstBody = b;
          const n = ++users;
          const location = created(n);
          const reply = Buffer.from(`{"schemas":["${CORE_USER}"],"id":"u${n}","meta":{"resourceType":"User","location":"${location}","version":"W/\\"1\\""}}`);
          res.setHeader('location', location);
          send(res, 201, reply);
        },
        () => res.destroy(),
      );
      return;
    }
    if (req.method === 'POST' && path === '/v2/Bulk') {
      body(req).then(
        (b) => {
          let ops: Array<{ method?: string; bulkId?: string }>;
          try {
            ops = (JSON.parse(b.toString('utf8')) as { Operations: typeof ops }).Operations;
          } catch {
            return scimError(res, 400, 'not a BulkRequest');
          }
          bulkRequests++;
          const out = ops.map((op) => {
            const n = ++bulkOps;
            return { method: op.method, bulkId: op.bulkId, location: created(n), version: 'W/"1"', status: op.method === 'POST' ? '201' : '200' };
          });
          send(res, 200, Buffer.from(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkResponse'], Operations: out })));
        },
        () => res.destroy(),
      );
      return;
    }
    req.resume();
    scimError(res, 404, `${req.method} ${path} is not served by the bench sink`);
  });
  spcBody = spc(base);
  process.stdout.write(JSON.stringify({ url: base }) + '\n');
}

const mode = process.argv[2];
if (mode === 'pages') await pages();
else if (mode === 'sink') await sink();
else {
  console.error('usage: servers.ts pages [--users N] [--members M] | sink');
  process.exit(64);
}
