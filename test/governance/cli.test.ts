// The ops CLI against mocked SDK clients: healthy and unhealthy per layer, errors, missing credentials, unknown stack, --json shape.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeReplicationGroupsCommand, DescribeServerlessCachesCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeClusterV2Command, KafkaClient } from '@aws-sdk/client-kafka';
import { DescribeConnectorCommand, KafkaConnectClient } from '@aws-sdk/client-kafkaconnect';
import { DescribeApplicationCommand, KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { DescribeDomainHealthCommand, OpenSearchClient } from '@aws-sdk/client-opensearch';
import { mockClient } from 'aws-sdk-client-mock';
import { classifyOutputs, COMMANDS, main, StatusClients, StatusReport } from '../../cli/agent-data-stack';
import { LagSeries, searchLag } from '../helpers/consumer-lag-search';

const ACCOUNT = '123456789012';
const OUTPUTS = [
  { OutputKey: 'KafkaClusterArn', OutputValue: `arn:aws:kafka:us-east-1:${ACCOUNT}:cluster/agent-kafka/0f1e-2d3c` },
  { OutputKey: 'ConnectorArn', OutputValue: `arn:aws:kafkaconnect:us-east-1:${ACCOUNT}:connector/agent-cdc/abcd` },
  { OutputKey: 'FlinkAppArn', OutputValue: `arn:aws:kinesisanalytics:us-east-1:${ACCOUNT}:application/orders-join` },
  { OutputKey: 'CacheArn', OutputValue: `arn:aws:elasticache:us-east-1:${ACCOUNT}:serverlesscache:agent-cache` },
  { OutputKey: 'SearchArn', OutputValue: `arn:aws:es:us-east-1:${ACCOUNT}:domain/agent-search` },
  { OutputKey: 'McpUrl', OutputValue: 'https://example.lambda-url.us-east-1.on.aws/' },
];

const mocks = {
  cfn: mockClient(CloudFormationClient), kafka: mockClient(KafkaClient), kc: mockClient(KafkaConnectClient),
  flink: mockClient(KinesisAnalyticsV2Client), ec: mockClient(ElastiCacheClient), os: mockClient(OpenSearchClient), cw: mockClient(CloudWatchClient),
};

function clients(): StatusClients {
  return {
    cloudformation: new CloudFormationClient({ region: 'us-east-1' }), kafka: new KafkaClient({ region: 'us-east-1' }),
    kafkaConnect: new KafkaConnectClient({ region: 'us-east-1' }), flink: new KinesisAnalyticsV2Client({ region: 'us-east-1' }),
    elastiCache: new ElastiCacheClient({ region: 'us-east-1' }), openSearch: new OpenSearchClient({ region: 'us-east-1' }),
    cloudWatch: new CloudWatchClient({ region: 'us-east-1' }),
  };
}

/**
 * Lag and freshness values CloudWatch returns, by metric name in the search expression; EstimatedMaxTimeLag is one sink
 * group's series, answered as the consumer-lag search is (one result per series, labelled with its group).
 */
function metricValues(values: Record<string, number | undefined>) {
  mocks.cw.on(GetMetricDataCommand).callsFake(input => {
    const q: MetricDataQuery = input.MetricDataQueries[0];
    const metric = /MetricName="([A-Za-z]+)"/.exec(q.Expression!)![1];
    const v = values[metric];
    if (metric === 'EstimatedMaxTimeLag') return { MetricDataResults: searchLag(q, v === undefined ? [] : [{ group: 'agent-sink.orders', topic: 'agent.orders', values: [v] }]) };
    return { MetricDataResults: [{ Id: 'q', Values: v === undefined ? [] : [v] }] };
  });
}

function healthy() {
  mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'AgentDataStack', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: OUTPUTS }] });
  mocks.kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { ClusterName: 'agent-kafka', State: 'ACTIVE' } });
  mocks.kc.on(DescribeConnectorCommand).resolves({ connectorName: 'agent-cdc', connectorState: 'RUNNING' });
  mocks.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationName: 'orders-join', ApplicationStatus: 'RUNNING', RuntimeEnvironment: 'FLINK-2_2', ApplicationARN: 'x', ApplicationVersionId: 1 } });
  mocks.ec.on(DescribeServerlessCachesCommand).resolves({ ServerlessCaches: [{ ServerlessCacheName: 'agent-cache', Status: 'available' }] });
  mocks.os.on(DescribeDomainHealthCommand).resolves({ ClusterHealth: 'Green', DomainState: 'Active' });
  metricValues({ EstimatedMaxTimeLag: 2, CdcLag: 800, FreshnessLag: 1200 });
}

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    stdout: t => out.push(t), stderr: t => err.push(t), env, clients: clients(), clock: () => new Date('2026-01-01T00:10:00Z'),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

