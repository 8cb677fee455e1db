// The handlers' own EMF and log lines (lambda/shared/telemetry.ts, used by the sink and the MCP server) match what Powertools writes for
// the same calls and the same environment, so dashboards, alarms, log queries and log-level settings see no difference.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { toolCallObserver } from '../../lambda/mcp/observability';
import type { ToolCallEvent } from '../../lambda/mcp/context';
import { EmfSinkMetrics } from '../../lambda/sink/metrics';
import { EmfMetrics, JsonLogger } from '../../lambda/shared/telemetry';

function feed(m: EmfSinkMetrics): void {
  m.count('customer', 'RecordsReceived', 500);
  m.count('customer', 'RecordsWritten', 498);
  m.count('customer', 'RecordsStale', 2);
  m.freshnessLag('customer', 812);
  m.count('orders', 'RecordsReceived', 3);
  m.cdcLag('__debezium-heartbeat.agentdata', 1500);
  m.flush();
}

const withoutTimestamp = (doc: { _aws: { Timestamp?: number } }) => ({ ...doc, _aws: { ...doc._aws, Timestamp: 0 } });

test('EmfMetrics writes the documents Powertools Metrics writes (namespace, service dimension, per-view documents)', () => {
  const ours: string[] = [];
  feed(new EmfSinkMetrics(EmfMetrics.fromEnv({ POWERTOOLS_METRICS_NAMESPACE: 'AgentDataStack', POWERTOOLS_SERVICE_NAME: 'sink' }, l => ours.push(l))));

  const theirs: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => { theirs.push(String(chunk)); return true; });
  try {
    feed(new EmfSinkMetrics(new Metrics({ namespace: 'AgentDataStack', serviceName: 'sink' })));
  } finally {
    spy.mockRestore();
  }
  const parse = (lines: string[]) => lines.flatMap(l => l.split('\n')).filter(l => l.includes('"_aws"')).map(l => withoutTimestamp(JSON.parse(l)));
  expect(parse(ours)).toHaveLength(3);
  expect(parse(ours)).toEqual(parse(theirs));
  expect(MetricUnit.Count).toBe('Count');
  expect(MetricUnit.Milliseconds).toBe('Milliseconds');
});

test('nothing is written for a flush without metrics, and dimensions do not leak into the next document', () => {
  const lines: string[] = [];
  const emf = new EmfMetrics('NS', 'svc', l => lines.push(l), () => 42);
  emf.addDimension('View', 'a');
  emf.publishStoredMetrics();
  emf.addMetric('RecordsReceived', 'Count', 1);
  emf.publishStoredMetrics();
  expect(lines.map(l => JSON.parse(l))).toEqual([{
    _aws: { Timestamp: 42, CloudWatchMetrics: [{ Namespace: 'NS', Dimensions: [['service']], Metrics: [{ Name: 'RecordsReceived', Unit: 'Count' }] }] },
    service: 'svc', RecordsReceived: 1,
  }]);
});

