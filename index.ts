// Public API of cdk-agent-data-stack: every construct and type, by layer.
export * from './lib/agent-data-stack';
export * from './lib/validation-gate';
export * from './constructs/common';
