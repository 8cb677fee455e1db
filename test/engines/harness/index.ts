// The engine harness: Kafka (KRaft), Kafka Connect 3.7.x with construct-built plugins, and the template reader that feeds them.
export * from './connect';
export * from './jvm';
export * from './kafka';
export * from './maven';
export * from './plugin';
export * from './template';
export * from './tls';
export * from './opensearch';
