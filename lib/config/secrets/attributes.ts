/**
 * The connection attributes a secret store may hold (the seed's table) and
 * how a stored value lands in the pipeline.
 */
import { ScimEtlError } from '../../errors.js';
import type { Pipeline } from '../types.js';

export const SECRET_ATTRIBUTES = [
  'ApplicationId',
  'ApplicationKey',
  'BulkMaxOperation',
  'Login',
  'Password',
  'ServiceSupportBulk',
  'Server',
  'OAuthToken',
  'OAuth2Url',
] as const;

export type SecretAttribute = (typeof SECRET_ATTRIBUTES)[number];

/** What Azure Key Vault is asked for: the seed's table plus OAuthToken. */
export const KEY_VAULT_ATTRIBUTES: readonly SecretAttribute[] = SECRET_ATTRIBUTES.filter((a) => a !== 'OAuth2Url');
export type SecretValues = Partial<Record<SecretAttribute, string>>;

/** Attribute names are matched case-insensitively, as the pipeline keys are. */
export function secretAttribute(name: string): SecretAttribute | undefined {
  return SECRET_ATTRIBUTES.find((a) => a.toLowerCase() === name.toLowerCase());
}

/** Attributes whose value is a credential (registered for redaction). Login and ApplicationId are names, not secrets. */
export const CREDENTIAL_ATTRIBUTES: readonly SecretAttribute[] = ['ApplicationKey', 'Password', 'OAuthToken'];

/** Put store values over the pipeline's (a new Pipeline; the input is not changed). */
export function applySecretValues(pipeline: Pipeline, values: SecretValues, source: string): Pipeline {
  const connection = { ...pipeline.connection };
  const fulfill = pipeline.fulfill ? { ...pipeline.fulfill } : undefined;
  for (const [attr, raw] of Object.entries(values) as Array<[SecretAttribute, string | undefined]>) {
    if (raw === undefined) continue;
    const value = attr === 'Server' || attr === 'OAuth2Url' ? raw.trim().replace(/\/+$/, '') : raw;
    switch (attr) {
      case 'ApplicationId': connection.applicationId = value; break;
      case 'ApplicationKey': connection.applicationKey = value; break;
      case 'Login': connection.login = value; break;
      case 'Password': connection.password = value; break;
      case 'OAuthToken': connection.oAuthToken = value; break;
      case 'Server': connection.server = value; break;
      case 'OAuth2Url': connection.oAuth2Url = value; break;
      case 'BulkMaxOperation': {
        const n = Number(value.trim());
        if (!Number.isInteger(n) || n < 1) {
          throw new ScimEtlError('ERR_SECRETS_VALUE', `${source}: BulkMaxOperation must be a positive integer, got ${JSON.stringify(value)}`, { source, attribute: attr }, { category: 'config' });
        }
        if (fulfill) fulfill.bulkMaxOperation = n;
        break;
      }
      case 'ServiceSupportBulk': {
        const v = value.trim().toLowerCase();
        if (v !== 'true' && v !== 'false') {
          throw new ScimEtlError('ERR_SECRETS_VALUE', `${source}: ServiceSupportBulk must be true or false, got ${JSON.stringify(value)}`, { source, attribute: attr }, { category: 'config' });
        }
        if (fulfill) fulfill.serviceSupportBulk = v === 'true';
        break;
      }
    }
  }
  return { ...pipeline, connection, ...(fulfill ? { fulfill } : {}) };
}
