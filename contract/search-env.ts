// Environment variables that carry a search domain's coordinates from AgentSearch.clientEnvironment() to the functions' clients.
export const SEARCH_ENV = {
  endpoint: 'AGENT_SEARCH_ENDPOINT',
  region: 'AGENT_SEARCH_REGION',
} as const;
