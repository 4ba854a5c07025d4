/**
 * scim-etl against better-auth 1.7.5 with its SCIM plugin (@better-auth/scim
 * 1.7.5) on SQLite in memory: a SCIM server the team did not write.
 */
import { startBetterAuth } from './better-auth-server.js';
import { realServerSuite } from './suite.js';

describe('real server: better-auth SCIM plugin', () => {
  realServerSuite(startBetterAuth, { enterprise: true, bulk: false });
});
