/**
 * `columns: auto` against the sandbox: the header is every readable attribute
 * of /Schemas in schema order (password, returned: never, is not), it is
 * logged under --verbose as a list the pipeline can take, and every cell
 * equals what GET /Users/{id} returns. Without /Schemas: the built-in
 * schema, with a warning.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { perTestSandbox } from '../helpers/per-test.js';
import { cellOf, readCsv } from '../helpers/cells.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const DIRECTORY = join(import.meta.dirname, '../../samples/directory.json');

type Json = Record<string, unknown>;

describe('columns: auto', () => {
  const t = perTestSandbox('scim-etl-auto-');

  async function exportAuto(opts: SandboxOptions = {}) {
    t.sb = await startSandbox({ token: 't', data: DIRECTORY, ...opts });
    const file = join(t.dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: A', '  server: ${S}', '  oAuthToken: t', '  retry: {limit: 0}', 'export:', '  output: out', '  entities:', '    Users: {columns: auto}'].join('\n') + '\n');
    const r = await cli(['export', file, '--verbose', '--no-progress'], { env: { S: t.sb.url }, cwd: t.dir });
    return { r, file, table: () => readCsv(join(t.dir, 'out/A_Users.csv')) };
  }

  it('writes every readable attribute in schema order, each cell as GET /Users/{id} returns it', async () => {
    const { r, table } = await exportAuto();
    expect(r.code, r.stderr).to.equal(0);
    const { header, rows } = table();
    // The server's own schema, walked here: core attributes (sub-attributes flattened), then the extension.
    const schemas = (await (await fetch(`${t.sb!.url}/v2/Schemas`, { headers: { authorization: 'Bearer t' } })).json()) as { Resources: Array<{ id: string; attributes: Json[] }> };
    const walk = (prefix: string, attrs: Json[]) =>
      attrs.flatMap((a) => {
        if (a.returned === 'never' || a.mutability === 'writeOnly') return [];
        const subs = (a.subAttributes as Json[] | undefined)?.filter((s) => s.returned !== 'never' && s.mutability !== 'writeOnly');
        return a.type === 'complex' && subs?.length ? subs.map((s) => `${prefix}${a.name}:${s.name}`) : [`${prefix}${a.name}`];
      });
    const core = schemas.Resources.find((s) => s.id === 'urn:ietf:params:scim:schemas:core:2.0:User')!;
    const ext = schemas.Resources.find((s) => s.id === ENT)!;
    const expected = [...walk('', core.attributes), ...walk(`${ENT}:`, ext.attributes)];
    expect(header.filter((h) => !['id', 'externalId'].includes(h) && !h.startsWith('meta:'))).to.deep.equal(expected);
    expect(header.slice(0, 2)).to.deep.equal(['id', 'externalId']);
    expect(header).to.not.include('password');
    expect(header).to.include.members(['name:givenName', 'emails:value', `${ENT}:employeeNumber`, `${ENT}:manager:value`]);

    expect(rows.map((x) => x.id)).to.have.members(t.sb!.store.users.map((u) => u.id!));
    const wrong: string[] = [];
    for (const row of rows) {
      const truth = (await (await fetch(`${t.sb!.url}/v2/Users/${row.id}`, { headers: { authorization: 'Bearer t' } })).json()) as Json;
      for (const c of header) if (row[c] !== cellOf(truth, c)) wrong.push(`${row.id} ${c}: wrote ${JSON.stringify(row[c])}, server has ${JSON.stringify(cellOf(truth, c))}`);
    }
    expect(wrong).to.deep.equal([]);
    // The header, logged so that a user can freeze it: a YAML list the pipeline accepts as columns.
    const logged = /Users: columns: auto → columns: (\[.*\])/.exec(r.stderr)?.[1];
    expect(logged, r.stderr).to.be.a('string');
    const frozen = join(t.dir, 'frozen.yaml');
    writeFileSync(frozen, ['version: 1', 'connection:', '  identifier: A', '  server: https://x.example', 'export:', '  entities:', `    Users: {columns: ${logged}}`].join('\n') + '\n');
    const v = await cli(['validate', frozen], { cwd: t.dir });
    expect(v.code, v.stdout + v.stderr).to.equal(0);
  });

  it('without /Schemas: the built-in RFC 7643 schema, with a warning', async () => {
    const { r, table } = await exportAuto({ faults: [{ route: 'GET /v2/Schemas', kind: '500', times: 1000 }] });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/warn: columns: auto: the server serves no \/Schemas .*built-in/);
    const { header, rows } = table();
    expect(header).to.include.members(['userName', 'name:givenName', `${ENT}:employeeNumber`]);
    expect(header).to.not.include('password');
    expect(rows.length).to.equal(t.sb!.store.users.length);
  });

  it('an entity the server has no resource type for is a coded error, nothing written', async () => {
    t.sb = await startSandbox({ token: 't', data: DIRECTORY });
    const file = join(t.dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: A', '  server: ${S}', '  oAuthToken: t', 'export:', '  output: out', '  entities:', '    Widgets: {columns: auto}'].join('\n') + '\n');
    const r = await cli(['export', file, '--no-progress'], { env: { S: t.sb.url }, cwd: t.dir });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include('ERR_EXPORT_AUTO_COLUMNS');
  });
});
