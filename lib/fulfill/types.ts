/** The fulfill records live in lib/types.ts (stages share them); this keeps fulfill's own import paths. */
export * from '../types.js';
