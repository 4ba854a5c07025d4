/**
 * The verdict cache `<output>/<identifier>.server.json`: what `check` found,
 * keyed by the SCIM root and a hash of the server's ServiceProviderConfig.
 * A reader gets the verdicts only while both still match: a server that
 * changed its SPC (upgraded, reconfigured) is checked again, not trusted on
 * old findings. Written through the one atomic committer.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { atomicFile } from '../streams/sinks/atomic-file.js';
import type { CheckReport, ProbeResult, Verdict } from './check.js';

export const VERDICT_CACHE_VERSION = 1;

export interface VerdictCache {
  version: typeof VERDICT_CACHE_VERSION;
  root: string;
  /** sha256 of the SPC in canonical JSON (keys sorted); `none` when the server serves none. */
  spcHash: string;
  checkedAt: string;
  write: boolean;
  verdicts: Record<string, { verdict: Verdict; detail: string; workaround?: string }>;
}

export function verdictCachePath(output: string, identifier: string): string {
  return join(output, `${identifier}.server.json`);
}

/** Key order does not change the hash: servers serialise objects in any order. */
export function spcHash(spc: unknown): string {
  if (spc === undefined) return 'none';
  return createHash('sha256').update(canonical(spc)).digest('hex');
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // meta changes with every read on some servers (lastModified, location host): not a capability.
    return `{${Object.keys(o).filter((k) => k !== 'meta').sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function toCache(report: CheckReport, spc: unknown, now = new Date()): VerdictCache {
  const verdicts: VerdictCache['verdicts'] = {};
  for (const r of report.results) verdicts[r.probe] = { verdict: r.verdict, detail: r.detail, ...(r.workaround ? { workaround: r.workaround } : {}) };
  return { version: VERDICT_CACHE_VERSION, root: report.root, spcHash: spcHash(spc), checkedAt: now.toISOString(), write: report.write, verdicts };
}

export async function writeVerdictCache(file: string, cache: VerdictCache): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  await pipeline(Readable.from([JSON.stringify(cache, null, 2) + '\n']), atomicFile(file));
}

export type CacheLookup = { state: 'fresh'; cache: VerdictCache } | { state: 'missing' | 'stale' | 'unreadable'; reason: string };

/**
 * The cached verdicts for this root and SPC, or why there are none. A cache
 * that cannot be read is ignored (the caller discovers at run time), never an
 * error: it is an optimisation, not configuration.
 */
export async function readVerdictCache(file: string, root: string, spc: unknown): Promise<CacheLookup> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { state: 'missing', reason: `no ${file}` };
  }
  let cache: VerdictCache;
  try {
    cache = JSON.parse(text) as VerdictCache;
  } catch {
    return { state: 'unreadable', reason: `${file} is not JSON` };
  }
  if (cache?.version !== VERDICT_CACHE_VERSION || typeof cache.verdicts !== 'object' || cache.verdicts === null) return { state: 'unreadable', reason: `${file} is not a version ${VERDICT_CACHE_VERSION} verdict cache` };
  if (cache.root !== root) return { state: 'stale', reason: `${file} was written for ${cache.root}, not ${root}` };
  if (cache.spcHash !== spcHash(spc)) return { state: 'stale', reason: `the ServiceProviderConfig changed since ${cache.checkedAt}` };
  return { state: 'fresh', cache };
}

/** One cached verdict, for a caller deciding a workaround (undefined when the probe did not run). */
export function cachedVerdict(cache: VerdictCache, probe: string): ProbeResult | undefined {
  const v = cache.verdicts[probe];
  return v ? { probe, ...v } : undefined;
}

/** What a fresh cache decides for a run; each field is set only where a probe settled it. */
export interface CachedDecisions {
  /** bulk.patch failed: send PATCH as single requests from the first order. */
  bulkPatchEffective?: boolean;
  /** patch.dotted failed: send complex values from the start. */
  dottedPatchEffective?: boolean;
  /** filter.lastModified failed: incremental export cannot see changes. */
  lastModifiedFilterable?: boolean;
  /** etag failed: the server advertises ETags but serves no versions, so no If-Match is sent. */
  etagWorks?: boolean;
  /** projection.subAttribute / projection.extension: the export's projection probe can start from what check saw. */
  subAttributeProjection?: boolean;
  extensionProjection?: boolean;
  /** The cache file the decisions came from (for the log lines of the callers). */
  cacheFile?: string;
}

/** Where `check` writes and export / fulfill read the verdicts: beside the export's files, else the fulfill results. */
export function verdictCacheFor(pipeline: { connection: { identifier: string }; export?: { output: string }; fulfill?: { results: string } }): string | undefined {
  const dir = pipeline.export?.output ?? pipeline.fulfill?.results;
  return dir === undefined ? undefined : verdictCachePath(dir, pipeline.connection.identifier);
}

const decisions: Array<[string, Exclude<keyof CachedDecisions, 'cacheFile'>, string]> = [
  ['bulk.patch', 'bulkPatchEffective', 'Bulk PATCH effective'],
  ['patch.dotted', 'dottedPatchEffective', 'dotted PATCH paths effective'],
  ['filter.lastModified', 'lastModifiedFilterable', 'meta.lastModified filterable'],
  ['etag', 'etagWorks', 'resource versions for If-Match'],
  ['projection.subAttribute', 'subAttributeProjection', 'attributes= with sub-attributes honoured'],
  ['projection.extension', 'extensionProjection', 'attributes= with extension URNs honoured'],
];

/**
 * The one call export and fulfill make: reads the cache for this run's root
 * and SPC and says (under --verbose) which cached verdict decides what, or
 * why no cached verdict applies.
 */
export async function cachedDecisions(
  file: string,
  root: string,
  spc: unknown,
  logger: { debug(msg: string): void },
  only?: ReadonlyArray<Exclude<keyof CachedDecisions, 'cacheFile'>>,
): Promise<CachedDecisions> {
  const lookup = await readVerdictCache(file, root, spc);
  if (lookup.state !== 'fresh') {
    logger.debug(`verdict cache not used: ${lookup.reason}`);
    return {};
  }
  const out: CachedDecisions = { cacheFile: file };
  const decide = (probe: string, key: Exclude<keyof CachedDecisions, 'cacheFile'>, what: string) => {
    const v = cachedVerdict(lookup.cache, probe);
    if (!v || v.verdict === 'unknown') return;
    out[key] = v.verdict === 'works';
    logger.debug(`cached verdict from ${file} (checked ${lookup.cache.checkedAt}) decides: ${probe} ${v.verdict} → ${what}: ${out[key]}`);
  };
  for (const [probe, key, what] of decisions) if (!only || only.includes(key)) decide(probe, key, what);
  return out;
}
