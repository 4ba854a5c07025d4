import { expect } from 'chai';
import { useSandbox, BJENSEN, TOUR_GUIDES, SALES, Client } from './helpers.js';
import { startSandbox } from '../../lib/sandbox/index.js';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

describe('sandbox: /Bulk', () => {
  const { c, sb } = useSandbox({ bulk: { maxOperations: 5, maxPayloadSize: 4096 } });

  it('runs operations in order, resolves bulkId references in member values and paths, statuses as strings', async () => {
    const r = await c().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { userName: 'bulk1@example.com' } },
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { displayName: 'Bulk group', members: [{ value: 'bulkId:u1', type: 'User' }] } },
        { method: 'PATCH', path: '/Groups/bulkId:g1', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: BJENSEN }] }] } },
        { method: 'PATCH', path: `/Groups/${TOUR_GUIDES}`, data: { Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:u1' }] }] } },
        { method: 'DELETE', path: `/Users/${BJENSEN}` },
      ],
    });
    expect(r.status).to.equal(200);
    expect(r.body.schemas).to.deep.equal(['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    expect(r.body.Operations.map((o: any) => o.status)).to.deep.equal(['201', '201', '200', '200', '204']);
    expect(r.body.Operations[4].location).to.equal(`${sb().url}/v2/Users/${BJENSEN}`);
    const u1 = sb().store.userIdByName('bulk1@example.com')!;
    expect(r.body.Operations[0]).to.include({ method: 'POST', bulkId: 'u1', location: `${sb().url}/v2/Users/${u1}` });
    expect(r.body.Operations[0].version).to.match(/^W\//);
    const g1 = r.body.Operations[1].location.split('/').pop();
    expect(sb().store.memberIds(g1)).to.deep.equal([u1]); // bjensen was added, then deleted
    expect(sb().store.memberIds(TOUR_GUIDES)).to.include(u1);
  });

  it('resolves a forward reference to a POST later in the request', async () => {
    const r = await c().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: 'Forward', members: [{ value: 'bulkId:late' }] } },
        { method: 'POST', path: '/Users', bulkId: 'late', data: { userName: 'late@example.com' } },
      ],
    });
    expect(r.body.Operations.map((o: any) => [o.bulkId, o.status])).to.deep.equal([['g', '201'], ['late', '201']]);
    const g = r.body.Operations[0].location.split('/').pop();
    expect(sb().store.memberIds(g)).to.deep.equal([sb().store.userIdByName('late@example.com')]);
  });

  it('reports per-operation errors as SCIM errors and goes on; unresolvable bulkId is 409', async () => {
    const r = await c().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'dup', data: { userName: 'bjensen@example.com' } },
        { method: 'PATCH', path: '/Groups/' + SALES, data: { Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:dup' }] }] } },
        { method: 'PUT', path: '/Users/missing', data: { userName: 'x@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'ok', data: { userName: 'ok@example.com' } },
      ],
    });
    const ops = r.body.Operations;
    expect(ops.map((o: any) => o.status)).to.deep.equal(['409', '409', '404', '201']);
    expect(ops[0].response).to.deep.include({ status: '409', scimType: 'uniqueness' });
    expect(ops[0].response.schemas).to.deep.equal(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect(ops[1].response.detail).to.contain('dup');
  });

  it('failOnErrors stops after that many errors', async () => {
    const r = await c().post('/Bulk', {
      schemas: [BULK],
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { userName: 'bjensen@example.com' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { userName: 'b@example.com' } },
      ],
    });
    expect(r.body.Operations).to.have.length(1);
    expect(sb().store.userIdByName('b@example.com')).to.equal(undefined);
  });

  it('413 over maxOperations and over maxPayloadSize', async () => {
    const ops = Array.from({ length: 6 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { userName: `u${i}@example.com` } }));
    const many = await c().post('/Bulk', { schemas: [BULK], Operations: ops });
    expect(many.status).to.equal(413);
    expect(many.body.status).to.equal('413');
    expect(sb().store.userCount).to.equal(10);
    const big = await c().post('/Bulk', { schemas: [BULK], Operations: [{ method: 'POST', path: '/Users', bulkId: 'x', data: { userName: 'big@example.com', title: 'x'.repeat(5000) } }] });
    expect(big.status).to.equal(413);
  });

  it('400 on a malformed request: missing bulkId on POST, bad method, bad path', async () => {
    for (const op of [{ method: 'POST', path: '/Users', data: {} }, { method: 'GET', path: '/Users' }, { method: 'DELETE', path: 'Users/1' }]) {
      const r = await c().post('/Bulk', { schemas: [BULK], Operations: [op] });
      expect(r.status, JSON.stringify(op)).to.equal(400);
      expect(r.body.scimType).to.equal('invalidSyntax');
    }
  });

  it('SPC advertises bulk limits; --no-bulk answers 501', async () => {
    const spc = await c().get('/ServiceProviderConfig');
    expect(spc.body.bulk).to.deep.equal({ supported: true, maxOperations: 5, maxPayloadSize: 4096 });
    const off = await startSandbox({ bulk: { supported: false } });
    try {
      const cl = new Client(off, null);
      expect((await cl.get('/ServiceProviderConfig')).body.bulk.supported).to.equal(false);
      expect((await cl.post('/Bulk', { schemas: [BULK], Operations: [] })).status).to.equal(501);
    } finally {
      await off.stop();
    }
  });
});

describe('sandbox: /Bulk circular references', () => {
  const { c } = useSandbox();
  it('409 for operations that reference each other', async () => {
    const r = await c().post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'a', data: { displayName: 'A', members: [{ value: 'bulkId:b' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'b', data: { displayName: 'B', members: [{ value: 'bulkId:a' }] } },
        { method: 'POST', path: '/Users', bulkId: 'c', data: { userName: 'c@example.com', nickName: 'bulkId:nowhere' } },
      ],
    });
    const byId = Object.fromEntries(r.body.Operations.map((o: any) => [o.bulkId, o]));
    expect(byId.a.status).to.equal('409');
    expect(byId.a.response.detail).to.contain('circular');
    expect(byId.b.status).to.equal('409');
    expect(byId.c.status).to.equal('409');
    expect(byId.c.response.detail).to.contain("'nowhere' is not defined");
  });
});
