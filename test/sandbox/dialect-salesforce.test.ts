import { expect } from 'chai';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { Client, SAMPLE, TOKEN, BJENSEN, JOSE, TOUR_GUIDES, q } from './helpers.js';

describe('sandbox: Salesforce dialect', () => {
  let sb: Sandbox;
  let c: Client;
  beforeEach(async () => {
    sb = await startSandbox({ dialect: 'Salesforce', data: SAMPLE, token: TOKEN });
    c = new Client(sb);
  });
  afterEach(() => sb.stop());

  it('discovery at /ServiceProviderConfigs only: no bulk, maxResults 200, no sort, no etag', async () => {
    expect((await c.get('/ServiceProviderConfig')).status).to.equal(404);
    const spc = (await c.get('/ServiceProviderConfigs')).body;
    expect(spc).to.deep.include({ bulk: { supported: false, maxOperations: 1000, maxPayloadSize: 1048576 }, sort: { supported: false }, etag: { supported: false } });
    expect(spc.filter.maxResults).to.equal(200);
    expect((await c.get(`/Users/${BJENSEN}`)).body.meta).to.not.have.property('version');
    expect((await c.post('/Bulk', { Operations: [] })).status).to.equal(501);
  });

  it('groups: read and PATCH only, member values wrapped in {members:[…]}', async () => {
    expect((await c.post('/Groups', { displayName: 'x' })).status).to.equal(405);
    expect((await c.put(`/Groups/${TOUR_GUIDES}`, { displayName: 'x' })).status).to.equal(405);
    expect((await c.del(`/Groups/${TOUR_GUIDES}`)).status).to.equal(405);
    const plain = await c.patch(`/Groups/${TOUR_GUIDES}`, [{ op: 'add', path: 'members', value: [{ value: JOSE }] }]);
    expect(plain.status).to.equal(400);
    expect(plain.body.detail).to.contain('wrapped');
    const wrapped = await c.patch(`/Groups/${TOUR_GUIDES}`, [{ op: 'add', path: 'members', value: { members: [{ value: JOSE }] } }]);
    expect(wrapped.status).to.equal(200);
    expect(sb.store.memberIds(TOUR_GUIDES)).to.include(JOSE);
    expect((await c.patch(`/Groups/${TOUR_GUIDES}`, [{ op: 'remove', path: `members[value eq "${JOSE}"]` }])).status).to.equal(200);
  });

  it('DELETE /Users deactivates', async () => {
    expect((await c.del(`/Users/${BJENSEN}`)).status).to.equal(204);
    expect(sb.store.get('Users', BJENSEN)!.active).to.equal(false);
  });

  it('refuses deep index paging and serves filtered lists in id order for keyset paging', async () => {
    await sb.stop();
    sb = await startSandbox({ dialect: 'Salesforce', generate: { users: 2500, groups: 0 }, token: TOKEN });
    c = new Client(sb);
    const deep = await c.get('/Users?startIndex=2001&count=200');
    expect(deep.status).to.equal(400);
    expect(deep.body.detail).to.contain('id gt');
    // keyset: id gt "<last>" page after page collects everyone once
    const seen: string[] = [];
    let last = '';
    for (;;) {
      const r = await c.get(`/Users?count=500&attributes=id&filter=${q(`id gt "${last}"`)}`);
      const ids = (r.body.Resources ?? []).map((u: any) => u.id);
      expect(ids.length).to.be.at.most(200); // capped at maxResults
      if (ids.length === 0) break;
      expect([...ids].sort()).to.deep.equal(ids);
      seen.push(...ids);
      last = ids.at(-1);
    }
    expect(seen).to.have.length(2500);
    expect(new Set(seen).size).to.equal(2500);
  });
});

