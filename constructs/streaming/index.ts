// Public API of the streaming layer.
export * from './refs';
