// `agent-data-stack status --doctor` against mocked SDK clients answering with the documented response shapes:
// MSK Connect DescribeConnector https://docs.aws.amazon.com/MSKC/latest/mskc/API_DescribeConnector.html,
// Managed Flink DescribeApplication https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_DescribeApplication.html,
// CloudWatch GetMetricData https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html,
// CloudFormation DescribeStacks https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html.
// The stack side: the OperationsManifest output of the example stack.
import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { DescribeConnectorCommand, KafkaConnectClient } from '@aws-sdk/client-kafkaconnect';
import { DescribeApplicationCommand, KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { OpenSearchClient } from '@aws-sdk/client-opensearch';
import { mockClient } from 'aws-sdk-client-mock';
import { DoctorReport, main, StatusClients } from '../../cli/agent-data-stack';
import { DOCTOR_RUNBOOK } from '../../cli/status/doctor';
import { OperationsManifest } from '../../contract/operations-manifest';
import { LagSeries, searchLag } from '../helpers/consumer-lag-search';
import { exampleTemplate } from '../helpers/example-template';

const ACCOUNT = '123456789012';
const GIB = 1024 ** 3;
const MANIFEST: OperationsManifest = {
  version: 1,
  freshnessSloMs: 5000,
  sinkMetrics: { namespace: 'AgentDataStack', dimensions: { service: 'agent-data-stack-sink' } },
  sources: [
    {
      name: 'Source', engine: 'postgres', connectorName: 'agent-cdc', heartbeatTopic: '__debezium-heartbeat.agentdata', slotWalKeepBytes: 50 * GIB,
      slotLag: { namespace: 'AWS/RDS', metricName: 'OldestReplicationSlotLag', dimensions: { DBInstanceIdentifier: 'shop-db' } },
      freeStorage: { namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: { DBInstanceIdentifier: 'shop-db' } },
    },
    {
      name: 'billing', engine: 'mysql', connectorName: 'agent-cdc-billing', heartbeatTopic: '__debezium-heartbeat.billing',
      binLogDiskUsage: { namespace: 'AWS/RDS', metricName: 'BinLogDiskUsage', dimensions: { DBInstanceIdentifier: 'billing-db' } },
      freeStorage: { namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: { DBInstanceIdentifier: 'billing-db' } },
    },
  ],
  flink: [{ applicationName: 'orders-join', runtime: 'FLINK-2_2' }],
  views: [{ name: 'customer', maxStalenessMs: 60000 }, { name: 'orders' }],
};
const OUTPUTS = [
  { OutputKey: 'KafkaClusterArn', OutputValue: `arn:aws:kafka:us-east-1:${ACCOUNT}:cluster/agent-kafka/0f1e-2d3c` },
  { OutputKey: 'ConnectorArn', OutputValue: `arn:aws:kafkaconnect:us-east-1:${ACCOUNT}:connector/agent-cdc/abcd` },
  { OutputKey: 'FlinkApplicationArnorderjoin', OutputValue: `arn:aws:kinesisanalytics:us-east-1:${ACCOUNT}:application/orders-join` },
  { OutputKey: 'OperationsManifest', OutputValue: JSON.stringify(MANIFEST) },
];

const mocks = {
  cfn: mockClient(CloudFormationClient), kc: mockClient(KafkaConnectClient), flink: mockClient(KinesisAnalyticsV2Client), cw: mockClient(CloudWatchClient),
};
const clients = (): StatusClients => ({
  cloudformation: new CloudFormationClient({ region: 'us-east-1' }), kafka: new KafkaClient({ region: 'us-east-1' }),
  kafkaConnect: new KafkaConnectClient({ region: 'us-east-1' }), flink: new KinesisAnalyticsV2Client({ region: 'us-east-1' }),
  elastiCache: new ElastiCacheClient({ region: 'us-east-1' }), openSearch: new OpenSearchClient({ region: 'us-east-1' }),
  cloudWatch: new CloudWatchClient({ region: 'us-east-1' }),
});

type Series = Record<string, number[]>;
/**
 * Datapoints per metric, newest first (GetMetricData with ScanBy TimestampDescending); keyed 'Metric' or 'Metric/DimensionValue'.
 * The EstimatedMaxTimeLag search is evaluated over `lag` (default: one sink group's series with `series.EstimatedMaxTimeLag`),
 * one result per series, or answered by `lag` itself. Every query of a request gets its results, by Id.
 */
function metrics(series: Series, lag?: LagSeries[] | ((q: MetricDataQuery) => MetricDataResult[])) {
  mocks.cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: input.MetricDataQueries!.flatMap((q): MetricDataResult[] => {
      let key: string;
      if (q.Expression) key = /MetricName="([A-Za-z]+)"/.exec(q.Expression)![1];
      else {
        const m = q.MetricStat!.Metric!;
        const own = (m.Dimensions ?? []).find(d => !['service'].includes(d.Name!));
        key = own ? `${m.MetricName}/${own.Value}` : m.MetricName!;
      }
      if (key === 'EstimatedMaxTimeLag') {
        if (typeof lag === 'function') return lag(q);
        return searchLag(q, lag ?? (series[key]?.length ? [{ group: 'agent-sink.orders', topic: 'agent.orders', values: series[key] }] : []));
      }
      const values = series[key] ?? series[key.split('/')[0]] ?? [];
      return [{ Id: q.Id, Label: key, StatusCode: 'Complete' as const, Timestamps: values.map((_, i) => new Date(Date.UTC(2026, 0, 1, 0, 10 - i))), Values: values }];
    }),
    Messages: [],
  }));
}

