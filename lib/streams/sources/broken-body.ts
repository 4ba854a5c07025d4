/**
 * Which failures of a list reply are a body cut short (worth asking the same
 * page again) and which are not. Only transport-level breakage counts:
 * truncated JSON, a reset or closed socket mid-body. Anything else — a
 * TypeError in our own code above all — surfaces at once, so that a bug is
 * never hidden behind retries and a "cut reply" message.
 */
import { isScimEtlError } from '../../errors.js';
import { JsonScanError } from './member-scanner.js';

/** Node and got codes of a body that stopped arriving. */
const CUT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_READING_RESPONSE_STREAM', 'ERR_HTTP2_STREAM_ERROR']);

/** Malformed or truncated JSON found while a reply was streamed (./member-scanner.ts). */
export function isJsonParserError(err: unknown): boolean {
  return err instanceof JsonScanError;
}

export function isCutBody(err: unknown): boolean {
  if (isScimEtlError(err)) return err.code === 'ERR_SCIM_BAD_JSON';
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && CUT_CODES.has(code)) return true;
  return err.name === 'ReadError' || isJsonParserError(err);
}
