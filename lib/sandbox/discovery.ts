/** The discovery documents: /ServiceProviderConfig, /ResourceTypes, /Schemas (RFC 7643 §5–7). */
import {
  BUILTIN_SCHEMAS,
  GROUP_SCHEMA,
  USER_SCHEMA,
  toScimSchemaResource,
} from '../scim/schemas.js';
import type { NormalizedOptions } from './options.js';

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';

export function serviceProviderConfig(o: NormalizedOptions, root: string): Record<string, unknown> {
  const schemes: Record<string, unknown>[] = [];
  if (o.token !== undefined) schemes.push({ type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'Authentication with a bearer token', primary: true });
  if (o.oauth) schemes.push({ type: 'oauth2', name: 'OAuth 2.0', description: 'Client credentials or password grant at /oauth2/token', specUri: 'https://www.rfc-editor.org/rfc/rfc6749', primary: schemes.length === 0 });
  if (o.basic) schemes.push({ type: 'httpbasic', name: 'HTTP Basic', description: 'Authentication with login and password', primary: schemes.length === 0 });
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: 'https://github.com/scim-etl/scim-etl#sandbox',
    patch: { supported: o.patch },
    bulk: { supported: o.bulk.supported, maxOperations: o.bulk.maxOperations, maxPayloadSize: o.bulk.maxPayloadSize },
    filter: { supported: true, maxResults: o.maxResults },
    changePassword: { supported: false },
    sort: { supported: o.profile.sort },
    etag: { supported: o.etag },
    pagination: {
      cursor: o.cursor !== undefined,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: o.defaultCount,
      maxPageSize: o.maxResults,
      ...(o.cursor ? { cursorTimeout: o.cursor.timeoutSeconds } : {}),
    },
    authenticationSchemes: schemes,
    meta: { resourceType: 'ServiceProviderConfig', location: `${root}/ServiceProviderConfig` },
  };
}

export function resourceTypes(o: NormalizedOptions, root: string, extra: Array<{ endpoint: string; name: string; schema: string }> = []): Record<string, unknown>[] {
  return [
    {
      schemas: [RT_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA,
      schemaExtensions: o.profile.userExtensions.map((schema) => ({ schema, required: false })),
      meta: { resourceType: 'ResourceType', location: `${root}/ResourceTypes/User` },
    },
    {
      schemas: [RT_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${root}/ResourceTypes/Group` },
    },
    ...extra.map((t) => ({
      schemas: [RT_SCHEMA],
      id: t.name,
      name: t.name,
      endpoint: `/${t.endpoint}`,
      description: t.name,
      schema: t.schema,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${root}/ResourceTypes/${t.name}` },
    })),
  ];
}

export function schemas(o: NormalizedOptions, root: string): Record<string, unknown>[] {
  return [...BUILTIN_SCHEMAS, ...o.profile.extraSchemas].map((d) => toScimSchemaResource(d, root));
}

export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export function listOf(resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_SCHEMA], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}