const HEALTHY_SERIES: Series = {
  'OldestReplicationSlotLag/shop-db': [64 * 1024 ** 2],
  'FreeStorageSpace/shop-db': [80 * GIB],
  'FreeStorageSpace/billing-db': [80 * GIB],
  'BinLogDiskUsage/billing-db': [2 * GIB],
  'ErroredTaskCount': [0, 0, 0],
  'RunningTaskCount': [1, 1, 1],
  'CdcLag': [900],
  'numRestarts': [3, 3, 3, 3],
  'EstimatedMaxTimeLag': [2],
  'FreshnessLag': [1200],
  'RecordsDeadLettered': [0],
};

function healthy(series: Series = {}) {
  mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'AgentDataStack', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: OUTPUTS }] });
  mocks.kc.on(DescribeConnectorCommand).resolves({
    connectorArn: OUTPUTS[1].OutputValue, connectorName: 'agent-cdc', connectorState: 'RUNNING', currentVersion: 'V1',
    capacity: { provisionedCapacity: { mcuCount: 1, workerCount: 1 } },
  });
  mocks.flink.on(DescribeApplicationCommand).resolves({
    ApplicationDetail: {
      ApplicationARN: OUTPUTS[2].OutputValue, ApplicationName: 'orders-join', ApplicationStatus: 'RUNNING', ApplicationVersionId: 3, RuntimeEnvironment: 'FLINK-2_2',
    },
  });
  metrics({ ...HEALTHY_SERIES, ...series });
}

