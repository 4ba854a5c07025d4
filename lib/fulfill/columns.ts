/** Column typing lives in lib/scim/columns.ts (the order source in lib/streams/ uses it); this keeps fulfill's own import paths. */
export * from '../scim/columns.js';
