/** Salesforce (DIALECTS.md § Salesforce). */
import type { Dialect } from './dialect.js';
import { rfc } from './rfc.js';

export const SALESFORCE_TOKEN_URL = 'https://login.salesforce.com/services/oauth2/token';

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
};
