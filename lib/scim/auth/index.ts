/**
 * Choosing and running the authentication of a connection, as the seed does:
 *   oAuthToken                                   → Bearer <token>
 *   applicationId + applicationKey + login/pass  → OAuth2 password grant
 *   applicationId + applicationKey               → OAuth2 client-credentials grant
 *   CyberArk: applicationId + login + password   → client credentials at <tenant>/oauth2/token/<applicationId>
 *   login + password                             → HTTP Basic
 *   nothing                                      → no Authorization header
 * Tokens are cached for expires_in and refreshed a minute before they expire;
 * the client calls invalidate() on a 401 and tries once more.
 */
import type { ConnectionConfig } from '../../config/types.js';
import { ScimEtlError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import { registerSecret } from '../../redact.js';
import { tlsOptions } from './tls.js';
import { noAuth, type AuthKind, type AuthProvider } from './types.js';
import { basicHeader, discoverTokenEndpoint, httpSettings, requestToken, type HttpSettings, type TokenRequest } from './token-endpoint.js';

export type { AuthKind, AuthProvider } from './types.js';
export { noAuth } from './types.js';

export const SALESFORCE_TOKEN_URL = 'https://login.salesforce.com/services/oauth2/token';
/** Refresh this long before the announced expiry (or at half the lifetime when that is shorter). */
export const REFRESH_MARGIN_MS = 60_000;

export interface AuthOptions {
  logger?: Logger;
  /** Clock for token expiry (tests). */
  now?: () => number;
  /** Clock for token endpoint retry waits (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function staticAuth(kind: AuthKind, value: string): AuthProvider {
  return { kind, header: async () => value, invalidate: () => {} };
}

/** The grant a connection uses, decided from which settings are present. */
export function authKindOf(conn: ConnectionConfig): AuthKind {
  if (conn.oAuthToken) return 'bearer';
  if (conn.scimSyntax === 'CyberArk' && conn.applicationId && conn.login && conn.password) return 'oauth2-client-credentials';
  if (conn.applicationId && conn.applicationKey) return conn.login && conn.password ? 'oauth2-password' : 'oauth2-client-credentials';
  if (conn.login && conn.password) return 'basic';
  return 'none';
}

export function createAuth(conn: ConnectionConfig, opts: AuthOptions = {}): AuthProvider {
  const logger = opts.logger ?? silentLogger;
  for (const s of [conn.oAuthToken, conn.password, conn.applicationKey]) registerSecret(s);
  const kind = authKindOf(conn);
  switch (kind) {
    case 'none':
      return noAuth;
    case 'bearer':
      return staticAuth(kind, `Bearer ${conn.oAuthToken!.trim()}`);
    case 'basic':
      return staticAuth(kind, basicHeader(conn.login!, conn.password!));
    default: {
      const http = httpSettings(conn, tlsOptions(conn), logger, opts.sleep);
      return new OAuth2Auth(kind, conn, http, opts.now ?? Date.now);
    }
  }
}

/** A token from a token endpoint, cached until shortly before it expires. */
class OAuth2Auth implements AuthProvider {
  private token?: { header: string; refreshAt: number };
  private pending?: Promise<string>;
  private endpoint?: string;

  constructor(
    readonly kind: AuthKind,
    private readonly conn: ConnectionConfig,
    private readonly http: HttpSettings,
    private readonly now: () => number,
  ) {}

  async header(signal?: AbortSignal): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return this.token.header;
    // Requests in flight at the same time share one token request.
    this.pending ??= this.fetch(signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(rejected?: string): void {
    if (rejected === undefined || this.token?.header === rejected) this.token = undefined;
  }

  private async fetch(signal?: AbortSignal): Promise<string> {
    const req = await this.tokenRequest(signal);
    const started = this.now();
    const reply = await requestToken(req, this.http, signal);
    const header = `${reply.tokenType} ${reply.accessToken}`;
    let refreshAt = Number.POSITIVE_INFINITY; // no expires_in (Salesforce): keep it until a 401
    if (reply.expiresIn !== undefined) {
      const lifetime = reply.expiresIn * 1000;
      refreshAt = started + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
    }
    this.token = { header, refreshAt };
    this.http.logger.debug(
      `connection ${this.conn.identifier}: obtained a token (${this.kind}) from ${new URL(req.url).host}` +
        (reply.expiresIn !== undefined ? `, valid ${reply.expiresIn} s` : ''),
    );
    return header;
  }

  private async tokenUrl(signal?: AbortSignal): Promise<string> {
    if (this.endpoint) return this.endpoint;
    const c = this.conn;
    let url = c.oAuth2Url;
    // CyberArk's endpoint names the application: discovery cannot find it.
    if (!url && c.scimSyntax === 'CyberArk') url = `${new URL(c.server).origin}/oauth2/token/${encodeURIComponent(c.applicationId!)}`;
    url ??= await discoverTokenEndpoint(c.server, this.http, signal);
    if (!url && c.scimSyntax === 'Salesforce') url = SALESFORCE_TOKEN_URL;
    if (!url) {
      throw new ScimEtlError(
        'ERR_AUTH_NO_TOKEN_ENDPOINT',
        `connection ${c.identifier}: applicationId/applicationKey need a token endpoint, and ${new URL(c.server).origin} publishes none (.well-known/oauth-authorization-server, .well-known/openid-configuration); set oAuth2Url`,
        { identifier: c.identifier },
        { category: 'auth' },
      );
    }
    this.endpoint = url;
    return url;
  }

  private async tokenRequest(signal?: AbortSignal): Promise<TokenRequest> {
    const c = this.conn;
    const url = await this.tokenUrl(signal);
    if (c.scimSyntax === 'CyberArk' && c.login && c.password) {
      // CyberArk Identity: the service user authenticates the OAuth2 confidential client.
      return { url, form: { grant_type: 'client_credentials', scope: 'scim' }, basic: { user: c.login!, password: c.password!, encode: false } };
    }
    const form: Record<string, string> =
      this.kind === 'oauth2-password'
        ? { grant_type: 'password', username: c.login!, password: c.password! }
        : { grant_type: 'client_credentials' };
    if (c.scimSyntax === 'CyberArk') form.scope = 'scim';
    if (c.scimSyntax === 'Salesforce') {
      // Salesforce reads the client from form fields (client_secret_post).
      form.client_id = c.applicationId!;
      form.client_secret = c.applicationKey!;
      return { url, form };
    }
    return { url, form, basic: { user: c.applicationId!, password: c.applicationKey!, encode: true } };
  }
}
