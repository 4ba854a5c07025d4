/** RFC 7643/7644 as written: the behaviour every other dialect starts from. */
import type { Dialect } from './dialect.js';

export const rfc: Dialect = {
  name: 'RFC',
  discoveryPaths: ['ServiceProviderConfig', 'ServiceProviderConfigs'],
  auth: { clientAuth: 'client_secret_basic', serviceUserClient: false },
  membersAddValue: (members) => members,
  deleteDeactivatesUsers: false,
  deprovision: 'delete',
  cannotWrite: () => undefined,
  memberWrites: {},
  putOnly: [],
  // The path-less form Entra and Okta send: the servers built for them all take it.
  deactivateOperations: () => [{ op: 'replace', value: { active: false } }],
};
