import { expect } from 'chai';
import { interpolate } from '../../lib/config/interpolate.js';

describe('interpolate', () => {
  const env = { HOST: 'scim.example.com', EMPTY: '', PORT: '8443' };

  it('replaces ${VAR} and keeps the rest', () => {
    const r = interpolate('https://${HOST}:${PORT}/scim', env);
    expect(r.value).to.equal('https://scim.example.com:8443/scim');
    expect(r.missing).to.deep.equal([]);
    expect(r.changed).to.equal(true);
  });

  it('uses the default of ${VAR:-default} when the variable is unset or empty', () => {
    expect(interpolate('${NOPE:-http://127.0.0.1:8080}', env).value).to.equal('http://127.0.0.1:8080');
    expect(interpolate('${EMPTY:-x}', env).value).to.equal('x');
    expect(interpolate('${HOST:-x}', env).value).to.equal('scim.example.com');
    expect(interpolate('${NOPE:-}', env).value).to.equal('');
  });

  it('keeps an empty but set variable empty for ${VAR}', () => {
    const r = interpolate('a${EMPTY}b', env);
    expect(r.value).to.equal('ab');
    expect(r.missing).to.deep.equal([]);
  });

  it('turns $${ into a literal ${', () => {
    const r = interpolate('price: $${HOST} and ${HOST}', env);
    expect(r.value).to.equal('price: ${HOST} and scim.example.com');
    expect(r.missing).to.deep.equal([]);
  });

  it('reports every missing variable with its offset', () => {
    const r = interpolate('${A}-${HOST}-${B}', env);
    expect(r.missing).to.deep.equal([
      { name: 'A', offset: 0 },
      { name: 'B', offset: 13 },
    ]);
  });

  it('reports an unterminated ${ and an invalid name', () => {
    expect(interpolate('x${HOST', env).errors).to.deep.equal([{ offset: 1, message: 'unterminated "${": close it with "}" or write "$${" for a literal "${"' }]);
    const bad = interpolate('${1X}', env);
    expect(bad.errors).to.have.length(1);
    expect(bad.errors[0]!.offset).to.equal(0);
    expect(bad.errors[0]!.message).to.match(/invalid variable name "1X"/);
  });

  it('leaves text without ${ alone and says so', () => {
    const r = interpolate('a $ sign and {braces}', env);
    expect(r.value).to.equal('a $ sign and {braces}');
    expect(r.changed).to.equal(false);
  });

  it('maps every output character back to the raw text', () => {
    const r = interpolate('x ${HOST} eq', { HOST: 'ab' });
    expect(r.value).to.equal('x ab eq');
    // "x " literal, "ab" from the ${ at offset 2, " eq" after the closing brace
    expect(r.sourceOffsets).to.deep.equal([0, 1, 2, 2, 9, 10, 11]);
  });
});
