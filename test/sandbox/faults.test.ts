import { expect } from 'chai';
import { request } from 'node:http';
import { startSandbox, parseFaultArg, type Sandbox } from '../../lib/sandbox/index.js';
import { Client } from './helpers.js';

/** Raw GET that reports a socket error instead of throwing, and the bytes received. */
function rawGet(url: string): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (e) => resolve({ status: res.statusCode, body, error: e.message }));
      res.on('aborted', () => resolve({ status: res.statusCode, body, error: 'aborted' }));
    });
    req.on('error', (e) => resolve({ body: '', error: e.message }));
    req.end();
  });
}

describe('sandbox: fault injection', () => {
  let sb: Sandbox;
  let c: Client;
  beforeEach(async () => {
    sb = await startSandbox({ generate: { users: 25, groups: 2 }, defaultCount: 10 });
    c = new Client(sb, null);
  });
  afterEach(() => sb.stop());

  const ids = (r: { body: any }) => (r.body.Resources ?? []).map((u: any) => u.id);

  it('429 with Retry-After seconds, once by default, then normal', async () => {
    sb.setFaults([{ kind: '429', retryAfter: 2 }]);
    const r = await c.get('/Users');
    expect(r.status).to.equal(429);
    expect(r.headers.get('retry-after')).to.equal('2');
    expect(r.body).to.include({ status: '429' });
    expect((await c.get('/Users')).status).to.equal(200);
    expect(sb.requests[0]!.fault).to.equal('429');
  });

  it('429 with Retry-After as an HTTP date', async () => {
    sb.setFaults([{ kind: '429', retryAfter: 'date', retryAfterSeconds: 30 }]);
    const r = await c.get('/Users');
    const when = Date.parse(r.headers.get('retry-after')!);
    expect(r.headers.get('retry-after')).to.match(/GMT$/);
    expect(when - Date.now()).to.be.within(25_000, 31_000);
  });

  it('500 and 503 `times` times on the matching route only, after N requests', async () => {
    sb.setFaults([{ kind: '503', route: 'GET /v2/Groups', times: 2, after: 1 }, { kind: '500', route: /^POST /, times: 1 }]);
    expect((await c.get('/Users')).status).to.equal(200);
    expect((await c.get('/Groups')).status).to.equal(200); // after: 1
    expect((await c.get('/Groups')).status).to.equal(503);
    expect((await c.get('/Groups')).status).to.equal(503);
    expect((await c.get('/Groups')).status).to.equal(200);
    expect((await c.post('/Users', { userName: 'x@example.com' })).status).to.equal(500);
    expect(sb.store.userIdByName('x@example.com')).to.equal(undefined);
    expect((await c.post('/Users', { userName: 'x@example.com' })).status).to.equal(201);
  });

  it('a route written as /regex/ matches as a regular expression', async () => {
    sb.setFaults([{ kind: '500', route: '/Users\\/[^/]+$/', times: 5 }]);
    expect((await c.get('/Users')).status).to.equal(200);
    expect((await c.get(`/Users/${sb.store.ids('Users')[0]}`)).status).to.equal(500);
  });

  it('reset: the connection drops mid-body', async () => {
    sb.setFaults([{ kind: 'reset' }]);
    const r = await rawGet(`${sb.url}/v2/Users`);
    expect(r.error).to.be.a('string');
    expect(r.body.length).to.be.greaterThan(0);
    expect(() => JSON.parse(r.body)).to.throw();
    expect((await rawGet(`${sb.url}/v2/Users`)).error).to.equal(undefined);
  });

  it('truncate: a complete HTTP reply whose JSON is cut', async () => {
    sb.setFaults([{ kind: 'truncate' }]);
    const r = await rawGet(`${sb.url}/v2/Users`);
    expect(r.status).to.equal(200);
    expect(r.error).to.equal(undefined);
    expect(() => JSON.parse(r.body)).to.throw();
  });

  it('slow: answers after delayMs', async () => {
    sb.setFaults([{ kind: 'slow', delayMs: 30, times: 1 }]);
    const r = await c.get('/Users');
    expect(r.status).to.equal(200);
    expect(sb.requests[0]!.fault).to.equal('slow');
  });

  it('expireToken: 401 after N requests, then the (refreshed) token works again', async () => {
    await sb.stop();
    sb = await startSandbox({ token: 'tok-1234', faults: [{ kind: 'expireToken', after: 2 }] });
    c = new Client(sb, 'Bearer tok-1234');
    expect((await c.get('/Users')).status).to.equal(200);
    expect((await c.get('/Users')).status).to.equal(200);
    const r = await c.get('/Users');
    expect(r.status).to.equal(401);
    expect(r.headers.get('www-authenticate')).to.contain('invalid_token');
    expect((await c.get('/Users')).status).to.equal(200);
  });

  it('ignoreCount: a fixed page size whatever count says', async () => {
    sb.setFaults([{ kind: 'ignoreCount', pageSize: 7 }]);
    expect(ids(await c.get('/Users?count=3'))).to.have.length(7);
    expect(ids(await c.get('/Users?count=100'))).to.have.length(7);
    // single resources are not touched
    expect((await c.get(`/Users/${sb.store.ids('Users')[0]}`)).status).to.equal(200);
  });

  it('capCount: count silently capped', async () => {
    sb.setFaults([{ kind: 'capCount', pageSize: 4 }]);
    expect(ids(await c.get('/Users?count=3'))).to.have.length(3);
    expect(ids(await c.get('/Users?count=20'))).to.have.length(4);
    const s = await c.post('/Users/.search', { count: 20 });
    expect(ids(s)).to.have.length(4);
  });

  it('repeatPage: a page after the first repeats the previous page', async () => {
    sb.setFaults([{ kind: 'repeatPage', times: 1 }]);
    const p1 = await c.get('/Users?startIndex=1&count=10');
    const p2 = await c.get('/Users?startIndex=11&count=10');
    expect(ids(p2)).to.deep.equal(ids(p1));
    expect(p2.body.startIndex).to.equal(11);
    const again = await c.get('/Users?startIndex=11&count=10');
    expect(ids(again)).to.deep.equal(sb.store.ids('Users').slice(10, 20));
  });

  it('shiftItems: as if a resource was inserted before the cursor between pages', async () => {
    sb.setFaults([{ kind: 'shiftItems', times: 1 }]);
    const all = sb.store.ids('Users');
    const p1 = await c.get('/Users?startIndex=1&count=10');
    const p2 = await c.get('/Users?startIndex=11&count=10');
    const p3 = await c.get('/Users?startIndex=21&count=10');
    expect(ids(p1)).to.deep.equal(all.slice(0, 10));
    expect(ids(p2)).to.deep.equal(all.slice(9, 19)); // one item seen twice
    expect(ids(p3)).to.deep.equal(all.slice(19, 25));
    expect(p2.body.totalResults).to.equal(26);
    const seen = new Set([...ids(p1), ...ids(p2), ...ids(p3)]);
    expect(seen.size).to.equal(25); // a client that de-duplicates misses nothing
  });

  it('faults can be replaced at runtime and cleared', async () => {
    sb.setFaults([{ kind: '500', times: 100 }]);
    expect((await c.get('/Users')).status).to.equal(500);
    sb.setFaults([]);
    expect((await c.get('/Users')).status).to.equal(200);
  });

  it('rejects a bad fault spec with ERR_SANDBOX_FAULT', () => {
    expect(() => sb.setFaults([{ kind: 'explode' } as never])).to.throw(/kind must be one of/).with.property('code', 'ERR_SANDBOX_FAULT');
    expect(() => sb.setFaults([{ kind: '429', times: -1 }])).to.throw(/times must be a number/);
    expect(() => sb.setFaults([{ kind: '429', retryAfter: 'soon' as never }])).to.throw(/retryAfter/);
    expect(() => sb.setFaults([{ kind: '429', colour: 'red' } as never])).to.throw(/unknown key 'colour'/);
    expect(() => sb.setFaults([{ kind: '429', route: '/Users(/' }])).to.throw(/not a valid regular expression/).with.property('code', 'ERR_SANDBOX_FAULT');
  });
});

