/**
 * Where the SCIM root of a server is. `connection.server` may be the seed's
 * base without /v2 (the tool appends it) or any SCIM root, e.g. SCIMServer's
 * /scim/v2/endpoints/{id}: the root is the first candidate that serves
 * ServiceProviderConfig (or the plural some vendors serve) as JSON. When none
 * does, the seed's <server>/v2 stays: servers without discovery exist.
 */
import { isScimEtlError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { safeUrl } from '../redact.js';

export const SPC_PATHS = ['ServiceProviderConfig', 'ServiceProviderConfigs'] as const;

/** `<server>/v2` (unless the server already ends in /v2), then `<server>` itself. */
export function rootCandidates(server: string): string[] {
  const s = server.trim().replace(/\/+$/, '');
  return /\/v2$/i.test(s) ? [s] : [`${s}/v2`, s];
}

/** The seed's root when discovery finds nothing: `<server>/v2`. */
export function defaultRoot(server: string): string {
  let s = server.trim().replace(/\/+$/, '');
  if (/\/v2$/i.test(s)) s = s.slice(0, -3);
  return `${s}/v2`;
}

export interface FoundRoot {
  root: string;
  /** How it was found: 'ServiceProviderConfig' / 'ServiceProviderConfigs', or 'default' when nothing answered. */
  via: (typeof SPC_PATHS)[number] | 'default';
  /** The reply that proved it (absent for 'default'), so that readers of the SPC need not fetch it again. */
  reply?: { status: number; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> };
}

export type SpcGetter = (root: string, path: string) => Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }>;

/**
 * Tries every candidate root and SPC path in order; the first 2xx JSON object
 * wins. An HTTP error, a non-JSON 2xx (a web app's catch-all page) or broken
 * JSON is a miss. Refused credentials, an abort and a transport failure (after
 * the client's retries) end the search: the first is thrown (the run cannot
 * work), the others too, since every later request would meet them as well.
 */
export async function findRoot(server: string, get: SpcGetter, opts: { logger?: Logger; signal?: AbortSignal; paths?: readonly (typeof SPC_PATHS)[number][] } = {}): Promise<FoundRoot> {
  const logger = opts.logger ?? silentLogger;
  for (const root of rootCandidates(server)) {
    // The dialect's order (Salesforce and Slack serve only the plural): no 404 first.
    for (const path of opts.paths ?? SPC_PATHS) {
      try {
        const res = await get(root, path);
        if (res.body !== null && typeof res.body === 'object' && !Array.isArray(res.body)) {
          logger.debug(`SCIM root: ${safeUrl(root)} (${path} answered)`);
          return { root, via: path, reply: { status: res.status, headers: res.headers, body: res.body as Record<string, unknown> } };
        }
        logger.debug(`SCIM root: ${safeUrl(root)}/${path} answered ${res.status} without a JSON object`);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (!isScimEtlError(err) || err.category === 'auth' || err.category === 'transport') throw err;
        logger.debug(`SCIM root: ${safeUrl(root)}/${path}: ${err.message}`);
      }
    }
  }
  const root = defaultRoot(server);
  logger.debug(`SCIM root: ${safeUrl(root)} (no ServiceProviderConfig found; using <server>/v2)`);
  return { root, via: 'default' };
}
