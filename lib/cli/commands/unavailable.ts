import { ScimEtlError } from '../../errors.js';

/** For a command whose issue has not landed yet: a clear message, exit 1. */
export function notAvailableYet(command: string): never {
  throw new ScimEtlError('ERR_COMMAND_UNAVAILABLE', `'${command}' is not available yet in this version of scim-etl`);
}
