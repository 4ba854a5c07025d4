import { expect } from 'chai';
import { useSandbox, q, BJENSEN, JOSE, ENTERPRISE, TOUR_GUIDES } from './helpers.js';

describe('sandbox: listing, filters, paging, projection', () => {
  const { c, sb } = useSandbox();

  it('lists users as a ListResponse with the SCIM content type', async () => {
    const r = await c().get('/Users');
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^application\/scim\+json/);
    expect(r.body.schemas).to.deep.equal(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    expect(r.body.totalResults).to.equal(10);
    expect(r.body.itemsPerPage).to.equal(10);
    expect(r.body.startIndex).to.equal(1);
    expect(r.body.Resources).to.have.length(10);
    expect(r.body.Resources[0].id).to.equal(BJENSEN);
  });

  it('pages by startIndex and count, in insertion order', async () => {
    const p1 = await c().get('/Users?startIndex=1&count=4');
    const p2 = await c().get('/Users?startIndex=5&count=4');
    const p3 = await c().get('/Users?startIndex=9&count=4');
    expect(p1.body.Resources.map((u: any) => u.id)).to.have.length(4);
    expect(p2.body.startIndex).to.equal(5);
    expect(p3.body.Resources).to.have.length(2);
    expect(p3.body.itemsPerPage).to.equal(2);
    const all = [...p1.body.Resources, ...p2.body.Resources, ...p3.body.Resources].map((u: any) => u.id);
    expect(new Set(all).size).to.equal(10);
    expect(all).to.deep.equal(sb().store.list('Users').map((e) => e.id));
  });

  it('count=0 gives totalResults only', async () => {
    const r = await c().get('/Users?count=0');
    expect(r.body.totalResults).to.equal(10);
    expect(r.body).to.not.have.property('Resources');
  });

  it('startIndex below 1 means 1; past the end gives an empty page', async () => {
    const r = await c().get('/Users?startIndex=-5&count=2');
    expect(r.body.startIndex).to.equal(1);
    expect(r.body.Resources[0].id).to.equal(BJENSEN);
    const e = await c().get('/Users?startIndex=500&count=2');
    expect(e.status).to.equal(200);
    expect(e.body.totalResults).to.equal(10);
    expect(e.body.Resources).to.deep.equal([]);
  });

  it('caps count at maxResults silently', async () => {
    await sb().stop();
    const { startSandbox } = await import('../../lib/sandbox/index.js');
    const small = await startSandbox({ generate: { users: 30, groups: 0 }, maxResults: 7 });
    try {
      const r = await (await fetch(`${small.url}/v2/Users?count=100`)).json();
      expect(r.Resources).to.have.length(7);
      expect(r.totalResults).to.equal(30);
      const spc = await (await fetch(`${small.url}/v2/ServiceProviderConfig`)).json();
      expect(spc.filter).to.deep.equal({ supported: true, maxResults: 7 });
    } finally {
      await small.stop();
    }
  });

  it('rejects a non-numeric startIndex or count with 400', async () => {
    expect((await c().get('/Users?startIndex=abc')).status).to.equal(400);
    expect((await c().get('/Users?count=1.5')).body.scimType).to.equal('invalidValue');
  });

  it('filters with eq on userName, case-insensitively in names, operators and values', async () => {
    const r = await c().get(`/Users?filter=${q('USERNAME EQ "BJensen@Example.com"')}`);
    expect(r.body.totalResults).to.equal(1);
    expect(r.body.Resources[0].id).to.equal(BJENSEN);
  });

  it('filters with value paths, and/or/not, pr and sub-attributes', async () => {
    const ids = async (f: string) => (await c().get(`/Users?filter=${q(f)}`)).body.Resources?.map((u: any) => u.userName) ?? [];
    expect(await ids('emails[type eq "home" and value co "jensen"]')).to.deep.equal(['bjensen@example.com']);
    expect(await ids('name.givenName sw "Z" or name.familyName eq "O\'Brien"')).to.deep.equal(['zoe.muller@example.com', 'sean.obrien@example.com']);
    expect(await ids('not (active eq true)')).to.deep.equal(['sean.obrien@example.com', 'soren.odegaard@example.com']);
    expect(await ids(`${ENTERPRISE}:manager.value eq "${JOSE}"`)).to.deep.equal(['zoe.muller@example.com', 'anna.smith@example.com']);
    expect((await ids('title pr')).length).to.equal(5);
    expect(await ids('groups[display eq "Tour Guides"]')).to.deep.equal(['bjensen@example.com', 'zoe.muller@example.com']);
  });

  it('filters on meta.lastModified gt (incremental reads)', async () => {
    const r = await c().get(`/Users?filter=${q('meta.lastModified gt "2024-07-01T00:00:00Z"')}`);
    expect(r.body.Resources.map((u: any) => u.userName)).to.deep.equal(['anna.smith@example.com', 'renee.lefevre@example.com', 'soren.odegaard@example.com']);
    const created = await c().post('/Users', { userName: 'new@example.com' });
    const later = await c().get(`/Users?filter=${q(`meta.lastModified gt "${r.body.Resources[0].meta.lastModified}"`)}`);
    expect(later.body.Resources.map((u: any) => u.id)).to.include(created.body.id);
  });

  it('filters groups by member value', async () => {
    const r = await c().get(`/Groups?filter=${q(`members[value eq "${BJENSEN}"]`)}`);
    expect(r.body.Resources.map((g: any) => g.id)).to.deep.equal([TOUR_GUIDES]);
  });

  it('answers 400 invalidFilter on a malformed filter', async () => {
    for (const f of ['userName eq', 'userName zz "a"', '(userName eq "a"', 'emails[type eq "work"']) {
      const r = await c().get(`/Users?filter=${q(f)}`);
      expect(r.status, f).to.equal(400);
      expect(r.body).to.include({ status: '400', scimType: 'invalidFilter' });
      expect(r.body.schemas).to.deep.equal(['urn:ietf:params:scim:api:messages:2.0:Error']);
    }
  });

  it('answers 400 tooMany when a filter matches more than the configured limit', async () => {
    await sb().stop();
    const { startSandbox } = await import('../../lib/sandbox/index.js');
    const s = await startSandbox({ generate: { users: 20, groups: 0 }, tooManyLimit: 5 });
    try {
      const r = await fetch(`${s.url}/v2/Users?filter=${q('userName pr')}`);
      expect(r.status).to.equal(400);
      expect((await r.json()).scimType).to.equal('tooMany');
      const ok = await fetch(`${s.url}/v2/Users?filter=${q('userName sw "wei"')}`);
      expect(ok.status).to.equal(200);
      // Without a filter the limit does not apply (paging handles size).
      expect((await fetch(`${s.url}/v2/Users`)).status).to.equal(200);
    } finally {
      await s.stop();
    }
  });

  it('omits Resources from an empty page when asked to', async () => {
    await sb().stop();
    const { startSandbox } = await import('../../lib/sandbox/index.js');
    const s = await startSandbox({ generate: { users: 3, groups: 0 }, omitEmptyResources: true });
    try {
      const r = await (await fetch(`${s.url}/v2/Users?startIndex=10`)).json();
      expect(r).to.deep.include({ totalResults: 3, itemsPerPage: 0 });
      expect(r).to.not.have.property('Resources');
    } finally {
      await s.stop();
    }
  });

  it('returns only the requested attributes, plus id, schemas and meta', async () => {
    const r = await c().get(`/Users?count=2&attributes=${q(`userName,name.givenName,emails.value,${ENTERPRISE}:manager.value`)}`);
    const u = r.body.Resources[1];
    expect(Object.keys(u).sort()).to.deep.equal(['emails', 'id', 'meta', 'name', 'schemas', ENTERPRISE, 'userName'].sort());
    expect(u.name).to.deep.equal({ givenName: 'José' });
    expect(u.emails).to.deep.equal([{ value: 'pepe@correo.example.es' }, { value: 'jose.garcia@example.com' }, { value: 'jgarcia@legacy.example.com' }]);
    expect(u[ENTERPRISE]).to.deep.equal({ manager: { value: BJENSEN } });
  });

  it('leaves out excludedAttributes, never id', async () => {
    const r = await c().get(`/Users/${BJENSEN}?excludedAttributes=${q('emails,name.middleName,id,groups')}`);
    expect(r.body.id).to.equal(BJENSEN);
    expect(r.body).to.not.have.property('emails');
    expect(r.body).to.not.have.property('groups');
    expect(r.body.name).to.not.have.property('middleName');
    expect(r.body.name.givenName).to.equal('Barbara');
    const g = await c().get(`/Groups?excludedAttributes=members`);
    expect(g.body.Resources.every((x: any) => !('members' in x))).to.equal(true);
  });

  it('sorts by sortBy / sortOrder, missing values last', async () => {
    const asc = await c().get('/Users?sortBy=name.givenName&attributes=name.givenName');
    const names = asc.body.Resources.map((u: any) => u.name?.givenName);
    expect(names.slice(0, 3)).to.deep.equal(['Anna', 'Barbara', 'José']);
    expect(names.at(-1)).to.equal(undefined);
    const desc = await c().get('/Users?sortBy=userName&sortOrder=descending&count=2');
    expect(desc.body.Resources.map((u: any) => u.userName)).to.deep.equal(['zoe.muller@example.com', 'svc-backup']);
  });

  it('serves POST /Users/.search and POST /.search', async () => {
    const r = await c().post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'active eq false', attributes: ['userName'], count: 1 });
    expect(r.status).to.equal(200);
    expect(r.body.totalResults).to.equal(2);
    expect(r.body.Resources).to.have.length(1);
    expect(Object.keys(r.body.Resources[0]).sort()).to.deep.equal(['id', 'meta', 'schemas', 'userName']);
    const all = await c().post('/.search', { filter: 'displayName co "o"', count: 100 });
    const types = new Set(all.body.Resources.map((x: any) => x.meta.resourceType));
    expect([...types].sort()).to.deep.equal(['Group', 'User']);
    expect((await c().get('/Users/.search')).status).to.equal(405);
  });

  it('computes users\' read-only groups from memberships', async () => {
    const r = await c().get(`/Users/${BJENSEN}`);
    expect(r.body.groups).to.deep.equal([{ value: TOUR_GUIDES, $ref: `${sb().url}/v2/Groups/${TOUR_GUIDES}`, display: 'Tour Guides', type: 'direct' }]);
  });

  it('serializes groups with members {value, $ref, display, type}', async () => {
    const r = await c().get(`/Groups/${TOUR_GUIDES}`);
    expect(r.body.members[0]).to.deep.equal({ value: BJENSEN, $ref: `${sb().url}/v2/Users/${BJENSEN}`, display: 'Babs Jensen', type: 'User' });
    expect(r.body.meta).to.include({ resourceType: 'Group', location: `${sb().url}/v2/Groups/${TOUR_GUIDES}` });
  });
});