beforeEach(() => Object.values(mocks).forEach(m => m.reset()));
afterAll(() => Object.values(mocks).forEach(m => m.restore()));

describe('agent-data-stack status', () => {
  test('healthy stack: a table with every layer, exit 0', async () => {
    healthy();
    const r = await run(['status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^LAYER\s+RESOURCE\s+STATE\s+HEALTHY\s+DETAIL$/);
    for (const layer of ['kafka', 'connector', 'flink', 'cache', 'search', 'consumer-lag', 'cdc-lag', 'freshness']) {
      expect(lines.find(l => l.startsWith(`${layer} `))).toMatch(/\byes\b/);
    }
    expect(r.stdout).toMatch(/freshness\s+AgentDataStack\s+1200 ms\s+yes\s+limit 5000 ms/);
    expect(r.stdout).toMatch(/AgentDataStack: healthy \(0 of 8 checks failing\)/);
  });

  test('reads the stack named by --stack (default AgentDataStack, or AGENT_DATA_STACK_NAME)', async () => {
    healthy();
    await run(['status', '--stack', 'Prod']);
    await run(['status'], { AGENT_DATA_STACK_NAME: 'FromEnv' });
    await run(['status']);
    expect(mocks.cfn.commandCalls(DescribeStacksCommand).map(c => c.args[0].input.StackName)).toEqual(['Prod', 'FromEnv', 'AgentDataStack']);
  });

  test('--json prints the report shape scripts rely on', async () => {
    healthy();
    const r = await run(['status', '--json', '--stack=AgentDataStack']);
    expect(r.code).toBe(0);
    const report: StatusReport = JSON.parse(r.stdout);
    expect(Object.keys(report).sort()).toEqual(['checkedAt', 'healthy', 'layers', 'stack']);
    expect(report).toMatchObject({ stack: 'AgentDataStack', healthy: true, checkedAt: '2026-01-01T00:10:00.000Z' });
    expect(report.layers).toContainEqual({ layer: 'kafka', resource: 'agent-kafka', state: 'ACTIVE', healthy: true });
    expect(report.layers).toContainEqual({ layer: 'consumer-lag', resource: 'agent-kafka', state: '2 s', healthy: true, detail: 'limit 30 s (worst agent-sink.orders)' });
    for (const l of report.layers) expect(Object.keys(l).every(k => ['layer', 'resource', 'state', 'healthy', 'detail'].includes(k))).toBe(true);
  });

  const UNHEALTHY: [string, () => void, RegExp][] = [
    ['kafka', () => mocks.kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { ClusterName: 'agent-kafka', State: 'FAILED', StateInfo: { Message: 'broker lost' } } }), /kafka\s+agent-kafka\s+FAILED\s+NO\s+broker lost/],
    ['connector', () => mocks.kc.on(DescribeConnectorCommand).resolves({ connectorName: 'agent-cdc', connectorState: 'FAILED', stateDescription: { message: 'slot missing' } }), /connector\s+agent-cdc\s+FAILED\s+NO\s+slot missing/],
    ['flink', () => mocks.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationName: 'orders-join', ApplicationStatus: 'READY', ApplicationARN: 'x', ApplicationVersionId: 1, RuntimeEnvironment: 'FLINK-2_2' } }), /flink\s+orders-join\s+READY\s+NO/],
    ['cache', () => mocks.ec.on(DescribeServerlessCachesCommand).resolves({ ServerlessCaches: [{ Status: 'create-failed' }] }), /cache\s+agent-cache\s+create-failed\s+NO/],
    ['search', () => mocks.os.on(DescribeDomainHealthCommand).resolves({ ClusterHealth: 'Red', DomainState: 'Active' }), /search\s+agent-search\s+Red \(Active\)\s+NO/],
    ['consumer lag', () => metricValues({ EstimatedMaxTimeLag: 95, CdcLag: 800, FreshnessLag: 1200 }), /consumer-lag\s+agent-kafka\s+95 s\s+NO\s+limit 30 s/],
    ['CDC lag', () => metricValues({ EstimatedMaxTimeLag: 2, CdcLag: 61000, FreshnessLag: 1200 }), /cdc-lag\s+AgentDataStack\s+61000 ms\s+NO/],
    ['freshness', () => metricValues({ EstimatedMaxTimeLag: 2, CdcLag: 800, FreshnessLag: 7300.44 }), /freshness\s+AgentDataStack\s+7300.4 ms\s+NO\s+limit 5000 ms/],
  ];
  test.each(UNHEALTHY)('unhealthy %s: the row says NO and the exit code is 1', async (_layer, breakIt, row) => {
    healthy();
    breakIt();
    const r = await run(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(row);
    expect(r.stdout).toMatch(/AgentDataStack: UNHEALTHY \(1 of 8 checks failing\)/);
  });

  test('Yellow search health and MSK maintenance are healthy (degraded redundancy, still serving)', async () => {
    healthy();
    mocks.os.on(DescribeDomainHealthCommand).resolves({ ClusterHealth: 'Yellow', DomainState: 'Active' });
    mocks.kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { ClusterName: 'agent-kafka', State: 'MAINTENANCE' } });
    expect((await run(['status'])).code).toBe(0);
  });

  test('thresholds and namespace come from flags', async () => {
    healthy();
    const r = await run(['status', '--slo-ms', '1000', '--max-lag-seconds', '1', '--namespace', 'Custom']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/freshness\s+Custom\s+1200 ms\s+NO\s+limit 1000 ms/);
    expect(r.stdout).toMatch(/consumer-lag\s+agent-kafka\s+2 s\s+NO/);
    const exprs = mocks.cw.commandCalls(GetMetricDataCommand).map(c => c.args[0].input.MetricDataQueries![0].Expression);
    expect(exprs).toContain(`MAX(SEARCH('Namespace="Custom" MetricName="FreshnessLag"', 'p99', 60))`);
    expect(exprs).toContain(`SEARCH('{AWS/Kafka,"Cluster Name","Consumer Group",Topic} MetricName="EstimatedMaxTimeLag" "Cluster Name"="agent-kafka"', 'Maximum', 60)`);
  });

  test('no freshness or consumer-lag data is reported, not failed (no changes, no records)', async () => {
    healthy();
    metricValues({ CdcLag: 800 });
    const r = await run(['status', '--json']);
    const report: StatusReport = JSON.parse(r.stdout);
    expect(report.layers.find(l => l.layer === 'freshness')).toMatchObject({ state: 'no data', healthy: true });
    expect(report.layers.find(l => l.layer === 'consumer-lag')).toMatchObject({ state: 'no data', healthy: true });
    expect(r.code).toBe(0);
  });

  test('no CDC lag at all fails: heartbeats flow even without changes', async () => {
    healthy();
    metricValues({ EstimatedMaxTimeLag: 2, FreshnessLag: 1200 });
    const r = await run(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cdc-lag\s+AgentDataStack\s+no data\s+NO\s+no heartbeat lag in 10 minutes/);
  });

  test('an API error on one layer marks that layer, and the others are still checked', async () => {
    healthy();
    mocks.flink.on(DescribeApplicationCommand).rejects(Object.assign(new Error('User is not authorized to perform DescribeApplication'), { name: 'AccessDeniedException' }));
    const r = await run(['status', '--json']);
    expect(r.code).toBe(1);
    const report: StatusReport = JSON.parse(r.stdout);
    expect(report.layers.find(l => l.layer === 'flink')).toEqual({
      layer: 'flink', resource: 'orders-join', state: 'ERROR', healthy: false, detail: 'AccessDeniedException: User is not authorized to perform DescribeApplication',
    });
    expect(report.layers.filter(l => l.healthy)).toHaveLength(7);
  });

  test('missing credentials: a clear message and exit 2', async () => {
    mocks.cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const r = await run(['status']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/No usable AWS credentials. Set AWS_PROFILE/);
  });

  test('credentials failing mid-report stop it with the same message', async () => {
    healthy();
    mocks.kafka.on(DescribeClusterV2Command).rejects(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' }));
    const r = await run(['status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No usable AWS credentials/);
  });

  test('unknown stack: names it, says how to fix, exit 2', async () => {
    mocks.cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const r = await run(['status', '--stack', 'Nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Stack 'Nope' does not exist in this account and region. Pass --stack NAME/);
  });

  test('a stack without our outputs is reported, exit 2', async () => {
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Other', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0), Outputs: [] }] });
    metricValues({});
    const r = await run(['status', '--stack', 'Other']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Stack 'Other' has no outputs naming an MSK cluster/);
  });

  test('usage errors exit 2 with a message', async () => {
    expect((await run(['nope'])).stderr).toMatch(/Unknown command 'nope'/);
    expect((await run(['status', '--bogus'])).stderr).toMatch(/Unknown argument '--bogus'/);
    expect((await run(['status', '--stack'])).stderr).toMatch(/--stack needs a value/);
    expect((await run(['status', '--slo-ms', 'soon'])).stderr).toMatch(/--slo-ms must be a positive number, got 'soon'/);
    expect((await run([])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/agent-data-stack status \[--stack NAME\] \[--json\]/);
    // Each command's own --help prints its usage and runs nothing (no credentials are looked up).
    for (const name of Object.keys(COMMANDS)) {
      const own = await run([name, '--stack', 'X', '--help']);
      expect({ name, code: own.code, stderr: own.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(own.stdout).toContain(`Usage: agent-data-stack ${COMMANDS[name].usage}`);
    }
  });

  test('commands live in a map, so more can be added', () => {
    expect(Object.keys(COMMANDS)).toEqual(['status', 'dev', 'connect', 'replay-dead-letters', 'resnapshot']);
  });

  test('outputs are recognised by ARN: node-based caches too, unrelated values ignored', () => {
    expect(classifyOutputs([
      ...OUTPUTS,
      { OutputKey: 'Rg', OutputValue: `arn:aws:elasticache:us-east-1:${ACCOUNT}:replicationgroup:agent-rg` },
      { OutputKey: 'AgentMetricsNamespace', OutputValue: 'Custom' },
      { OutputKey: 'Bucket', OutputValue: 'arn:aws:s3:::bucket' },
    ])).toEqual({
      kafkaClusters: [OUTPUTS[0].OutputValue], connectors: [OUTPUTS[1].OutputValue], flinkApplications: ['orders-join'],
      serverlessCaches: ['agent-cache'], replicationGroups: ['agent-rg'], searchDomains: ['agent-search'], metricsNamespace: 'Custom',
    });
  });

  test('with the stack\'s OperationsManifest, CDC lag is one row per source database (its heartbeat topic)', async () => {
    healthy();
    const manifest = {
      version: 1, freshnessSloMs: 5000, sinkMetrics: { namespace: 'AgentDataStack', dimensions: { service: 'agent-data-stack-sink' } }, flink: [], views: [],
      sources: [
        { name: 'Source', engine: 'postgres', connectorName: 'agent-cdc', heartbeatTopic: '__debezium-heartbeat.agentdata' },
        { name: 'billing', engine: 'mysql', connectorName: 'agent-cdc-billing', heartbeatTopic: '__debezium-heartbeat.billing' },
      ],
    };
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'AgentDataStack', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: [
      ...OUTPUTS, { OutputKey: 'OperationsManifest', OutputValue: JSON.stringify(manifest) },
    ] }] });
    mocks.cw.on(GetMetricDataCommand).callsFake(input => {
      const expr: string = input.MetricDataQueries[0].Expression;
      const v = /"Topic"="__debezium-heartbeat.billing"/.test(expr) ? [] : /CdcLag/.test(expr) ? [700] : [1];
      return { MetricDataResults: [{ Id: 'q', Values: v }] };
    });
    const r = await run(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cdc-lag\s+Source\s+700 ms\s+yes/);
    expect(r.stdout).toMatch(/cdc-lag\s+billing\s+no data\s+NO\s+no heartbeat lag in 10 minutes/);
  });

  test('node-based caches are checked by replication group', async () => {
    healthy();
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'S', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(0), Outputs: [
      { OutputKey: 'Rg', OutputValue: `arn:aws:elasticache:us-east-1:${ACCOUNT}:replicationgroup:agent-rg` },
    ] }] });
    mocks.ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'agent-rg' }).resolves({ ReplicationGroups: [{ Status: 'modifying' }] });
    const r = await run(['status', '--json']);
    expect(JSON.parse(r.stdout).layers[0]).toEqual({ layer: 'cache', resource: 'agent-rg', state: 'modifying', healthy: false });
  });

  test('runs as `node -r ts-node/register/transpile-only cli/agent-data-stack.ts`', () => {
    const root = path.join(__dirname, '..', '..');
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'cli/agent-data-stack.ts', '--help'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/Usage: agent-data-stack <command>/);
  });
});

