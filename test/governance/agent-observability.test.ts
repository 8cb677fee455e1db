// AgentObservability: every widget and alarm reads a metric its service publishes, for a resource in the stack, through the
// observed constructs' own metric*() methods; alarms mean what the docs say; defaults are pinned.
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentObservability, AgentObservabilityProps } from '../../constructs/governance/agent-observability';
import { DecisionAuditLog } from '../../constructs/governance/decision-audit-log';
import { AgentMcpServer } from '../../constructs/mcp/agent-mcp-server';
import { EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables } from '../../constructs/processing/example';
import { FlinkRuntime } from '../../constructs/processing/flink-runtime';
import { FlinkSqlApplication } from '../../constructs/processing/flink-sql-application';
import { CdcSourceDatabase, ICdcSourceDatabase } from '../../constructs/source/cdc-source-database';
import { SourceEngine } from '../../constructs/source/engine';
import { AgentCache } from '../../constructs/stores/agent-cache';
import { AgentSearch } from '../../constructs/stores/agent-search';
import { AgentSink } from '../../constructs/stores/agent-sink';
import type { IAgentCache, IAgentSearch } from '../../constructs/stores/refs';
import { AgentView, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentStreamingCluster } from '../../constructs/streaming/cluster';
import type { IAgentStreamingCluster } from '../../constructs/streaming/refs';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { ConnectorStandIn } from '../helpers/metric-stand-ins';
import { FakeSearch } from '../mcp/fakes';
import { testAgentViews } from '../mcp/agent-views';
import { PUBLISHED } from './fixtures/published-metrics';

type Scope = Stack;
interface Observed {
  stack: Stack;
  cluster: IAgentStreamingCluster;
  flink: FlinkSqlApplication[];
  sinks: AgentSink[];
  mcp: AgentMcpServer;
  search: IAgentSearch;
}
/** Props as functions of the observed constructs, so each test picks sections from one built stack. */
type Props = (o: Observed, stack: Scope) => AgentObservabilityProps;

function existingSource(engine: SourceEngine, identifier: string) {
  return (scope: Stack): ICdcSourceDatabase => {
    const vpc = ec2.Vpc.fromVpcAttributes(scope, 'SourceVpc', {
      vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2'],
    });
    const securityGroups = [ec2.SecurityGroup.fromSecurityGroupId(scope, 'DbSg', 'sg-0123456789abcdef2')];
    const existingAdminSecret = secretsmanager.Secret.fromSecretCompleteArn(scope, 'Admin', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf');
    const tables = [engine.family === 'postgresql' ? 'public.orders' : 'shop.orders'];
    return new CdcSourceDatabase(scope, 'Source', engine.isAurora
      ? {
        vpc, engine, tables, databaseName: 'shop', existingAdminSecret,
        existingCluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(scope, 'Db', {
          clusterIdentifier: identifier, clusterEndpointAddress: `${identifier}.cluster-abc.us-east-1.rds.amazonaws.com`, port: 3306, securityGroups,
        }),
      }
      : {
        vpc, engine, tables, databaseName: 'shop', existingAdminSecret,
        existingInstance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(scope, 'Db', {
          instanceIdentifier: identifier, instanceEndpointAddress: `${identifier}.abc.us-east-1.rds.amazonaws.com`, port: 5432, securityGroups,
        }),
      });
  };
}

function existingCache(scope: Stack, cacheName: string, nodeClusterIds?: string[]): IAgentCache {
  return AgentCache.fromCacheAttributes(scope, `Cache${cacheName}`, {
    cacheArn: `arn:aws:elasticache:us-east-1:123456789012:serverlesscache:${cacheName}`, cacheName,
    endpointAddress: `${cacheName}.serverless.use1.cache.amazonaws.com`, endpointPort: 6379, serverless: nodeClusterIds === undefined, nodeClusterIds,
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(scope, `CacheSg${cacheName}`, 'sg-0123456789abcdef3')], userId: 'agent-app',
  });
}

