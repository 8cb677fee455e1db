// Test harness: seeds real Redis and the OpenSearch stand-in, serves the handler through the local function-URL adapter, connects the SDK Client.
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { CACHE_FIELDS, cacheKey, paddedVersion, StoredRecord } from '../../lambda/shared/stored-record';
import type { ViewConfig } from '../../lambda/shared/view-config';
import type { McpServerDeps, SearchReader, ToolCallEvent } from '../../lambda/mcp/context';
import { functionUrlHandler, LocalServer, startLocalServer } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { catalog, InMemoryDecisionStore, NOW_MS, OpenSearchStandIn, record, testViews, uniquePrefix } from './support';

export const COMMIT = NOW_MS - 4_000;

export type ToolResult = { isError?: boolean; structuredContent?: any; content: any[] };

export interface Harness {
  readonly url: string;
  readonly client: McpClient;
  readonly deps: McpServerDeps;
  readonly redis: Redis;
  readonly opensearch: OpenSearchStandIn;
  readonly decisions: InMemoryDecisionStore;
  readonly events: ToolCallEvent[];
  readonly embedder: HashingEmbedder;
  readonly views: ViewConfig[];
  readonly prefix: string;
  call(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  connect(): Promise<McpClient>;
  stop(): Promise<void>;
}

export function errorText(res: { content: any[] }): string {
  return res.content.map(c => c.text).join('\n');
}

export async function connectClient(url: string): Promise<McpClient> {
  const c = new McpClient({ name: 'test-agent', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return c;
}

export async function startHarness(): Promise<Harness> {
  const prefix = uniquePrefix();
  const views = testViews(prefix);
  const byName = (n: string) => views.find(v => v.name === n)!;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  const opensearch = new OpenSearchStandIn();
  const decisions = new InMemoryDecisionStore(() => NOW_MS);
  const events: ToolCallEvent[] = [];
  const embedder = new HashingEmbedder(16);
  const seedCache = async (view: ViewConfig, rec: StoredRecord) => {
    const k = cacheKey(view.cache!.keyPrefix, view.key, rec.provenance.key);
    await redis.hset(k, CACHE_FIELDS.version, paddedVersion(rec.provenance.version), CACHE_FIELDS.record, JSON.stringify(rec));
  };
  await redis.connect();
  await opensearch.start();
  const customers = byName('customers');
  await seedCache(customers, record('customers', 'public.customers', { customer_id: '42' }, { customer_id: 42, email: 'ada@example.com', name: 'Ada', tier: 'gold', updated_at: '2026-11-27T11:59:56Z' }, COMMIT, 17));
  await seedCache(customers, record('customers', 'public.customers', { customer_id: '43' }, { customer_id: 43, email: 'bob@example.com', name: 'Bob', tier: 'silver', updated_at: '2026-11-27T10:00:00Z' }, NOW_MS - 3_600_000, 9));
  await seedCache(customers, record('customers', 'public.customers', { customer_id: '44' }, null, NOW_MS - 60_000, 21));
  await seedCache(byName('order_items'), record('order_items', 'public.order_items', { order_id: '7', sku: 'A:1*' }, { order_id: 7, sku: 'A:1*', qty: 3 }, COMMIT, 5));
  const tickets = byName('tickets');
  opensearch.seed(tickets.search!.index, tickets.key, record('tickets', 'public.tickets', { ticket_id: 'T-1' }, { ticket_id: 'T-1', customer_id: 42, subject: 'Refund not received', body: 'I was promised a refund', status: 'open', priority: 2, amount: 19.5, created_at: '2026-11-26T09:00:00Z' }, COMMIT, 3));
  opensearch.seed(tickets.search!.index, tickets.key, record('tickets', 'public.tickets', { ticket_id: 'T-2' }, { ticket_id: 'T-2', customer_id: 43, subject: 'Login fails', body: 'Password reset loops', status: 'closed', priority: 1, amount: 0, created_at: '2026-11-25T09:00:00Z' }, NOW_MS - 90_000, 4));
  const search = new OpenSearchClient({ node: opensearch.url, maxRetries: 0 }) as unknown as SearchReader;
  const deps: McpServerDeps = {
    views, redis, search, decisions, catalog, now: () => NOW_MS, embeddings: embedder,
    timeouts: { cacheMs: 1000, searchMs: 500 },
    observer: { onToolCall: e => events.push(e) },
  };
  const local: LocalServer = await startLocalServer(functionUrlHandler(req => handleHttpRequest(req, deps, {
    protectedResource: { resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://issuer.example.com'] },
  })));
  const client = await connectClient(local.url);
  return {
    url: local.url, client, deps, redis, opensearch, decisions, events, embedder, views, prefix,
    call: (name, args) => client.callTool({ name, arguments: args }) as Promise<ToolResult>,
    connect: () => connectClient(local.url),
    async stop() {
      await client.close();
      await local.close();
      await opensearch.stop();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}
