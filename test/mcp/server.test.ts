// The MCP handler end to end: the SDK Client over Streamable HTTP -> local function-URL adapter -> handler -> real Redis and a recording OpenSearch stand-in.
import { NOW_MS } from './support';
import { COMMIT, errorText, Harness, startHarness } from './harness';
import { allToolNames } from '../../contract/tool-names';

let h: Harness;
let decisions: Harness['decisions'];
let opensearch: Harness['opensearch'];
let events: Harness['events'];
const call = (name: string, args: Record<string, unknown>) => h.call(name, args);

beforeAll(async () => {
  h = await startHarness();
  ({ decisions, opensearch, events } = h);
});

afterAll(async () => {
  await h?.stop();
});

describe('discovery', () => {
  test('initialize: server info, tools capability and instructions', () => {
    expect(h.client.getServerVersion()).toEqual({ name: 'cdk-agent-data-stack', version: '0.1.0' });
    expect(h.client.getServerCapabilities()?.tools).toBeDefined();
    expect(h.client.getInstructions()).toMatch(/list_sources.*record_decision/s);
  });

  test('tools/list offers exactly the tools the views call for, with strict input and declared output schemas', async () => {
    const { tools } = await h.client.listTools();
    expect(tools.map(t => t.name).sort()).toEqual([
      'customers_lookup', 'customers_lookup_many', 'describe_source', 'get_decision', 'get_lineage', 'list_sources',
      'order_items_lookup', 'order_items_lookup_many', 'record_decision', 'tickets_aggregate', 'tickets_search', 'tickets_similar',
    ]);
    expect(tools.map(t => t.name)).toEqual(allToolNames(h.views, true));
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect((t.inputSchema as any).additionalProperties).toBe(false);
      expect(t.outputSchema?.type).toBe('object');
      expect(t.description?.length).toBeGreaterThan(20);
    }
    const lookup = tools.find(t => t.name === 'customers_lookup')!;
    expect(lookup.inputSchema.required).toEqual(['customer_id']);
    expect(lookup.annotations?.readOnlyHint).toBe(true);
    const search = tools.find(t => t.name === 'tickets_search')!;
    const filters = (search.inputSchema.properties as any).filters;
    expect(Object.keys(filters.properties).sort()).toEqual(['amount', 'created_at', 'customer_id', 'priority', 'requester', 'status', 'ticket_id']);
    expect((search.inputSchema.properties as any).size.maximum).toBe(100);
  });

  test('list_sources describes every view with key, fields, tools and lineage', async () => {
    const res = await call('list_sources', {});
    expect(res.isError).toBeFalsy();
    const sources = res.structuredContent.sources;
    expect(sources.map((s: any) => s.view)).toEqual(['customers', 'order_items', 'tickets']);
    expect(sources[0]).toMatchObject({
      store: 'cache', key: ['customer_id'], sourceTable: 'public.customers', tools: ['customers_lookup', 'customers_lookup_many'],
      freshness: { reportedPer: 'row', maxStalenessMs: 600_000, cacheTtlSeconds: 86400 },
      lineage: { sourceTables: ['public.customers'], topic: 'agentdata.public.customers', pipeline: [] },
    });
    expect(sources[2].lineage).toBeNull();
    expect(res.structuredContent.catalogNamespace).toBe('TestStack');
  });

  test('describe_source returns the upstream lineage path and, for search views, the freshness of the index', async () => {
    const c = await call('describe_source', { view: 'customers' });
    expect(c.structuredContent.upstream.map((n: any) => n.id)).toEqual([
      'source-table:public.customers', 'connector:agentdata', 'topic:agentdata.public.customers', 'sink:cache-sink', 'store:cache:customers:',
    ]);
    opensearch.aggregations = { newest: { value: COMMIT }, oldest: { value: NOW_MS - 90_000 } };
    const t = await call('describe_source', { view: 'tickets' });
    expect(t.structuredContent.storeFreshness).toMatchObject({
      newest: { commitTime: new Date(COMMIT).toISOString(), ageMs: 4000, stale: false },
      oldest: { commitTime: new Date(NOW_MS - 90_000).toISOString(), ageMs: 90000, stale: true, staleByMs: 30_000, maxStalenessMs: 60_000 },
      warning: expect.stringMatching(/^The oldest matching row is older than the view's maxStaleness of 1\.0 min: .*, 1\.5 min ago \(30\.0 s beyond the bound\)/),
    });
    expect(t.structuredContent.documents).toBe(2);
  });
});

