/**
 * CyberArk Central Credential Provider (AIMWebService REST API). Each
 * configured attribute names a vault object (account); each distinct object
 * is read once, and its fields fill the attributes:
 *   Login, ApplicationId                    ← UserName
 *   Password, ApplicationKey, OAuthToken    ← Content
 *   Server, OAuth2Url                       ← Address (https:// added when it has no scheme)
 * as in the seed's appsettings.cyberark.agent.json, where Login, Password and
 * Server usually all point at one account.
 */
import { ScimEtlError } from '../../errors.js';
import { registerSecret, safeUrl } from '../../redact.js';
import { safeSnippet } from '../../scim/errors.js';
import { readPem } from '../../scim/auth/tls.js';
import type { SecretSources } from '../types.js';
import { secretAttribute, type SecretAttribute, type SecretValues } from './attributes.js';
import { parseJson, storeRequest, type StoreHttp } from './http.js';

export type CyberArkSettings = NonNullable<SecretSources['cyberArk']>;

/** Which field of the CCP account answer fills an attribute. */
export const CCP_FIELD: Record<SecretAttribute, 'UserName' | 'Content' | 'Address' | undefined> = {
  Login: 'UserName',
  ApplicationId: 'UserName',
  Password: 'Content',
  ApplicationKey: 'Content',
  OAuthToken: 'Content',
  Server: 'Address',
  OAuth2Url: 'Address',
  BulkMaxOperation: undefined,
  ServiceSupportBulk: undefined,
};

function ccpError(identifier: string, message: string, context: Record<string, unknown> = {}): ScimEtlError {
  return new ScimEtlError('ERR_SECRETS_CCP', `connection ${identifier}: CyberArk CCP: ${message}`, { identifier, ...context }, { category: 'auth' });
}

/** The TLS material of the CCP: its CA and, where the CCP authenticates applications by certificate, a client certificate. */
export function ccpTls(cfg: CyberArkSettings, base: { rejectUnauthorized: boolean; ca?: string[] }): NonNullable<StoreHttp['https']> {
  const https: NonNullable<StoreHttp['https']> = { rejectUnauthorized: base.rejectUnauthorized };
  if (cfg.ca) https.certificateAuthority = [...(base.ca ?? []), readPem(cfg.ca, 'connection.secrets.cyberArk.ca')];
  else if (base.ca) https.certificateAuthority = base.ca;
  if (cfg.cert) https.certificate = readPem(cfg.cert, 'connection.secrets.cyberArk.cert');
  if (cfg.key) https.key = readPem(cfg.key, 'connection.secrets.cyberArk.key');
  return https;
}

export async function readCyberArkCcp(cfg: CyberArkSettings, identifier: string, http: StoreHttp): Promise<SecretValues> {
  // Attribute → object, with attribute names checked before anything is sent.
  const wanted = new Map<string, SecretAttribute[]>();
  for (const [name, object] of Object.entries(cfg.objects ?? {})) {
    const attr = secretAttribute(name);
    if (!attr || !CCP_FIELD[attr]) {
      throw new ScimEtlError(
        'ERR_SECRETS_CCP_ATTRIBUTE',
        `connection ${identifier}: secrets.cyberArk.objects.${name}: not an attribute a CCP account can fill (use Login, Password, Server, ApplicationId, ApplicationKey, OAuthToken or OAuth2Url)`,
        { identifier, attribute: name },
        { category: 'config' },
      );
    }
    wanted.set(object, [...(wanted.get(object) ?? []), attr]);
  }
  const base = cfg.url.replace(/\/+$/, '');
  const values: SecretValues = {};
  for (const [object, attrs] of wanted) {
    const query = new URLSearchParams({ AppID: cfg.appId, Safe: cfg.safe, Object: object });
    const url = `${base}/AIMWebService/api/Accounts?${query.toString().replace(/\+/g, '%20')}`;
    const reply = await storeRequest(http, url);
    if (!reply.ok) {
      if (reply.status === undefined) {
        throw ccpError(identifier, `${safeUrl(base)} is unreachable (${reply.message})`, { object, errorCode: reply.errorCode });
      }
      const body = parseJson(reply.text);
      const code = typeof body?.ErrorCode === 'string' ? body.ErrorCode : undefined;
      const msg = typeof body?.ErrorMsg === 'string' ? body.ErrorMsg : reply.text ?? '';
      throw ccpError(identifier, `object ${object} in safe ${cfg.safe}: HTTP ${reply.status}${code ? ` ${code}` : ''}: ${safeSnippet(msg)}`, {
        object,
        status: reply.status,
        ccpErrorCode: code,
      });
    }
    const account = parseJson(reply.text);
    if (!account) throw ccpError(identifier, `object ${object}: the answer is not a JSON account`, { object });
    for (const attr of attrs) {
      const field = CCP_FIELD[attr]!;
      const raw = account[field];
      if (typeof raw !== 'string' || raw === '') throw ccpError(identifier, `object ${object} has no ${field} for ${attr}`, { object, field });
      let value = raw;
      if ((attr === 'Server' || attr === 'OAuth2Url') && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) value = `https://${value}`;
      if (field === 'Content') registerSecret(value);
      values[attr] = value;
    }
  }
  return values;
}
