/**
 * Choosing and running the authentication of a connection, as the seed does:
 *   oAuthToken                                   → Bearer <token>
 *   applicationId + applicationKey + login/pass  → OAuth2 password grant
 *   applicationId + applicationKey               → OAuth2 client-credentials grant
 *   service-user dialects (CyberArk): applicationId + login + password → client credentials, Basic login:password
 * The dialect (lib/scim/dialects/) adds the token endpoint, scope and client authentication.
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
import { dialectOf, type Dialect } from '../dialects/index.js';

export type { AuthKind, AuthProvider } from './types.js';
export { noAuth } from './types.js';

export { SALESFORCE_TOKEN_URL } from '../dialects/index.js';
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
  if (dialectOf(conn.scimSyntax).auth.serviceUserClient && conn.applicationId && conn.login && conn.password) return 'oauth2-client-credentials';
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
      return new OAuth2Auth(kind, conn, dialectOf(conn.scimSyntax), http, opts.now ?? Date.now);
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
    private readonly dialect: Dialect,
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
    const d = this.dialect.auth;
    let url = c.oAuth2Url;
    if (!url && d.tokenEndpoint) url = d.tokenEndpoint(new URL(c.server).origin, c.applicationId!);
    url ??= await discoverTokenEndpoint(c.server, this.http, signal);
    url ??= d.fallbackTokenEndpoint;
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
    const d = this.dialect.auth;
    const scope: Record<string, string> = d.scope ? { scope: d.scope } : {};
    if (d.serviceUserClient && c.login && c.password) {
      return { url, form: { grant_type: 'client_credentials', ...scope }, basic: { user: c.login!, password: c.password!, encode: false } };
    }
    const form: Record<string, string> =
      this.kind === 'oauth2-password'
        ? { grant_type: 'password', username: c.login!, password: c.password!, ...scope }
        : { grant_type: 'client_credentials', ...scope };
    if (d.clientAuth === 'client_secret_post') {
      form.client_id = c.applicationId!;
      form.client_secret = c.applicationKey!;
      return { url, form };
    }
    return { url, form, basic: { user: c.applicationId!, password: c.applicationKey!, encode: true } };
  }
}
