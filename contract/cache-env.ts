// Environment variable names AgentCache.clientEnvironment() sets and the cache client reads (dependency-free, so constructs import it too).
export const CACHE_ENV = {
  endpoint: 'AGENT_CACHE_ENDPOINT',
  port: 'AGENT_CACHE_PORT',
  tls: 'AGENT_CACHE_TLS',
  /** `iam` or `password`. */
  auth: 'AGENT_CACHE_AUTH',
  /** User id (IAM: equal to the user name). */
  user: 'AGENT_CACHE_USER',
  /** Serverless cache name or replication group id: the host part of an IAM token. */
  cacheName: 'AGENT_CACHE_NAME',
  /** `true` for a serverless cache (tokens carry ResourceType=ServerlessCache). */
  serverless: 'AGENT_CACHE_SERVERLESS',
  /** `true` when the endpoint speaks the cluster protocol (serverless caches always do). */
  clusterMode: 'AGENT_CACHE_CLUSTER_MODE',
  /** Secrets Manager ARN of the RBAC user's password (password auth). */
  secretArn: 'AGENT_CACHE_SECRET_ARN',
} as const;

/** How a cache client authenticates: an IAM token, an RBAC password from Secrets Manager, or nothing (local servers only). */
export type CacheAuthMode = 'iam' | 'password' | 'none';
