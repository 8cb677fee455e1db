// Public API of the streaming layer.
export * from './refs';
export * from './cdc-source';
export * from './cluster';
