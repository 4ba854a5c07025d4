/**
 * Reads the three discovery documents (RFC 7644 §4): ServiceProviderConfig
 * (singular, else the plural some vendors serve), ResourceTypes, Schemas.
 * Each may be missing: that is recorded with the reason and the others are
 * still read. Refused credentials and transport failures end the run: every
 * later request would meet them too.
 */
import { isScimEtlError } from '../errors.js';
import { SPC_PATHS } from '../scim/root.js';
import { parseSchemasResponse, type SchemaDefinition } from '../scim/schemas.js';
import type { ScimClient } from '../scim/client.js';

/** One document: what the server answered, or why there is nothing. */
export type Found<T> = { found: true; path: string; value: T } | { found: false; reason: string };

export interface ResourceTypeInfo {
  name: string;
  /** As the server spells it, without the leading slash: Users, Groups, Containers… */
  endpoint: string;
  schema: string;
  extensions: string[];
}

export interface DiscoveryDocuments {
  /** The SCIM root the client settled on. */
  root: string;
  spc: Found<Record<string, unknown>>;
  resourceTypes: Found<ResourceTypeInfo[]>;
  schemas: Found<SchemaDefinition[]>;
}

type Requester = Pick<ScimClient, 'request' | 'base'> & Partial<Pick<ScimClient, 'serviceProviderConfig'>>;

export async function readDiscovery(client: Requester, signal?: AbortSignal): Promise<DiscoveryDocuments> {
  const spc = await readSpc(client, signal);
  const resourceTypes = await readDocument(client, 'ResourceTypes', parseResourceTypes, signal);
  const schemas = await readDocument(client, 'Schemas', (b) => {
    const parsed = parseSchemasResponse(b);
    return parsed.length ? parsed : undefined;
  }, signal);
  return { root: client.base, spc, resourceTypes, schemas };
}

async function readSpc(client: Requester, signal?: AbortSignal): Promise<Found<Record<string, unknown>>> {
  const reasons: string[] = [];
  for (const path of SPC_PATHS) {
    const r = await readDocument(client, path, (b) => (isObject(b) ? b : undefined), signal);
    if (r.found) return r;
    reasons.push(r.reason);
  }
  return { found: false, reason: reasons.join('; ') };
}

async function readDocument<T>(client: Requester, path: string, parse: (body: unknown) => T | undefined, signal?: AbortSignal): Promise<Found<T>> {
  try {
    const res = await client.request({ path, signal, retry: false });
    const value = parse(res.body);
    if (value === undefined) return { found: false, reason: `/${path} answered ${res.status} without a usable document` };
    return { found: true, path, value };
  } catch (err) {
    if (signal?.aborted) throw err;
    if (!isScimEtlError(err) || err.category === 'auth' || err.category === 'transport') throw err;
    const status = (err as { status?: number }).status;
    return { found: false, reason: `/${path} answered ${status ?? err.code}` };
  }
}

/** ResourceTypes as a ListResponse or a plain array; entries without an endpoint are dropped. */
export function parseResourceTypes(body: unknown): ResourceTypeInfo[] | undefined {
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.Resources) ? body.Resources : undefined;
  if (!list) return undefined;
  const out: ResourceTypeInfo[] = [];
  for (const item of list) {
    if (!isObject(item) || typeof item.endpoint !== 'string') continue;
    const endpoint = item.endpoint.replace(/^.*\//, '');
    if (!endpoint) continue;
    const exts = Array.isArray(item.schemaExtensions) ? item.schemaExtensions : [];
    out.push({
      name: typeof item.name === 'string' ? item.name : endpoint,
      endpoint,
      schema: typeof item.schema === 'string' ? item.schema : '',
      extensions: exts.map((e) => (isObject(e) && typeof e.schema === 'string' ? e.schema : undefined)).filter((s): s is string => s !== undefined),
    });
  }
  return out.length ? out : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