const HEARTBEAT = '__debezium-heartbeat.agentdata';
const fields = [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }];
const view = (name: string, store: ViewStore, topic: string) => new AgentView({
  name, description: `${name} by id`, topic, sourceTable: 'public.orders', key: ['id'], fields, store,
  ...(store === ViewStore.SEARCH ? { search: { index: name.replace(/_/g, '-') } } : { cache: { keyPrefix: `${name}:` } }),
});

interface SinkOptions { heartbeat?: boolean; serviceName?: string; metricsNamespace?: string }

/** Real constructs (imported where the resource may exist elsewhere): the sections read their own metric*() methods. */
function observed(stack: Stack, sinkOptions: SinkOptions = { heartbeat: true }): Observed {
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cluster = AgentStreamingCluster.fromClusterAttributes(stack, 'Kafka', {
    clusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/agent-kafka/0a1b2c3d-4e5f-6789-abcd-ef0123456789-1', vpc,
    bootstrapBrokersSaslIam: 'b-1.agent-kafka:9098', securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'KafkaSg', 'sg-0123456789abcdef4'),
  });
  const flink = [
    new FlinkSqlApplication(stack, 'OrdersJoin', { cluster, applicationName: 'orders-join', sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() }),
    new FlinkSqlApplication(stack, 'LegacyAgg', {
      cluster, applicationName: 'legacy-agg', runtime: FlinkRuntime.FLINK_1_20, sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables(),
    }),
  ];
  const cache = existingCache(stack, 'agent-cache');
  const search = AgentSearch.fromDomainAttributes(stack, 'Search', {
    domainArn: 'arn:aws:es:us-east-1:123456789012:domain/agent-search', domainEndpoint: 'vpc-agent-search.us-east-1.es.amazonaws.com',
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'SearchSg', 'sg-0123456789abcdef5')],
  });
  const sinkProps = (service?: string) => ({
    cluster, cache, search, ...(sinkOptions.heartbeat ? { heartbeatTopic: HEARTBEAT } : {}),
    ...(sinkOptions.metricsNamespace ? { metricsNamespace: sinkOptions.metricsNamespace } : {}),
    ...(service ? { serviceName: service } : {}),
  });
  const sinks = [
    new AgentSink(stack, 'CacheSink', {
      ...sinkProps(sinkOptions.serviceName && `${sinkOptions.serviceName}-cache`),
      views: [view('orders_by_id', ViewStore.CACHE, 'agentdata.public.orders'), view('customer_profile', ViewStore.CACHE, 'agentdata.public.customers')],
    }),
    new AgentSink(stack, 'SearchSink', {
      ...sinkProps(sinkOptions.serviceName && `${sinkOptions.serviceName}-search`),
      views: [view('order_search', ViewStore.SEARCH, 'agentdata.flink.orders_enriched')],
    }),
  ];
  const mcp = new AgentMcpServer(stack, 'Mcp', {
    views: testAgentViews('agent:'), vpc, cache, search: new FakeSearch(stack, 'McpSearch', vpc), decisionAuditLog: new DecisionAuditLog(stack, 'Audit'),
  });
  return { stack, cluster, flink, sinks, mcp, search };
}

const FULL: Props = (o, stack) => ({
  source: existingSource(SourceEngine.postgres(), 'agent-source')(stack),
  connector: new ConnectorStandIn(stack, 'Connector', 'agent-cdc', HEARTBEAT),
  kafka: o.cluster,
  flink: o.flink,
  sinks: o.sinks,
  cache: existingCache(stack, 'agent-cache-observed'),
  search: o.search,
  mcp: o.mcp,
  decisions: {},
});

