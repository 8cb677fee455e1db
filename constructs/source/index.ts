// Public API of the source layer.
export * from './engine';
export * from './cdc-source-database';
export * from './schema';
export type { SourceColumnPolicy } from './columns';
