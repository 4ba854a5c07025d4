import { expect } from 'chai';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { Client, q } from './helpers.js';

const ENTITLEMENT = 'urn:salesforce:schemas:extension:2.0:Entitlement';

describe('sandbox: read-only resource types from the data file', () => {
  let sb: Sandbox;
  let c: Client;
  beforeEach(async () => {
    sb = await startSandbox({
      data: {
        Users: [
          { id: '005A', userName: 'a@example.com', entitlements: [{ value: '00eP', type: 'Profile' }] },
          { id: '005B', userName: 'b@example.com' },
        ],
        Groups: [{ id: '00GX', displayName: 'G', members: [{ value: '005A' }] }],
        Entitlements: [
          { schemas: [ENTITLEMENT], id: '00eP', displayName: 'Standard User', type: 'Profile', members: [{ value: '005A' }, { value: '005B' }], meta: { resourceType: 'Entitlement' } },
          { schemas: [ENTITLEMENT], id: '0PSX', displayName: 'Reports', type: 'PermissionSet', members: [{ value: '005A' }] },
        ],
        Roles: [{ id: '00EA', displayName: 'CEO' }],
      },
    });
    c = new Client(sb, null);
  });
  afterEach(() => sb.stop());

  it('lists, filters, pages and projects them like any resource', async () => {
    const all = await c.get('/Entitlements');
    expect(all.body.totalResults).to.equal(2);
    expect(all.body.Resources[0].meta).to.include({ resourceType: 'Entitlement', location: `${sb.url}/v2/Entitlements/00eP` });
    expect(all.body.Resources[0].members.map((m: any) => [m.value, m.display, m.type])).to.deep.equal([
      ['005A', 'a@example.com', 'User'],
      ['005B', 'b@example.com', 'User'],
    ]);
    const ps = await c.get(`/Entitlements?filter=${q('type eq "PermissionSet"')}&attributes=displayName`);
    expect(ps.body.Resources.map((e: any) => e.displayName)).to.deep.equal(['Reports']);
    expect((await c.get('/entitlements/0PSX')).body.displayName).to.equal('Reports');
    expect((await c.get('/Roles?count=1')).body.Resources[0].meta.resourceType).to.equal('Role');
    expect((await c.get('/Entitlements?excludedAttributes=members')).body.Resources[0]).to.not.have.property('members');
  });

  it('are described in /ResourceTypes', async () => {
    const rts = (await c.get('/ResourceTypes')).body.Resources;
    expect(rts.map((r: any) => r.endpoint)).to.deep.equal(['/Users', '/Groups', '/Entitlements', '/Roles']);
    expect(rts[2]).to.include({ id: 'Entitlement', schema: ENTITLEMENT });
  });

  it('refuse writes with 405, also through Bulk', async () => {
    expect((await c.post('/Entitlements', { displayName: 'x' })).status).to.equal(405);
    expect((await c.patch('/Entitlements/00eP', [{ op: 'replace', path: 'displayName', value: 'x' }])).status).to.equal(405);
    expect((await c.del('/Roles/00EA')).status).to.equal(405);
    const bulk = await c.post('/Bulk', { Operations: [{ method: 'DELETE', path: '/Roles/00EA' }, { method: 'PATCH', path: '/Entitlements/0PSX', data: { Operations: [{ op: 'remove', path: 'members' }] } }] });
    expect(bulk.body.Operations.map((o: any) => o.status)).to.deep.equal(['405', '405']);
    expect(sb.store.count('Roles')).to.equal(1);
  });

  it('lose a deleted user from their members; users\' groups list Groups only', async () => {
    expect((await c.get('/Users/005A')).body.groups.map((g: any) => g.value)).to.deep.equal(['00GX']);
    await c.del('/Users/005B');
    expect((await c.get('/Entitlements/00eP')).body.members.map((m: any) => m.value)).to.deep.equal(['005A']);
  });

  it('take part in POST /.search', async () => {
    const r = await c.post('/.search', { filter: 'displayName eq "CEO"' });
    expect(r.body.Resources.map((x: any) => x.id)).to.deep.equal(['00EA']);
  });
});
