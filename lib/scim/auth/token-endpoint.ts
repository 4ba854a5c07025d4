/**
 * Talking to an OAuth2 token endpoint: discovery of its URL from the SCIM
 * server's origin, and one token request (form POST) with its errors mapped
 * to ERR_AUTH_TOKEN (the endpoint said no) or ERR_AUTH_TOKEN_UNREACHABLE.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Response } from 'got';
import { loadGot } from '../lazy-got.js';
import { ScimEtlError } from '../../errors.js';
import { redact, registerSecret, safeUrl } from '../../redact.js';
import type { Logger } from '../../log.js';
import { decideRetry, retryPolicy, type RetryPolicy } from '../retry.js';
import { safeSnippet } from '../errors.js';
import type { TlsOptions } from './tls.js';

export interface HttpSettings {
  tls: TlsOptions;
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** For messages: the connection's identifier. */
  identifier: string;
}

export interface TokenReply {
  accessToken: string;
  tokenType: string;
  /** Seconds, when the endpoint said. */
  expiresIn?: number;
}

export interface TokenRequest {
  url: string;
  form: Record<string, string>;
  /** HTTP Basic client authentication (client_secret_basic, or CyberArk's login:password). */
  basic?: { user: string; password: string; encode: boolean };
}

function gotOptions(s: HttpSettings) {
  return {
    https: { rejectUnauthorized: s.tls.rejectUnauthorized, ...(s.tls.ca ? { certificateAuthority: s.tls.ca } : {}) },
    timeout: { lookup: s.timeoutMs, connect: s.timeoutMs, secureConnect: s.timeoutMs, socket: s.timeoutMs, response: s.timeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
  };
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined and base64-encoded. */
export function basicHeader(user: string, password: string, formEncode = false): string {
  const enc = (s: string) => (formEncode ? new URLSearchParams({ s }).toString().slice(2) : s);
  const pair = `${enc(user)}:${enc(password)}`;
  registerSecret(pair);
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/**
 * RFC 8414 then OpenID Connect discovery at the server's origin. Undefined
 * when neither document exists or names a token endpoint.
 */
export async function discoverTokenEndpoint(server: string, s: HttpSettings, signal?: AbortSignal): Promise<string | undefined> {
  const origin = new URL(server).origin;
  for (const doc of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const url = origin + doc;
    try {
      const got = await loadGot();
      const res = (await got(url, { ...gotOptions(s), headers: { accept: 'application/json' }, responseType: 'text', signal })) as Response<string>;
      s.logger.debug(`GET ${safeUrl(url)} ${res.statusCode}`);
      if (res.statusCode !== 200) continue;
      const meta = JSON.parse(res.body) as { token_endpoint?: unknown };
      if (typeof meta.token_endpoint === 'string' && /^https?:\/\//i.test(meta.token_endpoint)) return meta.token_endpoint;
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      // Not there, not JSON, or unreachable: try the next document, then the dialect's default.
      s.logger.debug(`GET ${safeUrl(url)} failed: ${redact((err as Error).message)}`);
    }
  }
  return undefined;
}

/** One token request, retried on 429/5xx/network (asking for a token twice is harmless). */
export async function requestToken(req: TokenRequest, s: HttpSettings, signal?: AbortSignal): Promise<TokenReply> {
  const host = hostOf(req.url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.basic) headers.authorization = basicHeader(req.basic.user, req.basic.password, req.basic.encode);
  registerSecret(req.form.client_secret);
  registerSecret(req.form.password);
  const sleep = s.sleep ?? ((ms: number, sig?: AbortSignal) => delay(ms, undefined, { signal: sig }));
  let retries = 0;
  for (;;) {
    let res: Response<string>;
    try {
      const got = await loadGot();
      res = (await got.post(req.url, { ...gotOptions(s), headers, form: req.form, responseType: 'text', signal })) as Response<string>;
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const code = (err as NodeJS.ErrnoException).code;
      const d = decideRetry(s.retry, 'all', { errorCode: code }, retries);
      if (d.retry) {
        retries++;
        await sleep(d.delayMs, signal);
        continue;
      }
      throw new ScimEtlError(
        'ERR_AUTH_TOKEN_UNREACHABLE',
        redact(`connection ${s.identifier}: cannot reach the token endpoint ${safeUrl(req.url)}: ${code ?? ''} ${(err as Error).message}`),
        { identifier: s.identifier, host, errorCode: code },
        { cause: err, category: 'auth' },
      );
    }
    s.logger.debug(`POST ${safeUrl(req.url)} ${res.statusCode}`);
    if (res.statusCode >= 200 && res.statusCode < 300) return parseTokenReply(res.body, s.identifier, host);
    const d = decideRetry(s.retry, 'all', { status: res.statusCode, retryAfter: res.headers['retry-after'] }, retries);
    if (d.retry) {
      retries++;
      await sleep(d.delayMs, signal);
      continue;
    }
    throw tokenError(res.statusCode, res.body, s.identifier, host);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function parseTokenReply(text: string, identifier: string, host: string): TokenReply {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ScimEtlError('ERR_AUTH_TOKEN', `connection ${identifier}: the token endpoint ${host} did not answer JSON: ${safeSnippet(text, 120)}`, { identifier, host }, { category: 'auth' });
  }
  const token = body?.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new ScimEtlError('ERR_AUTH_TOKEN', `connection ${identifier}: the token endpoint ${host} answered without an access_token`, { identifier, host }, { category: 'auth' });
  }
  registerSecret(token);
  if (typeof body.refresh_token === 'string') registerSecret(body.refresh_token);
  if (typeof body.id_token === 'string') registerSecret(body.id_token);
  const expires = Number(body.expires_in);
  const type = typeof body.token_type === 'string' && body.token_type.trim() !== '' ? body.token_type : 'Bearer';
  return {
    accessToken: token,
    // Servers spell it "bearer" or "Bearer"; the header wants the scheme name.
    tokenType: /^bearer$/i.test(type) ? 'Bearer' : type,
    ...(Number.isFinite(expires) && expires > 0 ? { expiresIn: expires } : {}),
  };
}

function tokenError(status: number, text: string, identifier: string, host: string): ScimEtlError {
  let oauthError: string | undefined;
  let description: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.error === 'string') oauthError = body.error;
    if (typeof body.error_description === 'string') description = body.error_description;
    else if (typeof body.message === 'string') description = body.message;
  } catch {
    description = text.trim() ? text : undefined;
  }
  let message = `connection ${identifier}: the token endpoint ${host} refused the request (HTTP ${status}`;
  message += oauthError ? `, ${oauthError})` : ')';
  if (description) message += `: ${safeSnippet(description)}`;
  if (oauthError === 'invalid_client') message += ' — check applicationId/applicationKey';
  else if (oauthError === 'invalid_grant') message += ' — check login/password (Salesforce: password followed by the security token)';
  return new ScimEtlError('ERR_AUTH_TOKEN', redact(message), { identifier, host, status, oauthError }, { category: 'auth' });
}

export function httpSettings(
  conn: { identifier: string; timeoutMs: number; retry?: { limit: number; maxRetryAfterMs: number; backoffMs: number } },
  tls: TlsOptions,
  logger: Logger,
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>,
): HttpSettings {
  return {
    tls,
    timeoutMs: conn.timeoutMs > 0 ? conn.timeoutMs : 60_000,
    retry: retryPolicy(conn.retry),
    logger,
    identifier: conn.identifier,
    ...(sleep ? { sleep } : {}),
  };
}