describe('sandbox: Salesforce sample, Entitlements and Roles', () => {
  let sb: Sandbox;
  let c: Client;
  const ADA = '0055g00000A1b2cAAB';
  const JOSE_SF = '0055g00000A1b2dAAB';
  const STANDARD = '00e5g000001AbCdAAK';
  const REPORTS = '0PS5g000000XyZaGAK';
  beforeEach(async () => {
    const { fileURLToPath } = await import('node:url');
    sb = await startSandbox({ dialect: 'Salesforce', data: fileURLToPath(new URL('../../samples/directory.salesforce.json', import.meta.url)), token: TOKEN });
    c = new Client(sb);
  });
  afterEach(() => sb.stop());

  it('serves Entitlements (profiles and permission sets) with members from users\' entitlements, and Roles', async () => {
    const ents = await c.get('/Entitlements');
    expect(ents.body.totalResults).to.equal(4);
    const std = (await c.get(`/Entitlements/${STANDARD}`)).body;
    expect(std.type).to.equal('Profile');
    expect(std.members.map((m: any) => m.value)).to.deep.equal([JOSE_SF, '0055g00000A1b2eAAB', '0055g00000A1b2fAAB']);
    expect((await c.get('/Roles')).body.Resources.map((r: any) => r.displayName)).to.deep.equal(['CEO', 'VP, Sales']);
    const rts = (await c.get('/ResourceTypes')).body.Resources.map((r: any) => r.endpoint);
    expect(rts).to.deep.equal(['/Users', '/Groups', '/Entitlements', '/Roles']);
  });

  it('PATCHing a user\'s entitlements moves the user between Entitlement members', async () => {
    const r = await c.patch(`/Users/${ADA}`, [{ op: 'add', path: 'entitlements', value: [{ value: REPORTS, type: 'PermissionSet' }] }]);
    expect(r.status).to.equal(200);
    expect(sb.store.entry('Entitlements', REPORTS)!.members!.has(ADA)).to.equal(true);
    expect((await c.get(`/Entitlements/${REPORTS}`)).body.members.map((m: any) => m.value)).to.include(ADA);
    await c.patch(`/Users/${JOSE_SF}`, [{ op: 'remove', path: `entitlements[value eq "${REPORTS}"]` }]);
    expect((await c.get(`/Entitlements/${REPORTS}`)).body.members.map((m: any) => m.value)).to.deep.equal([ADA]);
    const bad = await c.patch(`/Users/${ADA}`, [{ op: 'add', path: 'entitlements', value: [{ value: '0PSnope' }] }]);
    expect(bad.status).to.equal(400);
    expect(bad.body.detail).to.contain("Entitlement '0PSnope' does not exist");
    const created = await c.post('/Users', { userName: 'new@acme.example.com', entitlements: [{ value: STANDARD, type: 'Profile' }] });
    expect(created.status).to.equal(201);
    expect(sb.store.entry('Entitlements', STANDARD)!.members!.has(created.body.id)).to.equal(true);
  });

  it('Entitlements and Roles are read-only', async () => {
    expect((await c.del(`/Entitlements/${STANDARD}`)).status).to.equal(405);
    expect((await c.post('/Roles', { displayName: 'x' })).status).to.equal(405);
  });
});

describe('sandbox: Salesforce and/or without precedence', () => {
  it('folds and/or left to right at the top level only', async () => {
    const { parseLeftToRight } = await import('../../lib/sandbox/left-to-right.js');
    const { formatFilter } = await import('../../lib/scim/filter.js');
    expect(formatFilter(parseLeftToRight('a eq 1 or b eq 2 and c eq 3'))).to.equal('((a eq 1 or b eq 2) and c eq 3)');
    expect(formatFilter(parseLeftToRight('a eq 1 or (b eq 2 and c eq 3)'))).to.equal('(a eq 1 or (b eq 2 and c eq 3))');
    expect(formatFilter(parseLeftToRight('a eq "x or y and z" and b eq 1'))).to.equal('(a eq "x or y and z" and b eq 1)');
    expect(formatFilter(parseLeftToRight('emails[type eq "w" or primary eq true] and x pr or y pr'))).to.equal('((emails[(type eq "w" or primary eq true)] and x pr) or y pr)');
  });

  it('a list filter gets Salesforce\'s answer, unlike the RFC one', async () => {
    const f = encodeURIComponent('userName sw "b" or active eq false and userName sw "s"');
    const sf = await startSandbox({ dialect: 'Salesforce', data: SAMPLE });
    const rfc = await startSandbox({ data: SAMPLE });
    try {
      const names = async (sb: Sandbox) => ((await (await fetch(`${sb.url}/v2/Users?filter=${f}`)).json()).Resources ?? []).map((u: any) => u.userName).sort();
      // RFC: b… or (inactive and s…)
      expect(await names(rfc)).to.deep.equal(['bjensen@example.com', 'sean.obrien@example.com', 'soren.odegaard@example.com']);
      // Salesforce: (b… or inactive) and s…
      expect(await names(sf)).to.deep.equal(['sean.obrien@example.com', 'soren.odegaard@example.com']);
    } finally {
      await sf.stop();
      await rfc.stop();
    }
  });
});
