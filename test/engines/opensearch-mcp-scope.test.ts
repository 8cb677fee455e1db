// Row scopes and bounds of the MCP search tools on real OpenSearch: the example's tickets view, scoped by customer_id, read by two
// identities through the SDK client; the scope filter on an integer field, bucket_sort-bounded histograms, terms truncation and
// cursor paging as the engine executes them.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Template } from 'aws-cdk-lib/assertions';
import { defineExampleApp } from '../../bin/example';
import type { CallerIdentity } from '../../lambda/mcp/caller';
import type { McpServerDeps, SearchReader } from '../../lambda/mcp/context';
import { functionUrlHandler, LocalServer, startLocalServer } from '../../lambda/mcp/http-adapter';
import { scopeClause } from '../../lambda/mcp/row-scope';
import { buildAggregateBody } from '../../lambda/mcp/search-query';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { onEvent } from '../../lambda/search-index/index';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { writeSearchBatch } from '../../lambda/shared/search-writer';
import type { ViewConfig } from '../../contract/view-config';
import { testApp } from '../helpers/app';
import { CfnTemplate, deployedSearchIndexes, deployedViews, LocalOpenSearch, localSearchClient, startOpenSearch, withLuceneVectors } from './harness';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const ROLE = 'arn:aws:iam::111122223333:role/customer-43-agent';
const CALLERS: Record<string, CallerIdentity> = {
  alice: { kind: 'jwt', principal: 'https://issuer.example.com#alice', claims: { 'custom:customer': '42' } },
  bob: { kind: 'iam', principal: 'arn:aws:sts::111122223333:assumed-role/customer-43-agent/s1', accountId: '111122223333' },
  carol: { kind: 'jwt', principal: 'https://issuer.example.com#carol', claims: { 'custom:customer': '44' } },
};
/** Customer 44 opened a ticket a minute for 502 minutes: one more minute bucket than a histogram answer serves, plus one. */
const BUSY_START = Date.parse('2026-11-20T00:00:00Z');
const BUSY = Array.from({ length: 502 }, (_, i) => ({
  id: 1000 + i, customer_id: 44, subject: `Ticket ${i}`, body: 'Automated report', status: 'open', created_at: new Date(BUSY_START + i * 60_000).toISOString(),
}));
const TICKETS = [
  { id: 1, customer_id: 42, subject: 'Refund not received', body: 'I was promised a refund two weeks ago', status: 'open', created_at: '2026-11-28T09:00:00Z' },
  { id: 2, customer_id: 43, subject: 'Refund for my order', body: 'Please refund the returned order', status: 'open', created_at: '2026-11-27T09:00:00Z' },
  { id: 3, customer_id: 42, subject: 'Where is my refund', body: 'Still waiting for the refund', status: 'closed', created_at: '2026-11-29T15:30:00Z' },
  { id: 4, customer_id: 42, subject: 'Invoice address wrong', body: 'Please change the invoice address', status: 'pending', created_at: '2026-11-29T16:00:00Z' },
  ...BUSY,
];

let engine: LocalOpenSearch;
let scopedTickets: ViewConfig;
let client: Client;
const locals: LocalServer[] = [];
const mcp: Record<string, McpClient> = {};

beforeAll(async () => {
  const template = Template.fromStack(defineExampleApp(testApp(), { profile: 'development' })).toJSON() as CfnTemplate;
  const example = deployedViews(template).find(v => v.name === 'tickets')!;
  const tickets: ViewConfig = { ...example, rowScope: { field: 'customer_id', claim: 'custom:customer', iamPrincipals: [{ arn: ROLE, value: '43' }] } };
  scopedTickets = tickets;
  engine = await startOpenSearch();
  client = localSearchClient(engine.url);
  for (const i of deployedSearchIndexes(template).filter(x => JSON.stringify(x.properties).includes(tickets.search!.index))) {
    const { mappings } = withLuceneVectors(i.properties.Mappings);
    await onEvent(client, {
      RequestType: 'Create', ResourceType: 'Custom::AgentSearchIndex', ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's',
      RequestId: 'r', LogicalResourceId: i.logicalId, ResourceProperties: { ServiceToken: 'x', ...i.properties, Mappings: mappings, Endpoint: engine.url },
    } as unknown as CloudFormationCustomResourceEvent);
  }
  const embedder = new HashingEmbedder(tickets.search!.vector!.dimension);
  const written = await writeSearchBatch(client, tickets, TICKETS.map((r, i) => ({
    view: 'tickets', row: r,
    provenance: {
      sourceDatabase: 'shop', sourceTable: tickets.sourceTable, key: { id: r.id }, commitTimeMs: Date.parse(r.created_at),
      position: { kind: 'postgres', lsn: `0/${(16 + i).toString(16)}` }, version: String(10 + i), op: 'u',
      kafka: { topic: tickets.topic, partition: 0, offset: String(10 + i) }, writtenAtMs: Date.parse(r.created_at) + 200,
    },
  })), { embeddings: embedder });
  expect(written.failed).toEqual([]);
  await client.indices.refresh({ index: tickets.search!.index } as never);
  const deps: McpServerDeps = { views: [tickets], search: client as unknown as SearchReader, embeddings: embedder, now: () => NOW, timeouts: { searchMs: 5000 } };
  for (const [who, caller] of Object.entries(CALLERS)) {
    const local = await startLocalServer(functionUrlHandler(req => handleHttpRequest(req, deps, {}, caller)));
    locals.push(local);
    mcp[who] = new McpClient({ name: `agent-${who}`, version: '1.0.0' });
    await mcp[who].connect(new StreamableHTTPClientTransport(new URL(`${local.url}/mcp`)));
  }
});

