/** The dialect of a connection, chosen once from scimSyntax (any case). */
import type { DialectName } from '../../config/types.js';
import { cyberark } from './cyberark.js';
import type { Dialect } from './dialect.js';
import { rfc } from './rfc.js';
import { salesforce } from './salesforce.js';
import { slack } from './slack.js';

export type { ClientAuth, Dialect, MemberWrite } from './dialect.js';
export { SALESFORCE_TOKEN_URL } from './salesforce.js';
export { rfc };

export const DIALECT_MODULES: readonly Dialect[] = [rfc, salesforce, slack, cyberark];

/** The dialect of a scimSyntax value; the validator has already refused unknown names, so those fall back to RFC. */
export function dialectOf(scimSyntax: DialectName | string | undefined): Dialect {
  const want = (scimSyntax ?? 'RFC').toLowerCase();
  return DIALECT_MODULES.find((d) => d.name.toLowerCase() === want) ?? rfc;
}