// The stack's manifest names the Flink application's groups and its checkpoint interval (60 s): each Flink group is
// judged against interval + limit, as its ConsumerLag alarm is; every other group (the sinks') against the limit.
describe('agent-data-stack status: consumer lag of Flink groups', () => {
  const manifest = {
    version: 1, freshnessSloMs: 5000, sinkMetrics: { namespace: 'AgentDataStack', dimensions: { service: 'agent-data-stack-sink' } }, sources: [], views: [],
    flink: [{ applicationName: 'orders-join', runtime: 'FLINK-2_2', checkpointIntervalMs: 60_000, consumerGroups: ['flink.orders-join.orders', 'flink.orders-join.customers'] }],
  };
  function stack(lag: { orders: number; customers: number; sink: number }) {
    withLag(manifest, [
      { group: 'flink.orders-join.orders', topic: 'agentdata.public.orders', values: [lag.orders, lag.orders - 50] },
      { group: 'flink.orders-join.customers', topic: 'agentdata.public.customers', values: [lag.customers, 3] },
      { group: 'agent-sink.orders', topic: 'agent.orders', values: [lag.sink, 1] },
    ]);
  }
  function withLag(m: object, series: LagSeries[]) {
    healthy();
    mocks.cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'AgentDataStack', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0), Outputs: [
      ...OUTPUTS, { OutputKey: 'OperationsManifest', OutputValue: JSON.stringify(m) },
    ] }] });
    // Every query of the request gets its results, by Id (GetMetricData response shape); the lag search one per series.
    mocks.cw.on(GetMetricDataCommand).callsFake(input => ({
      MetricDataResults: input.MetricDataQueries.flatMap((q: MetricDataQuery) => (/EstimatedMaxTimeLag/.test(q.Expression!)
        ? searchLag(q, series) : [{ Id: q.Id, StatusCode: 'Complete', Values: /CdcLag/.test(q.Expression!) ? [800] : [1200] }])),
    }));
  }

  test('a Flink group 70 s behind with a 60 s checkpoint interval is healthy (limit 90 s), exit 0', async () => {
    stack({ orders: 70, customers: 65, sink: 2 });
    const r = await run(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/consumer-lag\s+flink\.orders-join\.orders\s+70 s\s+yes\s+limit 90 s \(orders-join checkpoint interval 60 s \+ 30 s: Flink commits offsets only when a checkpoint completes\)/);
    expect(r.stdout).toMatch(/consumer-lag\s+agent-kafka\s+2 s\s+yes\s+limit 30 s \(groups other than the Flink groups; worst agent-sink\.orders\)/);
    expect(r.stdout).toMatch(/AgentDataStack: healthy \(0 of 10 checks failing\)/);
  });

  test('a Flink group 120 s behind is reported with the limit it was held to and why', async () => {
    stack({ orders: 70, customers: 120, sink: 2 });
    const r = await run(['status', '--json']);
    expect(r.code).toBe(1);
    const report: StatusReport = JSON.parse(r.stdout);
    expect(report.layers.filter(l => !l.healthy)).toEqual([{
      layer: 'consumer-lag', resource: 'flink.orders-join.customers', state: '120 s', healthy: false,
      detail: 'limit 90 s (orders-join checkpoint interval 60 s + 30 s: Flink commits offsets only when a checkpoint completes)',
    }]);
  });

  test('a sink group 40 s behind is reported against the plain 30 s, though a Flink group lags more and is healthy', async () => {
    stack({ orders: 70, customers: 65, sink: 40 });
    const r = await run(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/consumer-lag\s+agent-kafka\s+40 s\s+NO\s+limit 30 s \(groups other than the Flink groups; worst agent-sink\.orders\)/);
    expect(r.stdout).toMatch(/consumer-lag\s+flink\.orders-join\.orders\s+70 s\s+yes/);
    expect(r.stdout).toMatch(/AgentDataStack: UNHEALTHY \(1 of 10 checks failing\)/);
  });

  // Excluding 30 generated group names from one search took some 3,000 characters, past CloudWatch's 1024: the row of
  // the sink groups was skipped ('not read', healthy). One search without exclusions judges it like any other stack.
  test('30 Flink groups with long names: the sink groups are still judged, the worst one named', async () => {
    const groups = Array.from({ length: 30 }, (_, i) => `flink.AgentDataStack-Transformorderenrichment-35BD9E56.table_${i}`);
    withLag({ ...manifest, flink: [{ ...manifest.flink[0], consumerGroups: groups }] }, [
      ...groups.map((group, i) => ({ group, topic: `agentdata.public.t${i}`, values: [60 + i] })),
      { group: 'agent-sink.orders', topic: 'agent.orders', values: [12] },
      { group: 'agent-sink.customers', topic: 'agent.customers', values: [45, 3] },
    ]);
    const r = await run(['status', '--json']);
    expect(r.code).toBe(1);
    const report: StatusReport = JSON.parse(r.stdout);
    const lag = report.layers.filter(l => l.layer === 'consumer-lag');
    expect(lag).toHaveLength(31);
    expect(lag.filter(l => !l.healthy)).toEqual([{
      layer: 'consumer-lag', resource: 'agent-kafka', state: '45 s', healthy: false, detail: 'limit 30 s (groups other than the Flink groups; worst agent-sink.customers)',
    }]);
    expect(lag.find(l => l.resource === groups[29])).toMatchObject({ state: '89 s', healthy: true, detail: expect.stringMatching(/^limit 90 s/) });
  });
});
