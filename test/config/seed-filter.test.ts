import { expect } from 'chai';
import { parseSeedFilter, type SeedPiece } from '../../lib/config/seed-filter.js';

const texts = (pieces: SeedPiece[] | undefined) => pieces?.map((p) => p.text);

describe('parseSeedFilter', () => {
  it('reads the seed example: Users|?filter=active eq "true"*Groups', () => {
    const r = parseSeedFilter('Users|?filter=active eq "true"*Groups');
    expect(r.problems).to.deep.equal([]);
    expect(r.entities.map((e) => e.name.text)).to.deep.equal(['Users', 'Groups']);
    expect(r.entities[0]!.filter!.text).to.equal('active eq "true"');
    expect(r.entities[1]!.filter).to.equal(undefined);
  });

  it('keeps the offset of each filter character in the original text', () => {
    const text = 'Users|?filter=active eq "true"*Groups';
    const f = parseSeedFilter(text).entities[0]!.filter!;
    expect(f.offsets[0]).to.equal(text.indexOf('active'));
    expect(f.offsets.at(-1)).to.equal(text.indexOf('*') - 1);
  });

  it('reads the column-list form with a|b alternatives', () => {
    const r = parseSeedFilter('Users;id userName name:givenName|familyName*Groups;id displayName');
    expect(r.problems).to.deep.equal([]);
    expect(texts(r.entities[0]!.columns)).to.deep.equal(['id', 'userName', 'name:givenName', 'name:familyName']);
    expect(texts(r.entities[1]!.columns)).to.deep.equal(['id', 'displayName']);
  });

  it('maps an expanded alternative to the prefix and then the alternative in the text', () => {
    const text = 'Users;name:givenName|familyName';
    const col = parseSeedFilter(text).entities[0]!.columns![1]!;
    expect(col.text).to.equal('name:familyName');
    expect(col.offsets.slice(0, 5)).to.deep.equal([6, 7, 8, 9, 10]); // "name:"
    expect(col.offsets[5]).to.equal(text.indexOf('familyName'));
  });

  it('expands alternatives after an extension URN and a value filter', () => {
    const urn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const r = parseSeedFilter(`Users;${urn}:manager:value|displayName emails[type eq "work"]:value|type`);
    expect(texts(r.entities[0]!.columns)).to.deep.equal([
      `${urn}:manager:value`,
      `${urn}:manager:displayName`,
      'emails[type eq "work"]:value',
      'emails[type eq "work"]:type',
    ]);
  });

  it('takes a filter and columns together, and commas between columns', () => {
    const r = parseSeedFilter('Users|?filter=userName sw "a;b*c";id,userName');
    expect(r.problems).to.deep.equal([]);
    expect(r.entities).to.have.length(1);
    expect(r.entities[0]!.filter!.text).to.equal('userName sw "a;b*c"');
    expect(texts(r.entities[0]!.columns)).to.deep.equal(['id', 'userName']);
  });

  it('decodes a %-encoded filter, keeping offsets', () => {
    const text = 'Users|?filter=active%20eq%20%22true%22';
    const f = parseSeedFilter(text).entities[0]!.filter!;
    expect(f.text).to.equal('active eq "true"');
    expect(f.offsets[6]).to.equal(text.indexOf('%20'));
    expect(f.offsets[7]).to.equal(text.indexOf('eq'));
  });

  it("reads '+' as a space only in a fully URL-encoded filter", () => {
    expect(parseSeedFilter('Users|?filter=active+eq+%22true%22').entities[0]!.filter!.text).to.equal('active eq "true"');
    expect(parseSeedFilter('Users|?filter=meta.lastModified gt "2024-01-01T00:00:00+01:00"').entities[0]!.filter!.text).to.equal(
      'meta.lastModified gt "2024-01-01T00:00:00+01:00"',
    );
  });

  it('accepts a bare filter without ?filter=', () => {
    expect(parseSeedFilter('Users|active eq true').entities[0]!.filter!.text).to.equal('active eq true');
  });

  it('tolerates empty entries and spaces', () => {
    const r = parseSeedFilter(' Users * *Groups*');
    expect(r.entities.map((e) => e.name.text)).to.deep.equal(['Users', 'Groups']);
  });

  it('reports an unsupported query parameter at its offset', () => {
    const text = 'Users|?filter=active eq true&sortBy=userName';
    const r = parseSeedFilter(text);
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]!.code).to.equal('ERR_CONFIG_FILTER_STRING');
    expect(r.problems[0]!.offset).to.equal(text.indexOf('sortBy'));
    expect(r.entities[0]!.filter!.text).to.equal('active eq true');
  });

  it('reports a missing entity name and a bad character in a name', () => {
    const r = parseSeedFilter('|?filter=active eq true*Us ers');
    expect(r.problems.map((p) => p.offset)).to.deep.equal([0, 26]);
    expect(r.problems[1]!.message).to.match(/invalid character " " in entity name "Us ers"/);
  });
});
