import { expect } from 'chai';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { Client, q } from './helpers.js';

describe('sandbox: RFC 9865 cursor paging', () => {
  let sb: Sandbox;
  let c: Client;
  beforeEach(async () => {
    sb = await startSandbox({ generate: { users: 25, groups: 0 }, cursor: { timeoutSeconds: 60 } });
    c = new Client(sb, null);
  });
  afterEach(() => sb.stop());

  it('advertises cursor paging', async () => {
    const spc = (await c.get('/ServiceProviderConfig')).body;
    expect(spc.pagination).to.include({ cursor: true, index: true, cursorTimeout: 60 });
  });

  it('walks all pages with nextCursor; the last page has none', async () => {
    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    for (;;) {
      const r = await c.get(`/Users?count=10&attributes=userName&cursor=${q(cursor)}`);
      expect(r.status).to.equal(200);
      expect(r.body).to.not.have.property('startIndex');
      expect(r.body.totalResults).to.equal(25);
      pages++;
      seen.push(...r.body.Resources.map((u: any) => u.id));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal([...sb.store.ids('Users')]);
  });

  it('gives previousCursor after the first page, and works with filters and .search', async () => {
    const p1 = await c.get(`/Users?count=2&cursor=&filter=${q('userName co "@example.com"')}`);
    const p2 = await c.get(`/Users?count=2&cursor=${q(p1.body.nextCursor)}&filter=${q('userName co "@example.com"')}`);
    expect(p2.body.previousCursor).to.be.a('string');
    const back = await c.get(`/Users?count=2&cursor=${q(p2.body.previousCursor)}&filter=${q('userName co "@example.com"')}`);
    expect(back.body.Resources.map((u: any) => u.id)).to.deep.equal(p1.body.Resources.map((u: any) => u.id));
    const s = await c.post('/Users/.search', { cursor: '', count: 5 });
    expect(s.body.nextCursor).to.be.a('string');
  });

  it('400 invalidCursor for a forged cursor or one from another query, invalidCount for a negative count', async () => {
    const bad = await c.get('/Users?cursor=not-a-cursor');
    expect(bad.status).to.equal(400);
    expect(bad.body.scimType).to.equal('invalidCursor');
    const p1 = await c.get('/Users?count=2&cursor=');
    const other = await c.get(`/Users?count=2&cursor=${q(p1.body.nextCursor)}&filter=${q('active eq true')}`);
    expect(other.body.scimType).to.equal('invalidCursor');
    expect((await c.get('/Users?count=-1&cursor=')).body.scimType).to.equal('invalidCount');
  });

  it('400 expiredCursor after the timeout', async () => {
    const p1 = await c.get('/Users?count=2&cursor=');
    const state = JSON.parse(Buffer.from(p1.body.nextCursor, 'base64url').toString());
    const old = Buffer.from(JSON.stringify({ ...state, t: Date.now() - 61_000 })).toString('base64url');
    expect((await c.get(`/Users?count=2&cursor=${q(old)}`)).body.scimType).to.equal('expiredCursor');
  });

  it('is off by default: cursor is ignored and index paging answers', async () => {
    const plain = await startSandbox({ generate: { users: 5, groups: 0 } });
    try {
      const r = await new Client(plain, null).get('/Users?count=2&cursor=');
      expect(r.body.startIndex).to.equal(1);
      expect(r.body).to.not.have.property('nextCursor');
      expect((await new Client(plain, null).get('/ServiceProviderConfig')).body.pagination.cursor).to.equal(false);
    } finally {
      await plain.stop();
    }
  });
});
