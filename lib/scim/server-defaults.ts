/**
 * Server-driven defaults: settings the pipeline may leave out, taken from
 * what the server advertises in its ServiceProviderConfig (page size within
 * filter.maxResults / pagination.maxPageSize, Bulk limits, ETags), and capped
 * by it when the pipeline asks for more than the server allows. Each setting
 * says where its value came from, so that --verbose can name it:
 * `page size 50 (server SPC: filter.maxResults 50)`.
 *
 * Pure functions over the SPC body; the callers (export, fulfill) log.
 */
import { getAttr } from './filter.js';

export type SettingSource = 'pipeline' | 'server SPC' | 'dialect' | 'default' | 'verdict cache';

export interface Setting<T> {
  value: T;
  from: SettingSource;
  /** Why, in a few words (which SPC field, which pipeline key). */
  why: string;
  /** Set when the pipeline's value was overridden: the warning to show. */
  warning?: string;
}

/** The one log line per setting: `<name> <value> (<from>: <why>)`. */
export function describeSetting(name: string, s: Setting<unknown>): string {
  return `${name} ${String(s.value)} (${s.from}: ${s.why})`;
}

const positive = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
};

/** The smallest page cap the SPC states, and which field states it. */
export function advertisedPageCap(spc: unknown): { max: number; field: string } | undefined {
  const caps = [
    { max: positive(getAttr(getAttr(spc, 'filter'), 'maxResults')), field: 'filter.maxResults' },
    { max: positive(getAttr(getAttr(spc, 'pagination'), 'maxPageSize')), field: 'pagination.maxPageSize' },
  ].filter((c): c is { max: number; field: string } => c.max !== undefined);
  if (caps.length === 0) return undefined;
  return caps.reduce((a, b) => (b.max < a.max ? b : a));
}

/**
 * `count` per list request: the pipeline's connection.pageSize when it sets
 * one (capped, with a warning, by the server's limit), else the default 200
 * within the server's limit.
 */
export function pageSizeSetting(spc: unknown, pageSize: number, fromPipeline: boolean): Setting<number> {
  const cap = advertisedPageCap(spc);
  if (fromPipeline) {
    if (cap && pageSize > cap.max) {
      return { value: cap.max, from: 'server SPC', why: `${cap.field} ${cap.max}`, warning: `connection.pageSize ${pageSize} is more than the server's ${cap.field} ${cap.max}: asking for ${cap.max} per page` };
    }
    return { value: pageSize, from: 'pipeline', why: 'connection.pageSize' };
  }
  if (cap && cap.max < pageSize) return { value: cap.max, from: 'server SPC', why: `${cap.field} ${cap.max}` };
  return { value: pageSize, from: 'default', why: cap ? `within ${cap.field} ${cap.max}` : 'the server advertises no page limit' };
}

export interface BulkFacts {
  supported?: boolean;
  maxOperations?: number;
  maxPayloadSize?: number;
}

/** Bulk facts from an SPC body (only what the server stated). */
export function bulkFacts(spc: unknown): BulkFacts {
  const bulk = getAttr(spc, 'bulk');
  const supported = getAttr(bulk, 'supported');
  const out: BulkFacts = {};
  if (typeof supported === 'boolean') out.supported = supported;
  else if (typeof supported === 'string' && /^(true|false)$/i.test(supported)) out.supported = supported.toLowerCase() === 'true';
  const ops = positive(getAttr(bulk, 'maxOperations'));
  const size = positive(getAttr(bulk, 'maxPayloadSize'));
  if (ops !== undefined) out.maxOperations = ops;
  if (size !== undefined) out.maxPayloadSize = size;
  return out;
}

/**
 * Bulk on or off: only where the pipeline asks for it and the server does
 * not say it has none. (Bulk is never turned on by the server alone: a
 * run that sent single requests yesterday does not change shape because a
 * server started advertising Bulk.)
 */
export function bulkSetting(facts: BulkFacts, wanted: boolean, fromPipeline: boolean): Setting<boolean> {
  if (!wanted) return { value: false, from: fromPipeline ? 'pipeline' : 'default', why: 'fulfill.serviceSupportBulk' };
  if (facts.supported === false) {
    return { value: false, from: 'server SPC', why: 'bulk.supported false', warning: 'the server does not support Bulk: sending single requests' };
  }
  return { value: true, from: 'pipeline', why: facts.supported === true ? 'fulfill.serviceSupportBulk; bulk.supported true' : 'fulfill.serviceSupportBulk; the server does not say' };
}

/** Operations per Bulk request: the pipeline's (or the default 100), capped by bulk.maxOperations. */
export function maxOperationsSetting(facts: BulkFacts, configured: number, fromPipeline: boolean): Setting<number> {
  const max = facts.maxOperations;
  if (max !== undefined && configured > max) {
    const s: Setting<number> = { value: max, from: 'server SPC', why: `bulk.maxOperations ${max}` };
    if (fromPipeline) s.warning = `fulfill.bulkMaxOperation ${configured} is more than the server's bulk.maxOperations ${max}: sending at most ${max} operations per Bulk request`;
    return s;
  }
  return { value: configured, from: fromPipeline ? 'pipeline' : 'default', why: fromPipeline ? 'fulfill.bulkMaxOperation' : max !== undefined ? `within bulk.maxOperations ${max}` : 'the server advertises no bulk.maxOperations' };
}

/** 1 MiB when the server does not say: the size RFC 7644 examples use and most servers accept. */
export const DEFAULT_BULK_PAYLOAD = 1_048_576;

export function maxPayloadSetting(facts: BulkFacts): Setting<number> {
  if (facts.maxPayloadSize !== undefined) return { value: facts.maxPayloadSize, from: 'server SPC', why: 'bulk.maxPayloadSize' };
  return { value: DEFAULT_BULK_PAYLOAD, from: 'default', why: 'the server advertises no bulk.maxPayloadSize' };
}

/** If-Match on updates and deletes: asked for by the pipeline, and only where the server has ETags. */
export function ifMatchSetting(wanted: boolean, etagSupported: boolean, etagWorks: boolean | undefined): Setting<boolean> {
  if (!wanted) return { value: false, from: 'default', why: 'fulfill.ifMatch is off' };
  if (!etagSupported) return { value: false, from: 'server SPC', why: 'etag.supported is not true', warning: 'fulfill.ifMatch: the server does not advertise ETags (etag.supported): If-Match is not sent' };
  if (etagWorks === false) return { value: false, from: 'verdict cache', why: 'etag fails', warning: 'fulfill.ifMatch: scim-etl check found no resource versions on this server: If-Match is not sent' };
  return { value: true, from: 'pipeline', why: 'fulfill.ifMatch; etag.supported true' };
}

/**
 * The export's page size for this server: reads the SPC (the client's cached
 * copy) and logs the value and its source once. A server without a readable
 * SPC keeps the configured size.
 */
export async function exportPageSize(
  client: { serviceProviderConfig?(signal?: AbortSignal): Promise<Record<string, unknown> | undefined> },
  pageSize: number,
  fromPipeline: boolean,
  logger: { warn(m: string): void; debug(m: string): void },
  signal?: AbortSignal,
): Promise<number> {
  const spc = client.serviceProviderConfig ? await client.serviceProviderConfig(signal).catch(() => undefined) : undefined;
  const s = pageSizeSetting(spc, pageSize, fromPipeline);
  if (s.warning) logger.warn(s.warning);
  logger.debug(`export setting: ${describeSetting('page size', s)}`);
  return s.value;
}
