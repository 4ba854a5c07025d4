/**
 * The verdict cache as a run reads it: the file for this pipeline, the root
 * the client talks to and the SPC the server serves now. No cache, another
 * root or a changed SPC: no decisions (the run discovers as it goes).
 */
import type { Logger } from '../log.js';
import type { ScimClient } from '../scim/client.js';
import { cachedDecisions, verdictCacheFor, type CachedDecisions } from './verdict-cache.js';

type Keys = Exclude<keyof CachedDecisions, 'cacheFile'>;

export async function cachedDecisionsFor(
  pipe: Parameters<typeof verdictCacheFor>[0],
  client: Partial<Pick<ScimClient, 'base' | 'serviceProviderConfig'>>,
  spc: unknown,
  logger: Logger,
  only?: readonly Keys[],
  signal?: AbortSignal,
): Promise<CachedDecisions> {
  const file = verdictCacheFor(pipe);
  if (!file || typeof client.base !== 'string') return {};
  // The same SPC body `check` hashed: the client's (cached) read at its root.
  const current = client.serviceProviderConfig ? await client.serviceProviderConfig(signal).catch(() => spc) : spc;
  return cachedDecisions(file, client.base, current ?? spc, logger, only);
}

/**
 * The projection step a table starts from, given what `check` found: a
 * server that drops sub-attributes or extension values named in
 * `attributes=` gets `excludedAttributes=` from the first request (the probe
 * still checks that step). Undefined: start at the top.
 */
export function projectionStart(d: CachedDecisions, columns: ReadonlyArray<{ schema?: string; sub?: string }>): { mode: 'excluded'; why: string } | undefined {
  if (d.extensionProjection === false && columns.some((c) => c.schema !== undefined)) return { mode: 'excluded', why: 'projection.extension fails' };
  if (d.subAttributeProjection === false && columns.some((c) => c.sub !== undefined)) return { mode: 'excluded', why: 'projection.subAttribute fails' };
  return undefined;
}
