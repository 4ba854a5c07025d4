import { expect } from 'chai';
import { parseColumnPath, toScimAttribute, ENTERPRISE_USER } from '../../lib/scim/path.js';
import { ScimEtlError } from '../../lib/errors.js';

function pathError(text: string): ScimEtlError {
  try {
    parseColumnPath(text);
  } catch (err) {
    expect(err).to.be.instanceOf(ScimEtlError);
    return err as ScimEtlError;
  }
  throw new Error(`expected an error for ${text}`);
}

describe('column paths', () => {
  it('parses attr and attr:sub', () => {
    expect(parseColumnPath('userName')).to.deep.equal({ text: 'userName', attr: 'userName' });
    expect(parseColumnPath('name:givenName')).to.deep.equal({ text: 'name:givenName', attr: 'name', sub: 'givenName' });
  });

  it('resolves the longest known schema URN prefix for extension attributes', () => {
    const p = parseColumnPath(`${ENTERPRISE_USER}:manager:value`);
    expect(p).to.deep.include({ schema: ENTERPRISE_USER, attr: 'manager', sub: 'value' });
    expect(toScimAttribute(p)).to.equal(`${ENTERPRISE_USER}:manager`);
    expect(parseColumnPath(`${ENTERPRISE_USER}:employeeNumber`)).to.deep.include({ schema: ENTERPRISE_USER, attr: 'employeeNumber' });
  });

  it('splits an unknown URN at its last upper-case segment', () => {
    expect(parseColumnPath('urn:example:params:Widget:color:code')).to.deep.include({ schema: 'urn:example:params:Widget', attr: 'color', sub: 'code' });
    expect(parseColumnPath('urn:acme:ext:1.0:User:badge')).to.deep.include({ schema: 'urn:acme:ext:1.0:User', attr: 'badge' });
  });

  it('drops a core schema prefix', () => {
    const p = parseColumnPath('urn:ietf:params:scim:schemas:core:2.0:User:userName');
    expect(p.schema).to.equal(undefined);
    expect(p.attr).to.equal('userName');
  });

  it('parses a value filter on a multi-valued attribute', () => {
    const p = parseColumnPath('emails[type eq "work"]:value');
    expect(p.attr).to.equal('emails');
    expect(p.sub).to.equal('value');
    expect(p.filter).to.deep.equal({ type: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' });
    expect(toScimAttribute(p)).to.equal('emails');
  });

  it('reports bad paths with a code and an offset', () => {
    const dot = pathError('name.givenName');
    expect(dot.code).to.equal('ERR_PATH_SYNTAX');
    expect(dot.context.offset).to.equal(4);
    expect(dot.message).to.match(/':'/);
    expect(pathError('emails[type eq "work":value').message).to.match(/not closed/);
    const inner = pathError('emails[type eqq "work"]:value');
    expect(inner.code).to.equal('ERR_FILTER_SYNTAX');
    expect(inner.context.offset).to.equal(12);
    expect(pathError('name:').message).to.match(/missing/);
    expect(pathError('name:given name').code).to.equal('ERR_PATH_SYNTAX');
    expect(pathError('').message).to.match(/empty/);
    expect(pathError('9lives').message).to.match(/invalid attribute name/);
    expect(pathError('emails[]:value').message).to.match(/empty value filter/);
  });
});