describe('cache lookups', () => {
  test('customers_lookup returns the stored row with its provenance and age', async () => {
    const res = await call('customers_lookup', { customer_id: 42 });
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toMatchObject({
      view: 'customers', found: true, deleted: false,
      row: { customer_id: 42, email: 'ada@example.com', tier: 'gold' },
      provenance: { sourceTable: 'public.customers', version: '17', position: { kind: 'postgres', lsn: '0/110' }, commitTimeMs: COMMIT },
      freshness: { ageMs: 4000, commitTime: new Date(COMMIT).toISOString() },
    });
    expect(JSON.parse(res.content[0].text)).toEqual(res.structuredContent);
  });

  test('an integer key given as a string finds the same row', async () => {
    const res = await call('customers_lookup', { customer_id: '42' });
    expect(res.structuredContent.found).toBe(true);
  });

  test('a deleted row is reported as deleted, with the provenance of the delete', async () => {
    const res = await call('customers_lookup', { customer_id: 44 });
    expect(res.structuredContent).toMatchObject({ found: false, deleted: true, row: null, provenance: { op: 'd', version: '21' }, freshness: { ageMs: 60000 } });
  });

  test('an unknown key is not found, with no provenance', async () => {
    const res = await call('customers_lookup', { customer_id: 999 });
    expect(res.structuredContent).toMatchObject({ found: false, deleted: false, row: null, provenance: null, freshness: null });
  });

  test('customers_lookup_many returns rows in the order asked, with counts', async () => {
    const res = await call('customers_lookup_many', { keys: [{ customer_id: 43 }, { customer_id: 999 }, { customer_id: 42 }] });
    const s = res.structuredContent;
    expect(s.results.map((r: any) => r.row?.name ?? null)).toEqual(['Bob', null, 'Ada']);
    expect(s.results.map((r: any) => r.freshness?.ageMs ?? null)).toEqual([3_600_000, null, 4000]);
    expect([s.found, s.missing]).toEqual([2, 1]);
  });

  test('composite keys: every key column is required and glob characters in values are literal', async () => {
    const hit = await call('order_items_lookup', { order_id: 7, sku: 'A:1*' });
    expect(hit.structuredContent.row).toEqual({ order_id: 7, sku: 'A:1*', qty: 3 });
    const glob = await call('order_items_lookup', { order_id: 7, sku: 'A:1?' });
    expect(glob.structuredContent.found).toBe(false);
    const star = await call('order_items_lookup', { order_id: 7, sku: '*' });
    expect(star.structuredContent.found).toBe(false);
    const missing = await call('order_items_lookup', { order_id: 7 });
    expect(missing.isError).toBe(true);
    expect(errorText(missing)).toMatch(/sku/);
  });
});