async function doctor(argv: string[] = []) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['status', '--doctor', ...argv], {
    stdout: t => out.push(t), stderr: t => err.push(t), env: {}, clients: clients(), clock: () => new Date('2026-01-01T00:10:00Z'),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
async function report(): Promise<{ code: number; report: DoctorReport }> {
  const r = await doctor(['--json']);
  return { code: r.code, report: JSON.parse(r.stdout) };
}

beforeEach(() => Object.values(mocks).forEach(m => m.reset()));
afterAll(() => Object.values(mocks).forEach(m => m.restore()));

describe('agent-data-stack status --doctor', () => {
  test('healthy stack: every check ok, each with its runbook section, exit 0', async () => {
    healthy();
    const r = await doctor();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^CHECK\s+RESOURCE\s+STATUS\s+VALUE\s+RUNBOOK$/);
    for (const [check, resource] of [
      ['slot-lag', 'Source'], ['wal-headroom', 'Source'], ['binlog', 'billing'], ['connector', 'agent-cdc'], ['connector-tasks', 'agent-cdc'],
      ['cdc-lag', 'Source'], ['cdc-lag', 'billing'], ['flink', 'orders-join'], ['flink-restarts', 'orders-join'], ['consumer-lag', 'agent-kafka'],
      ['freshness', 'customer'], ['freshness', 'orders'], ['dead-letters', 'customer'], ['dead-letters', 'orders'],
    ]) {
      expect(lines.find(l => new RegExp(`^${check}\\s+${resource}\\s+OK\\s`).test(l))).toMatch(/docs\/OPERATIONS\.md#/);
    }
    expect(r.stdout).toMatch(/slot-lag\s+Source\s+OK\s+64 MiB held by the oldest slot; limit 1 GiB/);
    expect(r.stdout).toMatch(/wal-headroom\s+Source\s+OK\s+49.9 GiB more WAL before max_slot_wal_keep_size \(50 GiB\)/);
    expect(r.stdout).toMatch(/freshness\s+customer\s+OK\s+p99 1200 ms; limit 60000 ms \(maxStaleness\)/);
    expect(r.stdout).toMatch(/freshness\s+orders\s+OK\s+p99 1200 ms; limit 5000 ms \(freshness SLO\)/);
    expect(r.stdout).toMatch(/AgentDataStack: healthy \(0 of 14 checks failing, 0 warning\)/);
  });

  test('asks for the metrics the manifest names, with the documented GetMetricData request shape', async () => {
    healthy();
    await doctor();
    const inputs = mocks.cw.commandCalls(GetMetricDataCommand).map(c => c.args[0].input);
    const slot = inputs.find(i => i.MetricDataQueries![0].MetricStat?.Metric?.MetricName === 'OldestReplicationSlotLag')!;
    expect(slot.MetricDataQueries![0]).toEqual({
      Id: 'm', ReturnData: true,
      MetricStat: { Metric: { Namespace: 'AWS/RDS', MetricName: 'OldestReplicationSlotLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'shop-db' }] }, Period: 300, Stat: 'Maximum' },
    });
    expect(slot.ScanBy).toBe('TimestampDescending');
    const dead = inputs.filter(i => i.MetricDataQueries![0].MetricStat?.Metric?.MetricName === 'RecordsDeadLettered');
    expect(dead.map(i => i.MetricDataQueries![0].MetricStat!.Metric!.Dimensions)).toEqual([
      [{ Name: 'service', Value: 'agent-data-stack-sink' }, { Name: 'View', Value: 'customer' }],
      [{ Name: 'service', Value: 'agent-data-stack-sink' }, { Name: 'View', Value: 'orders' }],
    ]);
    // Dead letters in the last hour: one hour window, one hourly Sum.
    expect((dead[0].EndTime!.getTime() - dead[0].StartTime!.getTime()) / 60_000).toBe(60);
    expect(dead[0].MetricDataQueries![0].MetricStat).toMatchObject({ Period: 3600, Stat: 'Sum' });
    const cdc = inputs.filter(i => i.MetricDataQueries![0].MetricStat?.Metric?.MetricName === 'CdcLag').map(i => i.MetricDataQueries![0].MetricStat!.Metric!.Dimensions![1].Value);
    expect(cdc.sort()).toEqual(['__debezium-heartbeat.agentdata', '__debezium-heartbeat.billing']);
    expect(mocks.kc.commandCalls(DescribeConnectorCommand)[0].args[0].input).toEqual({ connectorArn: OUTPUTS[1].OutputValue });
    expect(mocks.flink.commandCalls(DescribeApplicationCommand)[0].args[0].input).toEqual({ ApplicationName: 'orders-join' });
  });

  const FAILURES: [string, () => void, RegExp, string][] = [
    ['slot lag above the alarm limit', () => healthy({ 'OldestReplicationSlotLag/shop-db': [3 * GIB] }), /slot-lag\s+Source\s+FAIL\s+3 GiB held by the oldest slot; limit 1 GiB/, 'replication-slot-lag-and-wal-growth-postgresql--binlog-growth-mysql'],
    ['free storage below what the slot may still hold', () => healthy({ 'FreeStorageSpace/shop-db': [20 * GIB] }), /wal-headroom\s+Source\s+FAIL\s+.*20 GiB free storage: the disk fills first/, 'replication-slot-lag-and-wal-growth-postgresql--binlog-growth-mysql'],
    ['connector FAILED', () => {
      healthy();
      mocks.kc.on(DescribeConnectorCommand).resolves({ connectorName: 'agent-cdc', connectorState: 'FAILED', stateDescription: { code: 'UnknownError', message: 'worker stopped' } });
    }, /connector\s+agent-cdc\s+FAIL\s+FAILED: worker stopped/, 'connector-restart-and-re-snapshot'],
    ['a task in error', () => healthy({ ErroredTaskCount: [1, 0, 0], RunningTaskCount: [0, 1, 1] }), /connector-tasks\s+agent-cdc\s+FAIL\s+0 running, 1 errored/, 'connector-restart-and-re-snapshot'],
    ['no heartbeat from one source', () => healthy({ 'CdcLag/__debezium-heartbeat.billing': [] }), /cdc-lag\s+billing\s+FAIL\s+no heartbeat from __debezium-heartbeat.billing/, 'replication-slot-invalidated-postgresql'],
    ['Flink stopped', () => {
      healthy();
      mocks.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationARN: 'x', ApplicationName: 'orders-join', ApplicationStatus: 'READY', ApplicationVersionId: 3, RuntimeEnvironment: 'FLINK-2_2' } });
    }, /flink\s+orders-join\s+FAIL\s+READY \(FLINK-2_2\)/, 'flink-job-failed-or-falling-behind'],
    ['Flink job restarts while RUNNING', () => healthy({ numRestarts: [7, 5, 3, 3] }), /flink-restarts\s+orders-join\s+FAIL\s+4 restart\(s\) in the last hour \(numRestarts\)/, 'flink-job-failed-or-falling-behind'],
    ['consumer lag', () => healthy({ EstimatedMaxTimeLag: [95] }), /consumer-lag\s+agent-kafka\s+FAIL\s+95 s; limit 30 s/, 'when-the-workload-grows'],
    ['a view over its maxStaleness', () => healthy({ 'FreshnessLag/customer': [61000] }), /freshness\s+customer\s+FAIL\s+p99 61000 ms; limit 60000 ms \(maxStaleness\)/, 'how-stale-is-what-agents-see'],
    ['dead letters in the last hour', () => healthy({ 'RecordsDeadLettered/orders': [3] }), /dead-letters\s+orders\s+FAIL\s+3 in the last hour/, 'rebuilding-a-store-by-replaying-kafka'],
  ];
  test.each(FAILURES)('%s: the row fails, says what to do and where, exit 1', async (_name, breakIt, rowRe, anchor) => {
    breakIt();
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(rowRe);
    expect(r.stdout).toMatch(new RegExp(`What to do:\\n(.*\\n)*  FAIL .*\\(docs/OPERATIONS\\.md#${anchor}\\)`));
    expect(r.stdout).toMatch(/AgentDataStack: UNHEALTHY \(1 of 14 checks failing/);
  });

  test('a restart count of 1.20 applications is fullRestarts', async () => {
    healthy({ fullRestarts: [2, 1] });
    mocks.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationARN: 'x', ApplicationName: 'orders-join', ApplicationStatus: 'RUNNING', ApplicationVersionId: 3, RuntimeEnvironment: 'FLINK-1_20' } });
    const { code, report: rep } = await report();
    expect(code).toBe(1);
    expect(rep.checks.find(c => c.check === 'flink-restarts')).toMatchObject({ status: 'fail', value: '1 restart(s) in the last hour (fullRestarts)' });
  });

  test('a deploy in progress warns without failing; --json carries the same checks', async () => {
    healthy();
    mocks.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationARN: 'x', ApplicationName: 'orders-join', ApplicationStatus: 'AUTOSCALING', ApplicationVersionId: 3, RuntimeEnvironment: 'FLINK-2_2' } });
    const { code, report: rep } = await report();
    expect(code).toBe(0);
    expect(Object.keys(rep).sort()).toEqual(['checkedAt', 'checks', 'healthy', 'stack']);
    expect(rep.checks.find(c => c.check === 'flink')).toEqual({
      check: 'flink', resource: 'orders-join', status: 'warn', value: 'AUTOSCALING (FLINK-2_2)',
      runbook: 'docs/OPERATIONS.md#flink-job-failed-or-falling-behind', fix: DOCTOR_RUNBOOK.flink.fix,
    });
  });

  test('an API error fails its check only; the others still run', async () => {
    healthy();
    mocks.kc.on(DescribeConnectorCommand).rejects(Object.assign(new Error('User is not authorized to perform kafkaconnect:DescribeConnector'), { name: 'AccessDeniedException' }));
    const { code, report: rep } = await report();
    expect(code).toBe(1);
    expect(rep.checks.filter(c => c.status === 'fail')).toEqual([expect.objectContaining({ check: 'connector', value: expect.stringMatching(/^AccessDeniedException/) })]);
    expect(rep.checks.length).toBe(13);
  });

  test('a stack without the manifest (older version) still gets connector, Flink and lag checks, and a warning', async () => {
    healthy();
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Old', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: OUTPUTS.slice(0, 3) }] });
    const { code, report: rep } = await report();
    expect(code).toBe(0);
    expect(rep.checks.map(c => `${c.check}:${c.status}`)).toEqual([
      'manifest:warn', 'connector:ok', 'connector-tasks:ok', 'flink:ok', 'flink-restarts:ok', 'consumer-lag:ok',
    ]);
  });

  test('every runbook step the doctor prints is a section of docs/OPERATIONS.md', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'OPERATIONS.md'), 'utf8');
    const anchors = new Set(doc.split('\n').filter(l => /^#{2,3} /.test(l)).map(l => l.replace(/^#+ /, '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const [check, { anchor }] of Object.entries(DOCTOR_RUNBOOK)) expect([check, anchors.has(anchor)]).toEqual([check, true]);
  });
});