afterAll(async () => {
  for (const c of Object.values(mcp)) await c.close();
  for (const l of locals) await l.close();
  await client?.close();
  await engine?.stop();
});

type Result = { isError?: boolean; structuredContent?: any; content: Array<{ text?: string }> };
async function call(who: string, name: string, args: Record<string, unknown>): Promise<any> {
  const res = await mcp[who].callTool({ name, arguments: args }) as Result;
  if (res.isError) throw new Error(`${name} failed: ${res.content.map(c => c.text).join('\n')}`);
  return res.structuredContent;
}
const ids = (res: any) => res.hits.map((h: any) => h.row.id).sort();

describe('two identities on the real engine', () => {
  test('tickets_search: each caller finds only its own tickets, and a filter naming the other customer finds nothing', async () => {
    expect(ids(await call('alice', 'tickets_search', { text: 'refund' }))).toEqual([1, 3]);
    expect(ids(await call('bob', 'tickets_search', { text: 'refund' }))).toEqual([2]);
    expect(ids(await call('alice', 'tickets_search', { filters: { customer_id: 43 } }))).toEqual([]);
    expect(ids(await call('alice', 'tickets_search', { filters: { customer_id: [42, 43] } }))).toEqual([1, 3, 4]);
  });

  test('tickets_aggregate counts the caller\'s tickets only', async () => {
    const a = await call('alice', 'tickets_aggregate', { aggregation: { type: 'terms', field: 'status', size: 5 } });
    expect(a).toMatchObject({ matched: 3, truncated: false });
    expect(a.buckets).toEqual([{ key: 'closed', count: 1 }, { key: 'open', count: 1 }, { key: 'pending', count: 1 }]);
    const b = await call('bob', 'tickets_aggregate', { aggregation: { type: 'terms', field: 'customer_id', size: 5 }, filters: { customer_id: [42, 43] } });
    expect(b.buckets).toEqual([{ key: 43, count: 1 }]);
  });

  test('tickets_similar: neighbours come from the caller\'s tickets', async () => {
    expect(ids(await call('bob', 'tickets_similar', { text: 'refund never arrived', k: 3 }))).toEqual([2]);
    expect(ids(await call('alice', 'tickets_similar', { text: 'refund never arrived', k: 5 }))).toEqual([1, 3, 4]);
  });

  test('get_lineage and describe_source see the caller\'s rows only', async () => {
    expect(await call('alice', 'get_lineage', { view: 'tickets', key: { id: 2 } })).toMatchObject({ found: false, provenance: null });
    expect(await call('bob', 'get_lineage', { view: 'tickets', key: { id: 2 } })).toMatchObject({ found: true, provenance: { version: '11' } });
    expect((await call('alice', 'describe_source', { view: 'tickets' })).documents).toBe(3);
    expect((await call('bob', 'describe_source', { view: 'tickets' })).documents).toBe(1);
  });
});

describe('bounds on the real engine', () => {
  test('cursor paging walks the caller\'s tickets one per page, then stops', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await call('alice', 'tickets_search', { sort: [{ field: 'created_at', order: 'asc' }], size: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.hits.map((h: any) => h.row.id));
      cursor = page.nextCursor ?? undefined;
      expect(page.truncated).toBe(cursor !== undefined);
    } while (cursor);
    expect(seen).toEqual([1, 3, 4]);
  });

  test('terms with fewer buckets than values says how many rows were left out', async () => {
    const res = await call('alice', 'tickets_aggregate', { aggregation: { type: 'terms', field: 'status', size: 1 } });
    expect(res).toMatchObject({ truncated: true, limitNote: expect.stringMatching(/^2 matching rows have values outside these top 1/) });
  });

  test('a date histogram with more buckets than the cap: the engine returns 501, 500 are served, and the answer says where to go on', async () => {
    const res = await call('carol', 'tickets_aggregate', { aggregation: { type: 'date_histogram', field: 'created_at', interval: 'minute' } });
    expect(res.buckets).toHaveLength(500);
    expect(res.buckets[0]).toEqual({ key: BUSY_START, keyAsString: '2026-11-20T00:00:00.000Z', count: 1 });
    expect(res).toMatchObject({ matched: 502, truncated: true, limitNote: expect.stringMatching(/starting after 2026-11-20T08:19:00\.000Z/) });
    // The bound holds in the engine, not only in the server: the body the tool sends gets 501 of the 502 buckets back.
    const body = buildAggregateBody(scopedTickets, {}, { type: 'date_histogram', field: 'created_at', interval: 'minute' }, 5000,
      scopeClause(scopedTickets, { field: 'customer_id', value: '44' }));
    const raw = await client.search({ index: scopedTickets.search!.index, body } as never);
    expect((raw.body as any).aggregations.result.buckets).toHaveLength(501);
  });

  test('a date histogram within the cap runs with its bucket_sort bound', async () => {
    const res = await call('alice', 'tickets_aggregate', { aggregation: { type: 'date_histogram', field: 'created_at', interval: 'day' } });
    expect(res.buckets.map((b: any) => [b.keyAsString, b.count])).toEqual([['2026-11-28T00:00:00.000Z', 1], ['2026-11-29T00:00:00.000Z', 2]]);
    expect(res.truncated).toBe(false);
  });
});
