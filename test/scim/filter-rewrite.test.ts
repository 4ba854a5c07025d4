import { expect } from 'chai';
import { coerceBooleans, filterReads, formatFilter, hasQuotedBoolean, parseFilter } from '../../lib/scim/filter.js';
import { attributeAt, BUILTIN_SCHEMAS } from '../../lib/scim/schemas.js';

const isBoolean = (endpoint: string) => (path: Parameters<typeof attributeAt>[2], parent?: Parameters<typeof attributeAt>[3]) =>
  attributeAt(BUILTIN_SCHEMAS, endpoint, path, parent)?.type === 'boolean';

describe('filter rewriting for a server', () => {
  it('turns quoted "true"/"false" compared with a boolean attribute into booleans, and nothing else', () => {
    const ast = parseFilter('active eq "TRUE" and (emails[primary eq "false" and value eq "true"] or title eq "true") and not (active ne "yes")');
    expect(hasQuotedBoolean(ast)).to.equal(true);
    expect(formatFilter(coerceBooleans(ast, isBoolean('Users')))).to.equal(
      '((active eq true and (emails[(primary eq false and value eq "true")] or title eq "true")) and not (active ne "yes"))',
    );
    expect(hasQuotedBoolean(parseFilter('active eq true and userName eq "x"'))).to.equal(false);
  });

  it('looks attributes up in the endpoint schema, the common attributes and extensions', () => {
    expect(attributeAt(BUILTIN_SCHEMAS, 'Users', { attr: 'ACTIVE' })?.type).to.equal('boolean');
    expect(attributeAt(BUILTIN_SCHEMAS, 'Groups', { attr: 'active' })).to.equal(undefined);
    expect(attributeAt(BUILTIN_SCHEMAS, 'Users', { attr: 'meta', sub: 'lastModified' })?.type).to.equal('dateTime');
    expect(attributeAt(BUILTIN_SCHEMAS, 'Users', { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'manager', sub: 'value' })?.type).to.equal('string');
    expect(attributeAt(BUILTIN_SCHEMAS, 'Users', { attr: 'primary' }, { attr: 'addresses' })?.type).to.equal('boolean');
  });

  it('lists what a filter reads, per top-level attribute', () => {
    const reads = filterReads(parseFilter('name.givenName sw "A" or emails[type eq "work"] or urn:x:Ext:1.0:User:flag eq true'));
    expect(reads).to.deep.equal([
      { attr: 'name', sub: 'givenName' },
      { attr: 'emails', filter: { type: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' } },
      { schema: 'urn:x:Ext:1.0:User', attr: 'flag' },
    ]);
  });
});
