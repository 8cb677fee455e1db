export * from './agent-function';
export * from './agent-provider';
export * from './agent-network';
export * from './deploy-time-artifact';
export * from './security-group';
