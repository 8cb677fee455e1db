// Public API of cdk-agent-data-stack: every construct and type, by layer (the cdk-nag validation gate is `cdk-agent-data-stack/gate`).
export * from './lib/agent-data-stack';
export * from './lib/profiles';
export * from './constructs/common';
export * from './constructs/source';
export * from './constructs/streaming';
export * from './constructs/processing';
export * from './constructs/stores';
export * from './constructs/mcp';
export * from './constructs/governance';
