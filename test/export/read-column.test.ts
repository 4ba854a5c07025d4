import { expect } from 'chai';
import { readColumn, primaryElseFirst } from '../../lib/scim/read-column.js';
import { parseColumnPath } from '../../lib/scim/path.js';
import { flatten } from '../../lib/streams/transforms/flatten.js';
import { Readable } from 'node:stream';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const user = {
  id: 'u1',
  userName: 'bjensen',
  active: true,
  loginCount: 42,
  name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen' },
  emails: [
    { value: 'bj@home.example', type: 'home' },
    { value: 'bjensen@work.example', type: 'work', primary: true },
  ],
  phoneNumbers: [
    { value: '555-1', type: 'work' },
    { value: '555-2', type: 'mobile' },
  ],
  groups: [],
  [ENT]: { employeeNumber: '701984', manager: { value: 'm1', displayName: 'John Smith' } },
  'urn:ietf:params:scim:schemas:cyberark:1.0:User': { ldapFullDN: 'CN=B,OU=X' },
};

const cell = (text: string, res: object = user) => readColumn(res, parseColumnPath(text));

describe('readColumn', () => {
  it('reads a simple attribute, case-insensitively', () => {
    expect(cell('userName')).to.equal('bjensen');
    expect(cell('USERNAME')).to.equal('bjensen');
    expect(cell('id')).to.equal('u1');
  });

  it('writes booleans and numbers as JSON literals', () => {
    expect(cell('active')).to.equal('true');
    expect(cell('loginCount')).to.equal('42');
    expect(cell('active', { active: false })).to.equal('false');
  });

  it('reads attr:sub', () => {
    expect(cell('name:givenName')).to.equal('Barbara');
    expect(cell('Name:FamilyName')).to.equal('Jensen');
  });

  it('gives the primary element of a multi-valued attribute, else the first', () => {
    expect(cell('emails:value')).to.equal('bjensen@work.example');
    expect(cell('phoneNumbers:value')).to.equal('555-1');
    expect(cell('emails:value', { emails: [{ value: 'a' }, { value: 'b', primary: 'true' }] })).to.equal('b');
    expect(primaryElseFirst([null, 'x', 'y'])).to.equal('x');
  });

  it('applies a value filter on a multi-valued attribute', () => {
    expect(cell('emails[type eq "home"]:value')).to.equal('bj@home.example');
    expect(cell('emails[type eq "WORK"]:value')).to.equal('bjensen@work.example');
    expect(cell('phoneNumbers[type eq "mobile" or type eq "fax"]:value')).to.equal('555-2');
    expect(cell('emails[type eq "other"]:value')).to.equal('');
    // several matches: primary-else-first among them
    expect(cell('emails[value co "example"]:value')).to.equal('bjensen@work.example');
    // filter without sub-attribute: the element as JSON
    expect(cell('emails[type eq "home"]')).to.equal('{"value":"bj@home.example","type":"home"}');
  });

  it('reads extension attributes under their schema URN key', () => {
    expect(cell(`${ENT}:employeeNumber`)).to.equal('701984');
    expect(cell(`${ENT}:manager:value`)).to.equal('m1');
    expect(cell(`${ENT}:manager`)).to.equal('{"value":"m1","displayName":"John Smith"}');
    expect(cell('urn:ietf:params:scim:schemas:cyberark:1.0:User:ldapFullDN')).to.equal('CN=B,OU=X');
    // the URN key matched case-insensitively
    expect(cell(`${ENT}:employeeNumber`, { [ENT.toLowerCase()]: { EmployeeNumber: '9' } })).to.equal('9');
  });

  it('reads core-schema-qualified names at the top level', () => {
    expect(cell('urn:ietf:params:scim:schemas:core:2.0:User:userName')).to.equal('bjensen');
  });

  it('writes a complex value without sub-attribute as compact JSON', () => {
    expect(cell('name')).to.equal('{"givenName":"Barbara","familyName":"Jensen","formatted":"Ms. Barbara J Jensen"}');
    expect(cell('emails')).to.equal('{"value":"bjensen@work.example","type":"work","primary":true}');
  });

  it('gives an empty cell for anything missing', () => {
    expect(cell('title')).to.equal('');
    expect(cell('name:middleName')).to.equal('');
    expect(cell('groups:value')).to.equal('');
    expect(cell('addresses[type eq "work"]:locality')).to.equal('');
    expect(cell(`${ENT}:costCenter`)).to.equal('');
    expect(cell('urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User:type')).to.equal('');
    expect(cell('title', { title: null })).to.equal('');
  });

  it('keeps awkward text as is', () => {
    expect(cell('displayName', { displayName: 'Zoë "Z", 日本\nline2' })).to.equal('Zoë "Z", 日本\nline2');
  });
});

describe('flatten', () => {
  it('turns resources into rows keyed by column text, in column order', async () => {
    const columns = ['id', 'name:givenName', 'emails[type eq "home"]:value', `${ENT}:manager:value`].map((c) => parseColumnPath(c));
    const rows: object[] = [];
    for await (const r of Readable.from([user, { id: 'u2' }]).pipe(flatten(columns))) rows.push(r);
    expect(rows).to.deep.equal([
      { id: 'u1', 'name:givenName': 'Barbara', 'emails[type eq "home"]:value': 'bj@home.example', [`${ENT}:manager:value`]: 'm1' },
      { id: 'u2', 'name:givenName': '', 'emails[type eq "home"]:value': '', [`${ENT}:manager:value`]: '' },
    ]);
    expect(Object.keys(rows[0]!)).to.deep.equal(columns.map((c) => c.text));
  });
});
