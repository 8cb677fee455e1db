// Hostile and broken input: every case gets a structured error, nothing reaches a store as code, and the server keeps serving.
import { errorText, Harness, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

async function expectToolError(name: string, args: Record<string, unknown>, pattern: RegExp) {
  const res = await h.call(name, args);
  expect(res.isError).toBe(true);
  const text = errorText(res);
  expect(text).toMatch(pattern);
  expect(text.length).toBeLessThan(2000);
  expect(text).not.toMatch(/\n\s+at |127\.0\.0\.1|node_modules/);
  return text;
}

async function stillServing() {
  const res = await h.call('customers_lookup', { customer_id: 42 });
  expect(res.structuredContent?.found).toBe(true);
}

async function rpc(body: string, headers: Record<string, string> = {}) {
  return fetch(`${h.url}/mcp`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
  });
}

afterEach(async () => {
  await stillServing();
});

describe('tool arguments', () => {
  test('wrong types are rejected', async () => {
    await expectToolError('customers_lookup', { customer_id: { $gt: 1 } }, /Input validation error/);
    await expectToolError('customers_lookup', { customer_id: 1.5 }, /Input validation error/);
    await expectToolError('tickets_search', { size: '10' }, /Input validation error/);
  });

  test('missing and unknown fields are rejected', async () => {
    await expectToolError('customers_lookup', {}, /customer_id/);
    await expectToolError('customers_lookup', { customer_id: 42, tenant: 'other' }, /Unrecognized key.*tenant/s);
    await expectToolError('tickets_search', { filters: { status: 'open', password: 'x' } }, /Unrecognized key/);
    await expectToolError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', extra: true }, /Unrecognized key/);
  });

  test('huge strings and arrays are rejected without being echoed', async () => {
    const huge = 'x'.repeat(200_000);
    const text = await expectToolError('tickets_search', { text: huge }, /Input validation error/);
    expect(text).not.toContain('xxxxxxxxxx');
    await expectToolError('customers_lookup', { customer_id: '9'.repeat(40) }, /Input validation error/);
    await expectToolError('customers_lookup_many', { keys: Array.from({ length: 101 }, (_, i) => ({ customer_id: i })) }, /Input validation error/);
    await expectToolError('customers_lookup_many', { keys: Array.from({ length: 5000 }, (_, i) => ({ customer_id: i })) }, /more than the maximum of 2000 elements/);
    await expectToolError('tickets_search', { filters: { status: Array.from({ length: 51 }, (_, i) => `s${i}`) } }, /Input validation error/);
    await expectToolError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', toolCalls: [{ tool: 't', arguments: { blob: 'y'.repeat(5000) } }] }, /at most 4096 bytes/);
  });

  test('search size and paging are bounded', async () => {
    await expectToolError('tickets_search', { size: 101 }, /Input validation error/);
    await expectToolError('tickets_search', { size: 0 }, /Input validation error/);
    await expectToolError('tickets_search', { from: 1000 }, /Input validation error/);
    h.opensearch.requests.length = 0;
    await h.call('tickets_search', { from: 990, size: 100 });
    expect(h.opensearch.requests[0].body).toMatchObject({ from: 990, size: 10 });
  });

  test('keys with Redis glob, hash-tag and Lua characters are looked up literally and change nothing', async () => {
    const before = (await h.redis.keys(`${h.prefix}*`)).sort();
    for (const sku of ['*', 'A:1?', 'A:[1]*', '{A}', "') redis.call('FLUSHALL') --", '\\*', 'A:1*\u0000', '"]]\r\nFLUSHALL\r\n']) {
      const res = await h.call('order_items_lookup', { order_id: 7, sku });
      expect(res.isError).toBeFalsy();
      expect(res.structuredContent.found).toBe(false);
    }
    expect((await h.redis.keys(`${h.prefix}*`)).sort()).toEqual(before);
  });

  test('query syntax in free text is passed as plain words to multi_match, never as query_string', async () => {
    h.opensearch.requests.length = 0;
    const injected = 'status:open OR *:* AND _exists_:password {"query_string":{"query":"*"}}';
    const res = await h.call('tickets_search', { text: injected });
    expect(res.isError).toBeFalsy();
    const body = h.opensearch.requests[0].body;
    expect(body.query).toEqual({ bool: { must: [{ multi_match: { query: injected, fields: ['subject', 'body', 'requester'], type: 'best_fields', operator: 'or', lenient: true } }] } });
    expect(JSON.stringify(body)).not.toMatch(/"(query_string|simple_query_string|script|wildcard|regexp)"\s*:/);
  });

  test('filters, sorts and aggregations accept declared fields only and scalar values only', async () => {
    h.opensearch.requests.length = 0;
    await expectToolError('tickets_search', { filters: { status: { query_string: { query: '*' } } } }, /Input validation error/);
    await expectToolError('tickets_search', { filters: { '_provenance.version': '1' } }, /Unrecognized key/);
    await expectToolError('tickets_search', { filters: { subject: 'refund' } }, /Unrecognized key/);
    await expectToolError('tickets_search', { sort: [{ field: 'subject' }] }, /Input validation error/);
    await expectToolError('tickets_search', { sort: [{ field: '_script' }] }, /Input validation error/);
    await expectToolError('tickets_search', { ranges: { status: { gte: 'a' } } }, /Unrecognized key/);
    await expectToolError('tickets_search', { ranges: { priority: {} } }, /at least one of gte/);
    await expectToolError('tickets_aggregate', { aggregation: { type: 'terms', field: 'meta' } }, /Input validation error/);
    await expectToolError('tickets_aggregate', { aggregation: { type: 'stats', field: 'status' } }, /Input validation error/);
    await expectToolError('tickets_aggregate', { aggregation: { type: 'scripted_metric', field: 'amount' } }, /Input validation error/);
    await expectToolError('tickets_aggregate', { aggregation: { type: 'terms', field: 'status', size: 51 } }, /Input validation error/);
    expect(h.opensearch.requests).toHaveLength(0);
  });

  test('similarity search takes text only: no raw vector, no raw query, k bounded', async () => {
    h.opensearch.requests.length = 0;
    await expectToolError('tickets_similar', { text: 'x', vector: [0.1, 0.2] }, /Unrecognized key/);
    await expectToolError('tickets_similar', { text: 'x', query: { match_all: {} } }, /Unrecognized key/);
    await expectToolError('tickets_similar', { text: 'x', k: 51 }, /Input validation error/);
    await expectToolError('tickets_similar', { text: '' }, /Input validation error/);
    await expectToolError('tickets_similar', { text: 'z'.repeat(4001) }, /Input validation error/);
    expect(h.opensearch.requests).toHaveLength(0);
  });

  test('an embedder answering with the wrong dimension is a tool error, and nothing is searched', async () => {
    h.opensearch.requests.length = 0;
    const real = h.deps.embeddings;
    (h.deps as { embeddings?: unknown }).embeddings = { dimension: 16, embed: async () => [[0.1, 0.2]] };
    try {
      await expectToolError('tickets_similar', { text: 'refund' }, /The store request failed/);
      expect(h.events.at(-1)?.errorDetail).toMatch(/embedding dimension 2 does not match the view's 16/);
    } finally {
      (h.deps as { embeddings?: unknown }).embeddings = real;
    }
    expect(h.opensearch.requests).toHaveLength(0);
  });

  test('views, decision ids and agent ids outside their patterns are rejected', async () => {
    await expectToolError('describe_source', { view: 'pg_catalog' }, /Input validation error/);
    await expectToolError('get_lineage', { view: 'customers', key: {} }, /1 to 16 columns/);
    await expectToolError('get_decision', { decisionId: '../../etc/passwd' }, /Input validation error/);
    await expectToolError('record_decision', { agentId: 'a b\n', decision: 'd', rationale: 'r' }, /Input validation error/);
    await expectToolError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', dataReferences: [{ view: 'customers', key: { sku: 'x' } }] }, /key columns are: customer_id/);
  });

  test('an unknown tool is a tool error', async () => {
    await expectToolError('customers_delete', { customer_id: 42 }, /Tool customers_delete not found/);
  });
});

describe('store failures', () => {
  test('a store error is reported without its message, address or stack, with a correlation id', async () => {
    h.opensearch.failNext = { status: 500, body: JSON.stringify({ error: { reason: 'shard failure at 10.0.3.7:9300', stack: 'at Object.<anonymous> (/var/task/x.js:1:1)' } }) };
    h.events.length = 0;
    const text = await expectToolError('tickets_search', { text: 'refund' }, /The store request failed \(ResponseError 500\).*correlation id [0-9a-f-]{36}/);
    expect(text).not.toContain('10.0.3.7');
    expect(h.events[0]).toMatchObject({ tool: 'tickets_search', outcome: 'error', errorKind: 'ResponseError 500' });
    expect(h.events[0].errorDetail).toContain('10.0.3.7');
  });

  test('a slow store times out with a clear message', async () => {
    h.opensearch.delayNextMs = 1500;
    await expectToolError('tickets_search', {}, /the search domain did not answer within 500 ms; retry later/);
  });

  test('a cache connection error does not leak the address', async () => {
    const real = h.deps.redis;
    (h.deps as { redis?: unknown }).redis = { hgetall: async () => { throw Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' }); } };
    try {
      const text = await expectToolError('customers_lookup', { customer_id: 42 }, /The store request failed \(Error ECONNREFUSED\)/);
      expect(text).not.toContain('10.1.2.3');
    } finally {
      (h.deps as { redis?: unknown }).redis = real;
    }
  });

  test('a corrupt cache entry is a tool error, not a crash', async () => {
    const view = h.views.find(v => v.name === 'customers')!;
    await h.redis.hset(`${view.cache!.keyPrefix}"77"`, 'v', '1', 'r', '{not json');
    await expectToolError('customers_lookup', { customer_id: 77 }, /The store request failed \(SyntaxError\)/);
  });
});

describe('protocol and HTTP', () => {
  test('malformed JSON-RPC gets a JSON-RPC error response', async () => {
    for (const body of ['{not json', '{"jsonrpc":"2.0","method":123,"id":1}', '[]', '"hello"', '{"jsonrpc":"1.0","id":1,"method":"tools/list"}']) {
      const res = await rpc(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const json = await res.json();
      expect(json.jsonrpc).toBe('2.0');
      expect(typeof json.error.code).toBe('number');
    }
  });

  test('an unknown method is a JSON-RPC method-not-found error', async () => {
    const res = await rpc(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'resources/delete', params: {} }));
    const json = await res.json();
    expect(json.error.code).toBe(-32601);
  });

  test('a body over 1 MiB is refused before parsing', async () => {
    const res = await rpc(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'p'.repeat(1_100_000) } }));
    expect(res.status).toBe(413);
  });

  test('GET and DELETE on the MCP endpoint are 405 (stateless); other paths are 404', async () => {
    expect((await fetch(`${h.url}/mcp`, { headers: { accept: 'text/event-stream' } })).status).toBe(405);
    expect((await fetch(`${h.url}/mcp`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${h.url}/admin`)).status).toBe(404);
  });

  test('the protected-resource metadata names the resource and its authorization server', async () => {
    const res = await fetch(`${h.url}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://issuer.example.com'], bearer_methods_supported: ['header'],
    });
  });

  test('a second client session works after all of the above', async () => {
    const c = await h.connect();
    const { tools } = await c.listTools();
    expect(tools.length).toBe(12);
    await c.close();
  });
});
