/**
 * Quirk profiles: each quirk shown with plain HTTP requests, next to the same
 * requests against a sandbox without it (the RFC behaviour stays as it was).
 */
import { expect } from 'chai';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { normalizeQuirks, QUIRK_NAMES, QUIRK_BUNDLES } from '../../lib/sandbox/quirks.js';
import { ScimEtlError } from '../../lib/errors.js';
import { Client, SAMPLE, TOKEN, BJENSEN, JOSE, TOUR_GUIDES, EMPTY_GROUP, ENTERPRISE, q } from './helpers.js';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** Runs `fn` against a sandbox with these options (the sample directory, the test token), then stops it. */
async function withSandbox<T>(opts: SandboxOptions, fn: (c: Client, sb: Sandbox) => Promise<T>): Promise<T> {
  const sb = await startSandbox({ data: SAMPLE, token: TOKEN, ...opts });
  try {
    return await fn(new Client(sb), sb);
  } finally {
    await sb.stop();
  }
}

/** The same requests with and without quirks: `check(c, quirky)`. */
async function both(quirks: SandboxOptions['quirks'], check: (c: Client, quirky: boolean, sb: Sandbox) => Promise<void>, opts: SandboxOptions = {}): Promise<void> {
  await withSandbox({ ...opts, quirks }, (c, sb) => check(c, true, sb));
  await withSandbox(opts, (c, sb) => check(c, false, sb));
}

async function startError(o: SandboxOptions): Promise<ScimEtlError> {
  try {
    const sb = await startSandbox(o);
    await sb.stop();
  } catch (err) {
    return err as ScimEtlError;
  }
  throw new Error('expected startSandbox to fail');
}

const bulk = (ops: unknown[]) => ({ schemas: [BULK], Operations: ops });
const memberRefs = (n: number, start = 0) => Array.from({ length: n }, (_, i) => ({ value: `m${start + i}` }));

