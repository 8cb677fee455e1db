// Lambda shell of the MCP server: reads the configuration once, reuses store connections across warm invocations, serves function URL events.
import { cacheClientFromEnv } from '../shared/cache-client';
import { DECISION_TABLE_ENV } from '../../contract/decision-store';
import { LINEAGE_CATALOG_ENV, type LineageCatalog } from '../../contract/lineage';
import { VIEWS_ENV } from '../../contract/view-config';
import { readViewsEnv } from '../shared/views-env';
import { callerFromEvent } from './caller';
import type { McpServerDeps } from './context';
import { FunctionUrlEvent, FunctionUrlResult, eventToRequest, responseToResult } from './http-adapter';
import { MCP_OAUTH_ENV } from '../../contract/mcp-oauth';
import { oauthFromEnv } from './oauth';
import { toolCallObserver } from './observability';
import { EmfMetrics, JsonLogger } from '../shared/telemetry';
import { searchReaderFromEnv } from './search-reader';
import { HttpHandlerOptions, serveFunctionUrlEvent } from './server';

/** Environment the construct sets besides the views, the catalog and the stores' client environment. */
export const MCP_ENV = {
  /** Names the decision audit table; without it the decision tools are not offered. */
  decisionTable: DECISION_TABLE_ENV,
  /** JSON `McpOAuthConfig` in JWT mode: the function is the OAuth resource server (token, audience and scope checks). */
  oauth: MCP_OAUTH_ENV,
  serverName: 'AGENT_MCP_SERVER_NAME',
} as const;

// The shapes Powertools writes (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, its log levels), without its load time.
const logger = JsonLogger.fromEnv();
const metrics = EmfMetrics.fromEnv();
/** JWT mode: tokens are verified here, before the stores are reached; read once per container. */
const oauth = oauthFromEnv();

let ready: Promise<{ deps: McpServerDeps; cache?: { ready(): Promise<unknown>; close(): Promise<void> }; options: HttpHandlerOptions }> | undefined;

async function init() {
  const views = readViewsEnv(process.env[VIEWS_ENV]);
  const cache = views.some(v => v.store === 'cache') ? await cacheClientFromEnv() : undefined;
  const redis = cache?.redis;
  const search = views.some(v => v.store === 'search') ? searchReaderFromEnv() : undefined;
  // AWS SDK clients load only when a view or the audit log needs them (each is tens of milliseconds of require on a cold
  // start); `require`, not `import()`: the runtime's SDK resolves through NODE_PATH, which native ES-module imports ignore.
  const decisions = process.env[MCP_ENV.decisionTable] ? decisionStoreFor() : undefined;
  const embeddingProviderFor = views.some(v => v.search?.vector)
    ? (require('../shared/embeddings') as typeof import('../shared/embeddings')).embeddingProviderFor
    : undefined;
  const warehouse = views.some(v => v.store === 'warehouse') ? await warehouseReaderFromEnv() : undefined;
  const deps: McpServerDeps = {
    views, redis, search, warehouse, decisions,
    // The same provider the sink embeds documents with (Bedrock, or the local embedder with AGENT_EMBEDDINGS=local).
    embeddings: embeddingProviderFor ? (vector => embeddingProviderFor(vector)) : undefined,
    catalog: () => loadCatalog(process.env[LINEAGE_CATALOG_ENV]),
    now: () => Date.now(),
    observer: toolCallObserver(logger, metrics),
    serverName: process.env[MCP_ENV.serverName],
  };
  return { deps, cache, options: { oauth } };
}

/** The Athena reader of the warehouse views, from the environment the warehouse construct sets. */
async function warehouseReaderFromEnv() {
  const [{ athenaWarehouseReader, AthenaClient }, env] = await Promise.all([import('./warehouse-athena'), import('../../contract/warehouse-env')]);
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: the function was deployed without its warehouse configuration`);
    return value;
  };
  return athenaWarehouseReader(new AthenaClient({}), {
    workgroup: need(env.WAREHOUSE_WORKGROUP_ENV), database: need(env.WAREHOUSE_DATABASE_ENV), timeoutMs: Number(need(env.WAREHOUSE_QUERY_TIMEOUT_ENV)),
  });
}

function decisionStoreFor() {
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const { decisionStoreFromEnv } = require('../shared/decision-store-dynamodb') as typeof import('../shared/decision-store-dynamodb');
  return decisionStoreFromEnv(new DynamoDBClient({}));
}

/** The lineage catalog (SSM parameters with a digest, or inline JSON locally); absent means lineage answers carry the view config only. */
export async function loadCatalog(location: string | undefined): Promise<LineageCatalog | undefined> {
  if (!location) return undefined;
  try {
    const { loadCatalogFromEnv } = require('../shared/lineage-loader') as typeof import('../shared/lineage-loader');
    return await loadCatalogFromEnv(undefined, { [LINEAGE_CATALOG_ENV]: location });
  } catch (error) {
    logger.error('lineage catalog could not be loaded', error);
    return undefined;
  }
}

/** Closes the store connections of this container (tests and local runs; Lambda freezes and reuses them). */
export async function close(): Promise<void> {
  const state = await ready?.catch(() => undefined);
  ready = undefined;
  await state?.cache?.close();
}

export async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
  // JWT mode authenticates a Web Request; IAM and anonymous modes serve a warm tools/call straight from the event.
  const request = oauth ? eventToRequest(event) : undefined;
  let caller = callerFromEvent(event);
  if (oauth && request) {
    // Metadata and refusals are answered without starting the server: an unauthenticated caller costs a token check, no store connection.
    const authenticated = await oauth.authenticate(request);
    if (authenticated instanceof Response) return responseToResult(authenticated);
    caller = authenticated;
  }
  ready ??= init().catch(error => {
    ready = undefined; // a failed cold start is retried by the next invocation
    throw error;
  });
  let state;
  try {
    state = await ready;
  } catch (error) {
    logger.error('MCP server could not start', error);
    return { statusCode: 503, headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","error":{"code":-32603,"message":"Server unavailable."},"id":null}' };
  }
  logger.appendKeys({ requestId: event.requestContext?.requestId });
  // A cache that cannot be reached fails the cache tools (as tool errors), not the catalog, search or decision tools.
  await state.cache?.ready().catch(error => logger.warn('cache not ready', { errorKind: (error as Error)?.name }));
  return serveFunctionUrlEvent(event, state.deps, state.options, caller, request);
}
