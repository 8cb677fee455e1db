// Public API of the stores layer.
export * from './refs';
