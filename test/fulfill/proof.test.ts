/** The pure checks behind "no false ok": ids, insert proof, Bulk result mapping, contradicting replies, complex-value PATCH. */
import { expect } from 'chai';
import { idFromLocation, insertProof, validId } from '../../lib/fulfill/proof.js';
import { mapResults, type BulkResult } from '../../lib/fulfill/bulk-sink.js';
import { contradicted, shows } from '../../lib/fulfill/verify.js';
import { complexPatchOperations } from '../../lib/scim/unflatten.js';
import { parseColumnPath } from '../../lib/scim/path.js';
import type { TypedCell } from '../../lib/fulfill/types.js';

const ERROR = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: 'bad userName' };
const cell = (text: string, value: unknown, multiValued = false): TypedCell => ({ path: parseColumnPath(text), value, multiValued });

describe('proof of an insert', () => {
  it('takes no placeholder for an id', () => {
    expect(['abc', 42, ' x '].map(validId)).to.deep.equal(['abc', '42', ' x ']);
    expect(['', '  ', 'undefined', 'NULL', 'NaN', '[object Object]', null, undefined, {}, Number.NaN].map(validId)).to.deep.equal(Array(10).fill(undefined));
  });

  it('reads an id from a Location right under the collection only', () => {
    expect(idFromLocation('https://h/v2/Users/id%20a', 'Users')).to.equal('id a');
    expect(idFromLocation('https://h/v2/users/abc/?x=1', 'Users')).to.equal('abc');
    for (const bad of ['https://h/v2/Users/undefined', 'https://h/v2/Users', 'https://h/v2/Users/', 'https://h/v2/Groups/abc', 'https://h/v2/Users/a/b', '', undefined]) {
      expect(idFromLocation(bad, 'Users'), String(bad)).to.equal(undefined);
    }
  });

  it('is the body id, else the Location id; a 201/204 or an empty reply without either is looked up; any other 2xx fails', () => {
    expect(insertProof('Users', 201, { id: 'a' }, 'https://h/v2/Users/b')).to.deep.equal({ id: 'a' });
    expect(insertProof('Users', 201, undefined, 'https://h/v2/Users/b')).to.deep.equal({ id: 'b' });
    expect(insertProof('Users', 201, { id: 'undefined' }, 'https://h/v2/Users/undefined')).to.have.property('lookup').that.contains('Location: https://h/v2/Users/undefined');
    expect(insertProof('Users', 204, undefined, undefined)).to.have.property('lookup');
    expect(insertProof('Users', 200, '', undefined)).to.have.property('lookup');
    expect(insertProof('Users', 200, '<html>hi</html>', undefined)).to.deep.equal({ fail: 'the server answered 200 but with no SCIM resource (<html>hi</html>): nothing shows the user was created' });
    expect(insertProof('Users', 200, ERROR, undefined)).to.deep.equal({ fail: 'the server answered 200 but with a SCIM Error (bad userName): nothing shows the user was created' });
    expect(insertProof('Users', 200, { userName: 'x' }, undefined)).to.have.property('fail').that.contains('a body that has no id');
    // An error body carrying an "id" is still an error.
    expect(insertProof('Users', 200, { ...ERROR, id: 'e1' }, undefined)).to.have.property('fail');
  });
});

