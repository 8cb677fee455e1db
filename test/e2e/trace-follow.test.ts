// Following one agent answer back to the sink batch that wrote its row, through both Lambda shells against the real
// Redis: the sink's log lines carry its request id and X-Ray trace id, the row's provenance carries the same pair, the
// MCP answer exposes it, and the MCP's own log line carries the MCP invocation's trace id.
import { Redis } from 'ioredis';
import { VIEWS_ENV } from '../../contract/view-config';
import type { FunctionUrlEvent, FunctionUrlResult } from '../../lambda/mcp/http-adapter';
import type { MskEvent } from '../../lambda/shared/envelope';
import type { SinkContext } from '../../lambda/sink/index';
import type { BatchSummary } from '../../lambda/sink/process';
import { testViews, uniquePrefix } from '../mcp/support';
import { b64, mskEvent } from '../sink/helpers';

const prefix = uniquePrefix();
const views = testViews(prefix).filter(v => v.name === 'customers');
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const saved = { ...process.env };
const SINK_TRACE = '1-6751a2b3-0123456789abcdef01234567';
const MCP_TRACE = '1-6751a2b9-fedcba9876543210fedcba98';
let stdout: string[] = [];
let writeSpy: jest.SpyInstance;
let sink: { handler: (e: MskEvent, c?: SinkContext) => Promise<BatchSummary>; close: () => Promise<void> };
let mcp: { handler: (e: FunctionUrlEvent) => Promise<FunctionUrlResult>; close: () => Promise<void> };

function lookup(customerId: number): FunctionUrlEvent {
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'customers_lookup', arguments: { customer_id: customerId } } };
  return {
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: 'abc.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: '123456789012', apiId: 'abc', domainName: 'abc.lambda-url.us-east-1.on.aws', domainPrefix: 'abc',
      http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      requestId: 'url-req-1', routeKey: '$default', stage: '$default', time: '01/Dec/2026:01:00:00 +0000', timeEpoch: 0,
    },
    body: Buffer.from(JSON.stringify(body)).toString('base64'), isBase64Encoded: true,
  };
}

/** One Debezium update of customer `id`, as the MSK event source delivers it. */
function change(id: number, name: string, lsn: number) {
  return mskEvent([{
    topic: views[0].topic, partition: 0, offset: lsn, timestamp: Date.now(), timestampType: 'CREATE_TIME',
    key: b64({ customer_id: id }),
    value: b64({
      before: null, after: { customer_id: id, email: `${id}@example.com`, name, tier: 'gold', updated_at: '2026-12-01T01:00:00Z' }, op: 'u',
      source: { connector: 'postgresql', name: 'agentdata', db: 'shop', schema: 'public', table: 'customers', lsn, txId: 7, ts_ms: Date.now() - 50 },
    }),
    headers: [],
  }]);
}

const jsonLines = () => stdout.join('').split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l));

beforeAll(async () => {
  await redis.connect();
  Object.assign(process.env, {
    [VIEWS_ENV]: JSON.stringify(views),
    AGENT_CACHE_ENDPOINT: '127.0.0.1', AGENT_CACHE_PORT: '6379', AGENT_CACHE_AUTH: 'none', AGENT_CACHE_TLS: 'false',
    AGENT_SINK_DLQ_KIND: 's3', AGENT_SINK_DLQ_TARGET: 'dead-letters-never-written', AWS_REGION: 'us-east-1',
    POWERTOOLS_SERVICE_NAME: 'trace-test', POWERTOOLS_METRICS_NAMESPACE: 'Test/Trace',
  });
  delete process.env.AGENT_DECISION_TABLE;
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    stdout.push(String(chunk));
    return true;
  });
  sink = require('../../lambda/sink/index');
  mcp = require('../../lambda/mcp/index');
});

afterAll(async () => {
  // Both handlers keep their cache connection between invocations, as on Lambda: close them, or the worker cannot exit.
  await mcp?.close();
  await sink?.close();
  writeSpy?.mockRestore();
  process.env = saved;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

test('an MCP answer names the sink invocation that wrote its row, and that invocation\'s log lines carry the same ids', async () => {
  // The sink's invocation: Lambda sets _X_AMZN_TRACE_ID for each invocation and passes the request id in the context.
  process.env._X_AMZN_TRACE_ID = `Root=${SINK_TRACE};Parent=53995c3f42cd8ad8;Sampled=1`;
  stdout = [];
  const summary = await sink.handler(change(4242, 'Grace', 1_000_123), { awsRequestId: 'sink-req-1' });
  expect(summary.written).toBe(1);
  const sinkLines = jsonLines().filter(l => l.message);
  expect(sinkLines.map(l => l.message)).toEqual(expect.arrayContaining(['batch received', 'batch done']));
  for (const line of sinkLines) expect(line).toMatchObject({ function_request_id: 'sink-req-1', xray_trace_id: SINK_TRACE });

  // A later invocation of the sink with another trace stamps its own ids, not the first one's.
  process.env._X_AMZN_TRACE_ID = 'Root=1-6751a2b4-00000000000000000000beef;Sampled=0';
  await sink.handler(change(4343, 'Alan', 1_000_200), { awsRequestId: 'sink-req-2' });

  // The MCP server's invocation, traced separately.
  process.env._X_AMZN_TRACE_ID = `Root=${MCP_TRACE};Parent=1111222233334444;Sampled=1`;
  stdout = [];
  const res = await mcp.handler(lookup(4242));
  const answer = JSON.parse(res.body!).result.structuredContent;
  expect(answer).toMatchObject({ found: true, row: { name: 'Grace' } });
  expect(answer.provenance.writer).toEqual({ requestId: 'sink-req-1', traceId: SINK_TRACE });
  const toolCall = jsonLines().find(l => l.message === 'tool call');
  expect(toolCall).toMatchObject({ tool: 'customers_lookup', xray_trace_id: MCP_TRACE });

  // From the answer back to the batch: the sink's 'batch done' line with the answer's writer ids.
  const batch = sinkLines.find(l => l.message === 'batch done'
    && l.function_request_id === answer.provenance.writer.requestId && l.xray_trace_id === answer.provenance.writer.traceId);
  expect(batch).toMatchObject({ written: 1 });
});

test('record_decision accepts the provenance an answer gave, writer included', async () => {
  const { provenanceInputSchema } = require('../../lambda/mcp/schemas');
  const res = await mcp.handler(lookup(4343));
  const provenance = JSON.parse(res.body!).result.structuredContent.provenance;
  expect(provenance.writer.requestId).toBe('sink-req-2');
  expect(provenanceInputSchema.safeParse(provenance).success).toBe(true);
});
