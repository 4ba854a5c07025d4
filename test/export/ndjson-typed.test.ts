/**
 * Typed NDJSON: booleans and numbers as JSON values (types from the schema),
 * a missing value left out (or null with export.nulls), a multi-valued column
 * as the selected element's value; CSV unchanged.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { ndjsonLine, typedCell } from '../../lib/streams/sinks/ndjson-row.js';
import { columnTypes } from '../../lib/scim/column-types.js';
import { parseColumnPath } from '../../lib/scim/path.js';
import { BUILTIN_SCHEMAS, type SchemaDefinition } from '../../lib/scim/schemas.js';
import { cli } from '../helpers/io.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'sandbox-token-for-ndjson';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('typed NDJSON', () => {
  describe('typedCell / ndjsonLine', () => {
    it('turns boolean and number cells into JSON values, and keeps what does not read as its type', () => {
      expect(typedCell('true', 'boolean')).to.equal(true);
      expect(typedCell('False', 'boolean')).to.equal(false);
      expect(typedCell('yes', 'boolean')).to.equal('yes');
      expect(typedCell('42', 'number')).to.equal(42);
      expect(typedCell('-1.5e3', 'number')).to.equal(-1500);
      expect(typedCell('0701991', 'number')).to.equal('0701991');
      expect(typedCell('12345678901234567890', 'number')).to.equal('12345678901234567890');
      expect(typedCell('0.12345678901234567', 'number')).to.equal('0.12345678901234567');
      expect(typedCell('123456789012345', 'number')).to.equal(123456789012345);
      expect(typedCell('1200000000000000000000', 'number')).to.equal(1.2e21);
      expect(typedCell('1e400', 'number')).to.equal('1e400');
      expect(typedCell('1,5', 'number')).to.equal('1,5');
      expect(typedCell('true', 'string')).to.equal('true');
      expect(typedCell('42', undefined)).to.equal('42');
    });

    it('leaves a missing value out, or writes null with nulls; keys in column order', () => {
      const row = { n: '3', a: 'true', s: '', x: 'text' };
      const types = { a: 'boolean', n: 'number' } as const;
      expect(ndjsonLine(row, { columns: ['a', 'n', 's', 'missing', 'x'], types })).to.equal('{"a":true,"n":3,"x":"text"}\n');
      expect(ndjsonLine(row, { columns: ['a', 'n', 's', 'missing', 'x'], types, nulls: true })).to.equal('{"a":true,"n":3,"s":null,"missing":null,"x":"text"}\n');
    });
  });

  describe('columnTypes', () => {
    it('reads the types from the schemas: server ones first, the built-in ones for what they do not say', () => {
      const server: SchemaDefinition[] = [
        { id: 'urn:ietf:params:scim:schemas:core:2.0:User', name: 'User', attributes: [{ name: 'loginCount', type: 'integer' }, { name: 'score', type: 'decimal' }, { name: 'userName', type: 'string' }] },
      ] as SchemaDefinition[];
      const cols = ['id', 'loginCount', 'score', 'active', 'emails[type eq "work"]:primary', 'emails:value', `${ENT}:employeeNumber`, 'name:givenName'].map((c) => parseColumnPath(c));
      expect(columnTypes(server, 'Users', cols)).to.deep.equal({ loginCount: 'number', score: 'number', active: 'boolean', 'emails[type eq "work"]:primary': 'boolean' });
      expect(columnTypes(BUILTIN_SCHEMAS, 'Groups', ['id', 'displayName'].map((c) => parseColumnPath(c)))).to.deep.equal({});
    });
  });

  describe('export --format ndjson against the sandbox', () => {
    let sb: Sandbox;
    let dir: string;
    let env: Record<string, string>;
    beforeEach(async () => {
      sb = await startSandbox({ port: 0, data: join(ROOT, 'samples/directory.json'), token: TOKEN });
      env = { SCIM_SERVER: sb.url, SCIM_TOKEN: TOKEN };
      dir = mkdtempSync(join(tmpdir(), 'scim-etl-ndjson-'));
    });
    afterEach(async () => {
      await sb?.stop();
    });

    const pipeline = (extra: string[]) => {
      const file = join(dir, 'p.yaml');
      writeFileSync(
        file,
        ['version: 1', 'connection:', '  identifier: N', '  server: ${SCIM_SERVER}', '  oAuthToken: ${SCIM_TOKEN}', 'export:', '  output: out', ...extra, '  entities:', '    Users:', '      filter: userName eq "li.wei@example.com" or userName eq "bjensen@example.com" or userName eq "renee.lefevre@example.com"', '      columns: [userName, active, "emails[type eq \\"work\\"]:value", "emails:primary", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"]', ''].join('\n'),
      );
      return file;
    };
    const rows = (name: string) => readFileSync(join(dir, 'out', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

    it('booleans as JSON booleans, a missing value absent, strings that look like numbers kept', async () => {
      const r = await cli(['export', pipeline(['  format: ndjson']), '--no-progress'], { env, cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      const byName = Object.fromEntries(rows('N_Users.ndjson').map((x) => [x.userName, x]));
      expect(byName['bjensen@example.com']).to.deep.equal({ userName: 'bjensen@example.com', active: true, 'emails[type eq "work"]:value': 'bjensen@example.com', 'emails:primary': true, [`${ENT}:employeeNumber`]: '701984' });
      // No e-mail at all: the e-mail keys are left out, not "".
      expect(byName['li.wei@example.com']).to.deep.equal({ userName: 'li.wei@example.com', active: true, [`${ENT}:employeeNumber`]: '701988' });
      expect(byName['renee.lefevre@example.com']![`${ENT}:employeeNumber`]).to.equal('0701991');
    });

    it('nulls: true writes a missing value as null', async () => {
      const r = await cli(['export', pipeline(['  format: ndjson', '  nulls: true']), '--no-progress'], { env, cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      const li = rows('N_Users.ndjson').find((x) => x.userName === 'li.wei@example.com');
      expect(li).to.deep.equal({ userName: 'li.wei@example.com', active: true, 'emails[type eq "work"]:value': null, 'emails:primary': null, [`${ENT}:employeeNumber`]: '701988' });
    });

    it('CSV is unchanged: text cells, a missing value empty', async () => {
      const r = await cli(['export', pipeline([]), '--no-progress'], { env, cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      const csv = readFileSync(join(dir, 'out', 'N_Users.csv'), 'utf8');
      expect(csv).to.include('\r\nli.wei@example.com,true,,,701988\r\n');
    });
  });
});
