// ElastiCache (Valkey) client factory for the sink and MCP functions: TLS, IAM auth tokens refreshed before expiry, reconnection with a fresh token.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { CACHE_ENV, type CacheAuthMode } from '../../contract/cache-env';

export type { CacheAuthMode };

export { CACHE_ENV };


export interface CacheClientSettings {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly auth: CacheAuthMode;
  readonly user?: string;
  readonly cacheName?: string;
  readonly serverless: boolean;
  readonly clusterMode: boolean;
  readonly secretArn?: string;
}

export function cacheSettingsFromEnv(env: Record<string, string | undefined> = process.env): CacheClientSettings {
  const host = env[CACHE_ENV.endpoint];
  if (!host) throw new Error(`${CACHE_ENV.endpoint} is not set: grant the function access with AgentCache.clientEnvironment()`);
  const auth = (env[CACHE_ENV.auth] ?? 'iam') as CacheAuthMode;
  if (!['iam', 'password', 'none'].includes(auth)) throw new Error(`${CACHE_ENV.auth} is '${auth}'; expected iam, password or none`);
  return {
    host,
    port: Number(env[CACHE_ENV.port] ?? 6379),
    tls: env[CACHE_ENV.tls] !== 'false',
    auth,
    user: env[CACHE_ENV.user],
    cacheName: env[CACHE_ENV.cacheName],
    serverless: env[CACHE_ENV.serverless] === 'true',
    clusterMode: env[CACHE_ENV.clusterMode] === 'true',
    secretArn: env[CACHE_ENV.secretArn],
  };
}

/** IAM auth tokens are valid for 15 minutes (ElastiCache IAM authentication documentation). */
export const IAM_TOKEN_TTL_SECONDS = 900;

export interface IamTokenRequest {
  readonly cacheName: string;
  readonly userId: string;
  readonly region: string;
  readonly serverless: boolean;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default - now */
  readonly signingDate?: Date;
}

/**
 * An ElastiCache IAM auth token: a SigV4-presigned `GET http://<cacheName>/?Action=connect&User=<userId>`
 * (plus `ResourceType=ServerlessCache` for serverless caches) for service `elasticache`, expiring after
 * 15 minutes, with the `http://` scheme removed. It is sent as the AUTH password with the user id as user name.
 */
