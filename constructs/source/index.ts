// Public API of the source layer.
export {};