describe('search and aggregation', () => {
  test('tickets_search returns hits with provenance and age, and sends only whitelisted fields', async () => {
    opensearch.requests.length = 0;
    const res = await call('tickets_search', {
      text: 'refund', filters: { status: ['open', 'pending'], customer_id: 42, requester: 'Ada Lovelace' }, ranges: { priority: { gte: 1 } },
      timeRange: { from: '2026-11-01T00:00:00Z', to: '2026-11-30T00:00:00Z' }, sort: [{ field: 'priority', order: 'desc' }], size: 5,
    });
    expect(errorText(res)).not.toMatch(/error/i);
    expect(res.structuredContent.hits[0]).toMatchObject({
      id: '"T-1"', score: 1.5, row: { ticket_id: 'T-1', subject: 'Refund not received' },
      provenance: { sourceTable: 'public.tickets', version: '3' }, freshness: { ageMs: 4000 },
    });
    expect(res.structuredContent.hits[0].row._provenance).toBeUndefined();
    expect(res.structuredContent.total).toBe(2);
    expect(opensearch.requests).toHaveLength(1);
    const req = opensearch.requests[0];
    expect(req.path).toBe('/tickets-v1/_search');
    expect(req.body).toEqual({
      query: { bool: {
        must: [{ multi_match: { query: 'refund', fields: ['subject', 'body', 'requester'], type: 'best_fields', operator: 'or', lenient: true } }],
        filter: [
          { term: { customer_id: 42 } }, { terms: { status: ['open', 'pending'] } }, { term: { 'requester.keyword': 'Ada Lovelace' } },
          { range: { priority: { gte: 1 } } },
          { range: { created_at: { gte: '2026-11-01T00:00:00Z', lte: '2026-11-30T00:00:00Z' } } },
        ],
      } },
      size: 5, from: 0, timeout: '5000ms', track_total_hits: 1000,
      _source: { includes: ['ticket_id', 'customer_id', 'subject', 'body', 'status', 'priority', 'amount', 'created_at', 'meta', 'requester', '_provenance'] },
      sort: [{ priority: { order: 'desc' } }],
    });
  });

  test('without criteria a search matches all rows, 10 by default', async () => {
    opensearch.requests.length = 0;
    await call('tickets_search', {});
    expect(opensearch.requests[0].body).toMatchObject({ query: { match_all: {} }, size: 10, from: 0 });
  });

  test('tickets_aggregate: terms, date histogram and stats on declared fields, with the freshness of the matched rows', async () => {
    opensearch.aggregations = {
      result: { buckets: [{ key: 'open', doc_count: 1 }, { key: 'closed', doc_count: 1 }] },
      newest: { value: COMMIT }, oldest: { value: NOW_MS - 90_000 },
    };
    opensearch.requests.length = 0;
    const terms = await call('tickets_aggregate', { filters: { customer_id: [42, 43] }, aggregation: { type: 'terms', field: 'status', size: 5 } });
    expect(terms.isError).toBeFalsy();
    expect(terms.structuredContent).toMatchObject({
      aggregation: { type: 'terms', field: 'status' }, matched: 2,
      buckets: [{ key: 'open', count: 1 }, { key: 'closed', count: 1 }], stats: null,
      freshness: { newest: { ageMs: 4000 }, oldest: { ageMs: 90000 } },
    });
    expect(opensearch.requests[0].body).toEqual({
      query: { bool: { filter: [{ terms: { customer_id: [42, 43] } }] } }, size: 0, timeout: '5000ms', track_total_hits: true,
      aggs: {
        result: { terms: { field: 'status', size: 5 } },
        newest: { max: { field: '_provenance.commitTimeMs' } }, oldest: { min: { field: '_provenance.commitTimeMs' } },
      },
    });

    opensearch.aggregations = { result: { buckets: [{ key: 1764115200000, key_as_string: '2026-11-26T00:00:00.000Z', doc_count: 1 }] } };
    const hist = await call('tickets_aggregate', { aggregation: { type: 'date_histogram', field: 'created_at', interval: 'day' } });
    expect(hist.structuredContent.buckets).toEqual([{ key: 1764115200000, keyAsString: '2026-11-26T00:00:00.000Z', count: 1 }]);
    // No time range: a min/max request on the field bounds the histogram first (test/mcp/histogram-open-range.test.ts), then the aggregation.
    expect(opensearch.requests.at(-1)!.body.aggs.result).toEqual({
      date_histogram: { field: 'created_at', calendar_interval: 'day', min_doc_count: 1 }, aggs: { bounded: { bucket_sort: { size: 501 } } },
    });

    opensearch.aggregations = { result: { count: 2, min: 0, max: 19.5, avg: 9.75, sum: 19.5 } };
    const stats = await call('tickets_aggregate', { aggregation: { type: 'stats', field: 'amount' } });
    expect(stats.structuredContent.stats).toEqual({ count: 2, min: 0, max: 19.5, avg: 9.75, sum: 19.5 });
    expect(stats.structuredContent.freshness).toBeNull();
  });
});

