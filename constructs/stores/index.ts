// Public API of the stores layer.
export * from './refs';
export * from './view';
export * from './agent-cache';
export * from './agent-sink';
export * from './agent-search';
export * from './search-perms';
