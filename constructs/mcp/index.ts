// Public API of the mcp layer.
export * from './agent-mcp-server';
export * from './mcp-authorization';
