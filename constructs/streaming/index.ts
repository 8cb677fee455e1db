// Public API of the streaming layer.
export * from './refs';
export * from './cdc-source';
export * from './cluster';
export * from './debezium-plugin';
export * from './database-tls';
export * from './debezium-connector';
