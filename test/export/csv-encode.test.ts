import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvCell, csvLine } from '../../lib/streams/sinks/csv-encode.js';
import { compileColumn } from '../../lib/scim/column-reader.js';
import { parseColumnPath } from '../../lib/scim/path.js';
import { readColumn } from '../../lib/scim/read-column.js';
import { pageEncoder } from '../../lib/streams/transforms/page-table.js';

/** Deterministic pseudo-random (xorshift32), so that a failure repeats. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

// Every character csv-stringify treats specially, with the formula starters and some non-ASCII.
const ALPHABET = ['a', 'Z', '0', ' ', ',', '"', "'", '\r', '\n', '\t', '-', '=', '+', '@', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', 'é', '日', '😀', ';', '\\', '\u2028', '\u0000'];

function nastyCell(next: () => number): string {
  const len = Math.floor(next() * 8);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return s;
}

describe('csv-encode (the export writer) against csv-stringify', () => {
  for (const escapeFormulas of [false, true]) {
    it(`writes the same bytes for 5,000 random records of nasty cells (escapeFormulas ${escapeFormulas})`, () => {
      const next = rng(escapeFormulas ? 7 : 42);
      const records: string[][] = [];
      for (let r = 0; r < 5000; r++) {
        const width = 1 + Math.floor(next() * 5);
        records.push(Array.from({ length: width }, () => nastyCell(next)));
      }
      const ours = records.map((rec) => csvLine(rec, escapeFormulas)).join('');
      const theirs = stringify(records, { record_delimiter: '\r\n', quote_record_delimiter: true, escape_formulas: escapeFormulas });
      expect(ours).to.equal(theirs);
    });
  }

  it('quotes exactly the cells that need it and leaves empty cells empty', () => {
    expect(csvCell('')).to.equal('');
    expect(csvCell('plain')).to.equal('plain');
    expect(csvCell('a,b')).to.equal('"a,b"');
    expect(csvCell('say "hi"')).to.equal('"say ""hi"""');
    expect(csvCell('two\r\nlines')).to.equal('"two\r\nlines"');
    expect(csvCell('-1', true)).to.equal("'-1");
    expect(csvCell('=1+1,2', true)).to.equal('"\'=1+1,2"');
    expect(csvLine(['', '', ''])).to.equal(',,\r\n');
  });

  it('quotes a lone LF or CR, so that a reader gets the cell back in one row', () => {
    const rows = [['a\nb', 'c\rd', 'e'], ['f', '', 'g\r\nh']];
    const text = rows.map((r) => csvLine(r)).join('');
    expect(parse(text, { relax_column_count: false })).to.deep.equal(rows);
  });
});

describe('compiled column readers', () => {
  const resources: object[] = [
    { id: 'u1', userName: 'a', name: { givenName: 'Å', familyName: 'B' }, emails: [{ value: 'x@y', primary: false }, { value: 'p@y', primary: 'true' }], active: true },
    { ID: 'u2', USERNAME: 'caps', Name: { GIVENNAME: 'g' }, emails: { value: 'single@y' }, active: 'false', title: null },
    { id: 'u3', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: 42, manager: { value: 'm1', displayName: 'Boss' } }, addresses: [null, { locality: 'Oslo' }] },
    { id: 'u4', 'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER': { EmployeeNumber: '7' }, name: 'not an object', emails: [] },
    // Keys that lower-case across lengths or scripts (Kelvin sign K, dotted İ), inherited names, PRIMARY in caps, numbers.
    { id: 'u5', 'userNameK': 'no', 'ti\u212Ale': 'kelvin', emails: [{ value: 'a@y' }, { value: 'b@y', PRIMARY: 'TRUE' }], active: 0.1, constructor: 'own', toString: 'mine' },
    { \u0130d: 'dotted', title: 'İ', name: { GivenName: -0, familyName: 1e21 }, active: false, emails: [{ value: 5, Primary: true }] },
    JSON.parse('{"id":"u7","__proto__":"proto","TITLE":"upper","emails":[null,{"value":"v"}],"active":12345678901234567890}'),
  ];
  const columns = [
    'id',
    'userName',
    'active',
    'title',
    'name',
    'name:givenName',
    'emails:value',
    'emails[type eq "work"]:value',
    'addresses:locality',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
    'name:familyName',
    'tiKle',
    'constructor',
    'toString',
  ].map((c) => parseColumnPath(c));

  it('give the cells readColumn gives, for every column shape', () => {
    for (const c of columns) {
      const read = compileColumn(c);
      for (const r of resources) expect(read(r), `${c.text} of ${JSON.stringify(r)}`).to.equal(readColumn(r, c));
    }
  });

  it('encode a page as the per-row writer would: header once, one CRLF line per resource', () => {
    const enc = pageEncoder({ columns });
    const expected = stringify(resources.map((r) => columns.map((c) => readColumn(r, c))), { record_delimiter: '\r\n', quote_record_delimiter: true });
    expect(enc.header).to.equal(csvLine(columns.map((c) => c.text)));
    expect(enc.page(resources as never)).to.equal(expected);
  });
});
