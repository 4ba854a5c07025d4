/**
 * fulfill.ifMatch: an update or delete carries `If-Match` with the version
 * the resource has now (ETag header, else meta.version), read just before.
 * A 412 means someone changed it in between: read it once more and send once
 * more; a second 412 fails the line with scimType `preconditionFailed`
 * rather than overwriting a change nobody has seen.
 */
import { ScimEtlError } from '../errors.js';
import { getAttr } from '../scim/filter.js';
import { isScimHttpError } from '../scim/errors.js';
import type { ScimRequest, ScimResponse } from '../scim/client.js';
import type { Logger } from '../log.js';
import type { ScimRequester } from './types.js';

export const PRECONDITION_FAILED = 'preconditionFailed';

type Res = { headers?: unknown; body: unknown };

/** The version a reply carries: the ETag header, else meta.version. */
export function versionOf(res: Res): string | undefined {
  const headers = res.headers as { get?: (n: string) => string | null } & Record<string, unknown> | undefined;
  const raw = typeof headers?.get === 'function' ? headers.get('etag') : headers?.etag;
  const h = Array.isArray(raw) ? raw[0] : raw;
  if (typeof h === 'string' && h) return h;
  const v = getAttr(getAttr(res.body, 'meta'), 'version');
  return typeof v === 'string' && v ? v : undefined;
}

/** A second 412: the line's failure (not the run's), with the reason code users filter on. */
export class PreconditionFailed extends ScimEtlError {
  constructor(readonly status: number, readonly attempts: number, readonly detail: string) {
    super('ERR_FULFILL_PRECONDITION', detail, { status, attempts });
  }
}

/**
 * Sends `req` with If-Match (when `on`); without a version to send (the
 * resource has none), sends it as it is. Attempts include the GETs.
 */
export async function sendWithIfMatch(client: ScimRequester, req: ScimRequest & { path: string }, on: boolean, logger?: Logger): Promise<ScimResponse> {
  if (!on) return client.request(req);
  let extra = 0;
  for (let round = 1; ; round++) {
    const current = await client.request({ method: 'GET', path: req.path, signal: req.signal });
    extra += current.attempts ?? 1;
    const version = versionOf(current);
    if (!version) {
      logger?.debug(`${req.method} ${req.path}: the resource has no version; sent without If-Match`);
      const res = await client.request(req);
      return { ...res, attempts: res.attempts + extra };
    }
    try {
      const res = await client.request({ ...req, headers: { ...req.headers, 'If-Match': version } });
      return { ...res, attempts: res.attempts + extra };
    } catch (err) {
      if (!(isScimHttpError(err) && err.status === 412)) throw err;
      extra += err.attempts;
      if (round === 2) throw new PreconditionFailed(412, extra, `the resource changed while this order was sent (412 to If-Match twice, after a re-read): not overwritten`);
      logger?.debug(`${req.method} ${req.path}: 412 to If-Match ${version}: reading the resource again and retrying once`);
    }
  }
}
