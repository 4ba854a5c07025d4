/** Request building lives in lib/scim/requests.ts (lib/streams/ must not import lib/fulfill/); this keeps fulfill's own import paths. */
export * from '../scim/requests.js';