// A stack whose manifest names the Flink application's consumer groups and checkpoint interval (60 s), with one sink group.
describe('consumer lag of Flink groups: checkpoint interval + limit, as the ConsumerLag alarm', () => {
  const FLINK_MANIFEST: OperationsManifest = {
    ...MANIFEST,
    flink: [{ applicationName: 'orders-join', runtime: 'FLINK-2_2', checkpointIntervalMs: 60_000, consumerGroups: ['flink.orders-join.orders', 'flink.orders-join.customers'] }],
  };
  function stack(lag: { orders: number; customers: number; sink: number }) {
    healthy();
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{
      StackName: 'AgentDataStack', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0),
      Outputs: [...OUTPUTS.slice(0, 3), { OutputKey: 'OperationsManifest', OutputValue: JSON.stringify(FLINK_MANIFEST) }],
    }] });
    metrics(HEALTHY_SERIES, [
      { group: 'flink.orders-join.orders', topic: 'agentdata.public.orders', values: [lag.orders, lag.orders - 50, lag.orders - 20] },
      { group: 'flink.orders-join.customers', topic: 'agentdata.public.customers', values: [lag.customers, lag.customers - 10] },
      { group: 'agent-sink.orders', topic: 'agent.orders', values: [lag.sink, 1] },
    ]);
  }
  const WHY = 'orders-join checkpoint interval 60 s \\+ 30 s: Flink commits offsets only when a checkpoint completes';

  test('a Flink group 70 s behind with a 60 s checkpoint interval is OK (limit 90 s); the stack is healthy', async () => {
    stack({ orders: 70, customers: 65, sink: 2 });
    const r = await doctor();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`consumer-lag\\s+flink\\.orders-join\\.orders\\s+OK\\s+70 s; limit 90 s \\(${WHY}\\)`));
    expect(r.stdout).toMatch(/consumer-lag\s+agent-kafka\s+OK\s+2 s; limit 30 s \(groups other than the Flink groups; worst agent-sink\.orders\)/);
    expect(r.stdout).not.toMatch(/What to do/);
  });

  test('a Flink group 120 s behind fails, saying its limit and why', async () => {
    stack({ orders: 70, customers: 120, sink: 2 });
    const { code, report: rep } = await report();
    expect(code).toBe(1);
    expect(rep.checks.filter(c => c.status === 'fail')).toEqual([expect.objectContaining({
      check: 'consumer-lag', resource: 'flink.orders-join.customers', runbook: 'docs/OPERATIONS.md#when-the-workload-grows',
      value: '120 s; limit 90 s (orders-join checkpoint interval 60 s + 30 s: Flink commits offsets only when a checkpoint completes)',
    })]);
    const r = await doctor();
    expect(r.stdout).toMatch(/What to do:\n(.*\n)* {2}FAIL consumer-lag flink\.orders-join\.customers: .*checkpoints complete/);
  });

  test('a sink group 40 s behind fails against the plain 30 s and is named, though a Flink group lags more and is OK', async () => {
    stack({ orders: 70, customers: 65, sink: 40 });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/consumer-lag\s+agent-kafka\s+FAIL\s+40 s; limit 30 s \(groups other than the Flink groups; worst agent-sink\.orders\)/);
    expect(r.stdout).toMatch(/consumer-lag\s+flink\.orders-join\.orders\s+OK\s+70 s; limit 90 s/);
    expect(r.stdout).toMatch(/AgentDataStack: UNHEALTHY \(1 of 16 checks failing/);
  });

  test('--max-lag-seconds is added to the interval; one GetMetricData request: one search over every group of the cluster', async () => {
    stack({ orders: 70, customers: 65, sink: 2 });
    const r = await doctor(['--max-lag-seconds', '5']);
    expect(r.stdout).toMatch(/consumer-lag\s+flink\.orders-join\.orders\s+FAIL\s+70 s; limit 65 s \(orders-join checkpoint interval 60 s \+ 5 s/);
    expect(r.stdout).toMatch(/consumer-lag\s+flink\.orders-join\.customers\s+OK\s+65 s; limit 65 s/);
    const lag = mocks.cw.commandCalls(GetMetricDataCommand).map(c => c.args[0].input).filter(i => /EstimatedMaxTimeLag/.test(i.MetricDataQueries![0].Expression ?? ''));
    expect(lag).toHaveLength(1);
    // The metric schema (exactly MSK's dimensions), the cluster by exact match, no MAX(): one series per group and topic,
    // each labelled with its group by a dynamic label; the period (60 s) is the search's third argument.
    expect(lag[0].MetricDataQueries).toEqual([{
      Id: 'lag', ReturnData: true, Label: "${PROP('Dim.Consumer Group')}",
      Expression: `SEARCH('{AWS/Kafka,"Cluster Name","Consumer Group",Topic} MetricName="EstimatedMaxTimeLag" "Cluster Name"="agent-kafka"', 'Maximum', 60)`,
    }]);
    expect(lag[0]).toMatchObject({ ScanBy: 'TimestampDescending', EndTime: new Date('2026-01-01T00:10:00Z'), StartTime: new Date('2026-01-01T00:00:00Z') });
  });

  // The search used to exclude each Flink group by name; 30 generated names took some 3,000 characters, past CloudWatch's
  // 1024, and the sink groups' row warned 'not read'. Now the groups are told apart by the series' labels.
  test('30 Flink groups with long names: the sink groups are judged and the worst is named; each Flink group against its own limit', async () => {
    const groups = Array.from({ length: 30 }, (_, i) => `flink.AgentDataStack-Transformorderenrichment-35BD9E56.table_${i}`);
    healthy();
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{
      StackName: 'AgentDataStack', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0),
      Outputs: [...OUTPUTS.slice(0, 3), { OutputKey: 'OperationsManifest', OutputValue: JSON.stringify({
        ...MANIFEST, flink: [{ applicationName: 'orders-join', runtime: 'FLINK-2_2', checkpointIntervalMs: 60_000, consumerGroups: groups }],
      }) }],
    }] });
    metrics(HEALTHY_SERIES, [
      ...groups.map((group, i) => ({ group, topic: `agentdata.public.t${i}`, values: [i === 11 ? 120 : 75] })),
      { group: 'agent-sink.orders', topic: 'agent.orders', values: [40] },
      { group: 'agent-sink.customers', topic: 'agent.customers', values: [3] },
    ]);
    const { code, report: rep } = await report();
    expect(code).toBe(1);
    const lagRows = rep.checks.filter(c => c.check === 'consumer-lag');
    expect(lagRows).toHaveLength(31);
    expect(lagRows.filter(c => c.status !== 'ok')).toEqual([
      expect.objectContaining({ resource: 'agent-kafka', status: 'fail', value: '40 s; limit 30 s (groups other than the Flink groups; worst agent-sink.orders)' }),
      expect.objectContaining({ resource: groups[11], status: 'fail', value: expect.stringMatching(/^120 s; limit 90 s/) }),
    ]);
    const queries = mocks.cw.commandCalls(GetMetricDataCommand).flatMap(c => c.args[0].input.MetricDataQueries!).filter(q => /EstimatedMaxTimeLag/.test(q.Expression ?? ''));
    expect(queries).toHaveLength(1);
  });

  test('a partial answer (a series CloudWatch could not read) warns where what was read is within the limit', async () => {
    stack({ orders: 70, customers: 120, sink: 2 });
    metrics(HEALTHY_SERIES, q => [
      ...searchLag(q, [{ group: 'agent-sink.orders', topic: 'agent.orders', values: [2] }, { group: 'flink.orders-join.customers', topic: 't', values: [120] }]),
      { Id: q.Id, Label: 'agent-sink.customers', StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'not authorized' }], Timestamps: [], Values: [] },
    ]);
    const { report: rep } = await report();
    const lagRows = rep.checks.filter(c => c.check === 'consumer-lag');
    expect(lagRows.map(c => [c.resource, c.status])).toEqual([
      ['agent-kafka', 'warn'], ['flink.orders-join.orders', 'warn'], ['flink.orders-join.customers', 'fail'],
    ]);
    expect(lagRows[0].value).toBe('2 s; limit 30 s (groups other than the Flink groups; worst agent-sink.orders; partial read: CloudWatch answered Forbidden: not authorized)');
  });
});