test('JsonLogger lines carry level, message, service, the X-Ray trace id and the call\'s keys; errors under error', () => {
  const lines: string[] = [];
  const log = JsonLogger.fromEnv({ POWERTOOLS_SERVICE_NAME: 'sink', _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' }, l => lines.push(l));
  log.info('batch received', { records: 2, offsets: { 't-0': { first: '1', last: '2', count: 2 } } });
  log.error('batch failed; the event source will retry it', new Error('cache unreachable'));
  const [info, error] = lines.map(l => JSON.parse(l));
  expect(info).toMatchObject({ level: 'INFO', message: 'batch received', service: 'sink', xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793', records: 2 });
  expect(typeof info.timestamp).toBe('string');
  expect(error).toMatchObject({ level: 'ERROR', error: { name: 'Error', message: 'cache unreachable' } });
});

/** What Powertools writes (stdout and stderr, in order) while `body` runs with `env` as the process environment. */
function capturePowertools(env: Record<string, string>, body: () => void): string[] {
  const saved = process.env;
  process.env = { ...env };
  const lines: string[] = [];
  const take = (chunk: unknown) => { lines.push(...String(chunk).split('\n').filter(l => l !== '')); return true; };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(take);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(take);
  try {
    body();
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
  }
  return lines;
}

/** A line without its timestamp, the one key that differs between two loggers writing the same call. */
const comparable = (line: Record<string, unknown>) => {
  const { timestamp, ...rest } = line;
  expect(typeof timestamp).toBe('string');
  return rest;
};

/** An error with a code and an Error cause with its own code: what an SDK or socket failure looks like. */
const startError = Object.assign(
  new Error('MCP server could not start', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6379'), { code: 'ECONNREFUSED', errno: -111 }) }),
  { code: 'E_START' },
);

describe('log levels: the lines written, whole, are the ones Powertools Logger writes for the same environment', () => {
  const cases: Record<string, string>[] = [
    {},
    { POWERTOOLS_LOG_LEVEL: 'WARN' },
    { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    { POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    { LOG_LEVEL: 'WARN' },
    { POWERTOOLS_LOG_LEVEL: 'ERROR', LOG_LEVEL: 'DEBUG' },
    // Lambda's advanced logging controls win over the Powertools variables; FATAL is read as CRITICAL.
    { AWS_LAMBDA_LOG_LEVEL: 'WARN', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    { AWS_LAMBDA_LOG_LEVEL: 'FATAL' },
    // Not level names: ignored (Powertools compares case-sensitively), except for surrounding spaces.
    { POWERTOOLS_LOG_LEVEL: 'warn' },
    { POWERTOOLS_LOG_LEVEL: ' ERROR ' },
    { POWERTOOLS_LOG_LEVEL: 'LOUD', LOG_LEVEL: 'ERROR' },
  ];
  test.each(cases)('%j', env => {
    const full = { POWERTOOLS_SERVICE_NAME: 'mcp', ...env };
    const write = (log: { info(m: string, e: Record<string, unknown>): void; warn(m: string, e: Record<string, unknown>): void; error(m: string, e: Error): void }) => {
      log.info('tool call', { tool: 'customers_lookup' });
      log.warn('tool call failed', { tool: 'customers_lookup', errorKind: 'not_found' });
      log.error('MCP server could not start', startError);
    };
    const theirs = capturePowertools(full, () => write(new Logger())).map(l => JSON.parse(l));
    const ours: string[] = [];
    write(JsonLogger.fromEnv(full, l => ours.push(l)));
    expect(ours.map(l => comparable(JSON.parse(l)))).toEqual(theirs.map(comparable));
  });

  test('the matrix covers writing all three lines, some, and none', () => {
    const counts = cases.map(env => {
      const ours: string[] = [];
      const log = JsonLogger.fromEnv(env, l => ours.push(l));
      log.info('a'); log.warn('b'); log.error('c', new Error('d'));
      return ours.length;
    });
    expect(new Set(counts)).toEqual(new Set([0, 1, 2, 3]));
  });
});

test('appendKeys: the keys are on every later line, and a call\'s own keys win', () => {
  const env = { POWERTOOLS_SERVICE_NAME: 'mcp' };
  const write = (log: { appendKeys(k: Record<string, unknown>): void; info(m: string, e: Record<string, unknown>): void }) => {
    log.info('before', {});
    log.appendKeys({ requestId: 'req-1', stage: 'prod' });
    log.info('tool call', { tool: 'customers_lookup' });
    log.appendKeys({ requestId: 'req-2' });
    log.info('tool call', { tool: 'customers_lookup', requestId: 'own' });
  };
  const theirs = capturePowertools(env, () => write(new Logger())).map(l => comparable(JSON.parse(l)));
  const ours: string[] = [];
  write(JsonLogger.fromEnv(env, l => ours.push(l)));
  expect(ours.map(l => comparable(JSON.parse(l)))).toEqual(theirs);
  expect(theirs.map(l => l.requestId)).toEqual([undefined, 'req-1', 'own']);
  expect(theirs.map(l => l.stage)).toEqual([undefined, 'prod', 'prod']);
});

test('the MCP tool-call observer writes the same EMF documents and log lines through the shared telemetry as through Powertools', () => {
  const env = { POWERTOOLS_SERVICE_NAME: 'mcp', POWERTOOLS_METRICS_NAMESPACE: 'AgentDataStack', _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' };
  const calls: ToolCallEvent[] = [
    { tool: 'customers_lookup', correlationId: 'c1', outcome: 'ok', latencyMs: 3.4, resultBytes: 120, resultCount: 1, positions: [] },
    { tool: 'customers_search', correlationId: 'c2', outcome: 'error', latencyMs: 8, resultBytes: 0, resultCount: 0, positions: [], errorKind: 'invalid_arguments', errorDetail: 'missing required argument' },
    { tool: 'record_decision', correlationId: 'c3', outcome: 'ok', latencyMs: 12, resultBytes: 40, resultCount: 1, positions: [] },
  ];
  const theirs = capturePowertools(env, () => {
    const observer = toolCallObserver(new Logger(), new Metrics());
    for (const c of calls) observer.onToolCall(c);
  }).map(l => JSON.parse(l));
  const ours: string[] = [];
  const observer = toolCallObserver(JsonLogger.fromEnv(env, l => ours.push(l)), EmfMetrics.fromEnv(env, l => ours.push(l)));
  for (const c of calls) observer.onToolCall(c);
  const parsed = ours.map(l => JSON.parse(l));
  const emf = (lines: any[]) => lines.filter(l => l._aws).map(withoutTimestamp);
  const logs = (lines: any[]) => lines.filter(l => !l._aws).map(comparable);
  // Three calls: three per-tool documents and one DecisionsRecorded document; three log lines.
  expect(emf(parsed)).toHaveLength(4);
  expect(emf(parsed)).toEqual(emf(theirs));
  expect(logs(parsed)).toHaveLength(3);
  expect(logs(parsed)).toEqual(logs(theirs));
});

test('an error line carries what Powertools writes of the error: location, cause down the chain, the error\'s own fields', () => {
  const env = { POWERTOOLS_SERVICE_NAME: 'sink' };
  const theirs = capturePowertools(env, () => new Logger().error('batch failed', startError)).map(l => comparable(JSON.parse(l)));
  const ours: string[] = [];
  JsonLogger.fromEnv(env, l => ours.push(l)).error('batch failed', startError);
  const line = comparable(JSON.parse(ours[0]));
  expect(line).toEqual(theirs[0]);
  expect(line.error).toMatchObject({
    name: 'Error', code: 'E_START', location: expect.stringMatching(/telemetry\.test\.ts:\d+$/),
    cause: { message: 'connect ECONNREFUSED 10.0.0.1:6379', code: 'ECONNREFUSED', errno: -111 },
  });
});

test('a thrown value that is not an Error is logged as it is', () => {
  const ours: string[] = [];
  JsonLogger.fromEnv({}, l => ours.push(l)).error('lineage catalog could not be loaded', 'access denied');
  expect(JSON.parse(ours[0]).error).toBe('access denied');
});

test('a call\'s keys and appended keys cannot replace the reserved keys (level, message, timestamp, service, sampling_rate)', () => {
  const ours: string[] = [];
  const log = JsonLogger.fromEnv({ POWERTOOLS_SERVICE_NAME: 'mcp' }, l => ours.push(l));
  log.appendKeys({ service: 'spoofed', requestId: 'r1' });
  log.info('tool call', { level: 'DEBUG', message: 'spoofed', timestamp: 'then', sampling_rate: 1, tool: 't' });
  const line = JSON.parse(ours[0]);
  expect(line).toMatchObject({ level: 'INFO', message: 'tool call', service: 'mcp', sampling_rate: 0, requestId: 'r1', tool: 't' });
  expect(line.timestamp).not.toBe('then');
});
