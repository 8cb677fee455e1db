// One deployed handler, two protocol generations: a v1 SDK client on 2025-11-25 and a v2 SDK client on 2026-07-28 see the same tools and answers.
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LIST_CACHE_HINT } from '../../lambda/mcp/server';
import { COMMIT, connectClient, errorText, GENERATIONS, Harness, McpClient, negotiatedVersion, startHarness, ToolResult } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** Every JSON-RPC exchange a client makes: the request body and the parsed response (JSON or the SSE `data:` lines). */
function recordingFetch(log: { request: any; response: any; status: number; headers: Headers }[]) {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    const text = await res.clone().text();
    const data = text.startsWith('event:') || text.startsWith('data:')
      ? text.split('\n').filter(l => l.startsWith('data:')).map(l => JSON.parse(l.slice(5)))
      : (text ? JSON.parse(text) : undefined);
    log.push({ request: init?.body ? JSON.parse(String(init.body)) : undefined, response: Array.isArray(data) ? data[data.length - 1] : data, status: res.status, headers: res.headers });
    return res;
  };
}

describe.each(GENERATIONS)('a %s client', generation => {
  let client: McpClient;
  beforeAll(async () => {
    client = await connectClient(h.url, generation);
  });
  afterAll(async () => {
    await client?.close();
  });

  test('negotiates its own protocol version', () => {
    expect(negotiatedVersion(client)).toBe(generation);
  });

  test('lists the same 12 tools with the same input schemas', async () => {
    const { tools } = await client.listTools();
    const legacy = await h.client.listTools();
    expect(tools.map(t => t.name)).toEqual(legacy.tools.map(t => t.name));
    expect(tools).toHaveLength(12);
    for (const t of tools) expect(t.inputSchema).toEqual(legacy.tools.find(l => l.name === t.name)!.inputSchema);
  });

  test('reads a row with its provenance, position and age', async () => {
    const res = await client.callTool({ name: 'customers_lookup', arguments: { customer_id: 42 } }) as ToolResult;
    expect(res.isError).toBeFalsy();
    expect(res.structuredContent).toMatchObject({
      view: 'customers', found: true, row: { name: 'Ada' },
      freshness: { commitTime: new Date(COMMIT).toISOString(), ageMs: 4000, position: { kind: 'postgres', lsn: '0/110' }, stale: false },
    });
  });

  test('gets an actionable message for a missing argument', async () => {
    const res = await client.callTool({ name: 'customers_lookup', arguments: {} }) as ToolResult;
    expect(res.isError).toBe(true);
    expect(errorText(res)).toMatch(/missing required argument 'customer_id' \(integer\), e\.g\. 42/);
  });
});

describe('on the wire', () => {
  test('a 2026-07-28 client never sends initialize; discover and tools/list carry the cache hints', async () => {
    const log: { request: any; response: any; status: number; headers: Headers }[] = [];
    const c = new ModernClient({ name: 'wire', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await c.connect(new ModernTransport(new URL(`${h.url}/mcp`), { fetch: recordingFetch(log) }));
    expect(c.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    await c.listTools();
    await c.callTool({ name: 'customers_lookup', arguments: { customer_id: 42 } });
    await c.close();
    const methods = log.map(e => e.request?.method);
    expect(methods).not.toContain('initialize');
    expect(methods).toEqual(expect.arrayContaining(['server/discover', 'tools/list', 'tools/call']));
    const discover = log.find(e => e.request?.method === 'server/discover')!.response.result;
    expect(discover).toMatchObject({ ttlMs: LIST_CACHE_HINT.ttlMs, cacheScope: 'public' });
    const list = log.find(e => e.request?.method === 'tools/list')!.response.result;
    expect(list).toMatchObject({ ttlMs: 300_000, cacheScope: 'public' });
    // Stateless: no session id is issued.
    for (const e of log) expect(e.headers.get('mcp-session-id')).toBeNull();
  });

  test('the tool list never changes, so discover says so and a subscriptions/listen ends at once (a buffered function URL cannot hold it open)', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    // A stream the server held open would never end: the abort fails the test then (long before jest's own timeout). How
    // fast a stream that does end ends is the machine's business, not an assertion (a loaded CI machine is slow).
    const post = (body: unknown, method: string) => fetch(`${h.url}/mcp`, {
      method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(30_000),
      headers: { 'content-type': 'application/json', 'accept': 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method },
    });
    const discover = await (await post({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }, 'server/discover')).json();
    expect(discover.result.capabilities.tools).toEqual({ listChanged: false });
    const listen = await post({ jsonrpc: '2.0', id: 'l', method: 'subscriptions/listen', params: { _meta: meta, notifications: { toolsListChanged: true } } }, 'subscriptions/listen');
    // The whole body: the server ended the stream by itself, right after its final answer to the listen request.
    const text = await listen.text();
    expect(text).toMatch(/"notifications":\{\}/);
    expect(text).toMatch(/"id":"l","result":\{"resultType":"complete"/);
    const messages = text.split('\n').filter(l => l.startsWith('data:')).map(l => JSON.parse(l.slice(5)));
    expect(messages[messages.length - 1]).toMatchObject({ id: 'l', result: { resultType: 'complete' } });
  });

  test('a 2025-11-25 client initializes, gets JSON answers without a session, and no cache fields (that revision has none)', async () => {
    const log: { request: any; response: any; status: number; headers: Headers }[] = [];
    const c = new LegacyClient({ name: 'wire', version: '1' });
    await c.connect(new LegacyTransport(new URL(`${h.url}/mcp`), { fetch: recordingFetch(log) }));
    await c.listTools();
    await c.close();
    const init = log.find(e => e.request?.method === 'initialize')!;
    expect(init.response.result.protocolVersion).toBe('2025-11-25');
    expect(init.headers.get('content-type')).toMatch(/application\/json/);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    const list = log.find(e => e.request?.method === 'tools/list')!.response.result;
    expect(list.ttlMs).toBeUndefined();
    expect(list.tools).toHaveLength(12);
  });

  test('a v2 client left on its default (legacy) negotiation still works against the same endpoint', async () => {
    const c = new ModernClient({ name: 'default', version: '1' });
    await c.connect(new ModernTransport(new URL(`${h.url}/mcp`)));
    expect(c.getProtocolEra()).toBe('legacy');
    const res = await c.callTool({ name: 'customers_lookup', arguments: { customer_id: 43 } }) as ToolResult;
    expect(res.structuredContent.row.name).toBe('Bob');
    await c.close();
  });
});
