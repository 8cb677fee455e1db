// The sink's own EMF and log lines (lambda/sink/telemetry.ts) match what Powertools writes for the same calls, so dashboards, alarms and log queries see no difference.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PowertoolsSinkMetrics } from '../../lambda/sink/metrics';
import { EmfMetrics, JsonLogger } from '../../lambda/sink/telemetry';

function feed(m: PowertoolsSinkMetrics): void {
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
  feed(new PowertoolsSinkMetrics(EmfMetrics.fromEnv({ POWERTOOLS_METRICS_NAMESPACE: 'AgentDataStack', POWERTOOLS_SERVICE_NAME: 'sink' }, l => ours.push(l))));

  const theirs: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => { theirs.push(String(chunk)); return true; });
  try {
    feed(new PowertoolsSinkMetrics(new Metrics({ namespace: 'AgentDataStack', serviceName: 'sink' })));
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
