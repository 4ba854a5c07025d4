/** Slack (DIALECTS.md § Slack). */
import type { Dialect } from './dialect.js';
import { rfc } from './rfc.js';

export const slack: Dialect = {
  ...rfc,
  name: 'Slack',
  discoveryPaths: ['ServiceProviderConfigs', 'ServiceProviderConfig'],
  // DELETE /Users/{id} deactivates; DELETE /Groups/{id} removes the group for good.
  deleteDeactivatesUsers: true,
  deprovision: 'deactivate',
};