describe('sandbox: --fault syntax', () => {
  it('parses the simple form kind[@route][,key=value…]', () => {
    expect(parseFaultArg('429@GET /v2/Users,times=2,retryAfter=date')).to.deep.equal([{ kind: '429', route: 'GET /v2/Users', times: 2, retryAfter: 'date' }]);
    expect(parseFaultArg('slow,delayMs=200')).to.deep.equal([{ kind: 'slow', delayMs: 200 }]);
    expect(parseFaultArg('capCount,pageSize=7,route=/Users/')).to.deep.equal([{ kind: 'capCount', pageSize: 7, route: '/Users/' }]);
  });

  it('parses JSON objects and arrays', () => {
    expect(parseFaultArg('{"kind":"500","times":3}')).to.deep.equal([{ kind: '500', times: 3 }]);
    expect(parseFaultArg('[{"kind":"reset"},{"kind":"truncate","route":"Groups"}]')).to.have.length(2);
  });

  it('reports bad input with ERR_SANDBOX_FAULT', () => {
    for (const bad of ['boom', '429,times', '{"kind":', '429,times=abc', '[{"kind":"500","x":1}]']) {
      expect(() => parseFaultArg(bad), bad).to.throw().with.property('code', 'ERR_SANDBOX_FAULT');
    }
  });
});