/** The names of resources the stack has, per dimension (resolved like the template): a metric on anything else is a dashboard on nothing. */
function inStack(o: Observed): Record<string, string[]> {
  const r = (v: string) => flatten(o.stack.resolve(v));
  return {
    DBInstanceIdentifier: ['agent-source'], DBClusterIdentifier: ['agent-aurora'], Role: ['WRITER'], ConnectorName: ['agent-cdc'], 'Cluster Name': ['agent-kafka'],
    'Consumer Group': [...o.flink.flatMap(f => f.consumedTopics()), ...o.sinks.flatMap(s => s.consumedTopics())].map(c => c.group),
    Topic: [...new Set([...o.flink.flatMap(f => f.consumedTopics()), ...o.sinks.flatMap(s => s.consumedTopics())].flatMap(c => c.topics)), HEARTBEAT],
    Application: ['orders-join', 'legacy-agg'], FunctionName: [...o.sinks.map(s => r(s.function.functionName)), r(o.mcp.function.functionName)],
    clusterId: ['agent-cache-observed'], CacheClusterId: ['rg-0001-001', 'rg-0001-002'],
    DomainName: ['agent-search'], ClientId: ['123456789012'], View: ['orders_by_id', 'customer_profile', 'order_search'],
    Tool: o.mcp.toolNames, service: ['agent-data-stack-sink', 'agent-data-stack-mcp'],
  };
}

let lastInStack: Record<string, string[]> = {};
function build(props: Props = FULL, gate = false, sinkOptions?: SinkOptions) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const o = observed(stack, sinkOptions);
  const obs = new AgentObservability(stack, 'Observability', props(o, stack));
  lastInStack = inStack(o);
  return { app, stack, obs, o };
}

interface MetricRef { namespace: string; metricName: string; dimensions: Record<string, string>; where: string }

/** Flattens a CloudFormation value into a string, replacing intrinsic functions by what the test env resolves them to. */
function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value.Ref === 'AWS::AccountId') return '123456789012';
  if (value.Ref === 'AWS::Region') return 'us-east-1';
  return `<${JSON.stringify(value).replace(/"/g, "'")}>`;
}

function alarmMetrics(t: Template): MetricRef[] {
  const refs: MetricRef[] = [];
  for (const [id, alarm] of Object.entries(t.findResources('AWS::CloudWatch::Alarm'))) {
    const p = alarm.Properties;
    const dims = (list: any[] = []) => Object.fromEntries(list.map((d: any) => [d.Name, flatten(d.Value)]));
    if (p.MetricName) refs.push({ namespace: p.Namespace, metricName: p.MetricName, dimensions: dims(p.Dimensions), where: id });
    for (const m of p.Metrics ?? []) {
      if (m.MetricStat) refs.push({ namespace: m.MetricStat.Metric.Namespace, metricName: m.MetricStat.Metric.MetricName, dimensions: dims(m.MetricStat.Metric.Dimensions), where: id });
    }
  }
  return refs;
}

function dashboardBody(t: Template): any {
  const dashboards = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  return JSON.parse(flatten(dashboards[0].Properties.DashboardBody));
}

function dashboardMetrics(t: Template): MetricRef[] {
  const refs: MetricRef[] = [];
  for (const w of dashboardBody(t).widgets) {
    for (const m of w.properties.metrics ?? []) {
      const parts = m.filter((x: unknown) => typeof x === 'string');
      if (parts.length === 0) continue; // a math expression: its inputs are listed as their own (hidden) metrics
      const [namespace, metricName, ...rest] = parts;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
      refs.push({ namespace, metricName, dimensions, where: w.properties.title });
    }
  }
  return refs;
}

function checkPublished(refs: MetricRef[]): string[] {
  const problems: string[] = [];
  for (const r of refs) {
    const ns = PUBLISHED[r.namespace];
    const sets = ns?.metrics[r.metricName];
    const dimNames = Object.keys(r.dimensions).sort();
    if (!ns) problems.push(`${r.where}: namespace ${r.namespace} is not a known publisher`);
    else if (!sets) problems.push(`${r.where}: ${r.namespace} publishes no metric ${r.metricName}`);
    else if (!sets.some(s => JSON.stringify([...s].sort()) === JSON.stringify(dimNames))) {
      problems.push(`${r.where}: ${r.namespace}/${r.metricName} is not published with dimensions [${dimNames}]`);
    }
    for (const [k, v] of Object.entries(r.dimensions)) {
      if (!lastInStack[k]?.includes(v)) problems.push(`${r.where}: ${r.metricName} dimension ${k}=${v} names nothing in the stack`);
    }
  }
  return problems;
}

