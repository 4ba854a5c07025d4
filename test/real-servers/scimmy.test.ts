/**
 * scim-etl against SCIMMY 1.3.5 + scimmy-routers 1.3.2 (express 5), a SCIM
 * server library the team did not write, with the in-memory storage glue of
 * scimmy-server.ts.
 */
import { startScimmy } from './scimmy-server.js';
import { realServerSuite } from './suite.js';

describe('real server: SCIMMY (scimmy + scimmy-routers)', () => {
  realServerSuite(() => startScimmy(), { enterprise: true, bulk: true });
});
