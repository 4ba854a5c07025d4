/** What the client needs from an authentication scheme. */

export type AuthKind = 'none' | 'bearer' | 'basic' | 'oauth2-client-credentials' | 'oauth2-password';

export interface AuthProvider {
  readonly kind: AuthKind;
  /** The Authorization header value for the next request (a cached token when still fresh), or undefined. */
  header(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Forget a cached token: the server refused it (401), the next header()
   * fetches a new one. With the refused header value, a token already renewed
   * by a concurrent request is kept (no token storm on parallel 401s).
   */
  invalidate(rejected?: string): void;
}

/** No credentials configured: requests go out without an Authorization header. */
export const noAuth: AuthProvider = {
  kind: 'none',
  header: async () => undefined,
  invalidate: () => {},
};