const withFull = (extra: (o: Observed, stack: Stack) => Partial<AgentObservabilityProps>): Props => (o, stack) => ({ ...FULL(o, stack), ...extra(o, stack) });
const alarmsOf = (t: Template, metricName: string) => Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } }));

describe('AgentObservability', () => {
  let full: ReturnType<typeof build>;
  let t: Template;
  beforeAll(() => {
    full = build();
    t = Template.fromStack(full.stack);
  });

  test('every alarm reads a published metric of a resource in the stack', () => {
    lastInStack = inStack(full.o);
    const refs = alarmMetrics(t);
    expect(refs.length).toBeGreaterThan(20);
    expect(checkPublished(refs)).toEqual([]);
  });

  test('every dashboard widget reads a published metric of a resource in the stack', () => {
    lastInStack = inStack(full.o);
    const refs = dashboardMetrics(t);
    expect(refs.length).toBeGreaterThan(50);
    expect(checkPublished(refs)).toEqual([]);
  });

  test('the metric check catches a wrong name, namespace, dimension name or dimension value', () => {
    lastInStack = inStack(full.o);
    expect(checkPublished([{ namespace: 'AWS/KinesisAnalytics', metricName: 'fullRestarts', dimensions: { Application: 'orders-join' }, where: 'ok' }])).toEqual([]);
    expect(checkPublished([{ namespace: 'AWS/KinesisAnalytics', metricName: 'restarts', dimensions: { Application: 'orders-join' }, where: 'x' }])).toHaveLength(1);
    expect(checkPublished([{ namespace: 'AWS/Kafka', metricName: 'MaxOffsetLag', dimensions: { 'Consumer Group': full.o.sinks[0].consumedTopics()[0].group }, where: 'x' }])).toHaveLength(1);
    expect(checkPublished([{ namespace: 'AWS/ES', metricName: 'JVMMemoryPressure', dimensions: { DomainName: 'other', ClientId: '123456789012' }, where: 'x' }])).toHaveLength(1);
    expect(checkPublished([{ namespace: 'AWS/ES', metricName: 'JVMMemoryPressure', dimensions: { DomainName: 'agent-search', ClientId: '210987654321' }, where: 'x' }])).toHaveLength(1);
  });

  test('the dashboard follows the data: source, CDC, Kafka, Flink, sinks, cache, search, MCP, decisions', () => {
    const headers = dashboardBody(t).widgets
      .filter((w: any) => w.type === 'text').map((w: any) => w.properties.markdown)
      .filter((m: string) => m.startsWith('## ')).map((m: string) => m.slice(3, 5));
    expect(headers).toEqual(['1.', '2.', '3.', '4.', '4.', '5.', '6.', '7.', '8.', '9.']);
  });

  test('Flink 2.2 uses numRestarts/restartingTime/runningTime and 1.20 uses fullRestarts/downtime/uptime', () => {
    const refs = dashboardMetrics(t).filter(r => r.namespace === 'AWS/KinesisAnalytics');
    const names = (app: string) => refs.filter(r => r.dimensions.Application === app).map(r => r.metricName).sort();
    expect(names('orders-join')).toEqual(['numRestarts', 'numberOfFailedCheckpoints', 'records_lag_max', 'restartingTime', 'runningTime']);
    expect(names('legacy-agg')).toEqual(['downtime', 'fullRestarts', 'numberOfFailedCheckpoints', 'records_lag_max', 'uptime']);
  });

  test('freshness alarms default to p99 above 5 s for 5 one-minute periods', () => {
    for (const v of ['orders_by_id', 'customer_profile', 'order_search']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AgentDataStack', MetricName: 'FreshnessLag', ExtendedStatistic: 'p99', Period: 60,
        Threshold: 5000, EvaluationPeriods: 5, DatapointsToAlarm: 5, ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: Match.arrayWith([{ Name: 'View', Value: v }]),
      });
    }
  });

  test('freshness SLO is configurable', () => {
    const custom = Template.fromStack(build(withFull(() => ({ freshnessSlo: { threshold: Duration.seconds(2), percentile: 95, window: Duration.minutes(10) } }))).stack);
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'FreshnessLag', ExtendedStatistic: 'p95', Threshold: 2000, EvaluationPeriods: 10 });
  });

  test('a missing CDC heartbeat lag breaches: a stuck pipeline publishes nothing', () => {
    // Both sinks publish under the same namespace and service, so they write one CdcLag series for the topic: one alarm.
    expect(alarmsOf(t, 'CdcLag').map(a => a.Properties)).toEqual([expect.objectContaining({
      Namespace: 'AgentDataStack', Statistic: 'Maximum', Threshold: 5000, TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'Topic', Value: HEARTBEAT }, { Name: 'service', Value: 'agent-data-stack-sink' }],
    })]);
  });

  test('sinks with their own service name each get a CdcLag alarm', () => {
    const own = Template.fromStack(build(FULL, false, { heartbeat: true, serviceName: 'own' }).stack);
    const services = alarmsOf(own, 'CdcLag').map(a => a.Properties.Dimensions.find((d: any) => d.Name === 'service').Value);
    expect(services).toEqual(['own-cache', 'own-search']);
  });

  test('no CdcLag widget or alarm for sinks that do not map the connector\'s heartbeat topic (they publish none)', () => {
    const none = Template.fromStack(build(FULL, false, { heartbeat: false }).stack);
    expect(alarmsOf(none, 'CdcLag')).toHaveLength(0);
    expect(dashboardMetrics(none).filter(r => r.metricName === 'CdcLag')).toEqual([]);
    none.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ErroredTaskCount' });
  });

  test('decision rate dropping to zero alarms, missing data included', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DecisionsRecorded', Statistic: 'Sum', Period: 3600, Threshold: 1,
      ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
    });
  });

  test('the decision-rate alarm can be turned off for agents that go idle', () => {
    const idle = Template.fromStack(build(o => ({ mcp: o.mcp, decisions: { alarmOnSilence: false } })).stack);
    expect(alarmsOf(idle, 'DecisionsRecorded')).toHaveLength(0);
    expect(dashboardMetrics(idle).map(r => r.metricName)).toContain('DecisionsRecorded');
  });

  test('dead-lettered records alarm on any record, per view', () => {
    const dead = alarmsOf(t, 'RecordsDeadLettered');
    expect(dead.map(a => a.Properties.Dimensions.find((d: any) => d.Name === 'View').Value).sort()).toEqual(['customer_profile', 'order_search', 'orders_by_id']);
    for (const a of dead) expect(a.Properties).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
  });

  test('source alarms: slot lag above 1 GiB and WAL disk above 10 GiB, for 15 minutes', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldestReplicationSlotLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'agent-source' }], Threshold: 1024 ** 3, Period: 300, EvaluationPeriods: 3,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Threshold: 10 * 1024 ** 3, Period: 300, EvaluationPeriods: 3 });
  });

  test('Aurora MySQL sources watch the writer\'s SumBinaryLogSize and have no slot alarm', () => {
    const aurora = Template.fromStack(build((_o, stack) => ({ source: existingSource(SourceEngine.auroraMysql(), 'agent-aurora')(stack) })).stack);
    aurora.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SumBinaryLogSize', Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'agent-aurora' }, { Name: 'Role', Value: 'WRITER' }],
    });
    expect(alarmsOf(aurora, 'OldestReplicationSlotLag')).toHaveLength(0);
    expect(alarmsOf(aurora, 'BinLogDiskUsage')).toHaveLength(0);
  });

  test('Aurora PostgreSQL sources watch the writer\'s TransactionLogsDiskUsage for the slot (Aurora lists no slot-lag metric)', () => {
    const { stack, o } = build((_o, s) => ({ source: existingSource(SourceEngine.auroraPostgres(), 'agent-aurora')(s) }));
    const aurora = Template.fromStack(stack);
    const writer = [{ Name: 'DBClusterIdentifier', Value: 'agent-aurora' }, { Name: 'Role', Value: 'WRITER' }];
    aurora.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Dimensions: writer, Threshold: 1024 ** 3 });
    aurora.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Dimensions: writer, Threshold: 10 * 1024 ** 3 });
    lastInStack = inStack(o);
    expect(checkPublished(alarmMetrics(aurora))).toEqual([]);
  });

  test('consumer lag alarms per group and topic, from the Flink applications\' and sinks\' own groups, for 3 minutes', () => {
    const lag = alarmsOf(t, 'EstimatedMaxTimeLag');
    const groups = [...full.o.flink.flatMap(f => f.consumedTopics()), ...full.o.sinks.flatMap(s => s.consumedTopics())];
    expect(lag).toHaveLength(groups.flatMap(g => g.topics).length);
    expect(lag.length).toBeGreaterThanOrEqual(5);
    for (const a of lag) expect(a.Properties).toMatchObject({ Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3, Statistic: 'Maximum' });
    // The sink does not watch the heartbeat topic's lag: it is not data.
    expect(lag.flatMap(a => a.Properties.Dimensions).filter((d: any) => d.Value === HEARTBEAT)).toEqual([]);
  });

  // MSK computes consumer lag from committed offsets (https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html), and
  // Flink's Kafka source commits offsets only when a checkpoint completes
  // (https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/datastream/kafka/#consumer-offset-committing):
  // a Flink group's committed lag saws up to the checkpoint interval under steady traffic, so its alarm sits that much higher.
  const lagByGroup = (tpl: Template) => Object.fromEntries(alarmsOf(tpl, 'EstimatedMaxTimeLag').map(a => [
    a.Properties.Dimensions.find((d: any) => d.Name === 'Consumer Group').Value as string, a.Properties,
  ]));
  const flinkGroups = (o: Observed) => o.flink.flatMap(f => f.consumedTopics()).map(c => c.group);
  const sinkGroups = (o: Observed) => o.sinks.flatMap(s => s.consumedTopics()).map(c => c.group);

  test('Flink consumer groups alarm above their checkpoint interval (60 s) plus 30 s; sink groups stay at 30 s', () => {
    const byGroup = lagByGroup(t);
    expect(flinkGroups(full.o).length).toBeGreaterThanOrEqual(2);
    for (const g of flinkGroups(full.o)) {
      expect(byGroup[g]).toMatchObject({
        MetricName: 'EstimatedMaxTimeLag', Namespace: 'AWS/Kafka', Statistic: 'Maximum', Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3,
        ComparisonOperator: 'GreaterThanThreshold', Threshold: 90,
      });
      expect(byGroup[g].AlarmDescription).toMatch(/commits offsets only when a checkpoint completes \(every 60 s\)/);
    }
    expect(sinkGroups(full.o).length).toBeGreaterThanOrEqual(2);
    for (const g of sinkGroups(full.o)) {
      expect(byGroup[g]).toMatchObject({
        MetricName: 'EstimatedMaxTimeLag', Namespace: 'AWS/Kafka', Statistic: 'Maximum', Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3,
        ComparisonOperator: 'GreaterThanThreshold', Threshold: 30,
      });
      expect(byGroup[g].AlarmDescription).not.toMatch(/checkpoint/);
    }
  });

  test('the Flink threshold follows the application\'s own checkpoint interval and thresholds.consumerLag', () => {
    const { stack, o } = build((obs, s) => {
      const slow = new FlinkSqlApplication(s, 'SlowCheckpoints', {
        cluster: obs.cluster, applicationName: 'slow-checkpoints', checkpointInterval: Duration.minutes(5),
        sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables(),
      });
      const fast = new FlinkSqlApplication(s, 'FastCheckpoints', {
        cluster: obs.cluster, applicationName: 'fast-checkpoints', checkpointInterval: Duration.millis(2500),
        sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables(),
      });
      return { ...FULL(obs, s), flink: [slow, fast], thresholds: { consumerLag: Duration.seconds(20) } };
    });
    const byGroup = lagByGroup(Template.fromStack(stack));
    const groupsOf = (name: string) => Object.keys(byGroup).filter(g => g.startsWith(`flink.${name}.`));
    expect(groupsOf('slow-checkpoints').length).toBeGreaterThan(0);
    for (const g of groupsOf('slow-checkpoints')) expect(byGroup[g].Threshold).toBe(320);
    expect(groupsOf('fast-checkpoints').length).toBeGreaterThan(0);
    for (const g of groupsOf('fast-checkpoints')) expect(byGroup[g].Threshold).toBe(22.5);
    for (const g of sinkGroups(o)) expect(byGroup[g].Threshold).toBe(20);
  });

  test('a headroom entry chooses its evaluation periods (default 3, all breaching); a non-positive count fails', () => {
    const entry = (id: string, alarmEvaluationPeriods?: number) => ({
      id, title: id, bound: 10, boundLabel: 'bound', alarmAbove: 9, alarmDescription: `${id} is above 9.`, alarmEvaluationPeriods,
      metrics: [full.o.flink[0].metricKpus()],
    });
    const { stack } = build(withFull(() => ({ headroom: [entry('Default'), entry('Once', 1)] })));
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    const props = (id: string) => Object.entries(alarms).find(([logicalId]) => logicalId.includes(`Headroom${id}Alarm`))![1].Properties;
    expect(props('Default')).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3, Period: 3600 });
    expect(props('Once')).toMatchObject({ EvaluationPeriods: 1, DatapointsToAlarm: 1, Period: 3600 });
    expect(() => build(withFull(() => ({ headroom: [entry('Never', 0)] })))).toThrow(/headroom 'Never' alarmEvaluationPeriods is 0/);
  });

  test('alarm ids name what they watch, never a list position: another Flink application first changes no id', () => {
    const ids = (stack: Stack) => Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).sort();
    const before = ids(full.stack);
    const { stack } = build((o, s) => {
      const extra = new FlinkSqlApplication(s, 'Extra', { cluster: o.cluster, applicationName: 'extra', sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() });
      return { ...FULL(o, s), flink: [extra, ...o.flink] };
    });
    const after = ids(stack);
    expect(before.filter(id => !after.includes(id))).toEqual([]);
    expect(after.filter(id => /Extra/.test(id))).toHaveLength(5);
  });

  test('Flink restarts and failed checkpoints alarm on the increase of the cumulative counters', () => {
    const math = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .filter(a => (a.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.Namespace === 'AWS/KinesisAnalytics'));
    expect(math).toHaveLength(4);
    for (const a of math) expect(a.Properties.Metrics[0].Expression).toBe('RATE(m) * PERIOD(m)');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'restartingTime', Threshold: 0, EvaluationPeriods: 3 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'downtime', Threshold: 0, EvaluationPeriods: 3 });
  });

  test('MCP error rate alarms per tool above 5% with at least 10 calls', () => {
    const rates = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .filter(a => (a.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.MetricName === 'ToolErrors'));
    expect(rates).toHaveLength(full.o.mcp.toolNames.length);
    for (const a of rates) {
      expect(a.Properties.Threshold).toBe(5);
      expect(a.Properties.Metrics[0].Expression).toBe('IF(calls >= 10, 100 * FILL(errors, 0) / calls, 0)');
    }
  });

  test('every alarm notifies the topic on ALARM and OK', () => {
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    const topic = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.AlarmDescription).toEqual(expect.any(String));
    }
  });

  test('the default topic is encrypted with a rotating key CloudWatch may use, and refuses plain HTTP', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      })]) },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('an existing topic is used as given', () => {
    const { stack } = build((o, s) => ({ search: o.search, alarmTopic: sns.Topic.fromTopicArn(s, 'Ops', 'arn:aws:sns:us-east-1:123456789012:ops') }));
    const own = Template.fromStack(stack);
    own.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: ['arn:aws:sns:us-east-1:123456789012:ops'] });
    expect(Object.keys(own.findResources('AWS::SNS::Topic')).filter(id => id.startsWith('Observability'))).toEqual([]);
  });

  test('metric namespace and service follow the sink construct (nothing is re-spelled)', () => {
    const custom = Template.fromStack(build(o => ({ sinks: o.sinks }), false, { metricsNamespace: 'Custom', serviceName: 'my' }).stack);
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Custom', MetricName: 'FreshnessLag', Dimensions: [{ Name: 'View', Value: 'order_search' }, { Name: 'service', Value: 'my-search' }],
    });
  });

  test('node-based caches use per-node metrics', () => {
    const refs = dashboardMetrics(Template.fromStack(build((_o, s) => ({ cache: existingCache(s, 'rg', ['rg-0001-001', 'rg-0001-002']) })).stack));
    expect(refs.filter(r => r.metricName === 'EngineCPUUtilization').map(r => r.dimensions.CacheClusterId)).toEqual(['rg-0001-001', 'rg-0001-002']);
  });

  test('the search domain ClientId is the domain\'s account: an imported domain in another account is read there', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ClusterStatus.red', Dimensions: Match.arrayWith([{ Name: 'ClientId', Value: '123456789012' }]),
    });
    const other = Template.fromStack(build((_o, s) => ({
      search: AgentSearch.fromDomainAttributes(s, 'Other', { domainArn: 'arn:aws:es:us-east-1:210987654321:domain/shared', domainEndpoint: 'vpc-shared.es' }),
    })).stack);
    other.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ClusterStatus.red', Dimensions: [{ Name: 'ClientId', Value: '210987654321' }, { Name: 'DomainName', Value: 'shared' }],
    });
  });

  test('is deterministic', () => {
    expect(Template.fromStack(build().stack).toJSON()).toEqual(t.toJSON());
  });

  test('passes the validation gate', () => {
    const { app } = build((o, s) => ({ ...FULL(o, s) }), true);
    expect(formatFindings(gateFindings(app)).split('\n').filter(l => /Observability/.test(l))).toEqual([]);
  });

  test('fails when no section is given', () => {
    expect(() => build(() => ({}))).toThrow(/no section given.*Pass at least one/);
  });
  test('fails when decisions are asked for without an MCP server that records them', () => {
    expect(() => build(o => ({ sinks: o.sinks, decisions: {} }))).toThrow(/decisions is set but no MCP server with a decision audit log/);
  });
  test('fails when a view has two sinks', () => {
    expect(() => build(o => ({ sinks: [o.sinks[0], o.sinks[0]] }))).toThrow(/view 'orders_by_id' is written by more than one sink/);
  });
  test('fails when a node-based cache has no node cluster ids', () => {
    expect(() => build((_o, s) => ({ cache: existingCache(s, 'rg', []) }))).toThrow(/cache 'rg' is node-based but its nodeClusterIds is empty.*nodeClusterIds: \['rg-001'/);
  });
  test('fails when the freshness SLO is malformed', () => {
    expect(() => build(withFull(() => ({ freshnessSlo: { percentile: 100 } })))).toThrow(/percentile is 100/);
    expect(() => build(withFull(() => ({ freshnessSlo: { window: Duration.seconds(90) } })))).toThrow(/window is 1 minute 30 seconds.*whole minutes/);
    expect(() => build(withFull(() => ({ freshnessSlo: { threshold: Duration.seconds(0) } })))).toThrow(/threshold must be above zero/);
  });
  test('fails when dashboardName is longer than CloudWatch\'s 255 characters', () => {
    const longest = build(withFull(() => ({ dashboardName: 'd'.repeat(255) })));
    Template.fromStack(longest.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'd'.repeat(255) });
    expect(() => build(withFull(() => ({ dashboardName: 'd'.repeat(256) }))))
      .toThrow(/dashboardName 'd{256}' is 256 characters; CloudWatch dashboard names are at most 255\. Shorten it, or omit it/);
  });
  test('fails when failedCheckpoints is not a positive integer', () => {
    expect(() => build(withFull(() => ({ thresholds: { failedCheckpoints: 0 } })))).toThrow(/failedCheckpoints is 0/);
  });
  test('works in an environment-agnostic stack: a created domain\'s ClientId is the deploying account', () => {
    const app = testApp();
    const stack = new Stack(app, 'Agnostic');
    const search = new FakeSearch(stack, 'Search', new AgentNetwork(stack, 'Net').vpc);
    new AgentObservability(stack, 'Obs', { search });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ClusterStatus.red', Dimensions: Match.arrayWith([{ Name: 'ClientId', Value: { Ref: 'AWS::AccountId' } }]),
    });
  });
});
