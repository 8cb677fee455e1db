// The warm request path does per container what does not change per request: tool tables, and the JSON Schema conversion
// of each tool's schemas, which the SDK would otherwise redo for every McpServer (one per request).
import { CACHE_FIELDS, paddedVersion } from '../../contract/stored-record';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { handleHttpRequest, specsFor } from '../../lambda/mcp/server';
import { NOW_MS, record, testViews } from './support';

const views = testViews('warm:').filter(v => v.name === 'customers');
const rec = record('customers', 'public.customers', { customer_id: '42' }, { customer_id: 42, name: 'Ada' }, NOW_MS - 1000, 17);
const deps: McpServerDeps = {
  views,
  redis: { hgetall: async () => ({ [CACHE_FIELDS.version]: paddedVersion('17'), [CACHE_FIELDS.record]: JSON.stringify(rec) }) },
  now: () => NOW_MS,
};

function call(body: unknown): Promise<Response> {
  return handleHttpRequest(new Request('https://mcp.local/mcp', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(body),
  }), deps);
}

test('each tool\'s output and input schemas are converted to JSON Schema once per container, not per request', async () => {
  const spec = specsFor(deps).find(s => s.name === 'customers_lookup')!;
  const counts = { input: 0, output: 0 };
  for (const [io, schema] of [['output', spec.outputSchema], ['input', spec.inputSchema]] as const) {
    const std = (schema as any)['~standard'];
    const original = std.jsonSchema[io];
    std.jsonSchema = { ...std.jsonSchema, [io]: (options: unknown) => { counts[io]++; return original(options); } };
  }
  for (let i = 0; i < 5; i++) {
    const res = await call({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'customers_lookup', arguments: { customer_id: 42 } } });
    expect(await res.text()).toContain('"found":true');
    const list = await call({ jsonrpc: '2.0', id: 100 + i, method: 'tools/list', params: {} });
    expect((await list.json()).result.tools.find((t: any) => t.name === 'customers_lookup').outputSchema.properties.found).toBeDefined();
  }
  expect(counts.output).toBe(1);
  expect(counts.input).toBe(1);
});
