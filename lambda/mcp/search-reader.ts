// The two OpenSearch reads the MCP server makes (_search, _doc), SigV4-signed over fetch with the signer the cache client already
// bundles: the full OpenSearch client (about 280 KiB minified with its serializer and signer) stays out of the MCP bundle.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { SEARCH_ENV } from '../../contract/search-env';
import type { SearchCallOptions, SearchReader } from './context';

/** A non-2xx answer the caller did not ask to ignore; named like the OpenSearch client's, so logs read the same. */
export class SearchResponseError extends Error {
  readonly meta: { statusCode: number; body: unknown };
  constructor(readonly statusCode: number, body: unknown) {
    super(`OpenSearch answered HTTP ${statusCode}`);
    this.name = 'ResponseError';
    this.meta = { statusCode, body };
  }
}

export interface SignedSearchReaderOptions {
  /** Domain endpoint hostname, or a full URL (`http://127.0.0.1:9200` locally). */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** @default 10000 */
  readonly defaultTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export function signedSearchReader(options: SignedSearchReaderOptions): SearchReader {
  const base = new URL(/^https?:\/\//.test(options.endpoint) ? options.endpoint : `https://${options.endpoint}`);
  const signer = new SignatureV4({ service: 'es', region: options.region, credentials: options.credentials, sha256: Sha256 });
  const doFetch = options.fetch ?? fetch;

  async function call(method: 'GET' | 'POST', path: string, query: Record<string, string>, body: unknown, opts: SearchCallOptions = {}): Promise<{ body: unknown; statusCode: number }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = new HttpRequest({
      method, protocol: base.protocol, hostname: base.hostname, port: base.port ? Number(base.port) : undefined,
      path, query,
      headers: { host: base.host, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: payload,
    });
    const signed = await signer.sign(request);
    const qs = new URLSearchParams(query).toString();
    const res = await doFetch(`${base.origin}${path}${qs ? `?${qs}` : ''}`, {
      method, headers: signed.headers as Record<string, string>, body: payload,
      signal: AbortSignal.timeout(opts.requestTimeout ?? options.defaultTimeoutMs ?? 10_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch { /* a non-JSON error page stays text */ }
    if (!res.ok && !(opts.ignore ?? []).includes(res.status)) throw new SearchResponseError(res.status, parsed);
    return { body: parsed, statusCode: res.status };
  }

  const seg = (s: string) => encodeURIComponent(s);
  return {
    search: (params, opts) => call('POST', `/${seg(params.index)}/_search`, {}, params.body, opts),
    get: (params, opts) => call('GET', `/${seg(params.index)}/_doc/${seg(params.id)}`,
      params._source_includes ? { _source_includes: params._source_includes.join(',') } : {}, undefined, opts),
  };
}

/** The reader for the domain the construct named (`AgentSearch.clientEnvironment()`), signed with the function's credentials. */
export function searchReaderFromEnv(env: NodeJS.ProcessEnv = process.env): SearchReader {
  const endpoint = env[SEARCH_ENV.endpoint];
  const region = env[SEARCH_ENV.region] ?? env.AWS_REGION;
  if (!endpoint || !region) {
    throw new Error(`${SEARCH_ENV.endpoint} and ${SEARCH_ENV.region} must be set: wire the function with AgentSearch.clientEnvironment()`);
  }
  // require, not import(): the runtime's AWS SDK resolves through NODE_PATH, which native ES-module imports ignore.
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
  return signedSearchReader({ endpoint, region, credentials: defaultProvider() });
}
