// The engine harness for the tests: the engines themselves live in cli/dev/engines (one copy, shared with `agent-data-stack dev --engines`).
export * from '../../../cli/dev/engines/connect';
export * from '../../../cli/dev/engines/jvm';
export * from '../../../cli/dev/engines/kafka';
export * from '../../../cli/dev/engines/maven';
export * from '../../../cli/dev/engines/plugin';
export * from '../../../cli/dev/engines/template';
export * from '../../../cli/dev/engines/tls';
export * from '../../../cli/dev/engines/opensearch';
