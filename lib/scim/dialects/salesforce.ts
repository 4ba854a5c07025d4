/** Salesforce (DIALECTS.md § Salesforce). */
import type { Dialect } from './dialect.js';
import { rfc } from './rfc.js';

export const SALESFORCE_TOKEN_URL = 'https://login.salesforce.com/services/oauth2/token';

/** User fields Salesforce's SCIM API does not write (the seed's list): set them in Salesforce itself. */
const NOT_WRITABLE = [/^permissionSetGroups?$/i, /^permissionSetLicenses?$/i, /^userPermissions/i, /^callCenterId$/i, /^senderEmail$/i];

export const salesforce: Dialect = {
  ...rfc,
  name: 'Salesforce',
  // Salesforce reads the client from form fields and publishes no discovery document.
  auth: { clientAuth: 'client_secret_post', serviceUserClient: false, fallbackTokenEndpoint: SALESFORCE_TOKEN_URL },
  // PATCH add of members takes {members: [...]}, not the bare list.
  membersAddValue: (members) => ({ members }),
  // DELETE /Users/{id} freezes the user (IsActive=false): a user is never removed.
  deleteDeactivatesUsers: true,
  deprovision: 'deactivate',
  // By name, whatever the schema: Salesforce puts its own fields in an org-specific extension URN
  // (whose last part a column path of an unknown URN may read as a sub-attribute).
  cannotWrite: (path) => {
    const name = [path.attr, path.sub].find((n) => n !== undefined && NOT_WRITABLE.some((re) => re.test(n)));
    return name ? `Salesforce's SCIM API cannot write ${name} (PermissionSetGroup, PermissionSetLicense, UserPermissions*, CallCenterId and SenderEmail are set in Salesforce itself)` : undefined;
  },
};
