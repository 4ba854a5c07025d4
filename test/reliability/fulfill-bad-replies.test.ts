/**
 * Fulfill against hostile replies to the change itself: each one gets a coded
 * error or a failed results line, never `ok`, a crash or a stack trace; a
 * redirect to another host does not take the token along. (An empty 200 to a
 * PATCH is taken as success like a 204, so it is not in this list.)
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type http from 'node:http';
import { startHttp, sendJson, type SeenRequest, type TestServer } from '../helpers/http-server.js';
import { cli } from '../helpers/io.js';
import { tempDir } from '../fulfill/helpers.js';

const TOKEN = 'tok-bad-replies-7c1';

type Reply = (req: SeenRequest, res: http.ServerResponse) => void;

const REPLIES: Record<string, Reply> = {
  'an HTML error page with 200': (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body><h1>Gateway error</h1></body></html>');
  },
  'a 200 with a SCIM error body': (_q, res) => sendJson(res, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500', detail: 'backend down' }),
  'invalid JSON': (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/scim+json' });
    res.end('{"id": "u1", "userName": ');
  },
  'a 50 MB error body': (_q, res) => {
    res.writeHead(500, { 'content-type': 'application/scim+json' });
    const chunk = 'x'.repeat(1024 * 1024);
    let n = 0;
    let gone = false;
    res.on('close', () => (gone = true));
    const more = () => {
      while (n < 50 && !gone) {
        n++;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    more();
  },
};

describe('reliability: fulfill against bad replies', function () {
  this.timeout(20_000);
  let srv: TestServer | undefined;
  let other: TestServer | undefined;
  afterEach(async () => {
    await srv?.close();
    await other?.close();
    srv = other = undefined;
  });

  async function fulfillAgainst(reply: Reply): Promise<{ code: number; stderr: string; results?: string }> {
    srv = await startHttp((req, res) => {
      if (req.method === 'PATCH') return reply(req, res);
      sendJson(res, 404, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'not here' });
    });
    const dir = tempDir();
    mkdirSync(join(dir, 'orders'));
    writeFileSync(join(dir, 'orders', 'T_Users.csv'), 'command,id,title\nupdate,u1,Boss\n');
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      `version: 1\nconnection:\n  identifier: T\n  server: ${srv.url}\n  oAuthToken: ${TOKEN}\n  serviceSupportBulk: false\n  maxReplyBytes: 65536\n  retry:\n    backoff: 1\n    limit: 1\nfulfill:\n  orders: orders\n  results: results\n`,
    );
    const r = await cli(['fulfill', file], { cwd: dir });
    const path = join(dir, 'results', 'T_Users.csv');
    return { code: r.code, stderr: r.stderr, ...(existsSync(path) ? { results: readFileSync(path, 'utf8') } : {}) };
  }

  for (const [name, reply] of Object.entries(REPLIES)) {
    it(`${name}: the line is not ok, a coded error, no stack`, async () => {
      const r = await fulfillAgainst(reply);
      expect(r.code, r.stderr).to.not.equal(0);
      expect(r.stderr).to.not.match(/^\s+at /m);
      expect(r.stderr).to.not.include(TOKEN);
      if (r.results !== undefined) {
        const line = r.results.trim().split('\n')[1]!;
        expect(line).to.match(/^2,update,u1,/);
        expect(line).to.not.match(/,ok,/);
        expect(line + r.stderr).to.match(/ERR_[A-Z_]+|failed/);
      } else {
        expect(r.stderr).to.match(/ERR_[A-Z_]+/);
      }
    });
  }

  it('a redirect to another host is not followed with the token', async () => {
    other = await startHttp((_q, res) => sendJson(res, 200, { id: 'u1', userName: 'x' }));
    const target = other.url;
    const r = await fulfillAgainst((_q, res) => {
      res.writeHead(307, { location: `${target}/v2/Users/u1` });
      res.end();
    });
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.not.match(/^\s+at /m);
    expect(other.requests.filter((q) => String(q.headers.authorization ?? '').includes(TOKEN))).to.deep.equal([]);
    if (r.results !== undefined) expect(r.results).to.not.match(/,ok,/);
  });
});
