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
  /** Capability defaults (options override them). */
  defaults: { bulk: boolean; etag: boolean; patch: boolean };
  /** Groups can only be read and PATCHed (POST/PUT/DELETE → 405). */
  groupsPatchOnly: boolean;
  /** A member PATCH value must be wrapped: `{"members":[…]}` (Salesforce). */
  wrappedMemberValue: boolean;
  /** startIndex above this is a 400 asking for keyset paging (`id gt`). */
  maxStartIndex?: number;
  /**
   * An unfiltered list of this type stops at `max` resources (Salesforce: all
   * Entitlements, 200): a page ends there, and a startIndex past it is the
   * deep-paging 400, so that a client pages the rest by `id gt`.
   */
  listCap?: { type: string; max: number };
  /** Filtered lists come in id order, so that `id gt "<last>"` pages by keyset. */
  filteredById: boolean;
  /** `and` and `or` evaluated in the order written, no precedence (Salesforce). */
  leftToRightLogic: boolean;
  /** Also serve /X and /scim/X, /scim/v2/X besides /v2/X (CyberArk). */
  pathsWithoutV2: boolean;
  /** List replies carry totalResults and Resources only (no itemsPerPage, startIndex). */
  omitListPagingFields: boolean;
  /**
   * Data-file resource types that take writes, and how: `idFrom` names the
   * attribute that becomes the id on POST (CyberArk safes: `name`); `patch` false → 405.
   */
  writableTypes: Readonly<Record<string, { idFrom?: string; patch: boolean }>>;
  /** A data-file type whose members follow a user attribute (Salesforce Entitlements ← users' `entitlements`). */
  linkedMembers?: { type: string; attr: string };
  /** Resource types served even when the data file has none of them: endpoint → resource type name. */
  extraTypes: Readonly<Record<string, string>>;
  /** Token endpoint at /oauth2/token/<clientId>, the client authenticated by Basic login:password (CyberArk Identity). */
  tokenPathWithClientId: boolean;
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
  defaults: { bulk: true, etag: true, patch: true },
  groupsPatchOnly: false,
  wrappedMemberValue: false,
  filteredById: false,
  leftToRightLogic: false,
  pathsWithoutV2: false,
  omitListPagingFields: false,
  writableTypes: {},
  extraTypes: {},
  tokenPathWithClientId: false,
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

// Slack: DIALECTS.md. count capped at 1000, default page 10, DELETE /Users deactivates,
// no meta.lastModified, plural discovery path, guest extension, Slack error bodies, Bearer only.
const SLACK: DialectProfile = {
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
};

// Salesforce: DIALECTS.md. Entitlements and Roles are served read-only; listing all Entitlements stops at 200.
const SALESFORCE: DialectProfile = {
  ...RFC,
  name: 'Salesforce',
  serviceProviderConfigPaths: ['ServiceProviderConfigs'],
  maxResults: 200,
  sort: false,
  deleteDeactivatesUsers: true,
  defaults: { bulk: false, etag: false, patch: true },
  groupsPatchOnly: true,
  wrappedMemberValue: true,
  maxStartIndex: 2000,
  filteredById: true,
  leftToRightLogic: true,
  extraTypes: { Entitlements: 'Entitlement', Roles: 'Role' },
  linkedMembers: { type: 'Entitlements', attr: 'entitlements' },
  listCap: { type: 'Entitlements', max: 200 },
};

export const CYBERARK_USER = 'urn:ietf:params:scim:schemas:cyberark:1.0:User';
export const CYBERARK_SAFE = 'urn:ietf:params:scim:schemas:cyberark:1.0:Safe';
export const CYBERARK_PRIVILEGED_DATA = 'urn:ietf:params:scim:schemas:cyberark:1.0:PrivilegedData';

// CyberArk: DIALECTS.md. Containers (safes, id = name, no PATCH), PrivilegedData and
// ContainerPermissions come from the data file; /scim/X and /scim/v2/X both work.
const CYBERARK: DialectProfile = {
  ...RFC,
  name: 'CyberArk',
  maxResults: 1000,
  sort: false,
  defaults: { bulk: false, etag: true, patch: true },
  userExtensions: [ENTERPRISE, CYBERARK_USER],
  pathsWithoutV2: true,
  omitListPagingFields: true,
  writableTypes: { Containers: { idFrom: 'name', patch: false } },
  extraTypes: { Containers: 'Container', ContainerPermissions: 'ContainerPermission', PrivilegedData: 'PrivilegedData' },
  tokenPathWithClientId: true,
};

export const DIALECTS: Record<DialectName, DialectProfile> = { RFC, Slack: SLACK, Salesforce: SALESFORCE, CyberArk: CYBERARK };

export const DIALECT_NAMES = Object.keys(DIALECTS) as DialectName[];

/** The dialect named, in any case (`salesforce`, `RFC`), or undefined. */
export function dialectName(text: unknown): DialectName | undefined {
  return typeof text === 'string' ? DIALECT_NAMES.find((n) => n.toLowerCase() === text.trim().toLowerCase()) : undefined;
}