describe('similarity', () => {
  test('tickets_similar embeds the text with the view\'s provider and sends a bounded, filtered k-NN query', async () => {
    opensearch.requests.length = 0;
    h.embedder.calls.length = 0;
    const res = await call('tickets_similar', { text: 'I want my money back', k: 3, filters: { status: 'open' }, timeRange: { from: '2026-11-01' } });
    expect(res.isError).toBeFalsy();
    expect(h.embedder.calls).toEqual([['I want my money back']]);
    expect(res.structuredContent).toMatchObject({ view: 'tickets', model: 'amazon.titan-embed-text-v2:0', hits: [{ id: '"T-1"', score: 1.5, provenance: { version: '3' }, freshness: { ageMs: 4000 } }, { id: '"T-2"' }] });
    const body = opensearch.requests[0].body;
    expect(opensearch.requests[0].path).toBe('/tickets-v1/_search');
    expect(body).toEqual({
      size: 3, timeout: '5000ms',
      _source: { includes: ['ticket_id', 'customer_id', 'subject', 'body', 'status', 'priority', 'amount', 'created_at', 'meta', 'requester', '_provenance'] },
      query: { knn: { text_vector_v1: {
        vector: h.embedder.vector('I want my money back'), k: 3,
        filter: { bool: { filter: [{ term: { status: 'open' } }, { range: { created_at: { gte: '2026-11-01' } } }] } },
      } } },
    });
    expect(body.query.knn.text_vector_v1.vector).toHaveLength(16);
  });

  test('without criteria the k-NN query has no filter and k defaults to 10', async () => {
    opensearch.requests.length = 0;
    await call('tickets_similar', { text: 'login' });
    expect(opensearch.requests[0].body.query.knn.text_vector_v1).toEqual({ vector: expect.any(Array), k: 10 });
  });
});

describe('lineage and decisions', () => {
  test('get_lineage traces a cached row to its source position and pipeline', async () => {
    const res = await call('get_lineage', { view: 'customers', key: { customer_id: 42 } });
    expect(res.structuredContent).toMatchObject({
      view: 'customers', found: true,
      provenance: { sourceDatabase: 'agentdata', sourceTable: 'public.customers', position: { kind: 'postgres', lsn: '0/110', txId: 717 }, kafka: { offset: '17' } },
      freshness: { ageMs: 4000 }, pipeline: { topic: 'agentdata.public.customers' },
    });
    expect(res.structuredContent.upstream.map((n: any) => n.kind)).toEqual(['source-table', 'connector', 'topic', 'sink', 'store']);
  });

  test('get_lineage reads a search document by its id', async () => {
    opensearch.requests.length = 0;
    const res = await call('get_lineage', { view: 'tickets', key: { ticket_id: 'T-2' } });
    expect(res.structuredContent).toMatchObject({ found: true, provenance: { version: '4' }, freshness: { ageMs: 90000 }, pipeline: null });
    expect(opensearch.requests[0].path).toMatch(/^\/tickets-v1\/_doc\/%22T-2%22\?_source_includes=/);
  });

  test('get_lineage rejects a key that does not fit the view', async () => {
    const res = await call('get_lineage', { view: 'customers', key: { email: 'ada@example.com' } });
    expect(res.isError).toBe(true);
    expect(errorText(res)).toMatch(/key columns are: customer_id/);
  });

  test('record_decision stores the decision with the provenance it relied on; get_decision reads it back', async () => {
    const lookup = await call('customers_lookup', { customer_id: 42 });
    const rec = await call('record_decision', {
      agentId: 'support-agent-1', decision: 'refund approved', rationale: 'gold tier, refund promised in T-1',
      toolCalls: [{ tool: 'customers_lookup', arguments: { customer_id: 42 } }],
      dataReferences: [{ view: 'customers', key: { customer_id: 42 }, provenance: lookup.structuredContent.provenance }],
    });
    expect(rec.isError).toBeFalsy();
    const id = rec.structuredContent.decisionId;
    expect(decisions.records.get(id)?.dataReferences[0].provenance?.version).toBe('17');
    const got = await call('get_decision', { decisionId: id });
    expect(got.structuredContent).toMatchObject({ found: true, decision: { decisionId: id, agentId: 'support-agent-1', recordedAt: new Date(NOW_MS).toISOString() } });
    const none = await call('get_decision', { decisionId: 'dec-404' });
    expect(none.structuredContent).toEqual({ found: false, decision: null });
  });
});

