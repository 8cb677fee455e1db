// Public API of the streaming layer.
export {};
