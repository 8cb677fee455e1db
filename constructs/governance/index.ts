// Public API of the governance layer.
export {};
