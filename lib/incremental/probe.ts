/**
 * Does the server really filter on meta.lastModified? Before the first
 * incremental run of a type, three one-resource requests compare
 * totalResults: no filter (N), `meta.lastModified gt` a date a year ahead
 * (must be 0), `meta.lastModified gt "1970-01-01T00:00:00Z"` (must be N).
 *
 * Servers fail this in different ways: Slack has no meta.lastModified and
 * answers 400; one real server answers 0 results to any lastModified filter
 * (an incremental run would export nothing, forever); another ignores the
 * filter (every run would be complete but labelled incremental).
 * An empty type proves nothing: the verdict is `undefined` and the probe runs again next time.
 */
import { isScimEtlError } from '../errors.js';
import { getAttr } from '../scim/filter.js';
import type { ScimClient } from '../scim/client.js';
import type { ProbeVerdict } from './cookie.js';

const PAST = '1970-01-01T00:00:00Z';
const YEAR_MS = 366 * 24 * 3600 * 1000;

export async function probeLastModified(
  client: Pick<ScimClient, 'request'>,
  endpoint: string,
  opts: { now: () => number; signal?: AbortSignal },
): Promise<ProbeVerdict | undefined> {
  const at = new Date(opts.now()).toISOString();
  const total = async (filter?: string): Promise<number | undefined> => {
    const res = await client.request({ path: endpoint, searchParams: { filter, count: 1, startIndex: 1 }, signal: opts.signal });
    const n = getAttr(res.body, 'totalResults');
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const all = await total();
  if (all === undefined) return { filters: false, reason: 'the server gives no totalResults, so a filtered count cannot be checked', at };
  if (all === 0) return undefined;
  const future = new Date(opts.now() + YEAR_MS).toISOString();
  let ahead: number | undefined;
  let since: number | undefined;
  try {
    ahead = await total(`meta.lastModified gt "${future}"`);
    since = await total(`meta.lastModified gt "${PAST}"`);
  } catch (err) {
    if (isScimEtlError(err) && err.context.status === 400) {
      const detail = (err as { detail?: string }).detail ?? err.message;
      return { filters: false, reason: `the server refuses a meta.lastModified filter (HTTP 400: ${detail})`, at };
    }
    throw err;
  }
  if (ahead !== 0) return { filters: false, reason: `meta.lastModified gt a future date gives ${ahead ?? 'no'} results instead of 0: the server ignores the filter`, at };
  if (since !== all) return { filters: false, reason: `meta.lastModified gt ${PAST} gives ${since ?? 'no'} results instead of all ${all}: the server does not filter on it correctly`, at };
  return { filters: true, at };
}
