/** Which errors end a fulfill run instead of failing one line. */
import { isScimEtlError } from '../errors.js';

/** Errors that end the run instead of failing one line: refused credentials, an abort, a bug. */
export function isFatal(err: unknown): boolean {
  if (!isScimEtlError(err)) return true;
  return err.category === 'auth' || err.category === 'internal' || err.code === 'ERR_ABORTED';
}
