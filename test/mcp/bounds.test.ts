// Bounded work, each bound hit through a real SDK client: the answer byte budget and cursors of lookup_many and search, the search
// window, bounded aggregation buckets, and the `<view>_similar` query embedding cache (hit, miss, eviction, expiry).
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { CACHE_FIELDS, cacheKey, paddedVersion } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import type { McpBounds, McpServerDeps, QueryEmbedder, SearchReader } from '../../lambda/mcp/context';
import { encodeCursor } from '../../lambda/mcp/cursor';
import { EmbeddingCache } from '../../lambda/mcp/embedding-cache';
import { functionUrlHandler, LocalServer, startLocalServer } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { connectClient, errorText, McpClient, ToolResult } from './harness';
import { NOW_MS, OpenSearchStandIn, record, testViews, uniquePrefix } from './support';

/** Counts the texts it was asked to embed. */
class CountingEmbedder implements QueryEmbedder {
  readonly dimension = 16;
  readonly texts: string[] = [];
  private readonly inner = new HashingEmbedder(16);
  async embed(texts: string[]): Promise<number[][]> {
    this.texts.push(...texts);
    return this.inner.embed(texts);
  }
}

let views: ViewConfig[];
let redis: Redis;
let opensearch: OpenSearchStandIn;
let local: LocalServer;
let client: McpClient;
let prefix: string;
let clock = NOW_MS;
const bounds: { -readonly [K in keyof McpBounds]: McpBounds[K] } = {};
const embedder = new CountingEmbedder();
const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<ToolResult>;
const searches = () => opensearch.requests.filter(r => r.path.includes('_search'));

beforeAll(async () => {
  prefix = uniquePrefix();
  views = testViews(prefix);
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const customers = views[0];
  for (let id = 1; id <= 6; id++) {
    const rec = record('customers', 'public.customers', { customer_id: String(id) }, { customer_id: id, email: `c${id}@example.com`, name: 'x'.repeat(400), tier: 'gold' }, NOW_MS - 1000, id);
    await redis.hset(cacheKey(customers.cache!.keyPrefix, customers.key, rec.provenance.key), CACHE_FIELDS.version, paddedVersion(String(id)), CACHE_FIELDS.record, JSON.stringify(rec));
  }
  opensearch = new OpenSearchStandIn();
  await opensearch.start();
  const tickets = views[2];
  for (let i = 0; i < 1005; i++) {
    const id = `T-${String(i).padStart(4, '0')}`;
    opensearch.seed(tickets.search!.index, tickets.key, record('tickets', 'public.tickets', { ticket_id: id }, { ticket_id: id, subject: 's', status: 'open', created_at: '2026-11-26T09:00:00Z' }, NOW_MS - 1000, 1));
  }
  const deps: McpServerDeps = {
    views, redis, embeddings: embedder, bounds, now: () => clock, timeouts: { cacheMs: 5000, searchMs: 5000 },
    search: new OpenSearchClient({ node: opensearch.url, maxRetries: 0 }) as unknown as SearchReader,
  };
  local = await startLocalServer(functionUrlHandler(req => handleHttpRequest(req, deps)));
  client = await connectClient(local.url);
});

afterAll(async () => {
  await client?.close();
  await local?.close();
  await opensearch?.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis?.quit();
});

beforeEach(() => {
  for (const k of Object.keys(bounds)) delete (bounds as Record<string, unknown>)[k];
  opensearch.requests.length = 0;
  opensearch.aggregations = {};
});

