/**
 * Where connection secrets come from, resolved in this order before any SCIM
 * request:
 *   1. `enc:<base64>` values anywhere under `connection` (RSA-OAEP SHA-256),
 *   2. Azure Key Vault (`connection.secrets.azureKeyVault`),
 *   3. CyberArk Central Credential Provider (`connection.secrets.cyberArk`);
 * store values override the pipeline's. Every credential is registered for
 * redaction; a connection without a server after all this is a configuration
 * error (exit 78).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ScimEtlError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { registerSecret } from '../../redact.js';
import { retryPolicy } from '../../scim/retry.js';
import { tlsOptions } from '../../scim/auth/tls.js';
import type { ConnectionConfig, Pipeline } from '../types.js';
import { applySecretValues, type SecretValues } from './attributes.js';
import { readAzureKeyVault } from './azure-key-vault.js';
import { ccpTls, readCyberArkCcp } from './cyberark-ccp.js';
import { decryptValue, isEncrypted, loadPrivateKey } from './rsa.js';
import type { StoreHttp } from './http.js';

export { encryptValue, decryptValue, loadPublicKey, loadPrivateKey, isEncrypted, ENC_PREFIX } from './rsa.js';
export { keyVaultSecretName } from './azure-key-vault.js';
export { CCP_FIELD } from './cyberark-ccp.js';
export { SECRET_ATTRIBUTES, KEY_VAULT_ATTRIBUTES, type SecretAttribute, type SecretValues } from './attributes.js';

export const PRIVATE_KEY_ENV = 'SCIM_ETL_PRIVATE_KEY';

export interface ResolveSecretsOptions {
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** --private-key or equivalent; below connection.secrets.privateKey, above $SCIM_ETL_PRIVATE_KEY. */
  privateKeyPath?: string;
  /** Base for relative key paths given outside the pipeline (default: process.cwd()). */
  cwd?: string;
  signal?: AbortSignal;
  /** Injectable clock for store retries (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Every string under `value` that starts with enc:, with its setting path (connection.password, …). */
function findEncrypted(value: unknown, path: string, out: Array<{ path: string; set: (v: string) => void; value: string }>): void {
  if (!value || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    const p = Array.isArray(obj) ? `${path}[${key}]` : `${path}.${key}`;
    if (isEncrypted(v)) out.push({ path: p, value: v, set: (plain) => void (obj[key] = plain) });
    else findEncrypted(v, p, out);
  }
}

function decryptConnection(connection: ConnectionConfig, pipelineFile: string, opts: ResolveSecretsOptions): void {
  const found: Array<{ path: string; set: (v: string) => void; value: string }> = [];
  findEncrypted(connection, 'connection', found);
  if (found.length === 0) return;
  const fromPipeline = connection.secrets?.privateKey;
  const cwd = opts.cwd ?? process.cwd();
  let keyPath: string | undefined;
  let setting: string;
  // The command line wins over the pipeline, which wins over the environment.
  if (opts.privateKeyPath) {
    keyPath = resolve(cwd, opts.privateKeyPath);
    setting = '--private-key';
  } else if (fromPipeline) {
    keyPath = isAbsolute(fromPipeline) ? fromPipeline : resolve(dirname(pipelineFile), fromPipeline);
    setting = 'connection.secrets.privateKey';
  } else {
    keyPath = opts.env[PRIVATE_KEY_ENV] ? resolve(cwd, opts.env[PRIVATE_KEY_ENV]!) : undefined;
    setting = PRIVATE_KEY_ENV;
  }
  if (!keyPath) {
    throw new ScimEtlError(
      'ERR_SECRETS_NO_KEY',
      `${found.map((f) => f.path).join(', ')} ${found.length === 1 ? 'is' : 'are'} encrypted (enc:) but no private key is configured: give --private-key, set connection.secrets.privateKey or ${PRIVATE_KEY_ENV}`,
      { file: pipelineFile, settings: found.map((f) => f.path) },
      { category: 'config' },
    );
  }
  const key = loadPrivateKey(keyPath, setting);
  for (const f of found) {
    const plain = decryptValue(key, f.value, f.path);
    registerSecret(plain);
    f.set(plain);
  }
}

function requireFields(obj: Record<string, unknown> | undefined, fields: string[], where: string, file: string): void {
  const missing = fields.filter((f) => typeof obj?.[f] !== 'string' || (obj[f] as string).trim() === '');
  if (missing.length) {
    throw new ScimEtlError('ERR_CONFIG_MISSING_KEY', `${where}: missing ${missing.join(', ')}`, { file, keys: missing.map((m) => `${where}.${m}`) }, { category: 'config' });
  }
}

function checkServer(connection: ConnectionConfig, file: string): void {
  const server = connection.server?.trim();
  if (!server) {
    throw new ScimEtlError(
      'ERR_CONFIG_MISSING_KEY',
      `connection ${connection.identifier}: no server — set connection.server (or store Connections--${connection.identifier}--Server in the vault)`,
      { file, key: 'connection.server' },
      { category: 'config' },
    );
  }
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ScimEtlError('ERR_CONFIG_INVALID_VALUE', `connection ${connection.identifier}: server must be an http(s) URL, got ${JSON.stringify(server)}`, { file, key: 'connection.server' }, { category: 'config' });
  }
}

/** Resolve every secret source of a validated pipeline. Returns a new Pipeline; the input is not changed. */
export async function resolveConnectionSecrets(pipeline: Pipeline, opts: ResolveSecretsOptions): Promise<Pipeline> {
  const logger = opts.logger ?? silentLogger;
  const connection = structuredClone(pipeline.connection);
  connection.secrets ??= {};
  decryptConnection(connection, pipeline.file, opts);
  let result: Pipeline = { ...pipeline, connection };

  const tls = tlsOptions(connection);
  const http: StoreHttp = {
    timeoutMs: connection.timeoutMs > 0 ? connection.timeoutMs : 60_000,
    retry: retryPolicy(connection.retry),
    logger,
    https: { rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { certificateAuthority: tls.ca } : {}) },
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };

  const vault = connection.secrets.azureKeyVault;
  if (vault) {
    requireFields(vault as unknown as Record<string, unknown>, ['url', 'tenantId', 'clientId', 'clientSecret'], 'connection.secrets.azureKeyVault', pipeline.file);
    const values = await readAzureKeyVault(vault, connection.identifier, http);
    logger.debug(`connection ${connection.identifier}: Azure Key Vault supplied ${describe(values)}`);
    result = applySecretValues(result, values, 'Azure Key Vault');
  }

  const ccp = connection.secrets.cyberArk;
  if (ccp) {
    requireFields(ccp as unknown as Record<string, unknown>, ['url', 'appId', 'safe'], 'connection.secrets.cyberArk', pipeline.file);
    const values = await readCyberArkCcp(ccp, connection.identifier, { ...http, https: ccpTls(ccp, tls) });
    logger.debug(`connection ${connection.identifier}: CyberArk CCP supplied ${describe(values)}`);
    result = applySecretValues(result, values, 'CyberArk CCP');
  }

  const c = result.connection;
  for (const s of [c.oAuthToken, c.password, c.applicationKey, c.secrets?.azureKeyVault?.clientSecret]) registerSecret(s);
  checkServer(c, pipeline.file);
  return result;
}

/** Names only, never values. */
function describe(values: SecretValues): string {
  const names = Object.keys(values);
  return names.length ? names.join(', ') : 'nothing (no secret stored for this connection)';
}
