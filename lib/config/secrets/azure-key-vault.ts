/**
 * Azure Key Vault: a client-credentials token for https://vault.azure.net,
 * then one secret per attribute, named Connections--<identifier>--<Attribute>
 * (the seed's convention). A secret that is not there (404) keeps the
 * pipeline's value; a refusal or an unreachable vault stops the run.
 */
import { ScimEtlError } from '../../errors.js';
import { registerSecret, safeUrl } from '../../redact.js';
import { safeSnippet } from '../../scim/errors.js';
import type { SecretSources } from '../types.js';
import { KEY_VAULT_ATTRIBUTES, type SecretValues } from './attributes.js';
import { parseJson, storeRequest, type StoreHttp, type StoreReply } from './http.js';

export type AzureKeyVaultSettings = NonNullable<SecretSources['azureKeyVault']>;

export const AZURE_AUTHORITY = 'https://login.microsoftonline.com';
export const KEY_VAULT_SCOPE = 'https://vault.azure.net/.default';
export const KEY_VAULT_API_VERSION = '7.4';

export function keyVaultSecretName(identifier: string, attribute: string): string {
  return `Connections--${identifier}--${attribute}`;
}

function unreachable(what: string, reply: Extract<StoreReply, { ok: false }>, identifier: string): ScimEtlError {
  const timeout = reply.errorCode === 'ETIMEDOUT';
  return new ScimEtlError(
    'ERR_SECRETS_VAULT_UNREACHABLE',
    `connection ${identifier}: Azure Key Vault: ${what} ${timeout ? 'timed out' : 'is unreachable'} (${reply.message})`,
    { identifier, errorCode: reply.errorCode },
    { category: 'transport' },
  );
}

/** Azure's error shapes: {"error":{"code","message"}} (vault) and {"error","error_description"} (Entra ID). */
function azureError(text: string | undefined): string {
  const body = parseJson(text);
  const e = body?.error;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return safeSnippet([o.code, o.message].filter((x) => typeof x === 'string').join(': '));
  }
  if (typeof e === 'string') return safeSnippet([e, body?.error_description].filter((x) => typeof x === 'string').join(': '));
  return text ? safeSnippet(text) : '';
}

async function vaultToken(cfg: AzureKeyVaultSettings, identifier: string, http: StoreHttp): Promise<string> {
  registerSecret(cfg.clientSecret);
  const authority = (cfg.authorityHost ?? AZURE_AUTHORITY).replace(/\/+$/, '');
  const url = `${authority}/${encodeURIComponent(cfg.tenantId)}/oauth2/v2.0/token`;
  const reply = await storeRequest(http, url, {
    method: 'POST',
    form: { grant_type: 'client_credentials', client_id: cfg.clientId, client_secret: cfg.clientSecret, scope: KEY_VAULT_SCOPE },
  });
  if (!reply.ok) {
    if (reply.status === undefined) throw unreachable(`the token endpoint ${safeUrl(url)}`, reply, identifier);
    throw new ScimEtlError(
      'ERR_SECRETS_VAULT_FORBIDDEN',
      `connection ${identifier}: Azure Key Vault: ${new URL(url).host} refused the identity (tenantId, clientId, clientSecret) with HTTP ${reply.status}: ${azureError(reply.text)}`,
      { identifier, status: reply.status },
      { category: 'auth' },
    );
  }
  const token = parseJson(reply.text)?.access_token;
  if (typeof token !== 'string' || !token) {
    throw new ScimEtlError('ERR_SECRETS_VAULT_FORBIDDEN', `connection ${identifier}: Azure Key Vault: the token reply has no access_token`, { identifier }, { category: 'auth' });
  }
  registerSecret(token);
  return token;
}

/** Read the stored attributes of one connection. Missing secrets are simply absent from the result. */
export async function readAzureKeyVault(cfg: AzureKeyVaultSettings, identifier: string, http: StoreHttp): Promise<SecretValues> {
  const token = await vaultToken(cfg, identifier, http);
  const vault = cfg.url.replace(/\/+$/, '');
  const values: SecretValues = {};
  // Eight small reads: in parallel, the vault does not mind.
  await Promise.all(
    KEY_VAULT_ATTRIBUTES.map(async (attr) => {
      const name = keyVaultSecretName(identifier, attr);
      const url = `${vault}/secrets/${encodeURIComponent(name)}?api-version=${KEY_VAULT_API_VERSION}`;
      const reply = await storeRequest(http, url, { headers: { authorization: `Bearer ${token}` } });
      if (reply.ok) {
        const value = parseJson(reply.text)?.value;
        if (typeof value !== 'string') {
          throw new ScimEtlError('ERR_SECRETS_VAULT', `connection ${identifier}: Azure Key Vault: secret ${name} has no string value`, { identifier, secret: name }, { category: 'transport' });
        }
        registerSecret(value);
        values[attr] = value;
        return;
      }
      if (reply.status === 404) return; // not stored: the pipeline's value stands
      if (reply.status === undefined) throw unreachable(`reading ${name} from ${new URL(vault).host}`, reply, identifier);
      if (reply.status === 401 || reply.status === 403) {
        throw new ScimEtlError(
          'ERR_SECRETS_VAULT_FORBIDDEN',
          `connection ${identifier}: Azure Key Vault ${new URL(vault).host} refused to read ${name} (HTTP ${reply.status}): ${azureError(reply.text)} — grant the identity "Get" on secrets (or the Key Vault Secrets User role)`,
          { identifier, secret: name, status: reply.status },
          { category: 'auth' },
        );
      }
      throw new ScimEtlError(
        'ERR_SECRETS_VAULT',
        `connection ${identifier}: Azure Key Vault: reading ${name} failed with HTTP ${reply.status}: ${azureError(reply.text)}`,
        { identifier, secret: name, status: reply.status },
        { category: 'transport' },
      );
    }),
  );
  return values;
}