describe('lookup_many: byte budget and cursor', () => {
  const keys = [1, 2, 3, 4, 5, 6].map(customer_id => ({ customer_id }));

  test('an answer over the budget stops with truncated=true and a cursor that serves every remaining key exactly once', async () => {
    bounds.maxResultBytes = 2500;
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call('customers_lookup_many', { keys, ...(cursor ? { cursor } : {}) });
      expect(res.isError).toBeFalsy();
      const s = res.structuredContent;
      expect(Buffer.byteLength(JSON.stringify(s.results))).toBeLessThanOrEqual(2500 + 10);
      seen.push(...s.results.map((r: any) => r.key.customer_id));
      expect(s.remainingKeys).toBe(6 - seen.length);
      expect(s.truncated).toBe(s.remainingKeys > 0);
      cursor = s.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pages).toBeGreaterThan(2);
  });

  test('without the budget reached: one page, truncated=false, no cursor', async () => {
    const res = await call('customers_lookup_many', { keys });
    expect(res.structuredContent).toMatchObject({ found: 6, truncated: false, nextCursor: null, remainingKeys: 0 });
  });

  test('a row larger than the whole budget is still served, one per page, so paging always progresses', async () => {
    bounds.maxResultBytes = 10;
    const res = await call('customers_lookup_many', { keys: keys.slice(0, 2) });
    expect(res.structuredContent.results).toHaveLength(1);
    expect(res.structuredContent).toMatchObject({ truncated: true, remainingKeys: 1, nextCursor: expect.any(String) });
  });

  test.each([
    ['garbage', () => 'not-a-cursor', /^cursor_invalid: argument 'cursor' is not a cursor this server issued/],
    ['a cursor for other keys', () => encodeCursor('customers_lookup_many', 1, { keys: [{ customer_id: 9 }] }), /was issued for different arguments/],
    ['a cursor of another tool', () => encodeCursor('order_items_lookup_many', 1, { keys }), /was issued for different arguments \(or by another tool\)/],
    ['an offset past the keys', () => encodeCursor('customers_lookup_many', 6, { keys }), /points outside the pages this tool serves \(0 to 5\)/],
  ])('refuses %s with cursor_invalid', async (_, cursor, message) => {
    const res = await call('customers_lookup_many', { keys, cursor: cursor() });
    expect(res.isError).toBe(true);
    expect(errorText(res)).toMatch(message);
  });
});

describe('search: pages, cursor, window', () => {
  test('size caps a page; nextCursor walks on from where the page ended, with the same query', async () => {
    const first = await call('tickets_search', { filters: { status: 'open' }, size: 100 });
    expect(first.structuredContent).toMatchObject({ truncated: true, nextCursor: expect.any(String), limitNote: null });
    expect(first.structuredContent.total).toBeGreaterThan(100);
    expect(first.structuredContent.hits).toHaveLength(100);
    const second = await call('tickets_search', { filters: { status: 'open' }, size: 100, cursor: first.structuredContent.nextCursor });
    expect(searches()[1].body).toMatchObject({ from: 100, size: 100 });
    expect(second.structuredContent.hits[0].row.ticket_id).toBe('T-0100');
    const changed = await call('tickets_search', { filters: { status: 'closed' }, size: 100, cursor: first.structuredContent.nextCursor });
    expect(errorText(changed)).toMatch(/^cursor_invalid: argument 'cursor' was issued for different arguments/);
  });

  test('cursor and from together are refused', async () => {
    const first = await call('tickets_search', { size: 5 });
    const both = await call('tickets_search', { size: 5, from: 5, cursor: first.structuredContent.nextCursor });
    expect(errorText(both)).toMatch(/^cursor_conflict: give either 'cursor'/);
  });

  test('the last reachable page has no cursor and says why: more rows match than paging reaches', async () => {
    const res = await call('tickets_search', { from: 900, size: 100 });
    expect(res.structuredContent).toMatchObject({ truncated: true, nextCursor: null, limitNote: expect.stringMatching(/^More rows match than the 1000 a search can page through; narrow/) });
  });

  test('hits over the byte budget are cut; the cursor resumes at the first hit left out', async () => {
    bounds.maxResultBytes = 3000;
    const res = await call('tickets_search', { size: 20 });
    const n = res.structuredContent.hits.length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(20);
    expect(res.structuredContent.truncated).toBe(true);
    const next = await call('tickets_search', { size: 20, cursor: res.structuredContent.nextCursor });
    expect(searches()[1].body.from).toBe(n);
    expect(next.structuredContent.hits[0].row.ticket_id).toBe(`T-${String(n).padStart(4, '0')}`);
  });
});

