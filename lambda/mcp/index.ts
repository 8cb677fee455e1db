// Lambda shell of the MCP server: reads the configuration once, reuses store connections across warm invocations, serves function URL events.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cacheClientFromEnv } from '../shared/cache-client';
import { DECISION_TABLE_ENV } from '../../contract/decision-store';
import { decisionStoreFromEnv } from '../shared/decision-store-dynamodb';
import { LINEAGE_CATALOG_ENV, type LineageCatalog } from '../../contract/lineage';
import { loadCatalogFromEnv } from '../shared/lineage-loader';
import { searchClientFromEnv } from '../shared/search-client';
import { embeddingProviderFor } from '../shared/embeddings';
import { parseViewsEnv, VIEWS_ENV } from '../../contract/view-config';
import { callerFromEvent } from './caller';
import type { McpServerDeps, SearchReader } from './context';
import { FunctionUrlEvent, FunctionUrlResult, eventToRequest, responseToResult } from './http-adapter';
import { powertoolsObserver } from './observability';
import { handleHttpRequest, HttpHandlerOptions } from './server';

/** Environment the construct sets besides the views, the catalog and the stores' client environment. */
export const MCP_ENV = {
  /** Names the decision audit table; without it the decision tools are not offered. */
  decisionTable: DECISION_TABLE_ENV,
  /** JSON `ProtectedResourceMetadata` when the endpoint is behind a JWT authorizer. */
  protectedResource: 'AGENT_MCP_PROTECTED_RESOURCE',
  serverName: 'AGENT_MCP_SERVER_NAME',
} as const;

const logger = new Logger();
const metrics = new Metrics();

let ready: Promise<{ deps: McpServerDeps; cache?: { ready(): Promise<unknown>; close(): Promise<void> }; options: HttpHandlerOptions }> | undefined;

async function init() {
  const views = parseViewsEnv(process.env[VIEWS_ENV]);
  const cache = views.some(v => v.store === 'cache') ? await cacheClientFromEnv() : undefined;
  const redis = cache?.redis;
  const search = views.some(v => v.store === 'search') ? (searchClientFromEnv() as unknown as SearchReader) : undefined;
  const warehouse = views.some(v => v.store === 'warehouse') ? await warehouseReaderFromEnv() : undefined;
  const decisions = process.env[MCP_ENV.decisionTable] ? decisionStoreFromEnv(new DynamoDBClient({})) : undefined;
  const protectedResource = process.env[MCP_ENV.protectedResource];
  const deps: McpServerDeps = {
    views, redis, search, warehouse, decisions,
    // The same provider the sink embeds documents with (Bedrock, or the local embedder with AGENT_EMBEDDINGS=local).
    embeddings: views.some(v => v.search?.vector) ? (vector => embeddingProviderFor(vector)) : undefined,
    catalog: () => loadCatalog(process.env[LINEAGE_CATALOG_ENV]),
    now: () => Date.now(),
    observer: powertoolsObserver(logger, metrics),
    serverName: process.env[MCP_ENV.serverName],
  };
  return { deps, cache, options: { protectedResource: protectedResource ? JSON.parse(protectedResource) : undefined } };
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

/** The lineage catalog (SSM parameters with a digest, or inline JSON locally); absent means lineage answers carry the view config only. */
export async function loadCatalog(location: string | undefined): Promise<LineageCatalog | undefined> {
  if (!location) return undefined;
  try {
    return await loadCatalogFromEnv(undefined, { [LINEAGE_CATALOG_ENV]: location });
  } catch (error) {
    logger.error('lineage catalog could not be loaded', { error: error as Error });
    return undefined;
  }
}

/** Closes the store connections of this container (tests and local runs; Lambda freezes and reuses them). */
export async function close(): Promise<void> {
  const state = await ready?.catch(() => undefined);
  ready = undefined;
  await state?.cache?.close();
  const search = state?.deps.search as { close?: () => Promise<unknown> } | undefined;
  await search?.close?.();
}

export async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
  ready ??= init().catch(error => {
    ready = undefined; // a failed cold start is retried by the next invocation
    throw error;
  });
  let state;
  try {
    state = await ready;
  } catch (error) {
    logger.error('MCP server could not start', { error: error as Error });
    return { statusCode: 503, headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","error":{"code":-32603,"message":"Server unavailable."},"id":null}' };
  }
  logger.appendKeys({ requestId: event.requestContext?.requestId });
  // A cache that cannot be reached fails the cache tools (as tool errors), not the catalog, search or decision tools.
  await state.cache?.ready().catch(error => logger.warn('cache not ready', { errorKind: (error as Error)?.name }));
  return responseToResult(await handleHttpRequest(eventToRequest(event), state.deps, state.options, callerFromEvent(event)));
}
