/**
 * What a dialect changes in the sandbox, as data. The handlers read these
 * fields; a new dialect is a new entry here (plus, for new resource types,
 * a route), not branches spread through the server.
 */
import type { SchemaDefinition } from '../scim/schemas.js';
import type { DialectName } from './types.js';

export type ErrorStyle =
  /** RFC 7644 §3.12: `status` as a string. */
  | 'rfc'
  /** SCIM error with a numeric `status`, as some vendors send it. */
  | 'rfc-numeric'
  /** Slack's `{"Errors":{"description":"…","code":400}}`. */
  | 'slack';

export interface DialectProfile {
  name: DialectName;
  /** Discovery paths served: the RFC singular, the plural some vendors use, or both. */
  serviceProviderConfigPaths: readonly string[];
  /** Default filter.maxResults (count cap). */
  maxResults: number;
  /** Page size when the client names no count. */
  defaultCount: number;
  sort: boolean;
  errorStyle: ErrorStyle;
  /** DELETE /Users/{id} deactivates (active:false) instead of removing (Salesforce, Slack). */
  deleteDeactivatesUsers: boolean;
  /** meta.lastModified kept and filterable; false: absent, and filtering on it is 400 (Slack). */
  lastModified: boolean;
  /** Only Bearer tokens (no Basic). */
  bearerOnly: boolean;
  /** Extension schema URNs of users (served at /Schemas and accepted in paths). */
  userExtensions: readonly string[];
  /** Definitions of dialect-only schemas, served at /Schemas. */
  extraSchemas: readonly SchemaDefinition[];
}

export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SLACK_GUEST = 'urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User';

const RFC: DialectProfile = {
  name: 'RFC',
  serviceProviderConfigPaths: ['ServiceProviderConfig', 'ServiceProviderConfigs'],
  maxResults: 1000,
  defaultCount: 100,
  sort: true,
  errorStyle: 'rfc',
  deleteDeactivatesUsers: false,
  lastModified: true,
  bearerOnly: false,
  userExtensions: [ENTERPRISE],
  extraSchemas: [],
};

const SLACK_GUEST_SCHEMA: SchemaDefinition = {
  id: SLACK_GUEST,
  name: 'Slack Guest',
  description: 'Multi-channel and single-channel guests',
  attributes: [
    { name: 'type', type: 'string', multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', canonicalValues: ['multi', 'single'] },
    { name: 'expiration', type: 'dateTime', multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none' },
  ],
};

export const DIALECTS: Record<DialectName, DialectProfile> = {
  RFC,
  // DIALECTS.md: count capped at 1000, default page 10, DELETE /Users deactivates,
  // no meta.lastModified, plural discovery path, guest extension, Slack error bodies, Bearer only.
  Slack: {
    ...RFC,
    name: 'Slack',
    serviceProviderConfigPaths: ['ServiceProviderConfigs'],
    maxResults: 1000,
    defaultCount: 10,
    errorStyle: 'slack',
    deleteDeactivatesUsers: true,
    lastModified: false,
    bearerOnly: true,
    userExtensions: [ENTERPRISE, SLACK_GUEST],
    extraSchemas: [SLACK_GUEST_SCHEMA],
  },
};

export const DIALECT_NAMES = Object.keys(DIALECTS) as DialectName[];