describe('Bulk results map one-to-one onto the operations sent', () => {
  const sent = [
    { bulk: { method: 'POST', path: '/Users', bulkId: 'a' } },
    { bulk: { method: 'PATCH', path: '/Groups/g1' } },
    { bulk: { method: 'POST', path: '/Users', bulkId: 'b' } },
  ];
  const r = (o: Partial<BulkResult>): BulkResult => ({ status: 200, ...o });

  it('by position, or by bulkId and then method + location when reordered', () => {
    const inOrder = [r({ bulkId: 'a', status: 201 }), r({}), r({ status: 201 })];
    expect(mapResults(inOrder, sent)).to.deep.equal(inOrder);
    const reordered = [r({ bulkId: 'b', status: 409 }), r({ method: 'PATCH', location: 'https://h/v2/Groups/g1' }), r({ bulkId: 'a', status: 201 })];
    expect(mapResults(reordered, sent)).to.deep.equal([reordered[2], reordered[1], reordered[0]]);
  });

  it('refuses a different count, an unknown or repeated bulkId, an unplaceable or mismatched result', () => {
    expect(mapResults([r({ bulkId: 'a' })], sent)).to.equal('the BulkResponse has 1 operation result(s) for the 3 operation(s) sent');
    expect(mapResults([r({ bulkId: 'a' }), r({}), r({ bulkId: 'c' })], sent)).to.equal('the BulkResponse answers bulkId "c", which was not sent');
    expect(mapResults([r({ bulkId: 'a' }), r({}), r({ bulkId: 'a' })], sent)).to.equal('the BulkResponse answers bulkId "a" twice');
    expect(mapResults([r({ bulkId: 'b' }), r({ method: 'PATCH', location: 'https://h/v2/Groups/g2' }), r({ bulkId: 'a' })], sent)).to.equal(
      'the BulkResponse has no result that is clearly for PATCH /Groups/g1',
    );
    expect(mapResults([r({ bulkId: 'a' }), r({ method: 'DELETE' }), r({ bulkId: 'b' })], sent)).to.equal('the BulkResponse answers PATCH /Groups/g1 with a result for DELETE');
  });
});

describe('a reply that contradicts an update', () => {
  const user = { id: 'u1', title: 'Boss', name: { givenName: 'Old' }, emails: [{ value: 'A@X.org', primary: true }], active: true, meta: { lastModified: '2024-05-01T12:00:00.000Z' } };

  it('compares trimmed, case-insensitively, dateTimes as instants; a missing attribute is what the caller says', () => {
    expect(shows(user, cell('title', ' boss '), 'unknown')).to.equal('same');
    expect(shows(user, cell('emails:value', 'a@x.org', true), 'unknown')).to.equal('same');
    expect(shows(user, cell('active', false), 'unknown')).to.equal('differs');
    expect(shows(user, cell('meta:lastModified', '2024-05-01T12:00:00Z'), 'unknown')).to.equal('same');
    expect(shows(user, cell('nickName', 'x'), 'unknown')).to.equal('unknown');
    expect(shows(user, cell('nickName', 'x'), 'differs')).to.equal('differs');
    expect(shows(user, cell('nickName', null), 'differs')).to.equal('same');
    expect(shows(user, cell('title', null), 'unknown')).to.equal('differs');
    expect(shows(user, cell('name', { givenName: 'New' }), 'differs')).to.equal('unknown');
  });

  it('is only a resource body: an error, text or empty reply contradicts nothing', () => {
    const cells = [cell('name:givenName', 'New'), cell('title', 'Boss'), cell('password', 'secret')];
    expect(contradicted(user, cells).map((c) => c.path.text)).to.deep.equal(['name:givenName']);
    for (const body of [undefined, '', 'ok', { ...ERROR, title: 'x' }, { title: 'Other' }]) expect(contradicted(body, cells)).to.deep.equal([]);
  });
});

describe('complexPatchOperations', () => {
  it('groups sub-attributes per attribute, puts plain ones in one path-less replace, and sets aside what has no complex form', () => {
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const cells = [
      cell('name:givenName', 'Ada'),
      cell('title', 'Boss'),
      cell('name:familyName', 'L'),
      cell(`${ENT}:manager:value`, 'm1'),
      cell(`${ENT}:employeeNumber`, 'E1'),
      cell('nickName', null),
      cell('emails[type eq "work"]:value', 'a@x'),
      cell('emails:value', 'b@x', true),
      cell('displayName', undefined),
    ];
    const { ops, unexpressible } = complexPatchOperations(cells, { isMultiValued: (p) => p.attr === 'emails' });
    expect(ops).to.deep.equal([
      { op: 'replace', path: 'name', value: { givenName: 'Ada', familyName: 'L' } },
      { op: 'replace', path: `${ENT}:manager`, value: { value: 'm1' } },
      { op: 'replace', value: { title: 'Boss', [ENT]: { employeeNumber: 'E1' } } },
    ]);
    expect(unexpressible.map((c) => c.path.text)).to.deep.equal(['nickName', 'emails[type eq "work"]:value', 'emails:value']);
  });
});
