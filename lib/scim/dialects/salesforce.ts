/** Salesforce (DIALECTS.md § Salesforce). */
import type { Dialect, MemberWrite } from './dialect.js';
import { rfc } from './rfc.js';
import { quoteLiteral } from '../filter.js';

export const SALESFORCE_TOKEN_URL = 'https://login.salesforce.com/services/oauth2/token';

/**
 * Entitlements by id prefix: a user has exactly one profile (`00e…`) and any
 * number of permission sets (`0PS…`). Permission set groups (`0PG…`) and
 * licenses cannot be assigned through SCIM.
 */
export function entitlementOperations(command: 'add' | 'remove', value: string): ReturnType<MemberWrite['operations']> {
  const kind = value.startsWith('00e') ? 'Profile' : value.startsWith('0PS') ? 'PermissionSet' : undefined;
  if (!kind) return { refused: `${JSON.stringify(value)} is neither a profile (00e…) nor a permission set (0PS…): Salesforce's SCIM API assigns only those` };
  if (kind === 'Profile') {
    if (command === 'remove') return { refused: `a Salesforce user always has exactly one profile: add another profile (00e…) to replace ${value} instead of removing it` };
    // Adding a profile replaces the one the user has, in one atomic PATCH.
    return [
      { op: 'remove', path: 'entitlements[type eq "Profile"]' },
      { op: 'add', path: 'entitlements', value: [{ value, type: kind, primary: true }] },
    ];
  }
  if (command === 'add') return [{ op: 'add', path: 'entitlements', value: [{ value, type: kind }] }];
  return [{ op: 'remove', path: `entitlements[value eq ${quoteLiteral(value)}]` }];
}

/** User fields Salesforce's SCIM API does not write (the seed's list): set them in Salesforce itself. */
const NOT_WRITABLE = [/^permissionSetGroups?$/i, /^permissionSetLicenses?$/i, /^userPermissions/i, /^callCenterId$/i, /^senderEmail$/i];

export const salesforce: Dialect = {
  ...rfc,
  name: 'Salesforce',
  discoveryPaths: ['ServiceProviderConfigs', 'ServiceProviderConfig'],
  // Salesforce reads the client from form fields and publishes no discovery document.
  auth: { clientAuth: 'client_secret_post', serviceUserClient: false, fallbackTokenEndpoint: SALESFORCE_TOKEN_URL },
  // PATCH add of members takes {members: [...]}, not the bare list.
  membersAddValue: (members) => ({ members }),
  // DELETE /Users/{id} freezes the user (IsActive=false): a user is never removed.
  deleteDeactivatesUsers: true,
  deprovision: 'deactivate',
  // Entitlements are assigned on the user: members_Entitlements lines PATCH the user's entitlements.
  memberWrites: { entitlements: { memberEntity: 'Users', attribute: 'entitlements', operations: entitlementOperations } },
  // By name, whatever the schema: Salesforce puts its own fields in an org-specific extension URN
  // (whose last part a column path of an unknown URN may read as a sub-attribute).
  cannotWrite: (path) => {
    const name = [path.attr, path.sub].find((n) => n !== undefined && NOT_WRITABLE.some((re) => re.test(n)));
    return name ? `Salesforce's SCIM API cannot write ${name} (PermissionSetGroup, PermissionSetLicense, UserPermissions*, CallCenterId and SenderEmail are set in Salesforce itself)` : undefined;
  },
};
