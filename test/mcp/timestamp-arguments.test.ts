// Timestamp arguments accept what the search mapping (`strict_date_optional_time||epoch_millis`) parses and refuse the
// rest as an argument error, instead of passing it to OpenSearch, which answers HTTP 400 ("The store request failed").
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { fieldValueSchema } from '../../lambda/mcp/schemas';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { NOW_MS } from './support';

const view: ViewConfig = {
  name: 'tickets', description: 'T.', store: 'search', topic: 't', format: 'debezium', key: ['ticket_id'], sourceTable: 'public.tickets',
  fields: [{ name: 'ticket_id', type: 'keyword' }, { name: 'created_at', type: 'timestamp' }],
  search: { index: 'tickets-v1', timeField: 'created_at' },
};
const bodies: unknown[] = [];
const search: NonNullable<McpServerDeps['search']> = {
  search: async (p: any) => { bodies.push(p.body); return { body: { hits: { total: { value: 0, relation: 'eq' }, hits: [] } } }; },
  get: async () => ({ body: { found: false } }),
};

async function call(args: Record<string, unknown>): Promise<any> {
  const deps: McpServerDeps = { views: [view], search, now: () => NOW_MS };
  const res = await handleHttpRequest(new Request('https://mcp.example.internal/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tickets_search', arguments: args } }),
  }), deps);
  return (await res.json()).result;
}

const ACCEPTED: unknown[] = [
  '2026-11-20', '2026-11-20T00:00', '2026-11-20T00:00:00', '2026-11-20T23:59:59.999Z', '2026-11-20T23:59:59.123456789Z',
  '2026-11-20T10:00:00+01:00', '2026-11-20T10:00:00-0530', '2024-02-29', '1969-12-31T23:59:59Z', 0, 1_764_000_000_000, 8.64e15,
];
const REFUSED: unknown[] = [
  '2026-11-20 00:00:00Z', '2026-19-99T99:99', '2026-02-31 ::::', '2026-02-30', '2025-02-29', '2026-00-10', '2026-11-20T24:00',
  '2026-11-20T10:60', '2026-11-20T10:00:60', '2026-11-20T10:00:00+19:00', '2026-11-20T', '2026-11-20T10', '2026-11-20Z',
  '20261120', 'yesterday', -1, 8.64e15 + 1, 1.5,
];

describe('timestamp arguments', () => {
  test.each(ACCEPTED)('accepts %j', value => {
    expect(fieldValueSchema('timestamp').safeParse(value).success).toBe(true);
  });

  test.each(REFUSED)('refuses %j', value => {
    expect(fieldValueSchema('timestamp').safeParse(value).success).toBe(false);
  });

  test.each([
    [{ timeRange: { from: '2026-11-20 00:00:00Z' } }, /argument 'timeRange\.from' .*ISO-8601/],
    [{ timeRange: { from: '2026-19-99T99:99' } }, /argument 'timeRange\.from' is invalid: not a real date or time/],
    [{ filters: { created_at: '2026-02-31' } }, /argument 'filters\.created_at' is invalid: not a real date or time/],
    [{ ranges: { created_at: { gte: 9007199254740991 } } }, /argument 'ranges\.created_at\.gte'/],
  ])('tickets_search %j is an argument error, and nothing reaches the index', async (args, message) => {
    const before = bodies.length;
    const result = await call(args);
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(message);
    expect(result.content[0].text).not.toMatch(/store request failed/);
    expect(bodies.length).toBe(before);
  });

  test('a valid time range reaches the index as given', async () => {
    const result = await call({ timeRange: { from: '2026-11-20T00:00:00Z', to: 1_764_000_000_000 } });
    expect(result.isError).not.toBe(true);
    expect(JSON.stringify(bodies.at(-1))).toContain('2026-11-20T00:00:00Z');
  });
});
