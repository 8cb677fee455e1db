// Public API of the processing layer.
export {};
