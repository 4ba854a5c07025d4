/**
 * What a dialect changes in the sandbox, as data. Only RFC is served today;
 * Salesforce, Slack and CyberArk become new entries here (plus a hook or two
 * in the handlers) rather than branches spread through the server.
 */
import type { DialectName } from './types.js';

export interface DialectProfile {
  name: DialectName;
  /** Discovery paths served: the RFC singular, the plural some vendors use, or both. */
  serviceProviderConfigPaths: readonly string[];
  /** Default filter.maxResults (count cap). */
  maxResults: number;
  /** Page size when the client names no count. */
  defaultCount: number;
  sort: boolean;
  /** `status` in error bodies: a string (RFC) or a number (some vendors). */
  numericErrorStatus: boolean;
  /** DELETE /Users/{id} deactivates instead of removing (Salesforce, Slack). */
  deleteDeactivatesUsers: boolean;
  /** Extra schema URNs column paths may use. */
  extensionSchemas: readonly string[];
}

export const DIALECTS: Record<DialectName, DialectProfile> = {
  RFC: {
    name: 'RFC',
    serviceProviderConfigPaths: ['ServiceProviderConfig', 'ServiceProviderConfigs'],
    maxResults: 1000,
    defaultCount: 100,
    sort: true,
    numericErrorStatus: false,
    deleteDeactivatesUsers: false,
    extensionSchemas: ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
  },
};

export const DIALECT_NAMES = Object.keys(DIALECTS) as DialectName[];
