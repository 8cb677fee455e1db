// The sink's OpenSearch client: only the `_bulk` and `_mget` calls the search writer makes, SigV4-signed over node:https, so the sink bundle does not carry the full OpenSearch client.
import { createHash } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { Client } from '@opensearch-project/opensearch';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SearchCredentials } from '../shared/search-client';

export interface SinkSearchClientOptions {
  /** Domain endpoint hostname (`vpc-...es.amazonaws.com`), or a full URL (`http://127.0.0.1:9200` in tests). */
  readonly endpoint: string;
  readonly region: string;
  /** Per-request timeout. @default 10 s, as the shared client: a batch must finish well inside the Lambda timeout, retries included */
  readonly requestTimeoutMs?: number;
  /** Credentials for signing. @default - the AWS SDK's default chain (the Lambda role) */
  readonly credentials?: () => Promise<SearchCredentials>;
}

/** The response shape the search writer reads (the OpenSearch client's `ApiResponse`). */
export interface SearchHttpResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/** A non-2xx answer, shaped like the OpenSearch client's `ResponseError` (`meta.statusCode`, `meta.body`) that the writer inspects. */
export class SearchHttpError extends Error {
  readonly meta: { readonly statusCode: number; readonly body: unknown };

  constructor(method: string, path: string, statusCode: number, body: unknown) {
    const type = (body as { error?: { type?: string } } | null)?.error?.type;
    super(`${method} ${path} answered ${statusCode}${type ? ` (${type})` : ''}`);
    this.name = 'SearchHttpError';
    this.meta = { statusCode, body };
  }
}

/** What the sink's search writer calls: `bulk` and `mget` with the OpenSearch client's parameter names. */
export interface SinkSearchClient {
  bulk(params: { index: string; body: string; require_alias?: boolean }): Promise<SearchHttpResponse>;
  mget(params: { index: string; body: { ids: string[] }; _source_includes?: string[] }): Promise<SearchHttpResponse>;
  close(): Promise<void>;
}

/**
 * A SigV4-signed (service `es`) client for the two calls the sink needs. Like the shared client it does not retry (the
 * writer retries with its own backoff) and signs the body's SHA-256 in `x-amz-content-sha256`. Connections are kept
 * alive across invocations.
 */
export function createSinkSearchClient(options: SinkSearchClientOptions): SinkSearchClient {
  const base = new URL(/^https?:\/\//.test(options.endpoint) ? options.endpoint : `https://${options.endpoint}`);
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  let credentials = options.credentials;
  const signer = new SignatureV4({
    service: 'es',
    region: options.region,
    sha256: Sha256,
    credentials: async () => {
      if (!credentials) {
        // require, not import(): resolved through NODE_PATH, where the Lambda runtime provides the SDK (see dead-letter.ts).
        const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
        credentials = defaultProvider() as () => Promise<SearchCredentials>;
      }
      return credentials();
    },
  });

  const request = async (method: string, path: string, query: Record<string, string>, body: string, contentType: string): Promise<SearchHttpResponse> => {
    const headers: Record<string, string> = {
      'host': base.host,
      'content-type': contentType,
      'x-amz-content-sha256': createHash('sha256').update(body, 'utf8').digest('hex'),
    };
    const signed = await signer.sign({ method, protocol: base.protocol, hostname: base.hostname, port: base.port ? Number(base.port) : undefined, path, query, headers, body });
    const search = new URLSearchParams(query).toString();
    const payload = Buffer.from(body, 'utf8');
    return new Promise<SearchHttpResponse>((resolve, reject) => {
      const req = (secure ? https : http).request({
        method, host: base.hostname, port: base.port || undefined, path: search ? `${path}?${search}` : path, agent,
        headers: { ...signed.headers, 'content-length': String(payload.length) },
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? {} : JSON.parse(text);
          } catch {
            // a proxy's HTML error page: keep the text for the error message
          }
          const statusCode = res.statusCode ?? 0;
          if (statusCode >= 200 && statusCode < 300) resolve({ statusCode, body: parsed });
          else reject(new SearchHttpError(method, path, statusCode, parsed));
        });
      });
      // No status: the writer treats it as retryable, like the OpenSearch client's ConnectionError and TimeoutError.
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
  const indexPath = (index: string, op: string) => `${base.pathname.replace(/\/$/, '')}/${encodeURIComponent(index)}/${op}`;

  return {
    bulk: ({ index, body, require_alias: requireAlias }) =>
      request('PUT', indexPath(index, '_bulk'), requireAlias === undefined ? {} : { require_alias: String(requireAlias) }, body, 'application/x-ndjson'),
    mget: ({ index, body, _source_includes: includes }) =>
      request('POST', indexPath(index, '_mget'), includes && includes.length > 0 ? { _source_includes: includes.join(',') } : {}, JSON.stringify(body), 'application/json'),
    close: async () => agent.destroy(),
  };
}

/** The client as the search writer's parameter type (it calls only `bulk` and `mget`, with these parameters). */
export function asWriterClient(client: SinkSearchClient): Client {
  return client as unknown as Client;
}
