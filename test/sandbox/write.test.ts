import { expect } from 'chai';
import { useSandbox, BJENSEN, JOSE, ENTERPRISE, TOUR_GUIDES, SALES, EMPTY_GROUP } from './helpers.js';

describe('sandbox: create, replace, patch, delete, ETags', () => {
  const { c, sb } = useSandbox();

  describe('POST', () => {
    it('creates a user: 201, Location, ETag, meta, server id', async () => {
      const r = await c().post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'mine', userName: 'ada@example.com', name: { givenName: 'Ada' }, password: 'Secret-1', groups: [{ value: TOUR_GUIDES }] });
      expect(r.status).to.equal(201);
      expect(r.body.id).to.be.a('string').and.not.equal('mine');
      expect(r.headers.get('location')).to.equal(`${sb().url}/v2/Users/${r.body.id}`);
      expect(r.headers.get('etag')).to.equal(r.body.meta.version).and.match(/^W\/"/);
      expect(r.body.meta).to.include({ resourceType: 'User', location: r.headers.get('location') });
      expect(r.body.meta.created).to.equal(r.body.meta.lastModified);
      // password is write-only, groups read-only
      expect(r.body).to.not.have.property('password');
      expect(r.body).to.not.have.property('groups');
      expect(sb().store.findUserByName('ADA@example.com')!.id).to.equal(r.body.id);
    });

    it('409 uniqueness on a userName taken in another case', async () => {
      const r = await c().post('/Users', { userName: 'BJENSEN@example.com' });
      expect(r.status).to.equal(409);
      expect(r.body).to.deep.include({ status: '409', scimType: 'uniqueness' });
      expect(sb().store.userCount).to.equal(10);
    });

    it('400 without userName, 400 invalidSyntax on bad JSON or a non-object', async () => {
      expect((await c().post('/Users', { name: { givenName: 'x' } })).body).to.include({ status: '400', scimType: 'invalidValue' });
      const bad = await c().post('/Users', '{"userName": ');
      expect(bad.status).to.equal(400);
      expect(bad.body.scimType).to.equal('invalidSyntax');
      expect((await c().post('/Users', [1, 2])).body.scimType).to.equal('invalidSyntax');
    });

    it('creates a group with members; members must exist', async () => {
      const r = await c().post('/Groups', { displayName: 'New', members: [{ value: BJENSEN }, { value: SALES, type: 'Group' }] });
      expect(r.status).to.equal(201);
      expect(r.body.members.map((m: any) => [m.value, m.type])).to.deep.equal([[BJENSEN, 'User'], [SALES, 'Group']]);
      expect(sb().store.memberIds(r.body.id)).to.deep.equal([BJENSEN, SALES]);
      const u = await c().get(`/Users/${BJENSEN}`);
      expect(u.body.groups.map((g: any) => g.value)).to.include(r.body.id);
      const bad = await c().post('/Groups', { displayName: 'Bad', members: [{ value: 'nobody' }] });
      expect(bad.status).to.equal(400);
      expect(bad.body.detail).to.contain('nobody');
    });
  });

  describe('PUT', () => {
    it('replaces everything but id and created', async () => {
      const before = await c().get(`/Users/${JOSE}`);
      const r = await c().put(`/Users/${JOSE}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: JOSE, userName: 'jose.garcia@example.com', displayName: 'José' });
      expect(r.status).to.equal(200);
      expect(r.body).to.not.have.property('emails');
      expect(r.body).to.not.have.property(ENTERPRISE);
      expect(r.body.displayName).to.equal('José');
      expect(r.body.meta.created).to.equal(before.body.meta.created);
      expect(r.body.meta.version).to.not.equal(before.body.meta.version);
    });

    it('400 mutability when the body changes the id; 404 for an unknown id', async () => {
      expect((await c().put(`/Users/${JOSE}`, { id: 'other', userName: 'x@y' })).body.scimType).to.equal('mutability');
      expect((await c().put('/Users/nope', { userName: 'x@y' })).status).to.equal(404);
    });

    it('replaces a group\'s members', async () => {
      const r = await c().put(`/Groups/${TOUR_GUIDES}`, { displayName: 'Guides', members: [{ value: JOSE }] });
      expect(r.status).to.equal(200);
      expect(sb().store.memberIds(TOUR_GUIDES)).to.deep.equal([JOSE]);
      expect((await c().get(`/Users/${BJENSEN}`)).body).to.not.have.property('groups');
      expect((await c().get(`/Users/${JOSE}`)).body.groups.map((g: any) => g.display)).to.include('Guides');
    });
  });

  describe('PATCH', () => {
    it('add / replace / remove on simple, complex and extension attributes; 200 with the resource', async () => {
      const r = await c().patch(`/Users/${BJENSEN}`, [
        { op: 'replace', path: 'name.givenName', value: 'Barb' },
        { op: 'add', path: 'nickName', value: 'B' },
        { op: 'remove', path: 'title' },
        { op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: JOSE } },
        { op: 'add', path: `${ENTERPRISE}:department`, value: 'Parks' },
      ]);
      expect(r.status).to.equal(200);
      expect(r.body.name.givenName).to.equal('Barb');
      expect(r.body.name.familyName).to.equal('Jensen');
      expect(r.body.nickName).to.equal('B');
      expect(r.body).to.not.have.property('title');
      expect(r.body[ENTERPRISE].manager).to.deep.equal({ value: JOSE });
      expect(r.body[ENTERPRISE].department).to.equal('Parks');
      expect(r.body[ENTERPRISE].employeeNumber).to.equal('701984');
    });

    it('accepts capitalised ops and a no-path replace with an object (Entra style)', async () => {
      const r = await c().patch(`/Users/${BJENSEN}`, [{ op: 'Replace', value: { active: 'False', 'name.familyName': 'J.', [ENTERPRISE]: { costCenter: '9' } } }]);
      expect(r.status).to.equal(200);
      expect(r.body.active).to.equal(false);
      expect(r.body.name.familyName).to.equal('J.');
      expect(r.body[ENTERPRISE].costCenter).to.equal('9');
      expect(r.body[ENTERPRISE].department).to.equal('Tour Operations');
    });

    it('value paths: replace a sub-attribute of the matching element, remove matching elements', async () => {
      const r = await c().patch(`/Users/${JOSE}`, [
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'jg@example.com' },
        { op: 'remove', path: 'emails[type eq "other"]' },
      ]);
      expect(r.body.emails).to.deep.equal([
        { value: 'pepe@correo.example.es', type: 'home' },
        { value: 'jg@example.com', type: 'work', primary: true },
      ]);
      const none = await c().patch(`/Users/${JOSE}`, [{ op: 'replace', path: 'emails[type eq "fax"].value', value: 'x' }]);
      expect(none.status).to.equal(400);
      expect(none.body.scimType).to.equal('noTarget');
    });

    it('adding a primary element makes the others non-primary', async () => {
      const r = await c().patch(`/Users/${JOSE}`, [{ op: 'add', path: 'emails', value: [{ value: 'new@example.com', type: 'work', primary: true }] }]);
      expect(r.body.emails.filter((e: any) => e.primary).map((e: any) => e.value)).to.deep.equal(['new@example.com']);
    });

    it('is atomic: a failing operation leaves the resource as it was', async () => {
      const before = await c().get(`/Users/${BJENSEN}`);
      const r = await c().patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'title', value: 'changed' }, { op: 'replace', path: 'userName', value: 'jose.garcia@example.com' }]);
      expect(r.status).to.equal(409);
      const after = await c().get(`/Users/${BJENSEN}`);
      expect(after.body).to.deep.equal(before.body);
    });

    it('rejects read-only targets, bad ops, bad paths', async () => {
      expect((await c().patch(`/Users/${BJENSEN}`, [{ op: 'add', path: 'groups', value: [{ value: SALES }] }])).body.scimType).to.equal('mutability');
      expect((await c().patch(`/Users/${BJENSEN}`, [{ op: 'move', path: 'title', value: 'x' }])).body.scimType).to.equal('invalidSyntax');
      expect((await c().patch(`/Users/${BJENSEN}`, [{ op: 'remove' }])).body.scimType).to.equal('noTarget');
      expect((await c().patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'emails[type eq', value: 'x' }])).body.scimType).to.equal('invalidPath');
      expect((await c().req('PATCH', `/Users/${BJENSEN}`, { schemas: [] })).body.scimType).to.equal('invalidSyntax');
    });

    it('group members: add many at once, remove by value filter, remove many with or', async () => {
      const users = sb().store.list('Users').map((e) => e.id);
      const add = await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'add', path: 'members', value: users.map((value) => ({ value })) }]);
      expect(add.status).to.equal(200);
      expect(sb().store.memberIds(EMPTY_GROUP)).to.deep.equal(users);
      // adding an existing member again is not an error and not a duplicate
      await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'add', path: 'members', value: [{ value: users[0] }] }]);
      expect(sb().store.memberIds(EMPTY_GROUP)).to.have.length(10);
      await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'remove', path: `members[value eq "${users[0]}"]` }]);
      await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'remove', path: `members[value eq "${users[1]}" or value eq "${users[2]}"]` }]);
      expect(sb().store.memberIds(EMPTY_GROUP)).to.deep.equal(users.slice(3));
      // removing a non-member is idempotent
      expect((await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'remove', path: `members[value eq "${users[0]}"]` }])).status).to.equal(200);
      // Azure style: remove with a value list
      await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'remove', path: 'members', value: [{ value: users[3] }] }]);
      expect(sb().store.memberIds(EMPTY_GROUP)).to.deep.equal(users.slice(4));
      await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'remove', path: 'members' }]);
      expect(sb().store.memberIds(EMPTY_GROUP)).to.deep.equal([]);
    });

    it('group members: an unknown member fails the whole PATCH (atomic)', async () => {
      const r = await c().patch(`/Groups/${EMPTY_GROUP}`, [{ op: 'add', path: 'members', value: [{ value: BJENSEN }, { value: 'ghost' }] }]);
      expect(r.status).to.equal(400);
      expect(sb().store.memberIds(EMPTY_GROUP)).to.deep.equal([]);
      expect((await c().get(`/Users/${BJENSEN}`)).body.groups).to.have.length(1);
    });

    it('group: displayName and members in one request, no-path add of {members}', async () => {
      const r = await c().patch(`/Groups/${EMPTY_GROUP}`, [
        { op: 'replace', value: { displayName: 'Not empty' } },
        { op: 'add', value: { members: [{ value: JOSE }] } },
      ]);
      expect(r.body.displayName).to.equal('Not empty');
      expect(r.body.members.map((m: any) => m.value)).to.deep.equal([JOSE]);
      expect((await c().get(`/Users/${JOSE}`)).body.groups.map((g: any) => g.display)).to.include('Not empty');
    });
  });

  describe('DELETE', () => {
    it('204, then 404; the user leaves its groups', async () => {
      const r = await c().del(`/Users/${BJENSEN}`);
      expect(r.status).to.equal(204);
      expect(r.text).to.equal('');
      expect((await c().get(`/Users/${BJENSEN}`)).status).to.equal(404);
      expect(sb().store.memberIds(TOUR_GUIDES)).to.not.include(BJENSEN);
      expect(sb().store.get('Users', BJENSEN)).to.equal(undefined);
      expect((await c().del(`/Users/${BJENSEN}`)).body).to.include({ status: '404' });
      // the userName is free again
      expect((await c().post('/Users', { userName: 'bjensen@example.com' })).status).to.equal(201);
    });

    it('deletes a group; its members lose it from groups', async () => {
      expect((await c().del(`/Groups/${TOUR_GUIDES}`)).status).to.equal(204);
      expect((await c().get(`/Users/${BJENSEN}`)).body).to.not.have.property('groups');
      expect(sb().store.groupCount).to.equal(3);
    });
  });

  describe('ETags', () => {
    it('If-Match with the current version succeeds, a stale one gets 412', async () => {
      const v1 = (await c().get(`/Users/${BJENSEN}`)).headers.get('etag')!;
      const ok = await c().patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'title', value: 'a' }], { 'If-Match': v1 });
      expect(ok.status).to.equal(200);
      const v2 = ok.headers.get('etag');
      expect(v2).to.not.equal(v1);
      const stale = await c().patch(`/Users/${BJENSEN}`, [{ op: 'replace', path: 'title', value: 'b' }], { 'If-Match': v1 });
      expect(stale.status).to.equal(412);
      expect(stale.body.status).to.equal('412');
      expect((await c().put(`/Users/${BJENSEN}`, { userName: 'bjensen@example.com' }, { 'If-Match': v1 })).status).to.equal(412);
      expect((await c().del(`/Users/${BJENSEN}`, { 'If-Match': v1 })).status).to.equal(412);
      expect((await c().del(`/Users/${BJENSEN}`, { 'If-Match': '*' })).status).to.equal(204);
    });

    it('If-None-Match with the current version gets 304', async () => {
      const v = (await c().get(`/Users/${BJENSEN}`)).headers.get('etag')!;
      expect((await c().get(`/Users/${BJENSEN}`, { 'If-None-Match': v })).status).to.equal(304);
    });

    it('a member change bumps the group version', async () => {
      const v1 = (await c().get(`/Groups/${SALES}`)).body.meta.version;
      await c().patch(`/Groups/${SALES}`, [{ op: 'add', path: 'members', value: [{ value: BJENSEN }] }]);
      const g = await c().get(`/Groups/${SALES}`);
      expect(g.body.meta.version).to.not.equal(v1);
    });
  });
});
