// The MCP server's search tools (lambda/mcp) on real OpenSearch, over MCP from the SDK client: `<view>_search`, `<view>_aggregate` and
// `<view>_similar` of the synthesized example's views, with the query bodies they build today, on indexes the index handler created
// and documents the sink's writer wrote. The only local change: the tickets vector uses k-NN's lucene engine instead of faiss.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Template } from 'aws-cdk-lib/assertions';
import { defineExampleApp } from '../../bin/example';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { signedSearchReader } from '../../lambda/mcp/search-reader';
import { functionUrlHandler, LocalServer, startLocalServer } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { onEvent } from '../../lambda/search-index/index';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { writeSearchBatch } from '../../lambda/shared/search-writer';
import type { StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { testApp } from '../helpers/app';
import { CfnTemplate, deployedSearchIndexes, deployedViews, LocalOpenSearch, localSearchClient, startOpenSearch, withLuceneVectors } from './harness';

const NOW = Date.parse('2026-11-30T12:00:00Z');
let engine: LocalOpenSearch;
let client: Client;
let local: LocalServer;
let mcp: McpClient;
let views: ViewConfig[];

function stored(view: ViewConfig, key: Record<string, unknown>, version: number, row: Record<string, unknown>, commitTimeMs: number): StoredRecord {
  return {
    view: view.name, row,
    provenance: {
      sourceDatabase: 'shop', sourceTable: view.sourceTable ?? 'orders_enriched', key, commitTimeMs,
      position: { kind: 'postgres', lsn: `0/${version.toString(16)}` }, version: String(version), op: 'u',
      kafka: { topic: view.topic, partition: 0, offset: String(version) }, writtenAtMs: commitTimeMs + 200,
    },
  };
}

const TICKETS = [
  { id: 1, customer_id: 42, subject: 'Refund not received', body: 'I was promised a refund two weeks ago and it never arrived', status: 'open', created_at: '2026-11-28T09:00:00Z' },
  { id: 2, customer_id: 43, subject: 'Login fails', body: 'Password reset email loops back to the login page', status: 'closed', created_at: '2026-11-27T09:00:00Z' },
  { id: 3, customer_id: 42, subject: 'Where is my refund', body: 'Still waiting for the refund of my returned order', status: 'closed', created_at: '2026-11-29T15:30:00Z' },
  { id: 4, customer_id: 44, subject: 'Invoice address wrong', body: 'Please change the invoice address on my account', status: 'pending', created_at: '2026-11-29T16:00:00Z' },
];
const ORDERS = [
  { order_id: 100, customer_id: 42, customer_name: 'Ada Lovelace', customer_tier: 'gold', total: 120.5, source_commit_ts: '2026-11-28T10:00:00Z' },
  { order_id: 101, customer_id: 43, customer_name: 'Bob Builder', customer_tier: 'silver', total: 15, source_commit_ts: '2026-11-29T11:00:00Z' },
  { order_id: 102, customer_id: 42, customer_name: 'Ada Lovelace', customer_tier: 'gold', total: 64.25, source_commit_ts: '2026-11-30T08:00:00Z' },
];

beforeAll(async () => {
  const template = Template.fromStack(defineExampleApp(testApp(), { profile: 'development' })).toJSON() as CfnTemplate;
  views = deployedViews(template).filter(v => v.store === 'search');
  engine = await startOpenSearch();
  client = localSearchClient(engine.url);
  for (const i of deployedSearchIndexes(template)) {
    const { mappings } = withLuceneVectors(i.properties.Mappings);
    await onEvent(client, {
      RequestType: 'Create', ResourceType: 'Custom::AgentSearchIndex', ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's',
      RequestId: 'r', LogicalResourceId: i.logicalId, ResourceProperties: { ServiceToken: 'x', ...i.properties, Mappings: mappings, Endpoint: engine.url },
    } as unknown as CloudFormationCustomResourceEvent);
  }
  const orders = views.find(v => v.name === 'orders')!;
  const tickets = views.find(v => v.name === 'tickets')!;
  const embedder = new HashingEmbedder(tickets.search!.vector!.dimension);
  const w1 = await writeSearchBatch(client, orders, ORDERS.map((r, i) => stored(orders, { order_id: r.order_id }, 10 + i, r, Date.parse(r.source_commit_ts))));
  const w2 = await writeSearchBatch(client, tickets, TICKETS.map((r, i) => stored(tickets, { id: r.id }, 10 + i, r, Date.parse(r.created_at))), { embeddings: embedder });
  expect([w1.failed, w2.failed]).toEqual([[], []]);
  await client.indices.refresh({ index: 'orders,tickets' } as never);

  const deps: McpServerDeps = {
    // The deployed reader (lambda/mcp/search-reader.ts): SigV4-signed fetch calls, which the local engine accepts unchecked.
    views, search: signedSearchReader({ endpoint: engine.url, region: 'us-east-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test' }) }), embeddings: embedder, now: () => NOW, timeouts: { searchMs: 5000, embeddingsMs: 5000 },
  };
  local = await startLocalServer(functionUrlHandler(req => handleHttpRequest(req, deps)));
  mcp = new McpClient({ name: 'engine-test-agent', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${local.url}/mcp`)));
});

afterAll(async () => {
  await mcp?.close();
  await local?.close();
  await client?.close();
  await engine?.stop();
});

type Result = { isError?: boolean; structuredContent?: any; content: Array<{ text?: string }> };
async function call(name: string, args: Record<string, unknown>): Promise<any> {
  const res = await mcp.callTool({ name, arguments: args }) as Result;
  if (res.isError) throw new Error(`${name} failed: ${res.content.map(c => c.text).join('\n')}`);
  return res.structuredContent;
}

test('the example offers search, aggregate and similar tools for its search views', async () => {
  const names = (await mcp.listTools()).tools.map(t => t.name);
  expect(names).toEqual(expect.arrayContaining(['orders_search', 'orders_aggregate', 'tickets_search', 'tickets_aggregate', 'tickets_similar']));
});

describe('<view>_search', () => {
  test('free text, exact filters, ranges, time range, sort and paging run on the real engine', async () => {
    const text = await call('tickets_search', { text: 'refund' });
    expect(text.hits.map((h: any) => h.row.id).sort()).toEqual([1, 3]);
    expect(text.hits[0].provenance).toMatchObject({ sourceDatabase: 'shop', version: expect.any(String) });
    expect(text.hits[0].freshness.ageMs).toBeGreaterThan(0);
    const filtered = await call('tickets_search', { text: 'refund', filters: { status: 'open', customer_id: [42, 43] } });
    expect(filtered.hits.map((h: any) => h.row.id)).toEqual([1]);
    const timed = await call('tickets_search', { timeRange: { from: '2026-11-29T00:00:00Z' }, sort: [{ field: 'created_at', order: 'asc' }] });
    expect(timed.hits.map((h: any) => h.row.id)).toEqual([3, 4]);
    const ranged = await call('orders_search', { ranges: { total: { gte: 20 } }, sort: [{ field: 'total', order: 'desc' }], size: 1, from: 1 });
    expect(ranged).toMatchObject({ total: 2, totalIsLowerBound: false, timedOut: false });
    expect(ranged.hits.map((h: any) => h.row.order_id)).toEqual([102]);
    const byName = await call('orders_search', { text: 'lovelace', sort: [{ field: 'customer_tier', order: 'asc' }, { field: 'source_commit_ts', order: 'desc' }] });
    expect(byName.hits.map((h: any) => h.row.order_id)).toEqual([102, 100]);
  });

  test('query syntax in the text is matched as words, never parsed', async () => {
    const res = await call('tickets_search', { text: 'status:open OR *:* AND (refund' });
    expect(res.hits.map((h: any) => h.row.id).sort()).toEqual([1, 3]);
  });
});

describe('<view>_aggregate', () => {
  test('terms, date_histogram and stats with criteria, and the freshness range', async () => {
    const terms = await call('tickets_aggregate', { aggregation: { type: 'terms', field: 'status', size: 5 } });
    expect(terms).toMatchObject({ matched: 4, bucketsTruncated: false, stats: null });
    expect(terms.buckets).toEqual([{ key: 'closed', count: 2 }, { key: 'open', count: 1 }, { key: 'pending', count: 1 }]);
    // The view declares no maxStaleness, so nothing is stale; aggregates carry no single source position.
    const fresh = { position: null, stale: false, staleByMs: null, maxStalenessMs: null };
    expect(terms.freshness).toEqual({
      newest: { commitTime: '2026-11-29T16:00:00.000Z', ageMs: NOW - Date.parse('2026-11-29T16:00:00Z'), ...fresh },
      oldest: { commitTime: '2026-11-27T09:00:00.000Z', ageMs: NOW - Date.parse('2026-11-27T09:00:00Z'), ...fresh },
      warning: null,
    });
    const perDay = await call('orders_aggregate', { aggregation: { type: 'date_histogram', field: 'source_commit_ts', interval: 'day' } });
    expect(perDay.buckets.map((b: any) => [b.keyAsString, b.count])).toEqual([
      ['2026-11-28T00:00:00.000Z', 1], ['2026-11-29T00:00:00.000Z', 1], ['2026-11-30T00:00:00.000Z', 1],
    ]);
    const stats = await call('orders_aggregate', { filters: { customer_tier: 'gold' }, aggregation: { type: 'stats', field: 'total' } });
    expect(stats).toMatchObject({ matched: 2, stats: { count: 2, min: 64.25, max: 120.5, sum: 184.75 } });
    const tiers = await call('orders_aggregate', { text: 'ada', aggregation: { type: 'terms', field: 'customer_id', size: 3 } });
    expect(tiers.buckets).toEqual([{ key: 42, count: 2 }]);
  });
});

describe('<view>_similar', () => {
  test('k-NN with the server-computed embedding, alone and with filters applied during the search (lucene engine here)', async () => {
    const near = await call('tickets_similar', { text: 'refund never arrived', k: 2 });
    expect(near.hits).toHaveLength(2);
    expect(near.hits[0].row.id).toBe(1);
    expect(near.hits[0].score).toBeGreaterThan(near.hits[1].score);
    const filtered = await call('tickets_similar', { text: 'refund never arrived', k: 3, filters: { status: 'closed' }, timeRange: { to: '2026-11-28T00:00:00Z' } });
    expect(filtered.hits.map((h: any) => h.row.id)).toEqual([2]);
  });
});
