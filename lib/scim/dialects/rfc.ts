/** RFC 7643/7644 as written: the behaviour every other dialect starts from. */
import type { Dialect } from './dialect.js';

export const rfc: Dialect = {
  name: 'RFC',
  auth: { clientAuth: 'client_secret_basic', serviceUserClient: false },
  membersAddValue: (members) => members,
  deleteDeactivatesUsers: false,
  deprovision: 'delete',
};
