/**
 * The fulfill settings the server decides or caps: Bulk on/off, operations
 * and bytes per Bulk request, If-Match, and what a fresh verdict cache
 * (`scim-etl check`) already settled (Bulk PATCH ignored). One log line per
 * setting under --verbose says its value and where it came from.
 */
import type { FulfillConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { CachedDecisions } from '../discovery/verdict-cache.js';
import { bulkSetting, describeSetting, ifMatchSetting, maxOperationsSetting, maxPayloadSetting, type BulkFacts, type Setting } from '../scim/server-defaults.js';

export interface FulfillServerSettings {
  bulk: boolean;
  maxOperations: number;
  maxPayloadSize: number;
  ifMatch: boolean;
  /** The cache says the server ignores PATCH inside /Bulk: PATCH goes singly from the first batch. */
  singlePatch: boolean;
  /** The cache says dotted PATCH paths are ignored: updates send complex values from the first request. */
  complexPatch: boolean;
}

/**
 * Smallest Bulk payload planned for: the batcher keeps 128 bytes for the
 * envelope, so at this size every operation goes alone, which is all a
 * server advertising less can take.
 */
const MIN_BULK_PAYLOAD = 129;

export function fulfillServerSettings(
  cfg: Pick<FulfillConfig, 'serviceSupportBulk' | 'bulkMaxOperation' | 'setInPipeline' | 'ifMatch'>,
  server: { bulk: BulkFacts; etag: boolean },
  cached: CachedDecisions & { cacheFile?: string },
  logger: Logger,
): FulfillServerSettings {
  const set = new Set(cfg.setInPipeline ?? []);
  const say = (name: string, s: Setting<unknown>) => {
    if (s.warning) logger.warn(s.warning);
    logger.debug(`fulfill setting: ${describeSetting(name, s)}`);
  };
  const bulk = bulkSetting(server.bulk, cfg.serviceSupportBulk, set.has('serviceSupportBulk'));
  say('serviceSupportBulk', bulk);
  const ops = maxOperationsSetting(server.bulk, cfg.bulkMaxOperation, set.has('bulkMaxOperation'));
  const payload = maxPayloadSetting(server.bulk);
  if (bulk.value) {
    say('bulkMaxOperation', ops);
    say('bulk maxPayloadSize', payload);
  }
  if (payload.value < MIN_BULK_PAYLOAD) {
    logger.warn(`the server advertises a Bulk maxPayloadSize of ${payload.value} bytes, too small for any batch: sending one operation per Bulk request (the server may still refuse them)`);
    payload.value = MIN_BULK_PAYLOAD;
  }
  const ifMatch = ifMatchSetting(Boolean(cfg.ifMatch), server.etag, cached.etagWorks);
  if (cfg.ifMatch) say('ifMatch', ifMatch);
  // RFC 7644 Bulk operations carry a `version` field few servers honour: If-Match is a single-request feature here.
  if (ifMatch.value && bulk.value) logger.warn('fulfill.ifMatch applies to single requests: operations inside /Bulk are sent without a version');
  const singlePatch = bulk.value && cached.bulkPatchEffective === false;
  if (singlePatch) logger.debug(`fulfill setting: PATCH sent as single requests, not in /Bulk (cached verdict from ${cached.cacheFile}: bulk.patch fails)`);
  const complexPatch = cached.dottedPatchEffective === false;
  if (complexPatch) logger.debug(`fulfill setting: updates send sub-attributes as complex values (path name, value {givenName}) (cached verdict from ${cached.cacheFile}: patch.dotted fails)`);
  return { bulk: bulk.value, maxOperations: ops.value, maxPayloadSize: payload.value, ifMatch: ifMatch.value, singlePatch, complexPatch };
}
