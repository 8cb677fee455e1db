// The OpenSearch client the sinks, the MCP server and the index handler share: SigV4-signed, bounded timeouts, one instance per container.
import { Client } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { defaultProvider } from '@aws-sdk/credential-provider-node';

import { SEARCH_ENV } from '../../contract/search-env';

export { SEARCH_ENV };

export interface SearchCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface SearchClientOptions {
  /** Domain endpoint hostname (`vpc-...es.amazonaws.com`), or a full URL (`http://127.0.0.1:9200` in tests). */
  readonly endpoint: string;
  readonly region: string;
  /** Per-request timeout. Default 10 s: a sink batch must finish well inside the Lambda timeout, retries included. */
  readonly requestTimeoutMs?: number;
  /** Credentials for signing. Default: the AWS SDK's default chain (the Lambda role). */
  readonly credentials?: () => Promise<SearchCredentials>;
}

/**
 * A client signed with SigV4 for the `es` service. Transport-level retries are off: callers
 * (the writer, the index handler) retry with their own bounded backoff and know which failures are retryable.
 */
export function createSearchClient(options: SearchClientOptions): Client {
  const node = /^https?:\/\//.test(options.endpoint) ? options.endpoint : `https://${options.endpoint}`;
  const getCredentials = options.credentials ?? defaultProvider();
  return new Client({
    ...AwsSigv4Signer({ region: options.region, service: 'es', getCredentials: getCredentials as never }),
    node,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    maxRetries: 0,
    compression: undefined,
  });
}

let cached: { key: string; client: Client } | undefined;

/** The container-wide client for the domain named by the environment; created on first use and reused across invocations. */
export function searchClientFromEnv(env: NodeJS.ProcessEnv = process.env): Client {
  const endpoint = env[SEARCH_ENV.endpoint];
  const region = env[SEARCH_ENV.region] ?? env.AWS_REGION;
  if (!endpoint || !region) {
    throw new Error(`${SEARCH_ENV.endpoint} and ${SEARCH_ENV.region} must be set: wire the function with AgentSearch.clientEnvironment()`);
  }
  const key = `${endpoint}|${region}`;
  if (!cached || cached.key !== key) cached = { key, client: createSearchClient({ endpoint, region }) };
  return cached.client;
}