describe('aggregate: bounded buckets', () => {
  test('terms: values beyond the top size are reported as truncated with how many rows they hold', async () => {
    opensearch.aggregations = { result: { sum_other_doc_count: 12, buckets: [{ key: 'open', doc_count: 30 }] } };
    const res = await call('tickets_aggregate', { aggregation: { type: 'terms', field: 'status', size: 1 } });
    expect(res.structuredContent).toMatchObject({ truncated: true, bucketsTruncated: true, limitNote: expect.stringMatching(/^12 matching rows have values outside these top 1; raise size \(at most 50\)/) });
  });

  test('date_histogram: the domain returns at most 501 buckets, 500 are served, and the answer says where to continue', async () => {
    const day = 86_400_000;
    const start = Date.parse('2025-01-01T00:00:00Z');
    opensearch.aggregations = { result: { buckets: Array.from({ length: 501 }, (_, i) => ({ key: start + i * day, key_as_string: new Date(start + i * day).toISOString(), doc_count: 1 })) } };
    const res = await call('tickets_aggregate', { aggregation: { type: 'date_histogram', field: 'created_at', interval: 'day' } });
    // The open range is bounded first by a min/max request (the stand-in answers it without values, so no refusal).
    expect(searches()[0].body.aggs).toMatchObject({ first: { min: { field: 'created_at' } }, last: { max: { field: 'created_at' } } });
    expect(searches()[1].body.aggs.result.aggs).toEqual({ bounded: { bucket_sort: { size: 501 } } });
    expect(res.structuredContent.buckets).toHaveLength(500);
    expect(res.structuredContent).toMatchObject({ truncated: true, limitNote: expect.stringMatching(/^Only the first 500 buckets are served; ask again with the time range starting after 2026-05-15T00:00:00\.000Z/) });
  });

  test('date_histogram over a known range too long for the interval is refused before the domain is asked, naming an interval that fits', async () => {
    const res = await call('tickets_aggregate', {
      aggregation: { type: 'date_histogram', field: 'created_at', interval: 'day' }, timeRange: { from: '2024-01-01', to: '2026-01-01' },
    });
    expect(res.isError).toBe(true);
    expect(errorText(res)).toMatch(/^too_many_buckets: a day histogram of 'created_at' over the range given has about 732 buckets; at most 500 are served\. Use interval 'week' or narrow the range\./);
    expect(searches()).toHaveLength(0);
    const fits = await call('tickets_aggregate', {
      aggregation: { type: 'date_histogram', field: 'created_at', interval: 'week' }, timeRange: { from: '2024-01-01', to: '2026-01-01' },
    });
    expect(fits.isError).toBeFalsy();
  });
});

describe('similar: the query embedding cache', () => {
  test('the same text is embedded once (hit), a new text is embedded (miss)', async () => {
    embedder.texts.length = 0;
    await call('tickets_similar', { text: 'refund please', k: 3 });
    await call('tickets_similar', { text: 'refund please', k: 5, filters: { status: 'open' } });
    expect(embedder.texts).toEqual(['refund please']);
    await call('tickets_similar', { text: 'login broken' });
    expect(embedder.texts).toEqual(['refund please', 'login broken']);
    // Both calls searched with the same vector.
    const vectors = searches().map(r => r.body.query.knn.text_vector_v1.vector);
    expect(vectors[1]).toEqual(vectors[0]);
  });

  test('an entry expires after its time to live', async () => {
    embedder.texts.length = 0;
    await call('tickets_similar', { text: 'expiring question' });
    clock += 299_000;
    await call('tickets_similar', { text: 'expiring question' });
    expect(embedder.texts).toEqual(['expiring question']);
    clock += 2_000;
    await call('tickets_similar', { text: 'expiring question' });
    expect(embedder.texts).toEqual(['expiring question', 'expiring question']);
  });
});

describe('EmbeddingCache', () => {
  const v = { modelId: 'm', dimension: 2 };
  test('evicts the least recently used entry beyond maxEntries; a hit refreshes recency', async () => {
    let now = 0;
    const cache = new EmbeddingCache({ maxEntries: 2, ttlMs: 1000 }, () => now);
    const computed: string[] = [];
    const get = (t: string) => cache.get(v, t, async () => { computed.push(t); return [t.length, 0]; });
    await get('a'); await get('b'); await get('a'); await get('c');
    expect(cache.size).toBe(2);
    expect(cache.evictions).toBe(1);
    await get('a');
    await get('b');
    expect(computed).toEqual(['a', 'b', 'c', 'b']);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 4 });
    now = 1000;
    await get('b');
    expect(computed).toEqual(['a', 'b', 'c', 'b', 'b']);
  });

  test('keys include the model and dimension; a failed embedding is not kept', async () => {
    const cache = new EmbeddingCache({}, () => 0);
    expect(cache.maxEntries).toBe(256);
    expect(cache.ttlMs).toBe(300_000);
    let calls = 0;
    const embed = async () => { calls++; return [1]; };
    await cache.get({ modelId: 'a', dimension: 1 }, 't', embed);
    await cache.get({ modelId: 'b', dimension: 1 }, 't', embed);
    expect(calls).toBe(2);
    await expect(cache.get(v, 'boom', async () => { throw new Error('throttled'); })).rejects.toThrow('throttled');
    expect(await cache.get(v, 'boom', async () => [7])).toEqual([7]);
  });

  test('concurrent calls with one text share one embedding', async () => {
    const cache = new EmbeddingCache({}, () => 0);
    let calls = 0;
    const embed = () => new Promise<number[]>(r => { calls++; setTimeout(() => r([1]), 10); });
    await Promise.all([cache.get(v, 'x', embed), cache.get(v, 'x', embed), cache.get(v, 'x', embed)]);
    expect(calls).toBe(1);
  });
});
