// The Lambda shell (lambda/mcp/index.ts) from its environment: function URL events in, the real Redis and a SigV4-signing search client out, one JSON log line and EMF metrics per call.
import { Redis } from 'ioredis';
import { CACHE_FIELDS, cacheKey, paddedVersion } from '../../contract/stored-record';
import type { FunctionUrlEvent, FunctionUrlResult } from '../../lambda/mcp/http-adapter';
import { catalog, OpenSearchStandIn, record, testViews, uniquePrefix } from './support';

const prefix = uniquePrefix();
const views = testViews(prefix);
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const opensearch = new OpenSearchStandIn();
const saved = { ...process.env };
let handler: (e: FunctionUrlEvent) => Promise<FunctionUrlResult>;
let closeShell: () => Promise<void>;
let stdout: string[] = [];
let writeSpy: jest.SpyInstance;

function event(body: unknown, headers: Record<string, string> = {}): FunctionUrlEvent {
  const raw = Buffer.from(JSON.stringify(body)).toString('base64');
  return {
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: 'abc.lambda-url.us-east-1.on.aws', ...headers },
    requestContext: {
      accountId: '123456789012', apiId: 'abc', domainName: 'abc.lambda-url.us-east-1.on.aws', domainPrefix: 'abc',
      http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      requestId: 'req-1', routeKey: '$default', stage: '$default', time: '27/Nov/2026:12:00:00 +0000', timeEpoch: 0,
    },
    body: raw, isBase64Encoded: true,
  };
}

beforeAll(async () => {
  await redis.connect();
  await opensearch.start();
  const customers = views[0];
  const rec = record('customers', 'public.customers', { customer_id: '42' }, { customer_id: 42, name: 'Ada' }, Date.now() - 1000, 17);
  await redis.hset(cacheKey(customers.cache!.keyPrefix, customers.key, { customer_id: 42 }), CACHE_FIELDS.version, paddedVersion('17'), CACHE_FIELDS.record, JSON.stringify(rec));
  const tickets = views[2];
  opensearch.seed(tickets.search!.index, tickets.key, record('tickets', 'public.tickets', { ticket_id: 'T-1' }, { ticket_id: 'T-1', subject: 'Refund' }, Date.now() - 1000, 3));
  Object.assign(process.env, {
    AGENT_VIEWS: JSON.stringify(views),
    AGENT_LINEAGE_CATALOG: JSON.stringify(catalog),
    AGENT_CACHE_ENDPOINT: '127.0.0.1', AGENT_CACHE_PORT: '6379', AGENT_CACHE_AUTH: 'none', AGENT_CACHE_TLS: 'false',
    AGENT_SEARCH_ENDPOINT: opensearch.url, AWS_REGION: 'us-east-1',
    // Static test credentials: the search client signs requests locally, nothing leaves the machine.
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    POWERTOOLS_SERVICE_NAME: 'mcp-test', POWERTOOLS_METRICS_NAMESPACE: 'Test/Mcp',
  });
  delete process.env.AGENT_DECISION_TABLE;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    stdout.push(String(chunk));
    return true;
  });
  ({ handler, close: closeShell } = require('../../lambda/mcp/index'));
});

afterAll(async () => {
  await closeShell?.();
  writeSpy?.mockRestore();
  process.env = saved;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await opensearch.stop();
});

function jsonLines(): any[] {
  return stdout.join('').split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l));
}

test('a tools/call event is answered from the real Redis, logged with its source positions, and counted per tool', async () => {
  stdout = [];
  const res = await handler(event({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'customers_lookup', arguments: { customer_id: 42 } } }));
  expect(res.statusCode).toBe(200);
  const body = JSON.parse(res.body!);
  expect(body.result.structuredContent).toMatchObject({ found: true, row: { name: 'Ada' }, provenance: { version: '17' } });
  expect(body.result.structuredContent.freshness.ageMs).toBeGreaterThanOrEqual(1000);
  const lines = jsonLines();
  const log = lines.find(l => l.message === 'tool call');
  expect(log).toMatchObject({ tool: 'customers_lookup', outcome: 'ok', resultCount: 1, service: 'mcp-test', requestId: 'req-1' });
  expect(log.positions).toEqual([expect.objectContaining({ view: 'customers', version: '17', position: expect.objectContaining({ kind: 'postgres' }) })]);
  const emf = lines.find(l => l._aws?.CloudWatchMetrics);
  expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Test/Mcp', Dimensions: [['service', 'Tool']] });
  expect(emf).toMatchObject({ Tool: 'customers_lookup', ToolCalls: 1, ToolErrors: 0 });
  expect(typeof emf.ToolLatency).toBe('number');
});

test('search requests leave the function SigV4-signed', async () => {
  opensearch.requests.length = 0;
  const res = await handler(event({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'tickets_search', arguments: { text: 'refund' } } }));
  const body = JSON.parse(res.body!);
  expect(body.result.isError).toBeFalsy();
  expect(body.result.structuredContent.hits[0].row.subject).toBe('Refund');
  expect(opensearch.requests).toHaveLength(1);
  expect(opensearch.requests[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/es\/aws4_request/);
  expect(opensearch.requests[0].headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
});

test('tools/list from the environment: no decision tools without a decision table', async () => {
  const res = await handler(event({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }));
  const names = JSON.parse(res.body!).result.tools.map((t: any) => t.name);
  expect(names).toContain('get_lineage');
  expect(names).not.toContain('record_decision');
});

test('a malformed body is a JSON-RPC error and the next call still works', async () => {
  const bad = event({});
  bad.body = Buffer.from('{"jsonrpc":').toString('base64');
  const res = await handler(bad);
  expect(res.statusCode).toBe(400);
  expect(JSON.parse(res.body!).error.code).toBe(-32700);
  const ok = await handler(event({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'list_sources', arguments: {} } }));
  expect(JSON.parse(ok.body!).result.structuredContent.catalogNamespace).toBe('TestStack');
});

test('an unreachable cache fails the cache tools as tool errors while the other tools keep working', async () => {
  let isolated: { handler: typeof handler; close: () => Promise<void> } | undefined;
  const port = process.env.AGENT_CACHE_PORT;
  process.env.AGENT_CACHE_PORT = '1'; // nothing listens on port 1 of the loopback
  jest.isolateModules(() => {
    isolated = require('../../lambda/mcp/index');
  });
  try {
    const list = await isolated!.handler(event({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'list_sources', arguments: {} } }));
    expect(JSON.parse(list.body!).result.isError).toBeFalsy();
    const lookup = await isolated!.handler(event({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'customers_lookup', arguments: { customer_id: 42 } } }));
    const result = JSON.parse(lookup.body!).result;
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/The store request failed|did not answer within/);
    expect(result.content[0].text).not.toMatch(/127\.0\.0\.1|:1\b/);
  } finally {
    process.env.AGENT_CACHE_PORT = port;
    await isolated?.close();
  }
});
