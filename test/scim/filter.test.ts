import { expect } from 'chai';
import { parseFilter, formatFilter, matchesFilter, parsePatchPath, resolveAttr, quoteLiteral, type FilterNode } from '../../lib/scim/filter.js';
import { ScimEtlError } from '../../lib/errors.js';

function syntaxError(text: string): ScimEtlError {
  try {
    parseFilter(text);
  } catch (err) {
    expect(err).to.be.instanceOf(ScimEtlError);
    expect((err as ScimEtlError).code).to.equal('ERR_FILTER_SYNTAX');
    return err as ScimEtlError;
  }
  throw new Error(`expected a syntax error for ${text}`);
}

const user = {
  id: 'U1',
  userName: 'Bjørn.Ødegård@example.com',
  active: true,
  name: { givenName: 'Bjørn', familyName: 'Ødegård' },
  emails: [
    { type: 'home', value: 'bjorn@home.example' },
    { type: 'work', value: 'b.odegard@example.com', primary: true },
  ],
  meta: { lastModified: '2026-03-01T10:00:00Z' },
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '42', manager: { value: 'U9' } },
  loginCount: 7,
};

describe('SCIM filter', () => {
  it('parses comparisons, presence, logic and value paths with precedence not > and > or', () => {
    const ast = parseFilter('userName eq "a" or active eq true and not (emails[type eq "work"])');
    expect(ast.type).to.equal('or');
    const right = (ast as unknown as { right: FilterNode }).right;
    expect(right.type).to.equal('and');
    expect(formatFilter(ast)).to.equal('(userName eq "a" or (active eq true and not (emails[type eq "work"])))');
  });

  it('treats operators, keywords and attribute names case-insensitively', () => {
    expect(matchesFilter(user, parseFilter('USERNAME EQ "bjørn.ødegård@example.com"'))).to.equal(true);
    expect(matchesFilter(user, parseFilter('Active Eq TRUE AND name.GIVENNAME sw "bj"'))).to.equal(true);
  });

  it('evaluates every operator', () => {
    const m = (f: string) => matchesFilter(user, parseFilter(f));
    expect(m('name.familyName co "deg"')).to.equal(true);
    expect(m('name.familyName ew "gård"')).to.equal(true);
    expect(m('userName ne "x"')).to.equal(true);
    expect(m('loginCount gt 5 and loginCount le 7 and loginCount lt 8 and loginCount ge 7')).to.equal(true);
    expect(m('meta.lastModified gt "2026-02-28T00:00:00Z"')).to.equal(true);
    expect(m('meta.lastModified gt "2026-03-01T10:00:00.000Z"')).to.equal(false);
    expect(m('title pr')).to.equal(false);
    expect(m('emails pr')).to.equal(true);
    expect(m('emails co "home.example"')).to.equal(true);
    expect(m('emails[type eq "work" and value co "odegard"]')).to.equal(true);
    expect(m('emails[type eq "other"]')).to.equal(false);
    expect(m('id eq "u1"')).to.equal(false); // ids are case-exact
    expect(m('title eq null')).to.equal(true);
    expect(m('active eq "true"')).to.equal(true); // the seed's own example compares a boolean with a string
  });

  it('reads extension attributes by schema URN', () => {
    const f = parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "U9"');
    expect(f).to.deep.include({ type: 'compare', op: 'eq', value: 'U9' });
    expect(matchesFilter(user, f)).to.equal(true);
    expect(resolveAttr(user, { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'employeeNumber' })).to.deep.equal(['42']);
  });

  it('drops the core schema prefix: core attributes live at the top level', () => {
    const f = parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "Bj"');
    expect(f).to.deep.equal({ type: 'compare', path: { attr: 'userName' }, op: 'sw', value: 'Bj' });
  });

  it('round-trips string literals with quotes and backslashes', () => {
    const value = 'say "hi" \\ bye';
    const f = parseFilter(`displayName eq ${quoteLiteral(value)}`);
    expect(f).to.deep.include({ value });
    expect(parseFilter(formatFilter(f))).to.deep.equal(f);
  });

  it('reports syntax errors with the offset of the offending token', () => {
    expect(syntaxError('userName eq "x"))').context.offset).to.equal(15);
    expect(syntaxError('(userName eq "x"').context.offset).to.equal(16);
    expect(syntaxError('userName eqq "x"').context.offset).to.equal(9);
    expect(syntaxError('userName eq "x').message).to.match(/unterminated string/);
    expect(syntaxError('userName eq bob').message).to.match(/expected a value/);
    expect(syntaxError('emails[type eq "work"').message).to.match(/']'/);
    expect(syntaxError('userName eq "x" nand active pr').context.offset).to.equal(16);
    expect(syntaxError('').message).to.match(/empty/);
    expect(syntaxError('not userName pr').message).to.match(/'\('/);
    expect(syntaxError('1abc eq "x"').message).to.match(/invalid attribute name/);
  });

  it('parses PATCH paths with value filters and sub-attributes', () => {
    expect(parsePatchPath('members[value eq "abc"]')).to.deep.equal({
      path: { attr: 'members' },
      filter: { type: 'compare', path: { attr: 'value' }, op: 'eq', value: 'abc' },
    });
    expect(parsePatchPath('emails[type eq "work"].value')).to.deep.include({ sub: 'value' });
    expect(parsePatchPath('name.givenName')).to.deep.equal({ path: { attr: 'name', sub: 'givenName' } });
    expect(parsePatchPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager')).to.deep.equal({
      path: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'manager' },
    });
    expect(() => parsePatchPath('members[value eq "abc"')).to.throw(ScimEtlError);
  });
});
