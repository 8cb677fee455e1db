// An open date_histogram (no time range, or one side only) is bounded first by the matching rows' min/max of the field: a span
// past what the domain should count (MAX_COUNTED_HISTOGRAM_BUCKETS) is refused, so dense data no longer reaches OpenSearch's
// too_many_buckets_exception (HTTP 503); a shorter one is served 500 buckets at a time, as before.
import type { ViewConfig } from '../../contract/view-config';
import { handleHttpRequest } from '../../lambda/mcp/server';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');
const view = {
  name: 'events', description: 'E.', store: 'search', topic: 't', format: 'debezium', key: ['id'], sourceTable: 'public.events',
  fields: [{ name: 'id', type: 'keyword' }, { name: 'kind', type: 'keyword' }, { name: 'created_at', type: 'timestamp' }],
  search: { index: 'events', timeField: 'created_at' },
} as unknown as ViewConfig;
const start = Date.parse('2026-11-20T00:00:00Z');

/** Answers the span request with the data's first/last value and the histogram with a few buckets. */
function fakeSearch(first: number, last: number) {
  const bodies: any[] = [];
  return {
    bodies,
    async search(p: { body: any }) {
      bodies.push(p.body);
      if (p.body.aggs?.first) return { body: { hits: { hits: [] }, aggregations: { first: { value: first }, last: { value: last } } } };
      return { body: { hits: { total: { value: 3 }, hits: [] }, aggregations: { result: { buckets: [{ key: first, key_as_string: new Date(first).toISOString(), doc_count: 3 }] } } } };
    },
    async get() { return { body: { found: false } }; },
  };
}

async function aggregate(search: unknown, args: Record<string, unknown>) {
  const req = new Request('https://x.example/mcp', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'events_aggregate', arguments: args } }),
  });
  const res = await handleHttpRequest(req, { views: [view], search, now: () => NOW } as any, {});
  return JSON.parse(await res.text()).result;
}

const histogram = { type: 'date_histogram', field: 'created_at', interval: 'minute' };

test('no time range, 30,000 minutes of data: the min/max request comes first, then the refusal names an interval that fits; the histogram is never asked for', async () => {
  const s = fakeSearch(start, start + 29_999 * 60_000);
  const r = await aggregate(s, { aggregation: histogram, filters: { kind: 'k' } });
  expect(r.isError).toBe(true);
  expect(r.content[0].text).toMatch(/^too_many_buckets: a minute histogram of 'created_at' over the matching rows \(2026-11-20T00:00:00\.000Z to 2026-12-10T19:59:00\.000Z\) has about 30000 buckets; an open range is counted up to 10000 \(500 served at a time\)\. Use interval 'hour'/);
  expect(s.bodies).toHaveLength(1);
  expect(s.bodies[0]).toMatchObject({ size: 0, aggs: { first: { min: { field: 'created_at' } }, last: { max: { field: 'created_at' } } } });
  expect(JSON.stringify(s.bodies[0].query)).toContain('"kind":"k"');
});

test('open on one side: the span request carries the given bound', async () => {
  const s = fakeSearch(start, start + 29_999 * 60_000);
  const r = await aggregate(s, { aggregation: histogram, timeRange: { from: '2026-11-20T00:00:00Z' } });
  expect(r.isError).toBe(true);
  expect(s.bodies).toHaveLength(1);
  expect(JSON.stringify(s.bodies[0].query)).toMatch(/"created_at":\{"gte":/);
});

test('an open range whose data fits is then served: span request, then the histogram', async () => {
  const s = fakeSearch(start, start + 100 * 60_000);
  const r = await aggregate(s, { aggregation: histogram });
  expect(r.isError).toBeFalsy();
  expect(s.bodies).toHaveLength(2);
  expect(s.bodies[1].aggs.result.date_histogram).toMatchObject({ field: 'created_at', calendar_interval: 'minute' });
  expect(r.structuredContent.buckets).toHaveLength(1);
});

test('an open range over the cap but within what the domain counts is served: the histogram is asked for with its bucket_sort bound', async () => {
  const s = fakeSearch(start, start + 2999 * 60_000);
  const r = await aggregate(s, { aggregation: histogram });
  expect(r.isError).toBeFalsy();
  expect(s.bodies).toHaveLength(2);
  expect(s.bodies[1].aggs.result.aggs).toEqual({ bounded: { bucket_sort: { size: 501 } } });
});

test('a closed range is checked without the span request', async () => {
  const s = fakeSearch(start, start + 60_000);
  const r = await aggregate(s, { aggregation: histogram, timeRange: { from: '2026-11-20T00:00:00Z', to: '2026-11-20T01:00:00Z' } });
  expect(r.isError).toBeFalsy();
  expect(s.bodies).toHaveLength(1);
  expect(s.bodies[0].aggs.result).toBeDefined();
});
