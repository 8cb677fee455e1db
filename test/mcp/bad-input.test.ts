// Hostile and broken input: every case gets a structured error, nothing reaches a store as code, and the server keeps serving.
import { errorText, GENERATIONS, Harness, startHarness } from './harness';

describe.each(GENERATIONS)('with a %s client', generation => {
let h: Harness;
beforeAll(async () => {
  h = await startHarness(generation);
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

/**
 * An argument error an agent can act on: every problem it reports names the argument, says what was expected and gives
 * an example, and none is zod's bare `Invalid input`.
 */
async function expectArgumentError(name: string, args: Record<string, unknown>, pattern: RegExp) {
  const text = await expectToolError(name, args, pattern);
  expect(text).not.toMatch(/Invalid input(?! validation)|Unrecognized key|Invalid option/);
  const problems = text.replace(/^Input validation error: Invalid arguments for tool \w+: /, '').split(/, (?=(?:missing required argument|argument|unknown argument) ')/);
  for (const p of problems) {
    expect(p).toMatch(/^(missing required argument|argument|unknown argument) '[^']+'/);
    expect(p).toMatch(/expected |\(/);
    expect(p).toMatch(/e\.g\. \S/);
  }
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
    await expectArgumentError('customers_lookup', { customer_id: { $gt: 1 } }, /argument 'customer_id' is an object; expected integer, e\.g\. 42/);
    await expectArgumentError('customers_lookup', { customer_id: 1.5 }, /argument 'customer_id' is the number 1\.5; expected integer, e\.g\. 42/);
    await expectArgumentError('tickets_search', { size: '10' }, /argument 'size' is the string "10"; expected integer from 1 to 100, e\.g\. 42/);
  });

  test('missing and unknown fields are rejected', async () => {
    await expectArgumentError('customers_lookup', {}, /^Input validation error: Invalid arguments for tool customers_lookup: missing required argument 'customer_id' \(integer\), e\.g\. 42$/);
    await expectArgumentError('customers_lookup', { customer_id: 42, tenant: 'other' }, /unknown argument 'tenant': expected only 'customer_id', e\.g\. \{"customer_id":42\}/);
    await expectArgumentError('tickets_search', { filters: { status: 'open', password: 'x' } }, /unknown argument 'filters\.password': expected only 'filters\.ticket_id'.*'filters\.status'/);
    await expectArgumentError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', extra: true }, /unknown argument 'extra': expected only 'agentId', 'decision', 'rationale', 'toolCalls', 'dataReferences'/);
    await expectArgumentError('record_decision', { decision: 'd', rationale: 'r' }, /missing required argument 'agentId' \(string\), e\.g\. "example"/);
    await expectArgumentError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', caller: { kind: 'iam', principal: 'arn:aws:iam::1:role/admin' } }, /unknown argument 'caller'/);
  });

  test('huge strings and arrays are rejected without being echoed', async () => {
    const huge = 'x'.repeat(200_000);
    const text = await expectArgumentError('tickets_search', { text: huge }, /argument 'text' is too large \(too long\); expected string of 1 to 512 characters, e\.g\. "example"/);
    expect(text).not.toContain('xxxxxxxxxx');
    await expectArgumentError('customers_lookup', { customer_id: '9'.repeat(40) }, /argument 'customer_id' does not match the expected format \(an integer written as decimal digits\); expected integer, e\.g\. 42/);
    await expectArgumentError('customers_lookup_many', { keys: Array.from({ length: 101 }, (_, i) => ({ customer_id: i })) }, /argument 'keys' is too large \(too many items\); expected list of 1 to 100 items \(each object with customer_id\), e\.g\. \[\{"customer_id":42\}\]/);
    await expectToolError('customers_lookup_many', { keys: Array.from({ length: 5000 }, (_, i) => ({ customer_id: i })) }, /more than the maximum of 2000 elements/);
    await expectArgumentError('tickets_search', { filters: { status: Array.from({ length: 51 }, (_, i) => `s${i}`) } }, /argument 'filters\.status' is a list of 51; expected string of 1 to 512 characters or list of 1 to 50 items/);
    await expectToolError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', toolCalls: [{ tool: 't', arguments: { blob: 'y'.repeat(5000) } }] }, /at most 4096 bytes/);
  });

  test('search size and paging are bounded', async () => {
    await expectArgumentError('tickets_search', { size: 101 }, /argument 'size' is too large \(above 100\); expected integer from 1 to 100, e\.g\. 42/);
    await expectArgumentError('tickets_search', { size: 0 }, /argument 'size' is too small \(below 1\)/);
    await expectArgumentError('tickets_search', { from: 1000 }, /argument 'from' is too large \(above 999\); expected integer from 0 to 999, e\.g\. 42/);
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
    await expectArgumentError('tickets_search', { filters: { status: { query_string: { query: '*' } } } }, /argument 'filters\.status' is an object; expected string of 1 to 512 characters or list/);
    await expectArgumentError('tickets_search', { filters: { '_provenance.version': '1' } }, /unknown argument 'filters\._provenance\.version'/);
    await expectArgumentError('tickets_search', { filters: { subject: 'refund' } }, /unknown argument 'filters\.subject'/);
    await expectArgumentError('tickets_search', { sort: [{ field: 'subject' }] }, /argument 'sort\[0\]\.field' is the string "subject", which is not allowed; expected one of "ticket_id"/);
    await expectArgumentError('tickets_search', { sort: [{ field: '_script' }] }, /argument 'sort\[0\]\.field'/);
    await expectArgumentError('tickets_search', { ranges: { status: { gte: 'a' } } }, /unknown argument 'ranges\.status': expected only 'ranges\.customer_id'/);
    await expectArgumentError('tickets_search', { ranges: { priority: {} } }, /argument 'ranges\.priority' is invalid: .*at least one of gte/);
    await expectArgumentError('tickets_aggregate', { aggregation: { type: 'terms', field: 'meta' } }, /argument 'aggregation\.field' is the string "meta", which is not allowed; expected one of/);
    await expectArgumentError('tickets_aggregate', { aggregation: { type: 'stats', field: 'status' } }, /argument 'aggregation\.field'/);
    await expectArgumentError('tickets_aggregate', { aggregation: { type: 'scripted_metric', field: 'amount' } }, /argument 'aggregation(\.type)?'/);
    await expectArgumentError('tickets_aggregate', { aggregation: { type: 'terms', field: 'status', size: 51 } }, /argument 'aggregation\.size' is too large \(above 50\)/);
    expect(h.opensearch.requests).toHaveLength(0);
  });

  test('similarity search takes text only: no raw vector, no raw query, k bounded', async () => {
    h.opensearch.requests.length = 0;
    await expectArgumentError('tickets_similar', { text: 'x', vector: [0.1, 0.2] }, /unknown argument 'vector': expected only 'text', 'k'/);
    await expectArgumentError('tickets_similar', { text: 'x', query: { match_all: {} } }, /unknown argument 'query'/);
    await expectArgumentError('tickets_similar', { text: 'x', k: 51 }, /argument 'k' is too large \(above 50\); expected integer from 1 to 50/);
    await expectArgumentError('tickets_similar', { text: '' }, /argument 'text' is too small \(too short\)/);
    await expectArgumentError('tickets_similar', { text: 'z'.repeat(4001) }, /argument 'text' is too large \(too long\); expected string of 1 to 4000 characters/);
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
    await expectArgumentError('describe_source', { view: 'pg_catalog' }, /argument 'view' is the string "pg_catalog", which is not allowed; expected one of "customers", "order_items", "tickets", e\.g\. "customers"/);
    await expectArgumentError('get_lineage', { view: 'customers', key: {} }, /argument 'key' is invalid: a key has 1 to 16 columns; expected object of name: value pairs, e\.g\. \{\}/);
    await expectArgumentError('get_decision', { decisionId: '../../etc/passwd' }, /argument 'decisionId' does not match the expected format \(a decision id as returned by record_decision\); expected string, e\.g\. "example"/);
    await expectArgumentError('record_decision', { agentId: 'a b\n', decision: 'd', rationale: 'r' }, /argument 'agentId' does not match the expected format \(letters, digits and \. _ : @ \/ - \(at most 128\)\)/);
    await expectToolError('record_decision', { agentId: 'a', decision: 'd', rationale: 'r', dataReferences: [{ view: 'customers', key: { sku: 'x' } }] }, /key columns are: customer_id\. missing required argument 'dataReferences\[0\]\.key\.customer_id' \(integer\), e\.g\. 42; unknown argument 'dataReferences\[0\]\.key\.sku'/);
  });

  test('an unknown tool is a JSON-RPC invalid-params error naming it', async () => {
    await expect(h.call('customers_delete', { customer_id: 42 })).rejects.toThrow(/Tool customers_delete not found/);
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
    const timeouts = h.deps.timeouts;
    (h.deps as { timeouts?: unknown }).timeouts = { ...timeouts, searchMs: 500 };
    try {
      h.opensearch.delayNextMs = 1500;
      await expectToolError('tickets_search', {}, /the search domain did not answer within 500 ms; retry later/);
    } finally {
      (h.deps as { timeouts?: unknown }).timeouts = timeouts;
    }
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
});
