// Public API of the stores layer.
export * from './refs';
export * from './agent-search';
export * from './search-perms';
