// JSON-RPC batches: MCP removed them in revision 2025-06-18 (https://modelcontextprotocol.io/specification/2025-06-18/changelog,
// "Remove support for JSON-RPC batching"), but the SDK still negotiates 2025-03-26 and 2024-11-05, where a server receives
// them. A batch declared at 2025-06-18 or later is refused (-32600); an older one is served with its answers capped in total
// bytes below Lambda's 6 MB synchronous response limit (every per-answer bound would otherwise multiply by the batch length).
import { handleHttpRequest, MAX_BATCH_RESPONSE_BYTES } from '../../lambda/mcp/server';
import type { WarehouseReader } from '../../lambda/mcp/warehouse-athena';
import { LAMBDA_SYNC_RESPONSE_LIMIT, NOW_MS, WAREHOUSE_ORDERS_VIEW } from './support';

const NOW = NOW_MS;
const view = WAREHOUSE_ORDERS_VIEW;

function deps() {
  const runs: string[] = [];
  const reader: WarehouseReader = {
    database: 'db',
    async latestSnapshot() { return { snapshotId: '123', committedAtMs: NOW - 1000 }; },
    async run(sql, _p, maxRows) {
      runs.push(sql);
      return { queryExecutionId: 'q', columns: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'varchar' }], rows: Array.from({ length: maxRows }, (_, i) => ({ id: i, note: 'x'.repeat(4000) })), truncated: false, scannedBytes: 1, engineMs: 1 };
    },
  };
  return { deps: { views: [view], warehouse: reader, now: () => NOW } as any, runs };
}

const callOf = (id: number, limit = 10_000) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'order_history_query', arguments: { limit } } });

async function post(d: unknown, body: unknown, version?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (version) headers['mcp-protocol-version'] = version;
  const res = await handleHttpRequest(new Request('https://x.example/mcp', { method: 'POST', headers, body: JSON.stringify(body) }), d as any, {});
  const text = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(text), body: text ? JSON.parse(text) : undefined };
}

describe('a batch declared at a revision without batching is refused before any tool runs', () => {
  test.each(['2025-06-18', '2025-11-25'])('MCP-Protocol-Version %s', async version => {
    const { deps: d, runs } = deps();
    const r = await post(d, Array.from({ length: 12 }, (_, i) => callOf(i + 1)), version);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/Invalid Request: JSON-RPC batches.*2025-06-18.*send each request on its own/) } });
    expect(runs).toHaveLength(0);
  });
});

describe('a batch of a revision that has batching (2025-03-26, 2024-11-05, or no version header: the SDK assumes 2025-03-26)', () => {
  test.each([['2025-03-26'], ['2024-11-05'], [undefined]])('version %s: answers stop below the Lambda limit; the rest get an error naming why', async version => {
    const { deps: d, runs } = deps();
    const r = await post(d, Array.from({ length: 12 }, (_, i) => callOf(i + 1)), version);
    expect(r.status).toBe(200);
    expect(r.bytes).toBeLessThanOrEqual(MAX_BATCH_RESPONSE_BYTES);
    expect(MAX_BATCH_RESPONSE_BYTES).toBeLessThan(LAMBDA_SYNC_RESPONSE_LIMIT);
    expect(r.body).toHaveLength(12);
    expect(r.body.map((m: any) => m.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const answered = r.body.filter((m: any) => m.result);
    const refused = r.body.filter((m: any) => m.error);
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length + refused.length).toBe(12);
    expect(refused[0].error.message).toMatch(/batch.*bytes.*send this request again on its own/);
    // Requests after the cap are not run.
    expect(runs.length).toBeLessThanOrEqual(answered.length + 1);
  });

  test('a small batch is answered in full, in order; notifications get no answer', async () => {
    const { deps: d } = deps();
    const r = await post(d, [callOf(1, 2), { jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', id: 'b', method: 'tools/list' }], '2025-03-26');
    expect(r.status).toBe(200);
    expect(r.body.map((m: any) => m.id)).toEqual([1, 'b']);
    expect(r.body[0].result.structuredContent.rowCount).toBe(2);
    expect(r.body[1].result.tools.map((t: any) => t.name)).toContain('order_history_query');
  });

  test('initialize in a batch is refused (2025-03-26 lifecycle: it must not be part of one)', async () => {
    const { deps: d } = deps();
    const r = await post(d, [{ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }, callOf(2, 1)]);
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual({ code: -32600, message: expect.stringMatching(/initialize must not be part of a JSON-RPC batch/) });
  });
});
