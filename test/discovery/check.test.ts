/**
 * `scim-etl check` against the sandbox: a clean server passes every probe, and
 * each quirk profile fails exactly the probe that detects it (golden tables).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type QuirkSpec } from '../../lib/sandbox/index.js';
import { cli } from '../helpers/io.js';
import { expectGolden, portless } from './golden.js';

const TOKEN = 'check-token';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Quirk → the one probe that must fail. */
const DETECTS: Array<[string, string]> = [
  ['dropExtensionAttributes', 'projection.extension'],
  ['emptyParentProjection', 'projection.parent'],
  ['totalIsPageLength', 'paging.totalResults'],
  ['pageCap', 'paging.count'],
  ['ignoreDottedReplace', 'patch.dotted'],
  ['quotedBooleanNeverMatches', 'filter.booleanQuoted'],
  ['bulkPatchIgnored', 'bulk.patch'],
  ['createWithoutId', 'write.create'],
  ['clientErrorAs500', 'errors.status'],
  ['deleteMissing500', 'write.deleteMissing'],
  ['activeNotFilterable', 'filter.boolean'],
  ['attributesUrn400', 'projection.extension'],
  ['lastModifiedNeverMatches', 'filter.lastModified'],
];

interface Result { probe: string; verdict: string; workaround?: string }

describe('scim-etl check', () => {
  let sb: Sandbox | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-check-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function check(quirks: QuirkSpec[], args: string[], server = (s: Sandbox) => s.url) {
    await sb?.stop();
    sb = await startSandbox({ token: TOKEN, generate: { users: 120, groups: 2, seed: 1 }, quirks });
    const file = join(dir, 'p.yaml');
    writeFileSync(file, `version: 1\nconnection:\n  identifier: Check\n  server: ${server(sb)}\n  oAuthToken: \${SCIM_TOKEN}\n`);
    const r = await cli(['check', file, ...args], { env: { SCIM_TOKEN: TOKEN } });
    expect(r.code, r.stderr).to.equal(0);
    return { ...r, stdout: portless(r.stdout, sb.url).replace(UUID, '<id>') };
  }

  it('a well-behaved server passes every probe, read-only unless --write', async () => {
    const r = await check([], ['--format', 'json']);
    const report = JSON.parse(r.stdout) as { write: boolean; results: Result[] };
    expect(report.write).to.equal(false);
    expect(report.results.filter((x) => x.verdict !== 'works')).to.deep.equal([]);
    expect(sb!.requests.filter((q) => q.method !== 'GET').map((q) => q.method)).to.deep.equal([]);
    const w = await check([], ['--write']);
    expectGolden('check.clean.txt', w.stdout);
    expect(sb!.store.userCount).to.equal(120);
  });

  for (const [quirk, probe] of DETECTS) {
    it(`detects ${quirk} (${probe} fails, with its workaround)`, async () => {
      const r = await check([quirk as QuirkSpec], ['--write', '--format', 'json']);
      const results = (JSON.parse(r.stdout) as { results: Result[] }).results;
      const failing = results.filter((x) => x.verdict !== 'works');
      expect(failing.map((x) => x.probe)).to.deep.equal([probe]);
      expect(failing[0]!.workaround).to.be.a('string').and.not.equal('');
      expect(sb!.store.userCount, 'the throw-away user is cleaned up').to.equal(120);
      const text = await cli(['check', join(dir, 'p.yaml'), '--write'], { env: { SCIM_TOKEN: TOKEN } });
      expectGolden(`check.${quirk}.txt`, portless(text.stdout, sb!.url).replace(UUID, '<id>'));
    });
  }

  it('works at a root of its own (rootPath) when the pipeline names it', async () => {
    const r = await check(['rootPath=/scim/v2/endpoints/abc'], ['--format', 'json'], (s) => s.root);
    const report = JSON.parse(r.stdout) as { root: string; results: Result[] };
    expect(report.root).to.equal('http://SANDBOX/scim/v2/endpoints/abc');
    expect(report.results.filter((x) => x.verdict !== 'works')).to.deep.equal([]);
  });
});