describe('freshness on every answer', () => {
  test('a fresh row states its commit time, source position and age, and is not stale', async () => {
    const res = await call('customers_lookup', { customer_id: 42 });
    expect(res.structuredContent.freshness).toEqual({
      commitTime: new Date(COMMIT).toISOString(), position: { kind: 'postgres', lsn: '0/110', txId: 717 }, ageMs: 4000,
      stale: false, maxStalenessMs: 600_000, staleByMs: null,
    });
    expect(res.structuredContent.warning).toBeNull();
  });

  test('a row older than the view\'s maxStaleness is still answered, marked stale, with how stale', async () => {
    const res = await call('customers_lookup', { customer_id: 43 });
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent.row.name).toBe('Bob');
    expect(res.structuredContent.freshness).toMatchObject({ ageMs: 3_600_000, stale: true, maxStalenessMs: 600_000, staleByMs: 3_000_000 });
    expect(res.structuredContent.warning).toBe(
      "The data is older than the view's maxStaleness of 10 min: it was committed at 2026-11-27T11:00:00.000Z, 1.0 h ago (50 min beyond the bound). The pipeline may be behind; decide whether this is fresh enough.",
    );
  });

  test('multi-row answers summarise the oldest, the newest and how many rows are stale', async () => {
    const many = await call('customers_lookup_many', { keys: [{ customer_id: 42 }, { customer_id: 43 }, { customer_id: 999 }] });
    expect(many.structuredContent.freshness).toMatchObject({
      rows: 2, oldestCommitTime: new Date(NOW_MS - 3_600_000).toISOString(), newestCommitTime: new Date(COMMIT).toISOString(),
      maxAgeMs: 3_600_000, staleRows: 1, maxStalenessMs: 600_000, warning: expect.stringMatching(/^1 of 2 rows are older than/),
    });
    const search = await call('tickets_search', {});
    expect(search.structuredContent.hits.map((h: any) => h.freshness.stale)).toEqual([false, true]);
    expect(search.structuredContent.freshness).toMatchObject({ rows: 2, staleRows: 1, maxAgeMs: 90_000 });
  });

  test('a view without maxStaleness states ages and never marks stale', async () => {
    const res = await call('order_items_lookup', { order_id: 7, sku: 'A:1*' });
    expect(res.structuredContent.freshness).toMatchObject({ ageMs: 4000, stale: false, maxStalenessMs: null, staleByMs: null, position: { kind: 'postgres' } });
  });
});

describe('observability', () => {
  test('each call is reported with tool, latency, result size and the source positions served', async () => {
    events.length = 0;
    await call('customers_lookup_many', { keys: [{ customer_id: 42 }, { customer_id: 43 }] });
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e).toMatchObject({ tool: 'customers_lookup_many', outcome: 'ok', resultCount: 2 });
    expect(e.resultBytes).toBeGreaterThan(100);
    expect(e.latencyMs).toBeGreaterThanOrEqual(0);
    expect(e.positions.map(p => p.version)).toEqual(['17', '9']);
  });
});