describe('the OperationsManifest output', () => {
  /** The output's Fn::Join with each token replaced by a placeholder string, parsed. */
  function manifestOf(profile: 'development' | 'production'): OperationsManifest {
    const value = exampleTemplate(profile).toJSON().Outputs.OperationsManifest.Value;
    const parts: unknown[] = value['Fn::Join'] ? value['Fn::Join'][1] : [value];
    return JSON.parse(parts.map(p => (typeof p === 'string' ? p : 'TOKEN')).join(''));
  }

  test('production example: the source with its slot limit and metrics, the Flink application and each view', () => {
    const m = manifestOf('production');
    expect(m).toMatchObject({ version: 1, freshnessSloMs: 5000, sinkMetrics: { dimensions: { service: 'agent-data-stack-sink' } } });
    expect(m.sources).toEqual([expect.objectContaining({
      name: 'Source', engine: 'postgres', heartbeatTopic: '__debezium-heartbeat.agentdata', slotWalKeepBytes: 50 * GIB,
      slotLag: { namespace: 'AWS/RDS', metricName: 'OldestReplicationSlotLag', dimensions: { DBInstanceIdentifier: 'TOKEN' } },
      freeStorage: { namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: { DBInstanceIdentifier: 'TOKEN' } },
    })]);
    expect(m.flink).toEqual([
      expect.objectContaining({ applicationName: expect.any(String), runtime: 'FLINK-2_2' }),
      expect.objectContaining({ applicationName: expect.any(String), runtime: 'FLINK-1_20' }),
    ]);
    expect(m.views.map(v => v.name)).toEqual(['customer', 'orders', 'tickets', 'order_history']);
  });

  test('each Flink application carries its checkpoint interval and consumer groups: the groups whose ConsumerLag alarms add that interval', () => {
    const m = manifestOf('production');
    // The transform's default 60 s; the warehouse writer checkpoints (and commits to Iceberg) every commitInterval, 1 minute by default.
    expect(m.flink.map(f => [f.runtime, f.checkpointIntervalMs])).toEqual([['FLINK-2_2', 60_000], ['FLINK-1_20', 60_000]]);
    const [transform, writer] = m.flink.map(f => f.applicationName);
    expect(m.flink.map(f => [...f.consumerGroups!].sort())).toEqual([
      [`flink.${transform}.customers`, `flink.${transform}.orders`],
      [`flink.${writer}.src_order_history`, `flink.${writer}.src_order_history_changes`],
    ]);
    // The CLI judges a group as its alarm does: threshold = checkpoint interval + thresholds.consumerLag (30 s).
    const alarms = Object.values(exampleTemplate('production').findResources('AWS::CloudWatch::Alarm'))
      .filter(a => a.Properties.MetricName === 'EstimatedMaxTimeLag');
    for (const f of m.flink) {
      for (const group of f.consumerGroups!) {
        const own = alarms.filter(a => a.Properties.Dimensions.some((d: { Name: string; Value: string }) => d.Name === 'Consumer Group' && d.Value === group));
        expect([group, own.length > 0]).toEqual([group, true]);
        for (const a of own) expect([group, a.Properties.Threshold]).toEqual([group, f.checkpointIntervalMs! / 1000 + 30]);
      }
    }
  });

  test('development example: the smaller slot limit', () => {
    expect(manifestOf('development').sources[0].slotWalKeepBytes).toBe(4 * GIB);
  });
});
