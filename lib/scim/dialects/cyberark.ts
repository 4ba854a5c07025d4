/** CyberArk Identity (DIALECTS.md § CyberArk). */
import type { Dialect } from './dialect.js';
import { rfc } from './rfc.js';

export const cyberark: Dialect = {
  ...rfc,
  name: 'CyberArk',
  // Containers (safes) have GET, POST, PUT and DELETE but no PATCH.
  putOnly: ['containers'],
  auth: {
    clientAuth: 'client_secret_basic',
    scope: 'scim',
    serviceUserClient: true,
    // The endpoint names the OAuth2 application: discovery cannot find it.
    tokenEndpoint: (origin, applicationId) => `${origin}/oauth2/token/${encodeURIComponent(applicationId)}`,
  },
};
