// Minimal store client factories for the MCP function, read from the stores' `clientEnvironment()`.
// Placeholder for lambda/shared/cache-client.ts and lambda/shared/search-client.ts (same exported names): the lead reconciles.
import { randomUUID } from 'crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Client } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws';
import { Cluster, Redis } from 'ioredis';
import type { DecisionInput, DecisionRecord, DecisionStore } from '../shared/decision-store';

/** Environment variables the cache's `clientEnvironment()` is expected to set. */
export const CACHE_ENV = {
  endpoint: 'AGENT_CACHE_ENDPOINT',
  port: 'AGENT_CACHE_PORT',
  /** `iam` (ElastiCache IAM auth), `password` (RBAC user, secret in Secrets Manager) or `none`. */
  auth: 'AGENT_CACHE_AUTH',
  user: 'AGENT_CACHE_USER',
  /** Replication group id or serverless cache name: the host part of the IAM auth token. */
  name: 'AGENT_CACHE_NAME',
  serverless: 'AGENT_CACHE_SERVERLESS',
  cluster: 'AGENT_CACHE_CLUSTER_MODE',
  secretArn: 'AGENT_CACHE_SECRET_ARN',
  tls: 'AGENT_CACHE_TLS',
} as const;

export const SEARCH_ENV = { endpoint: 'AGENT_SEARCH_ENDPOINT', region: 'AGENT_SEARCH_REGION' } as const;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: wire the store with its clientEnvironment()`);
  return v;
}

const credentials = defaultProvider();

/** An ElastiCache IAM auth token (valid 15 minutes): a SigV4-presigned `connect` request, without the scheme. */
export async function elastiCacheIamToken(cacheName: string, user: string, region: string, serverless: boolean): Promise<string> {
  const signer = new SignatureV4({ service: 'elasticache', region, credentials, sha256: Sha256 });
  const request = new HttpRequest({
    method: 'GET', protocol: 'http:', hostname: cacheName, path: '/',
    query: { Action: 'connect', User: user, ...(serverless ? { ResourceType: 'ServerlessCache' } : {}) },
    headers: { host: cacheName },
  });
  const signed = await signer.presign(request, { expiresIn: 900 });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  return `${cacheName}/?${query}`;
}

async function secretCredentials(secretArn: string): Promise<{ username?: string; password: string }> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  const parsed = JSON.parse(out.SecretString ?? '{}');
  return { username: parsed.username, password: parsed.password };
}

/** Same shape as `CacheClient` in lambda/shared/cache-client.ts, so the shell works with either. */
export interface CacheClientHandle {
  readonly redis: Redis | Cluster;
  /** Call before each invocation: refreshes the IAM token new connections use and connects if needed. */
  ready(): Promise<Redis | Cluster>;
  close(): Promise<void>;
}

/** A Redis (or cluster) client for the cache; the IAM token is refreshed by `ready()` before it expires, for reconnects. */
export async function createCacheClientFromEnv(): Promise<CacheClientHandle> {
  const host = required(CACHE_ENV.endpoint);
  const port = Number(process.env[CACHE_ENV.port] ?? '6379');
  const auth = process.env[CACHE_ENV.auth] ?? 'iam';
  const tls = process.env[CACHE_ENV.tls] === 'false' ? undefined : { servername: host };
  let username: string | undefined;
  let password: string | undefined;
  let refresh: (() => Promise<string>) | undefined;
  if (auth === 'iam') {
    username = required(CACHE_ENV.user);
    const region = required('AWS_REGION');
    const name = required(CACHE_ENV.name);
    const serverless = process.env[CACHE_ENV.serverless] === 'true';
    refresh = () => elastiCacheIamToken(name, username!, region, serverless);
    password = await refresh();
  } else if (auth === 'password') {
    const secret = await secretCredentials(required(CACHE_ENV.secretArn));
    username = secret.username ?? process.env[CACHE_ENV.user];
    password = secret.password;
  }
  const common = { username, password, tls, connectTimeout: 2000, maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: true };
  const client = process.env[CACHE_ENV.cluster] === 'true'
    ? new Cluster([{ host, port }], { dnsLookup: (address, cb) => cb(null, address), redisOptions: common, slotsRefreshTimeout: 2000, lazyConnect: true })
    : new Redis({ host, port, ...common });
  let tokenAt = Date.now();
  return {
    redis: client,
    async ready() {
      // Tokens live 15 minutes; established connections outlive them, reconnects need a fresh one.
      if (refresh && Date.now() - tokenAt > 10 * 60 * 1000) {
        const token = await refresh();
        tokenAt = Date.now();
        if (client instanceof Cluster) client.options.redisOptions = { ...client.options.redisOptions, password: token };
        else client.options.password = token;
      }
      if (client.status === 'wait') await client.connect();
      return client;
    },
    async close() {
      await client.quit().catch(() => undefined);
    },
  };
}

/** An OpenSearch client signing every request with SigV4 (service `es`) with the function's credentials. */
export function createSearchClientFromEnv(): Client {
  const endpoint = required(SEARCH_ENV.endpoint);
  const region = process.env[SEARCH_ENV.region] ?? required('AWS_REGION');
  return new Client({
    ...AwsSigv4Signer({ region, service: 'es', getCredentials: () => credentials() }),
    node: /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`,
    requestTimeout: 5000,
    maxRetries: 1,
  });
}

export const DECISION_ENV = { table: 'AGENT_DECISION_TABLE' } as const;

/**
 * A DynamoDB decision store (partition key `decisionId`, append-only). Placeholder for the governance layer's
 * lambda/shared/decision-store-dynamodb.ts, which owns the table design.
 */
export async function createDecisionStoreFromEnv(): Promise<DecisionStore> {
  const tableName = required(DECISION_ENV.table);
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } = await import('@aws-sdk/lib-dynamodb');
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return {
    async record(input: DecisionInput): Promise<DecisionRecord> {
      const record: DecisionRecord = { ...input, decisionId: randomUUID(), recordedAt: new Date().toISOString() };
      await doc.send(new PutCommand({ TableName: tableName, Item: record, ConditionExpression: 'attribute_not_exists(decisionId)' }));
      return record;
    },
    async get(decisionId: string) {
      const out = await doc.send(new GetCommand({ TableName: tableName, Key: { decisionId }, ConsistentRead: true }));
      return out.Item as DecisionRecord | undefined;
    },
    async listByAgent(agentId: string, options = {}) {
      const out = await doc.send(new QueryCommand({
        TableName: tableName, IndexName: 'byAgent',
        KeyConditionExpression: options.sinceIso ? 'agentId = :a AND recordedAt >= :s' : 'agentId = :a',
        ExpressionAttributeValues: { ':a': agentId, ...(options.sinceIso ? { ':s': options.sinceIso } : {}) },
        Limit: options.limit ?? 50,
      }));
      return (out.Items ?? []) as DecisionRecord[];
    },
  };
}
