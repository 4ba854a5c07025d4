/**
 * A small OAuth2 token endpoint (RFC 6749 §4.3 password and §4.4 client
 * credentials grants), so that token exchange, caching and refresh on 401
 * are tested against real HTTP. Discovery at /.well-known/oauth-authorization-server
 * (RFC 8414) points at POST /oauth2/token. Issued tokens are accepted as
 * Bearer tokens until they expire or an `expireToken` fault revokes them.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { registerSecret } from '../redact.js';
import { jsonReply, type Reply } from './reply.js';

export interface OAuthOptions {
  clientId: string;
  clientSecret: string;
  /** Resource owner for the password grant; without it only client credentials are accepted. */
  login?: string;
  password?: string;
  /** Lifetime of issued tokens, seconds (default 3600). */
  expiresIn?: number;
}

const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const json = (status: number, value: unknown, headers?: Record<string, string>): Reply => ({
  ...jsonReply(status, value, { 'Cache-Control': 'no-store', ...headers }),
  contentType: 'application/json',
});
const oauthError = (status: number, error: string, description: string, headers?: Record<string, string>): Reply =>
  json(status, { error, error_description: description }, headers);

export class TokenIssuer {
  private readonly issued = new Map<string, number>();
  /** Tokens issued so far (tests assert refreshes). */
  count = 0;

  constructor(
    readonly o: OAuthOptions,
    /** CyberArk Identity: POST /oauth2/token/<clientId>, the service user (login:password) in Basic. */
    private readonly clientInPath = false,
    private readonly now: () => number = Date.now,
  ) {
    registerSecret(o.clientSecret);
    registerSecret(o.password);
  }

  /** True for a token we issued that has not expired or been revoked. */
  accepts(token: string): boolean {
    const until = this.issued.get(token);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.issued.delete(token);
      return false;
    }
    return true;
  }

  revoke(token: string): boolean {
    return this.issued.delete(token);
  }

  metadata(base: string): Reply {
    return json(200, {
      issuer: base,
      token_endpoint: `${base}/oauth2/token`,
      grant_types_supported: this.o.login ? ['client_credentials', 'password'] : ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  }

  /** POST /oauth2/token (or /oauth2/token/<clientId>) with a form body. */
  token(req: IncomingMessage, body: string, clientInPath?: string): Reply {
    const form = new URLSearchParams(body);
    if (this.clientInPath || clientInPath !== undefined) return this.serviceUserToken(req, form, clientInPath);
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    const auth = req.headers.authorization ?? '';
    if (/^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // RFC 6749 §2.3.1: both parts are form-encoded before joining.
      const dec = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      if (colon > 0) {
        clientId = dec(decoded.slice(0, colon));
        clientSecret = dec(decoded.slice(colon + 1));
      }
    }
    if (!clientId || !clientSecret || !safeEqual(clientId, this.o.clientId) || !safeEqual(clientSecret, this.o.clientSecret)) {
      return oauthError(401, 'invalid_client', 'unknown client or wrong secret', { 'WWW-Authenticate': 'Basic realm="scim-etl sandbox"' });
    }
    const grant = form.get('grant_type');
    if (grant === 'password') {
      if (!this.o.login) return oauthError(400, 'unsupported_grant_type', 'the password grant is not enabled');
      const user = form.get('username') ?? '';
      const pass = form.get('password') ?? '';
      if (!safeEqual(user, this.o.login) || !safeEqual(pass, this.o.password ?? '')) return oauthError(400, 'invalid_grant', 'wrong username or password');
    } else if (grant !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', `grant_type must be client_credentials${this.o.login ? ' or password' : ''}`);
    }
    return this.issue();
  }

  /** CyberArk: the application is named in the path, the service user authenticates with Basic. */
  private serviceUserToken(req: IncomingMessage, form: URLSearchParams, app: string | undefined): Reply {
    if (!this.clientInPath || app === undefined) return oauthError(404, 'invalid_request', 'no such token endpoint');
    if (!safeEqual(app, this.o.clientId)) return oauthError(400, 'invalid_client', `unknown application '${app}'`);
    const auth = req.headers.authorization ?? '';
    const decoded = /^basic /i.test(auth) ? Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8') : '';
    if (!this.o.login || !safeEqual(decoded, `${this.o.login}:${this.o.password ?? ''}`)) {
      return oauthError(401, 'invalid_client', 'wrong service user or password', { 'WWW-Authenticate': 'Basic realm="scim-etl sandbox"' });
    }
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    return this.issue();
  }

  private issue(): Reply {
    const token = randomBytes(24).toString('base64url');
    registerSecret(token);
    const expiresIn = this.o.expiresIn ?? 3600;
    this.issued.set(token, this.now() + expiresIn * 1000);
    this.count++;
    return json(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
  }
}
