/**
 * `validate --online`: the pipeline's columns and the order files' headers
 * against the sandbox's /ResourceTypes and /Schemas, each problem at its
 * file:line:col, before anything runs (GETs only).
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('validate --online', () => {
  let sb: Sandbox;
  let dir: string;
  before(async () => {
    sb = await startSandbox({ token: 't', data: { users: [{ userName: 'a' }], groups: [] } as never });
  });
  after(async () => {
    await sb?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-online-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(lines: string[], orders?: string): string {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ['version: 1', 'connection:', '  identifier: T', '  server: ${S}', '  oAuthToken: t', ...lines].join('\n') + '\n');
    if (orders !== undefined) {
      mkdirSync(join(dir, 'orders'), { recursive: true });
      writeFileSync(join(dir, 'orders', 'T_Users.csv'), orders);
    }
    return file;
  }

  const validate = (file: string, online = true) => cli(['validate', ...(online ? ['--online'] : []), file], { env: { S: sb.url }, cwd: dir });
  const problems = (stdout: string) => stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '));

  it('reports unknown column paths, never-returned columns and unknown entities at their line:col', async () => {
    const file = write([
      'export:', //                                      6
      '  entities:', //                                   7
      '    Users:', //                                    8
      '      columns:', //                                9
      '        - id', //                                  10
      '        - userName', //                            11
      '        - "name:nickname"', //                     12 unknown sub-attribute
      '        - favouriteColour', //                     13 unknown attribute
      '        - password', //                            14 returned: never
      '        - employeeNumber', //                      15 an extension attribute without its URN
      `        - "${ENT}:department"`, //                 16 fine
      '    Widgets:', //                                  17 no such resource type
      '      columns: [id]',
    ]);
    const before = sb.requests.length;
    const r = await validate(file);
    expect(r.code, r.stdout + r.stderr).to.equal(78);
    expect(problems(r.stdout)).to.deep.equal([
      `${file}:12:11 ERR_CONFIG_UNKNOWN_COLUMN`,
      `${file}:13:11 ERR_CONFIG_UNKNOWN_COLUMN`,
      `${file}:14:11 ERR_CONFIG_COLUMN_NOT_RETURNED`,
      `${file}:15:11 ERR_CONFIG_UNKNOWN_COLUMN`,
      `${file}:17:5 ERR_CONFIG_UNKNOWN_ENTITY`,
    ]);
    expect(r.stdout).to.include('name has no sub-attribute "nickname"');
    expect(r.stdout).to.include(`write it as ${ENT}:employeeNumber`);
    // Only reads.
    expect(sb.requests.slice(before).every((q) => q.method === 'GET')).to.equal(true);
    // Offline, the same file is valid: these are the server's facts, not syntax.
    expect((await validate(file, false)).code).to.equal(0);
  });

  it('reports order columns that write readOnly attributes or unknown ones, at file:1:col of the header', async () => {
    const file = write(['fulfill:', '  orders: orders', '  results: results'], 'command,id,userName,meta:created,groups:value,titel,title\nupdate,x,a,,,,T\n');
    const r = await validate(file);
    expect(r.code, r.stdout + r.stderr).to.equal(78);
    const orders = join(dir, 'orders', 'T_Users.csv');
    expect(problems(r.stdout)).to.deep.equal([`${orders}:1:21 ERR_CONFIG_READ_ONLY_COLUMN`, `${orders}:1:34 ERR_CONFIG_READ_ONLY_COLUMN`, `${orders}:1:47 ERR_CONFIG_UNKNOWN_COLUMN`]);
    expect(r.stdout).to.match(/writes meta\.created, which the server's schema marks readOnly/);
  });

  it('says ok for a pipeline whose columns the server has', async () => {
    const file = write(['export:', '  entities:', '    Users:', `      columns: [id, userName, "name:givenName", "emails[type eq \\"work\\"]:value", "${ENT}:manager:value"]`, '    Groups:', '      columns: [id, displayName]'], 'command,id,userName,title\n');
    const r = await validate(file);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(`${file}: ok`);
  });
});
