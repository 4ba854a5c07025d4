import { expect } from 'chai';
import { LineCounter, parseDocument, type Scalar, type YAMLMap } from 'yaml';
import { scalarLocator, valueToSourceMap } from '../../lib/config/positions.js';

function locate(src: string) {
  const lc = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lc });
  const node = (doc.contents as YAMLMap).items[0]!.value as Scalar;
  return { at: scalarLocator(src, node, lc), value: String(node.value) };
}

describe('positions inside scalars', () => {
  it('plain scalar: column of the value plus the offset', () => {
    const { at, value } = locate('filter: active eq 1\n');
    expect(at(value.indexOf('eq'))).to.deep.equal({ line: 1, col: 16 });
  });

  it('double-quoted: one more for the quote, escapes counted as written', () => {
    const src = 'f: "a\\"b eq x"\n';
    const { at, value } = locate(src);
    expect(value).to.equal('a"b eq x');
    expect(at(0)).to.deep.equal({ line: 1, col: 5 });
    expect(at(value.indexOf('eq'))).to.deep.equal({ line: 1, col: src.indexOf('eq') + 1 });
  });

  it("single-quoted: '' is one character", () => {
    const src = "f: 'it''s eq x'\n";
    const { at, value } = locate(src);
    expect(value).to.equal("it's eq x");
    expect(at(value.indexOf('eq'))).to.deep.equal({ line: 1, col: src.indexOf('eq') + 1 });
  });

  it('offsets past the end point just after the last character', () => {
    const { at, value } = locate('f: abc\n');
    expect(at(value.length)).to.deep.equal({ line: 1, col: 7 });
  });

  it('multi-line and block scalars fall back to the scalar start', () => {
    expect(valueToSourceMap('|\n  abc\n', 'BLOCK_LITERAL', 'abc\n')).to.equal(undefined);
    const { at } = locate('f: >\n  abc def\n');
    expect(at(4)).to.deep.equal({ line: 1, col: 4 });
  });
});
