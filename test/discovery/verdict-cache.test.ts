/** The verdict cache: written by `check` beside the export, valid only for the same root and ServiceProviderConfig. */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../lib/sandbox/index.js';
import { cachedDecisions, readVerdictCache, spcHash, verdictCachePath, type VerdictCache } from '../../lib/discovery/verdict-cache.js';
import { cli } from '../helpers/io.js';

describe('verdict cache', () => {
  let sb: Sandbox | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-etl-verdicts-'));
  });
  afterEach(async () => {
    await sb?.stop();
    sb = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function checkWith(opts: { bulk?: { supported: boolean } }) {
    sb = await startSandbox({ token: 't', data: { users: [{ userName: 'a', name: { givenName: 'A' } }] } as never, quirks: ['bulkPatchIgnored'], ...opts });
    const file = join(dir, 'p.yaml');
    writeFileSync(file, `version: 1\nconnection:\n  identifier: Cache\n  server: ${sb.url}\n  oAuthToken: \${T}\nexport:\n  output: out\n  entities:\n    Users:\n      columns: [id]\n`);
    const r = await cli(['check', file, '--write', '--verbose'], { env: { T: 't' } });
    expect(r.code, r.stderr).to.equal(0);
    const spc = (await (await fetch(`${sb.url}/v2/ServiceProviderConfig`, { headers: { authorization: 'Bearer t' } })).json()) as Record<string, unknown>;
    return { path: verdictCachePath(join(dir, 'out'), 'Cache'), spc, stderr: r.stderr };
  }

  it('check writes <output>/<identifier>.server.json with the verdicts and the SPC hash', async () => {
    const { path, spc, stderr } = await checkWith({ bulk: { supported: true } });
    expect(stderr).to.include('verdicts cached in');
    const cache = JSON.parse(readFileSync(path, 'utf8')) as VerdictCache;
    expect(cache.spcHash).to.equal(spcHash(spc));
    expect(cache.verdicts['bulk.patch']!.verdict).to.equal('fails');
    const hit = await readVerdictCache(path, sb!.root, spc);
    expect(hit.state).to.equal('fresh');
  });

  it('is stale once the ServiceProviderConfig changes, and ignored when unreadable', async () => {
    const { path, spc } = await checkWith({ bulk: { supported: true } });
    const changed = { ...spc, bulk: { supported: false, maxOperations: 1000, maxPayloadSize: 1048576 } };
    const stale = await readVerdictCache(path, sb!.root, changed);
    expect(stale).to.deep.include({ state: 'stale' });
    expect((stale as { reason: string }).reason).to.include('ServiceProviderConfig changed');
    expect((await readVerdictCache(path, 'http://elsewhere/v2', spc)).state).to.equal('stale');
    writeFileSync(path, '{broken');
    expect((await readVerdictCache(path, sb!.root, spc)).state).to.equal('unreadable');
    expect((await readVerdictCache(join(dir, 'none.json'), sb!.root, spc)).state).to.equal('missing');
  });

  it('cachedDecisions says which cached verdict decides, and nothing from a stale cache', async () => {
    const { path, spc } = await checkWith({ bulk: { supported: true } });
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m) };
    expect(await cachedDecisions(path, sb!.root, spc, logger)).to.include({ bulkPatchEffective: false, dottedPatchEffective: true, lastModifiedFilterable: true, etagWorks: true, cacheFile: path });
    expect(lines.some((l) => l.includes('cached verdict from') && l.includes('bulk.patch fails'))).to.equal(true);
    lines.length = 0;
    expect(await cachedDecisions(path, sb!.root, { ...spc, etag: { supported: false } }, logger)).to.deep.equal({});
    expect(lines.join('\n')).to.include('verdict cache not used: the ServiceProviderConfig changed');
  });

  it('hashes the SPC independent of key order and meta', () => {
    expect(spcHash({ a: 1, b: { c: true, d: 2 }, meta: { lastModified: 'x' } })).to.equal(spcHash({ b: { d: 2, c: true }, a: 1 }));
    expect(spcHash({ a: 1 })).not.to.equal(spcHash({ a: 2 }));
  });
});
