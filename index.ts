// Public API of cdk-agent-data-stack: every construct and type, by layer.
export * from './lib/agent-data-stack';
export * from './lib/profiles';
export * from './lib/validation-gate';
export * from './constructs/common';
export * from './constructs/source';
export * from './constructs/streaming';
export * from './constructs/processing';
export * from './constructs/stores';
export * from './constructs/mcp';
export * from './constructs/governance';