describe('sandbox quirks', () => {
  it('dropExtensionAttributes: extension attributes named in attributes= are left out of list and GET replies', async () => {
    await both(['dropExtensionAttributes'], async (c, quirky) => {
      const attrs = q(`userName,${ENTERPRISE}:employeeNumber`);
      const one = await c.get(`/Users/${BJENSEN}?attributes=${attrs}`);
      const list = await c.get(`/Users?filter=${q(`id eq "${BJENSEN}"`)}&attributes=${attrs}`);
      for (const u of [one.body, list.body.Resources[0]]) {
        expect(u.userName).to.equal('bjensen@example.com');
        if (quirky) expect(u).to.not.have.property(ENTERPRISE);
        else expect(u[ENTERPRISE]).to.deep.equal({ employeeNumber: '701984' });
      }
      // The whole extension named: nothing but id, schemas, meta with the quirk.
      const whole = await c.get(`/Users/${BJENSEN}?attributes=${q(ENTERPRISE)}`);
      if (quirky) expect(Object.keys(whole.body).sort()).to.deep.equal(['id', 'meta', 'schemas']);
      else expect(whole.body[ENTERPRISE].employeeNumber).to.equal('701984');
      // Without attributes= the extension is there either way.
      expect((await c.get(`/Users/${BJENSEN}`)).body[ENTERPRISE].employeeNumber).to.equal('701984');
    });
  });

  it('emptyParentProjection: attributes=name,emails gives {} and [{},{}]; sub-attribute paths work', async () => {
    await both(['emptyParentProjection'], async (c, quirky) => {
      const u = (await c.get(`/Users/${BJENSEN}?attributes=name,emails`)).body;
      if (quirky) {
        expect(u.name).to.deep.equal({});
        expect(u.emails).to.deep.equal([{}, {}]);
      } else {
        expect(u.name.givenName).to.equal('Barbara');
        expect(u.emails).to.have.length(2);
        expect(u.emails[0].value).to.be.a('string');
      }
      const listed = (await c.get(`/Users?filter=${q(`id eq "${BJENSEN}"`)}&attributes=name,emails`)).body.Resources[0];
      expect(listed.name).to.deep.equal(quirky ? {} : u.name);
      const sub = (await c.get(`/Users/${BJENSEN}?attributes=name.givenName,emails.value`)).body;
      expect(sub.name).to.deep.equal({ givenName: 'Barbara' });
      expect(sub.emails.map((e: any) => Object.keys(e))).to.deep.equal([['value'], ['value']]);
      // Simple attributes are unaffected.
      expect((await c.get(`/Users/${BJENSEN}?attributes=userName`)).body.userName).to.equal('bjensen@example.com');
      // A group's members named as a parent: empty shells too.
      const g = (await c.get(`/Groups/${TOUR_GUIDES}?attributes=members`)).body;
      expect(g.members).to.have.length(2);
      if (quirky) expect(g.members).to.deep.equal([{}, {}]);
      else expect(g.members[0].value).to.be.a('string');
    });
  });

  it('totalIsPageLength with pageCap: count=200 gets 50 resources and totalResults 50', async () => {
    await both(['totalIsPageLength', 'pageCap=50'], async (c, quirky, sb) => {
      const page = (await c.get('/Users?count=200')).body;
      expect(page.Resources).to.have.length(quirky ? 50 : 120);
      expect(page.totalResults).to.equal(quirky ? 50 : 120);
      const last = (await c.get('/Users?startIndex=101&count=50')).body;
      expect(last.Resources).to.have.length(20);
      expect(last.totalResults).to.equal(quirky ? 20 : 120);
      // The cap is not advertised.
      expect((await c.get('/ServiceProviderConfig')).body.filter.maxResults).to.equal(1000);
      expect(sb.store.userCount).to.equal(120);
    }, { data: undefined, generate: { users: 120, groups: 0 } });
  });

  it('totalIsPageLength alone: totalResults follows each page; pageCap alone caps without lying about the total', async () => {
    await withSandbox({ quirks: ['totalIsPageLength'] }, async (c) => {
      expect((await c.get('/Users?count=3')).body.totalResults).to.equal(3);
      expect((await c.get('/Users?count=0')).body.totalResults).to.equal(0);
    });
    await withSandbox({ quirks: [{ pageCap: 4 }] }, async (c) => {
      const page = (await c.get('/Users?count=100')).body;
      expect(page.Resources).to.have.length(4);
      expect(page.totalResults).to.equal(10);
    });
  });

  it('rootPath: the SCIM root at any path, in meta.location and $ref too; /v2 is gone', async () => {
    const root = '/scim/v2/endpoints/abc';
    await withSandbox({ quirks: [`rootPath=${root}`] }, async (c, sb) => {
      expect(sb.root).to.equal(`${sb.url}${root}`);
      const auth = { Authorization: `Bearer ${TOKEN}` };
      const u = await (await fetch(`${sb.url}${root}/Users/${BJENSEN}`, { headers: auth })).json();
      expect(u.meta.location).to.equal(`${sb.url}${root}/Users/${BJENSEN}`);
      expect(u.groups[0].$ref).to.match(new RegExp(`^${sb.url}${root}/Groups/`));
      const list = await (await fetch(`${sb.url}${root}/Users?count=1`, { headers: auth })).json();
      expect(list.totalResults).to.equal(10);
      const spc = await (await fetch(`${sb.url}${root}/ServiceProviderConfig`, { headers: auth })).json();
      expect(spc.meta.location).to.equal(`${sb.url}${root}/ServiceProviderConfig`);
      expect((await fetch(`${sb.url}/v2/Users`, { headers: auth })).status).to.equal(404);
      expect((await fetch(`${sb.url}/scim/v2/endpoints/other/Users`, { headers: auth })).status).to.equal(404);
      const created = await c.post('/Users', { userName: 'rooted@example.com' });
      expect(created.headers.get('location')).to.equal(`${sb.url}${root}/Users/${created.body.id}`);
      expect(sb.counts.get(`GET ${root}/Users/{id}`)).to.equal(1);
    });
    // The object form; without the quirk, /v2 as before.
    await withSandbox({ quirks: [{ rootPath: '/tenant/7/' }] }, async (_c, sb) => expect(sb.root).to.equal(`${sb.url}/tenant/7`));
    await withSandbox({}, async (c, sb) => {
      expect(sb.root).to.equal(`${sb.url}/v2`);
      expect((await c.get(`/Users/${BJENSEN}`)).body.meta.location).to.equal(`${sb.url}/v2/Users/${BJENSEN}`);
    });
  });

  it('ignoreDottedReplace: replace of name.givenName answers 200 and changes nothing; the complex form works', async () => {
    await both(['ignoreDottedReplace'], async (c, quirky) => {
      const dotted = await c.patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'name.givenName', value: 'Babs' }]);
      expect(dotted.status).to.equal(200);
      expect(dotted.body.name.givenName).to.equal(quirky ? 'Barbara' : 'Babs');
      expect((await c.get(`/Users/${BJENSEN}`)).body.name.givenName).to.equal(quirky ? 'Barbara' : 'Babs');
      const complex = await c.patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'name', value: { givenName: 'Bee' } }]);
      expect(complex.body.name.givenName).to.equal('Bee');
      expect(complex.body.name.familyName).to.equal('Jensen');
      // Other operations in the same request still apply.
      const mixed = await c.patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'title', value: 'Boss' }, { op: 'replace', path: 'name.familyName', value: 'J' }]);
      expect(mixed.body.title).to.equal('Boss');
      expect(mixed.body.name.familyName).to.equal(quirky ? 'Jensen' : 'J');
    });
  });

  it('quotedBooleanNeverMatches: active eq "true" matches nothing, active eq true works', async () => {
    await both(['quotedBooleanNeverMatches'], async (c, quirky) => {
      const total = async (f: string) => (await c.get(`/Users?filter=${q(f)}`)).body.totalResults;
      expect(await total('active eq "true"')).to.equal(quirky ? 0 : 8);
      expect(await total('active eq true')).to.equal(8);
      expect(await total('active eq false')).to.equal(2);
      expect(await total('emails[primary eq "true"]')).to.equal(quirky ? 0 : 7);
      expect(await total('emails[primary eq true]')).to.equal(7);
      expect(await total('userName eq "bjensen@example.com"')).to.equal(1);
    });
  });

  it('bulkPatchIgnored: Bulk PATCH answers 200 and applies nothing; Bulk POST and DELETE work', async () => {
    await both(['bulkPatchIgnored'], async (c, quirky, sb) => {
      const r = await c.post('/Bulk', bulk([
        { method: 'PATCH', path: `/Users/${BJENSEN}`, data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }] } },
        { method: 'PATCH', path: `/Groups/${EMPTY_GROUP}`, data: { Operations: [{ op: 'add', path: 'members', value: [{ value: BJENSEN }] }] } },
        { method: 'POST', bulkId: 'n1', path: '/Users', data: { userName: 'bulk.new@example.com' } },
        { method: 'DELETE', path: `/Users/${JOSE}` },
      ]));
      expect(r.status).to.equal(200);
      expect(r.body.Operations.map((o: any) => o.status)).to.deep.equal(['200', '200', '201', '204']);
      expect(sb.store.get('Users', BJENSEN)!.title).to.equal(quirky ? 'Tour Guide' : 'Changed');
      expect(sb.store.memberIds(EMPTY_GROUP)).to.deep.equal(quirky ? [] : [BJENSEN]);
      expect(sb.store.findUserByName('bulk.new@example.com')).to.not.equal(undefined);
      expect(sb.store.get('Users', JOSE)).to.equal(undefined);
      // A plain PATCH is applied either way.
      expect((await c.patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'title', value: 'Direct' }])).body.title).to.equal('Direct');
    });
  });

  it('memberPatchLimit: more than N members in one PATCH is 400, N or fewer work (default 100)', async () => {
    const users = { Users: Array.from({ length: 101 }, (_, i) => ({ id: `m${i}`, userName: `m${i}@example.com` })), Groups: [{ id: 'g', displayName: 'G' }] };
    await both(['memberPatchLimit'], async (c, quirky, sb) => {
      const over = await c.patch('/Groups/g', [{ op: 'add', path: 'members', value: memberRefs(101) }]);
      expect(over.status).to.equal(quirky ? 400 : 200);
      if (quirky) {
        expect(over.body.scimType).to.equal('invalidValue');
        expect(over.body.detail).to.match(/101.*100/);
        expect(sb.store.memberIds('g')).to.deep.equal([]);
      }
      await c.patch('/Groups/g', [{ op: 'remove', path: 'members' }]);
      expect((await c.patch('/Groups/g', [{ op: 'add', path: 'members', value: memberRefs(100) }])).status).to.equal(200);
      expect(sb.store.memberIds('g')).to.have.length(100);
      // Adds and removes of one request count together.
      const split = await c.patch('/Groups/g', [
        { op: 'add', path: 'members', value: memberRefs(1, 100) },
        { op: 'remove', path: `members[value eq "m0" or value eq "m1"]` },
        { op: 'remove', path: 'members', value: memberRefs(98, 2) },
      ]);
      expect(split.status).to.equal(quirky ? 400 : 200);
    }, { data: users });
    await withSandbox({ data: users, quirks: ['memberPatchLimit=2'] }, async (c) => {
      expect((await c.patch('/Groups/g', [{ op: 'add', path: 'members', value: memberRefs(3) }])).status).to.equal(400);
      expect((await c.patch('/Groups/g', [{ op: 'add', value: { members: memberRefs(2) } }])).status).to.equal(200);
      expect((await c.patch('/Groups/g', [{ op: 'add', value: { members: memberRefs(3) } }])).status).to.equal(400);
    });
  });

  it('createWithoutId: a userName with "(" gives 201 without id and Location …/Users/undefined; the user exists', async () => {
    await both(['createWithoutId'], async (c, quirky, sb) => {
      const r = await c.post('/Users', { userName: 'paren(1)@example.com', displayName: 'Paren' });
      expect(r.status).to.equal(201);
      const stored = sb.store.findUserByName('paren(1)@example.com')!;
      expect(stored).to.not.equal(undefined);
      if (quirky) {
        expect(r.body).to.not.have.property('id');
        expect(r.headers.get('location')).to.equal(`${sb.root}/Users/undefined`);
        expect(r.body.userName).to.equal('paren(1)@example.com');
      } else {
        expect(r.body.id).to.equal(stored.id);
        expect(r.headers.get('location')).to.equal(`${sb.root}/Users/${stored.id}`);
      }
      const found = await c.get(`/Users?filter=${q('userName eq "paren(1)@example.com"')}`);
      expect(found.body.Resources[0].id).to.equal(stored.id);
      // Without "(" the reply is whole.
      const plain = await c.post('/Users', { userName: 'plain@example.com' });
      expect(plain.body.id).to.be.a('string');
    });
  });

  it('clientErrorAs500: a bad filter or attribute path is 500 with the right scimType', async () => {
    await both(['clientErrorAs500'], async (c, quirky) => {
      const bad = await c.get(`/Users?filter=${q('userName eq')}`);
      expect(bad.status).to.equal(quirky ? 500 : 400);
      expect(bad.body.status).to.equal(quirky ? '500' : '400');
      expect(bad.body.scimType).to.equal('invalidFilter');
      const path = await c.get('/Users?attributes=name..x');
      expect(path.status).to.equal(quirky ? 500 : 400);
      expect(path.body.scimType).to.equal('invalidPath');
      // Not-found and conflicts keep their status.
      expect((await c.get('/Users/nope')).status).to.equal(404);
      expect((await c.post('/Users', { userName: 'bjensen@example.com' })).status).to.equal(409);
    });
  });

  it('deleteMissing500: DELETE of a missing user is 500 instead of 404', async () => {
    await both(['deleteMissing500'], async (c, quirky) => {
      expect((await c.del('/Users/nope')).status).to.equal(quirky ? 500 : 404);
      expect((await c.del(`/Users/${BJENSEN}`)).status).to.equal(204);
      expect((await c.del(`/Users/${BJENSEN}`)).status).to.equal(quirky ? 500 : 404);
      expect((await c.del('/Groups/nope')).status).to.equal(404);
    });
  });

  it('activeNotFilterable: a filter on active is 400 invalidFilter', async () => {
    await both(['activeNotFilterable'], async (c, quirky) => {
      const r = await c.get(`/Users?filter=${q('userName sw "b" and active eq true')}`);
      expect(r.status).to.equal(quirky ? 400 : 200);
      if (quirky) expect(r.body.scimType).to.equal('invalidFilter');
      else expect(r.body.totalResults).to.equal(1);
      expect((await c.post('/Users/.search', { filter: 'not (active eq false)' })).status).to.equal(quirky ? 400 : 200);
      expect((await c.get(`/Users?filter=${q('userName sw "b"')}`)).body.totalResults).to.equal(1);
    });
  });

  it(`attributesUrn400: an extension URN in attributes= is 400 "Cannot read properties of undefined (reading 'includes')"`, async () => {
    await both(['attributesUrn400'], async (c, quirky) => {
      for (const path of [`/Users?attributes=${q(`${ENTERPRISE}:employeeNumber`)}`, `/Users/${BJENSEN}?attributes=${q(`userName,${ENTERPRISE}`)}`]) {
        const r = await c.get(path);
        expect(r.status, path).to.equal(quirky ? 400 : 200);
        if (quirky) expect(r.body.detail).to.equal("Cannot read properties of undefined (reading 'includes')");
      }
      const excluded = await c.get(`/Users/${BJENSEN}?excludedAttributes=${q(ENTERPRISE)}`);
      expect(excluded.status).to.equal(200);
      expect(excluded.body).to.not.have.property(ENTERPRISE);
      expect(excluded.body.userName).to.equal('bjensen@example.com');
      expect((await c.get(`/Users?attributes=${q('urn:ietf:params:scim:schemas:core:2.0:User:userName')}`)).status).to.equal(200);
    });
  });

  it('lastModifiedNeverMatches: meta.lastModified gt matches nothing, whatever the timestamp', async () => {
    await both(['lastModifiedNeverMatches'], async (c, quirky) => {
      const total = async (f: string) => (await c.get(`/Users?filter=${q(f)}`)).body.totalResults;
      expect(await total('meta.lastModified gt "2000-01-01T00:00:00Z"')).to.equal(quirky ? 0 : 10);
      expect(await total('meta.lastModified lt "2100-01-01T00:00:00Z"')).to.equal(quirky ? 0 : 10);
      expect(await total('meta.created gt "2000-01-01T00:00:00Z"')).to.equal(10);
    });
  });

  it('quirks combine, and a bundle is all of one server\'s quirks', async () => {
    await withSandbox({ quirks: ['scim2-server', 'activeNotFilterable'], data: undefined, generate: { users: 80, groups: 0 } }, async (c, sb) => {
      expect(sb.quirks).to.deep.equal({ emptyParentProjection: true, totalIsPageLength: true, pageCap: 50, clientErrorAs500: true, activeNotFilterable: true });
      const page = (await c.get('/Users?count=200&attributes=name')).body;
      expect(page.Resources).to.have.length(50);
      expect(page.totalResults).to.equal(50);
      expect(page.Resources[0].name).to.deep.equal({});
      const bad = await c.get(`/Users?filter=${q('active eq true')}`);
      expect(bad.status).to.equal(500); // activeNotFilterable's 400, through clientErrorAs500
      expect(bad.body.scimType).to.equal('invalidFilter');
    });
    expect(normalizeQuirks(['SCIMServer'])).to.deep.equal({ rootPath: '/scim/v2/endpoints/sandbox', ignoreDottedReplace: true, quotedBooleanNeverMatches: true });
    // Later entries win; names in any case; {name: false} is off.
    expect(normalizeQuirks(['scimserver', 'rootpath=/x', { memberPatchLimit: '7', bulkPatchIgnored: false }])).to.deep.equal({ rootPath: '/x', ignoreDottedReplace: true, quotedBooleanNeverMatches: true, memberPatchLimit: 7 });
    // Every bundle names known quirks only.
    for (const b of Object.values(QUIRK_BUNDLES)) for (const n of Object.keys(b)) expect(QUIRK_NAMES).to.include(n);
  });

  it('rejects unknown quirks and bad values with ERR_SANDBOX_QUIRK listing the known names', async () => {
    const cases: Array<[unknown[], RegExp]> = [
      [['scimgatway'], /quirks\[0\]: unknown quirk "scimgatway" \(quirks: dropExtensionAttributes, .*lastModifiedNeverMatches; bundles: scimgateway, scim2-server, SCIMServer, better-auth, scimmy\)/],
      [['rootPath'], /rootPath needs a value/],
      [['rootPath=no-slash'], /rootPath must be a path such as \/scim\/v2\/endpoints\/abc, got "no-slash"/],
      [[{ rootPath: '/a b' }], /rootPath must be a path/],
      [['memberPatchLimit=0'], /memberPatchLimit must be an integer >= 1, got "0"/],
      [[{ pageCap: 2.5 }], /pageCap must be an integer >= 1, got 2.5/],
      [['createWithoutId=yes'], /createWithoutId takes no value/],
      [['scimgateway=1'], /the bundle scimgateway takes no value/],
      [[42], /expected a quirk name/],
    ];
    for (const [quirks, re] of cases) {
      const err = await startError({ quirks: quirks as never });
      expect(err.code, JSON.stringify(quirks)).to.equal('ERR_SANDBOX_QUIRK');
      expect(err.message, JSON.stringify(quirks)).to.match(re);
      expect(err.category).to.equal('config');
    }
    expect((await startError({ quirks: 'scimgateway' as never })).message).to.match(/expected an array/);
  });
});
