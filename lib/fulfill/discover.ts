/**
 * What fulfill needs to know about the server before planning: PATCH, ETags,
 * Bulk limits (ServiceProviderConfig) and the schemas that order columns are
 * checked against (/Schemas, else the built-in RFC 7643 definitions).
 */
import { getAttr } from '../scim/filter.js';
import { isScimHttpError } from '../scim/errors.js';
import { BUILTIN_SCHEMAS, parseSchemasResponse, type SchemaDefinition } from '../scim/schemas.js';
import type { Logger } from '../log.js';
import { isFatal } from './execute.js';
import type { ScimRequester } from './types.js';

export interface ServerCapabilities {
  /** False only when the server says so. */
  patch: boolean;
  etag: boolean;
  bulk: { supported?: boolean; maxOperations?: number; maxPayloadSize?: number };
  schemas: readonly SchemaDefinition[];
  /** Where the schemas came from, for the log. */
  schemaSource: 'server' | 'builtin';
  /** The SPC body as read (what the verdict cache is keyed by); absent when the server serves none. */
  spc?: unknown;
}

/** Without a server (dry run) or when discovery fails: assume PATCH, no ETags, the built-in schemas. */
export function defaultCapabilities(): ServerCapabilities {
  return { patch: true, etag: false, bulk: {}, schemas: BUILTIN_SCHEMAS, schemaSource: 'builtin' };
}

export async function discoverCapabilities(client: ScimRequester, logger?: Logger, signal?: AbortSignal): Promise<ServerCapabilities> {
  const caps = defaultCapabilities();
  const spc = await firstFound(client, ['ServiceProviderConfig', 'ServiceProviderConfigs'], logger, signal);
  if (spc !== undefined) {
    caps.spc = spc;
    const supported = (name: string) => getAttr(getAttr(spc, name), 'supported');
    if (supported('patch') === false) caps.patch = false;
    caps.etag = supported('etag') === true;
    const bulk = getAttr(spc, 'bulk');
    const num = (v: unknown) => (typeof v === 'number' && v > 0 ? v : typeof v === 'string' && Number(v) > 0 ? Number(v) : undefined);
    const b = { supported: getAttr(bulk, 'supported'), maxOperations: num(getAttr(bulk, 'maxOperations')), maxPayloadSize: num(getAttr(bulk, 'maxPayloadSize')) };
    if (typeof b.supported === 'boolean') caps.bulk.supported = b.supported;
    if (b.maxOperations) caps.bulk.maxOperations = b.maxOperations;
    if (b.maxPayloadSize) caps.bulk.maxPayloadSize = b.maxPayloadSize;
  }
  const schemas = await firstFound(client, ['Schemas'], logger, signal);
  const parsed = schemas === undefined ? [] : parseSchemasResponse(schemas);
  if (parsed.length > 0) {
    caps.schemas = parsed;
    caps.schemaSource = 'server';
  }
  return caps;
}

/** GETs the first path the server serves; undefined when none does (a warning, not a failure). */
async function firstFound(client: ScimRequester, paths: string[], logger?: Logger, signal?: AbortSignal): Promise<unknown> {
  for (const path of paths) {
    try {
      const res = await client.request({ method: 'GET', path, signal });
      return res.body;
    } catch (err) {
      if (isFatal(err)) throw err;
      if (isScimHttpError(err) && (err.status === 404 || err.status === 501)) continue;
      logger?.warn(`cannot read /${path}; assuming defaults`, { error: (err as Error).message });
      return undefined;
    }
  }
  return undefined;
}
