// Public API of the mcp layer.
export {};
