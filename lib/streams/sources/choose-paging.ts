/**
 * Which paging to use, from the server's ServiceProviderConfig (RFC 9865
 * `pagination`): cursor paging when the server advertises it as its default
 * or as its only method, else index paging. The page size is capped by the
 * advertised `maxPageSize`. A server without a readable SPC gets index paging.
 */
import { isScimEtlError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import type { ScimClient } from '../../scim/client.js';
import { getAttr } from '../../scim/filter.js';
import { toCount } from './list-response.js';
import type { PagingMethod } from './scim-list-source.js';

export interface PagingChoice {
  paging: PagingMethod;
  /** The page size to ask for (the configured one, capped by maxPageSize). */
  pageSize: number;
  /** Where the choice came from, for the log. */
  reason: string;
}

/** The pure decision from an SPC body (or undefined when there is none). */
export function pagingFromConfig(spc: unknown, pageSize: number): PagingChoice {
  const pagination = getAttr(spc, 'pagination');
  if (pagination === undefined || pagination === null || typeof pagination !== 'object') {
    return { paging: 'index', pageSize, reason: 'no pagination in ServiceProviderConfig' };
  }
  const cursor = getAttr(pagination, 'cursor') === true;
  const index = getAttr(pagination, 'index');
  const preferred = String(getAttr(pagination, 'defaultPaginationMethod') ?? '').toLowerCase();
  const max = toCount(getAttr(pagination, 'maxPageSize'));
  const size = max !== undefined && max > 0 ? Math.min(pageSize, max) : pageSize;
  if (cursor && (preferred === 'cursor' || index === false)) {
    return { paging: 'cursor', pageSize: size, reason: 'the server advertises cursor paging (RFC 9865)' };
  }
  return { paging: 'index', pageSize: size, reason: 'index paging advertised' };
}

/** Reads /ServiceProviderConfig (then the plural some vendors use) and decides. */
export async function choosePaging(
  client: Pick<ScimClient, 'request'>,
  pageSize: number,
  opts: { signal?: AbortSignal; logger?: Logger } = {},
): Promise<PagingChoice> {
  const logger = opts.logger ?? silentLogger;
  for (const path of ['ServiceProviderConfig', 'ServiceProviderConfigs']) {
    try {
      const res = await client.request({ path, signal: opts.signal, retry: false });
      const choice = pagingFromConfig(res.body, pageSize);
      logger.debug(`paging: ${choice.paging}, page size ${choice.pageSize} (${choice.reason})`);
      return choice;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      // Refused credentials will refuse the export too: say it once, here.
      if (isScimEtlError(err) && err.category === 'auth') throw err;
      logger.debug(`paging: ${path} not readable (${(err as Error).message})`);
    }
  }
  return { paging: 'index', pageSize, reason: 'no ServiceProviderConfig' };
}
