// Test harness: seeds real Redis and the OpenSearch stand-in, serves the handler through the local function-URL adapter, connects
// a real SDK client of either protocol generation (v1 `@modelcontextprotocol/sdk` on 2025-11-25, v2 `@modelcontextprotocol/client` on 2026-07-28).
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { CACHE_FIELDS, cacheKey, paddedVersion, StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps, SearchReader, ToolCallEvent } from '../../lambda/mcp/context';
import { functionUrlHandler, LocalServer, startLocalServer } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { catalog, InMemoryDecisionStore, NOW_MS, OpenSearchStandIn, record, testViews, uniquePrefix } from './support';

export const COMMIT = NOW_MS - 4_000;

export type ToolResult = { isError?: boolean; structuredContent?: any; content: any[] };

/** The two protocol generations every client-facing suite runs against. */
export type ClientGeneration = '2025-11-25' | '2026-07-28';
export const GENERATIONS: ClientGeneration[] = ['2025-11-25', '2026-07-28'];

/** What the tests use of a client; both SDK generations' `Client` satisfy it. */
export interface McpClient {
  listTools(): Promise<{ tools: any[] }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
  getServerVersion(): { name: string; version: string } | undefined;
  getServerCapabilities(): Record<string, any> | undefined;
  getInstructions(): string | undefined;
  close(): Promise<void>;
}

/** The protocol revision the client negotiated (v2: `getNegotiatedProtocolVersion()`; v1: its transport's header value). */
export function negotiatedVersion(client: McpClient): string | undefined {
  const c = client as unknown as { getNegotiatedProtocolVersion?: () => string | undefined; transport?: { protocolVersion?: string } };
  return c.getNegotiatedProtocolVersion ? c.getNegotiatedProtocolVersion() : c.transport?.protocolVersion;
}

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

/** A real SDK client: v1 for 2025-11-25 (initialize), v2 pinned to 2026-07-28 (server/discover, per-request envelope). */
export async function connectClient(url: string, generation: ClientGeneration = '2025-11-25'): Promise<McpClient> {
  if (generation === '2026-07-28') {
    const c = new ModernClient({ name: 'test-agent', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await c.connect(new ModernTransport(new URL(`${url}/mcp`)));
    return c as unknown as McpClient;
  }
  const c = new LegacyClient({ name: 'test-agent', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return c as unknown as McpClient;
}

export async function startHarness(generation: ClientGeneration = '2025-11-25'): Promise<Harness> {
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
    // Timeouts a loaded machine cannot reach for a local round trip (a worker stalled 600 ms by GC or the scheduler failed a
    // search under 500 ms); the test of the timeout itself sets a short one for its call.
    timeouts: { cacheMs: 5000, searchMs: 5000 },
    observer: { onToolCall: e => events.push(e) },
  };
  const local: LocalServer = await startLocalServer(functionUrlHandler(req => handleHttpRequest(req, deps, {
    protectedResource: { resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://issuer.example.com'] },
  })));
  const client = await connectClient(local.url, generation);
  return {
    url: local.url, client, deps, redis, opensearch, decisions, events, embedder, views, prefix,
    call: (name, args) => client.callTool({ name, arguments: args }) as Promise<ToolResult>,
    connect: () => connectClient(local.url, generation),
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
