/** Validated-model fixtures for tests that build a Pipeline without a YAML file. */
import type { ConnectionConfig, FulfillConfig, Pipeline } from '../../lib/config/types.js';

/** A connection with the loader's defaults, no retries and short timeouts; `over` wins. */
export function testConnection(over: Partial<ConnectionConfig> = {}): ConnectionConfig {
  return {
    identifier: 'T',
    server: 'http://127.0.0.1:1',
    scimSyntax: 'RFC',
    pageSize: 200,
    concurrency: 1,
    insecure: false,
    timeoutMs: 1000,
    retry: { limit: 0, maxRetryAfterMs: 0, backoffMs: 0 },
    secrets: {},
    ...over,
  };
}

/** The fulfill section with the loader's defaults; `over` wins. */
export function testFulfill(over: Partial<FulfillConfig> = {}): FulfillConfig {
  return {
    orders: ['orders'],
    results: 'results',
    serviceSupportBulk: false,
    bulkMaxOperation: 100,
    concurrency: 1,
    maxMembersPerPatch: 1000,
    onConflict: 'fail',
    nullMarker: '#null',
    ...over,
  };
}

/** A fulfill pipeline whose file sits in `dir`. */
export function testFulfillPipeline(dir: string, connection: Partial<ConnectionConfig> = {}, fulfill: Partial<FulfillConfig> = {}): Pipeline {
  return { version: 1, file: `${dir}/p.yaml`, connection: testConnection(connection), fulfill: testFulfill(fulfill) };
}