export async function buildIamAuthToken(req: IamTokenRequest): Promise<string> {
  const signer = new SignatureV4({ service: 'elasticache', region: req.region, credentials: req.credentials, sha256: Sha256 });
  const query: Record<string, string> = { Action: 'connect', User: req.userId };
  if (req.serverless) query.ResourceType = 'ServerlessCache';
  const request = new HttpRequest({
    method: 'GET', protocol: 'http:', hostname: req.cacheName, path: '/', query, headers: { host: req.cacheName },
  });
  const signed = await signer.presign(request, { expiresIn: IAM_TOKEN_TTL_SECONDS, signingDate: req.signingDate });
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${req.cacheName}/?${qs}`;
}

/** Produces the AUTH password for new connections. */
export interface CachePasswordSource {
  /** A password valid now (IAM: a token with at least `refreshMarginSeconds` of validity left). */
  password(): Promise<string>;
}

/** Caches an IAM token and re-signs it once it is older than `IAM_TOKEN_TTL_SECONDS - refreshMarginSeconds`. */
export class IamTokenSource implements CachePasswordSource {
  private cached?: { token: string; signedAtMs: number };

  constructor(
    private readonly request: Omit<IamTokenRequest, 'signingDate'>,
    private readonly refreshMarginSeconds = 300,
    private readonly now: () => number = Date.now,
  ) {}

  async password(): Promise<string> {
    const nowMs = this.now();
    if (!this.cached || nowMs - this.cached.signedAtMs >= (IAM_TOKEN_TTL_SECONDS - this.refreshMarginSeconds) * 1000) {
      const token = await buildIamAuthToken({ ...this.request, signingDate: new Date(nowMs) });
      this.cached = { token, signedAtMs: nowMs };
    }
    return this.cached.token;
  }
}

export type CacheConnection = Redis | Cluster;

export interface CacheClient {
  readonly redis: CacheConnection;
  /**
   * Call before each batch: refreshes the password new connections use (connections ElastiCache drops,
   * e.g. after 12 hours for IAM users, reconnect with it) and connects if not connected yet.
   */
  ready(): Promise<CacheConnection>;
  close(): Promise<void>;
}

export interface CreateCacheClientOptions {
  readonly passwordSource?: CachePasswordSource;
  /** Extra ioredis options (tests shorten timeouts). */
  readonly redisOptions?: Partial<RedisOptions>;
}

/** Errors after which the connection must be re-established with a fresh password. */
const REAUTH_ERRORS = /WRONGPASS|NOAUTH|invalid username-password pair/i;

/**
 * Builds an ioredis client from the settings. Commands fail fast while disconnected (no offline queue
 * beyond the first connect) so a store outage fails the batch instead of hanging the function.
 */
export function createCacheClient(settings: CacheClientSettings, options: CreateCacheClientOptions = {}): CacheClient {
  const source = options.passwordSource;
  if (settings.auth !== 'none' && !source) throw new Error(`cache auth '${settings.auth}' needs a password source`);
  const base: RedisOptions = {
    username: settings.auth === 'none' ? undefined : settings.user,
    tls: settings.tls ? { servername: settings.host } : undefined,
    lazyConnect: true,
    connectTimeout: 5000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // A dropped IAM connection, or one opened with a token that expired while the function was frozen.
    reconnectOnError: err => (REAUTH_ERRORS.test(err.message) ? 2 : false),
    retryStrategy: times => Math.min(50 * 2 ** times, 2000),
    ...options.redisOptions,
  };
  const redis: CacheConnection = settings.clusterMode
    ? new Cluster([{ host: settings.host, port: settings.port }], {
      lazyConnect: true,
      enableAutoPipelining: true,
      // TLS certificates name the configuration endpoint, not the node IPs it resolves to.
      dnsLookup: (address, callback) => callback(null, address),
      // Reconnect a node whose connection the server closed (IAM connections end after 12 hours) instead of
      // dropping it until the next slot refresh; its options carry the current password.
      clusterNodeRetryStrategy: times => Math.min(50 * 2 ** times, 2000),
      redisOptions: base,
    })
    : new Redis({ host: settings.host, port: settings.port, ...base });

  const setPassword = (password: string) => {
    if (redis instanceof Cluster) {
      (redis.options.redisOptions as RedisOptions).password = password;
      // ioredis copies redisOptions into its connection pool, which creates the node connections: update it too
      // (pinned by test/sink/cache-cluster.test.ts, which rotates the password on a real cluster).
      const pool = (redis as unknown as { connectionPool?: { redisOptions?: RedisOptions } }).connectionPool;
      if (pool?.redisOptions) pool.redisOptions.password = password;
      for (const node of redis.nodes()) node.options.password = password;
    } else {
      redis.options.password = password;
    }
  };
  const refresh = async () => {
    if (source) setPassword(await source.password());
  };
  // ioredis reads options.password on each (re)connect; keep it current without blocking the event.
  redis.on('reconnecting', () => {
    refresh().catch(() => undefined);
  });
  redis.on('error', () => undefined); // surfaced through the failing commands instead

  return {
    redis,
    async ready() {
      await refresh();
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      else if (redis.status !== 'ready') await untilReady(redis, READY_TIMEOUT_MS);
      return redis;
    },
    async close() {
      redis.disconnect();
    },
  };
}

const READY_TIMEOUT_MS = 5000;

/** Waits for a reconnecting client, so a batch fails with a clear error instead of on its first command. */
function untilReady(redis: CacheConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`cache connection not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** The password source the settings call for: IAM tokens, or the RBAC password from Secrets Manager. */
export async function passwordSourceFor(
  settings: CacheClientSettings,
  deps: {
    readonly region: string;
    readonly credentials: AwsCredentialIdentityProvider;
    readonly fetchSecret?: (arn: string) => Promise<string>;
  },
): Promise<CachePasswordSource | undefined> {
  if (settings.auth === 'none') return undefined;
  if (settings.auth === 'iam') {
    if (!settings.user || !settings.cacheName) throw new Error(`IAM cache auth needs ${CACHE_ENV.user} and ${CACHE_ENV.cacheName}`);
    return new IamTokenSource({
      cacheName: settings.cacheName, userId: settings.user, region: deps.region, serverless: settings.serverless, credentials: deps.credentials,
    });
  }
  if (!settings.secretArn || !deps.fetchSecret) throw new Error(`password cache auth needs ${CACHE_ENV.secretArn}`);
  const raw = await deps.fetchSecret(settings.secretArn);
  let password = raw;
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed.password === 'string') password = parsed.password;
  } catch {
    // a plain-string secret is the password itself
  }
  return { password: async () => password };
}

/**
 * The cache client for a function's environment (`AgentCache.clientEnvironment()`): IAM tokens signed with the
 * function's credentials, or the RBAC password read once from Secrets Manager. Used by the sink and the MCP server.
 */
export async function cacheClientFromEnv(env: Record<string, string | undefined> = process.env): Promise<CacheClient> {
  const settings = cacheSettingsFromEnv(env);
  // require, not import(): esbuild keeps import() of an external package as a native ES-module import, which does not
  // search NODE_PATH, where the Lambda runtime puts its AWS SDK; require does (the sink loads its clients the same way).
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
  const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const passwordSource = await passwordSourceFor(settings, {
    region: env.AWS_REGION ?? '',
    credentials: defaultProvider(),
    fetchSecret: async arn => (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '',
  });
  return createCacheClient(settings, { passwordSource });
}
