// AgentObservability: every widget and alarm reads a metric its service publishes, for a resource in the stack; alarms mean what the docs say; defaults are pinned.
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AgentObservability, AgentObservabilityProps } from '../../constructs/governance/agent-observability';
import { CdcSourceDatabase, ICdcSourceDatabase } from '../../constructs/source/cdc-source-database';
import { SourceEngine } from '../../constructs/source/engine';
import { AgentCache } from '../../constructs/stores/agent-cache';
import type { IAgentCache } from '../../constructs/stores/refs';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { PUBLISHED } from './fixtures/published-metrics';

/** The source and cache sections take the constructs: these build them (imported resources) in the test stack. */
type Props = Omit<AgentObservabilityProps, 'source' | 'cache'> & {
  source?: (scope: Stack) => ICdcSourceDatabase;
  cache?: (scope: Stack) => IAgentCache;
};

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

function existingCache(cacheName: string, nodeClusterIds?: string[]) {
  return (scope: Stack): IAgentCache => AgentCache.fromCacheAttributes(scope, 'Cache', {
    cacheArn: `arn:aws:elasticache:us-east-1:123456789012:serverlesscache:${cacheName}`, cacheName,
    endpointAddress: `${cacheName}.serverless.use1.cache.amazonaws.com`, endpointPort: 6379, serverless: nodeClusterIds === undefined, nodeClusterIds,
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(scope, 'CacheSg', 'sg-0123456789abcdef3')], userId: 'agent-app',
  });
}

const FULL: Props = {
  source: existingSource(SourceEngine.postgres(), 'agent-source'),
  connector: { connectorName: 'agent-cdc', heartbeatTopic: '__debezium-heartbeat.agentdata' },
  kafka: {
    clusterName: 'agent-kafka',
    consumerGroups: [
      { group: 'flink-orders', topics: ['agentdata.public.orders', 'agentdata.public.customers'], role: 'flink' },
      { group: 'sink-cache', topics: ['orders_enriched'], role: 'sink' },
    ],
  },
  flink: [
    { applicationName: 'orders-join', runtime: 'FLINK-2_2' },
    { applicationName: 'legacy-agg', runtime: 'FLINK-1_20' },
  ],
  sinks: [
    { functionName: 'cache-sink', views: ['orders_by_id', 'customer_profile'] },
    { functionName: 'search-sink', views: ['order_search'] },
  ],
  cache: existingCache('agent-cache'),
  search: { domainName: 'agent-search' },
  mcp: { functionName: 'agent-mcp', tools: ['orders_by_id_lookup', 'order_search_search', 'record_decision'] },
  decisions: {},
};

/** The names of resources the FULL stack has, per dimension: a metric on anything else is a dashboard on nothing. */
const IN_STACK: Record<string, string[]> = {
  DBInstanceIdentifier: ['agent-source'], DBClusterIdentifier: ['agent-aurora'], Role: ['WRITER'], ConnectorName: ['agent-cdc'], 'Cluster Name': ['agent-kafka'],
  'Consumer Group': ['flink-orders', 'sink-cache'],
  Topic: ['agentdata.public.orders', 'agentdata.public.customers', 'orders_enriched', '__debezium-heartbeat.agentdata'],
  Application: ['orders-join', 'legacy-agg'], FunctionName: ['cache-sink', 'search-sink', 'agent-mcp'], clusterId: ['agent-cache'],
  DomainName: ['agent-search'], ClientId: ['123456789012'], View: ['orders_by_id', 'customer_profile', 'order_search'],
  Tool: ['orders_by_id_lookup', 'order_search_search', 'record_decision'],
  service: ['agent-data-stack-sink', 'agent-data-stack-mcp'],
};

function build(props: Props = FULL, gate = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const obs = new AgentObservability(stack, 'Observability', { ...props, source: props.source?.(stack), cache: props.cache?.(stack) });
  return { app, stack, obs };
}

interface MetricRef { namespace: string; metricName: string; dimensions: Record<string, string>; where: string }

/** Flattens a CloudFormation value into a string, replacing intrinsic functions by what the test env resolves them to. */
function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value.Ref === 'AWS::AccountId') return '123456789012';
  if (value.Ref === 'AWS::Region') return 'us-east-1';
  return `<${JSON.stringify(value)}>`;
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
      if (!IN_STACK[k]?.includes(v)) problems.push(`${r.where}: ${r.metricName} dimension ${k}=${v} names nothing in the stack`);
    }
  }
  return problems;
}

describe('AgentObservability', () => {
  test('every alarm reads a published metric of a resource in the stack', () => {
    const refs = alarmMetrics(Template.fromStack(build().stack));
    expect(refs.length).toBeGreaterThan(20);
    expect(checkPublished(refs)).toEqual([]);
  });

  test('every dashboard widget reads a published metric of a resource in the stack', () => {
    const refs = dashboardMetrics(Template.fromStack(build().stack));
    expect(refs.length).toBeGreaterThan(50);
    expect(checkPublished(refs)).toEqual([]);
  });

  test('the metric check catches a wrong name, namespace or dimension', () => {
    expect(checkPublished([{ namespace: 'AWS/KinesisAnalytics', metricName: 'fullRestarts', dimensions: { Application: 'orders-join' }, where: 'ok' }])).toEqual([]);
    expect(checkPublished([{ namespace: 'AWS/KinesisAnalytics', metricName: 'restarts', dimensions: { Application: 'orders-join' }, where: 'x' }])).toHaveLength(1);
    expect(checkPublished([{ namespace: 'AWS/Kafka', metricName: 'MaxOffsetLag', dimensions: { 'Consumer Group': 'flink-orders' }, where: 'x' }])).toHaveLength(1);
    expect(checkPublished([{ namespace: 'AWS/ES', metricName: 'JVMMemoryPressure', dimensions: { DomainName: 'other', ClientId: '123456789012' }, where: 'x' }])).toHaveLength(1);
  });

  test('the dashboard follows the data: source, CDC, Kafka, Flink, sinks, cache, search, MCP, decisions', () => {
    const headers = dashboardBody(Template.fromStack(build().stack)).widgets
      .filter((w: any) => w.type === 'text').map((w: any) => w.properties.markdown)
      .filter((m: string) => m.startsWith('## ')).map((m: string) => m.slice(3, 5));
    expect(headers).toEqual(['1.', '2.', '3.', '4.', '4.', '5.', '6.', '7.', '8.', '9.']);
  });

  test('Flink 2.2 uses numRestarts/restartingTime/runningTime and 1.20 uses fullRestarts/downtime/uptime', () => {
    const refs = dashboardMetrics(Template.fromStack(build().stack)).filter(r => r.namespace === 'AWS/KinesisAnalytics');
    const names = (app: string) => refs.filter(r => r.dimensions.Application === app).map(r => r.metricName).sort();
    expect(names('orders-join')).toEqual(['numRestarts', 'numberOfFailedCheckpoints', 'records_lag_max', 'restartingTime', 'runningTime']);
    expect(names('legacy-agg')).toEqual(['downtime', 'fullRestarts', 'numberOfFailedCheckpoints', 'records_lag_max', 'uptime']);
  });

  test('freshness alarms default to p99 above 5 s for 5 one-minute periods', () => {
    const t = Template.fromStack(build().stack);
    for (const view of ['orders_by_id', 'customer_profile', 'order_search']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AgentDataStack', MetricName: 'FreshnessLag', ExtendedStatistic: 'p99', Period: 60,
        Threshold: 5000, EvaluationPeriods: 5, DatapointsToAlarm: 5, ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: Match.arrayWith([{ Name: 'View', Value: view }]),
      });
    }
  });

  test('freshness SLO is configurable', () => {
    const t = Template.fromStack(build({ ...FULL, freshnessSlo: { threshold: Duration.seconds(2), percentile: 95, window: Duration.minutes(10) } }).stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'FreshnessLag', ExtendedStatistic: 'p95', Threshold: 2000, EvaluationPeriods: 10 });
  });

  test('a missing CDC heartbeat lag breaches: a stuck pipeline publishes nothing', () => {
    const t = Template.fromStack(build().stack);
    const cdc = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'CdcLag' } }));
    // Both sinks publish under the same namespace and service, so they write one CdcLag series for the topic: one alarm.
    expect(cdc.map(a => a.Properties)).toEqual([expect.objectContaining({
      Namespace: 'AgentDataStack', Statistic: 'Maximum', Threshold: 5000, TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'Topic', Value: '__debezium-heartbeat.agentdata' }, { Name: 'service', Value: 'agent-data-stack-sink' }],
    })]);
  });

  test('sinks with their own service name each get a CdcLag alarm', () => {
    const t = Template.fromStack(build({ ...FULL, sinks: [
      { functionName: 'cache-sink', views: ['orders_by_id'], dimensions: { service: 'cache-sink' } },
      { functionName: 'search-sink', views: ['order_search'], dimensions: { service: 'search-sink' } },
    ] }).stack);
    const services = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'CdcLag' } }))
      .map(a => a.Properties.Dimensions.find((d: any) => d.Name === 'service').Value);
    expect(services).toEqual(['cache-sink', 'search-sink']);
  });

  test('no CdcLag widget or alarm without the connector\'s heartbeat topic', () => {
    const t = Template.fromStack(build({ ...FULL, connector: { connectorName: 'agent-cdc' } }).stack);
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'CdcLag' } }))).toHaveLength(0);
    expect(dashboardMetrics(t).filter(r => r.metricName === 'CdcLag')).toEqual([]);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ErroredTaskCount' });
  });

  test('decision rate dropping to zero alarms, missing data included', () => {
    Template.fromStack(build().stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DecisionsRecorded', Statistic: 'Sum', Period: 3600, Threshold: 1,
      ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
    });
  });

  test('the decision-rate alarm can be turned off for agents that go idle', () => {
    const t = Template.fromStack(build({ decisions: { alarmOnSilence: false } }).stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(dashboardMetrics(t).map(r => r.metricName)).toEqual(['DecisionsRecorded']);
  });

  test('dead-lettered records alarm on any record, per view', () => {
    const t = Template.fromStack(build().stack);
    const dead = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'RecordsDeadLettered' } }));
    expect(dead.map(a => a.Properties.Dimensions.find((d: any) => d.Name === 'View').Value).sort()).toEqual(['customer_profile', 'order_search', 'orders_by_id']);
    for (const a of dead) expect(a.Properties).toMatchObject({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
  });

  test('source alarms: slot lag above 1 GiB and WAL disk above 10 GiB, for 15 minutes', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldestReplicationSlotLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'agent-source' }], Threshold: 1024 ** 3, Period: 300, EvaluationPeriods: 3,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Threshold: 10 * 1024 ** 3, Period: 300, EvaluationPeriods: 3 });
  });

  test('Aurora MySQL sources watch the writer\'s SumBinaryLogSize and have no slot alarm', () => {
    const t = Template.fromStack(build({ source: existingSource(SourceEngine.auroraMysql(), 'agent-aurora') }).stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SumBinaryLogSize', Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'agent-aurora' }, { Name: 'Role', Value: 'WRITER' }],
    });
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'OldestReplicationSlotLag' } }))).toHaveLength(0);
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'BinLogDiskUsage' } }))).toHaveLength(0);
  });

  test('Aurora PostgreSQL sources watch the writer\'s TransactionLogsDiskUsage for the slot (Aurora lists no slot-lag metric)', () => {
    const t = Template.fromStack(build({ source: existingSource(SourceEngine.auroraPostgres(), 'agent-aurora') }).stack);
    const writer = [{ Name: 'DBClusterIdentifier', Value: 'agent-aurora' }, { Name: 'Role', Value: 'WRITER' }];
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Dimensions: writer, Threshold: 1024 ** 3 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Dimensions: writer, Threshold: 10 * 1024 ** 3 });
    expect(checkPublished(alarmMetrics(t))).toEqual([]);
  });

  test('consumer lag alarms per group and topic at 30 s for 3 minutes by default', () => {
    const t = Template.fromStack(build().stack);
    const lag = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'EstimatedMaxTimeLag' } }));
    expect(lag).toHaveLength(3);
    for (const a of lag) expect(a.Properties).toMatchObject({ Threshold: 30, Period: 60, EvaluationPeriods: 3, Statistic: 'Maximum' });
  });

  test('Flink restarts and failed checkpoints alarm on the increase of the cumulative counters', () => {
    const t = Template.fromStack(build().stack);
    const math = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .filter(a => (a.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.Namespace === 'AWS/KinesisAnalytics'));
    expect(math).toHaveLength(4);
    for (const a of math) expect(a.Properties.Metrics[0].Expression).toBe('RATE(m) * PERIOD(m)');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'restartingTime', Threshold: 0, EvaluationPeriods: 3 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'downtime', Threshold: 0, EvaluationPeriods: 3 });
  });

  test('MCP error rate alarms per tool above 5% with at least 10 calls', () => {
    const t = Template.fromStack(build().stack);
    const rates = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .filter(a => (a.Properties.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.MetricName === 'ToolErrors'));
    expect(rates).toHaveLength(3);
    for (const a of rates) {
      expect(a.Properties.Threshold).toBe(5);
      expect(a.Properties.Metrics[0].Expression).toBe('IF(calls >= 10, 100 * FILL(errors, 0) / calls, 0)');
    }
  });

  test('every alarm notifies the topic on ALARM and OK', () => {
    const t = Template.fromStack(build().stack);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    const topic = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.AlarmDescription).toEqual(expect.any(String));
    }
  });

  test('the default topic is encrypted with a rotating key CloudWatch may use, and refuses plain HTTP', () => {
    const t = Template.fromStack(build().stack);
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
    const app = testApp();
    const stack = testStack(app);
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:us-east-1:123456789012:ops');
    new AgentObservability(stack, 'Obs', { decisions: {}, alarmTopic: topic });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: ['arn:aws:sns:us-east-1:123456789012:ops'] });
  });

  test('metric dimensions follow the props (namespace and service names are not hard-wired)', () => {
    const t = Template.fromStack(build({ sinks: [{ functionName: 'f', views: ['v'], namespace: 'Custom', dimensions: { service: 'my-sink' } }] }).stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Custom', MetricName: 'FreshnessLag', Dimensions: [{ Name: 'View', Value: 'v' }, { Name: 'service', Value: 'my-sink' }],
    });
  });

  test('node-based caches use per-node metrics', () => {
    const refs = dashboardMetrics(Template.fromStack(build({ cache: existingCache('rg', ['rg-0001-001', 'rg-0001-002']) }).stack));
    expect(refs.filter(r => r.metricName === 'EngineCPUUtilization').map(r => r.dimensions.CacheClusterId)).toEqual(['rg-0001-001', 'rg-0001-002']);
  });

  test('the search domain ClientId defaults to the stack account', () => {
    Template.fromStack(build().stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ClusterStatus.red', Dimensions: Match.arrayWith([{ Name: 'ClientId', Value: '123456789012' }]),
    });
  });

  test('is deterministic', () => {
    expect(Template.fromStack(build().stack).toJSON()).toEqual(Template.fromStack(build().stack).toJSON());
  });

  test('passes the validation gate', () => {
    const { app } = build(FULL, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('fails when no section is given', () => {
    expect(() => build({})).toThrow(/no section given.*Pass at least one/);
  });
  test('fails when a consumer group name has a colon (MSK publishes no lag for it)', () => {
    expect(() => build({ kafka: { clusterName: 'k', consumerGroups: [{ group: 'a:b', topics: ['t'], role: 'sink' }] } })).toThrow(/'a:b' contains ':'/);
  });
  test('fails when a consumer group has no topics', () => {
    expect(() => build({ kafka: { clusterName: 'k', consumerGroups: [{ group: 'g', topics: [], role: 'sink' }] } })).toThrow(/'g' has no topics/);
  });
  test('fails when a Flink runtime is unsupported', () => {
    expect(() => build({ flink: [{ applicationName: 'a', runtime: 'FLINK-1_15' as any }] })).toThrow(/runtime 'FLINK-1_15'.*FLINK-2_2/);
  });
  test('fails when a sink has no views, or a view has two sinks', () => {
    expect(() => build({ sinks: [{ functionName: 'f', views: [] }] })).toThrow(/sink 'f' has no views/);
    expect(() => build({ sinks: [{ functionName: 'f', views: ['v'] }, { functionName: 'g', views: ['v'] }] })).toThrow(/view 'v' is listed under more than one sink/);
  });
  test('fails when a node-based cache has no node cluster ids', () => {
    expect(() => build({ cache: existingCache('rg', []) })).toThrow(/cache 'rg' is node-based but its nodeClusterIds is empty.*nodeClusterIds: \['rg-001'/);
  });
  test('fails when the MCP server has no tools', () => {
    expect(() => build({ mcp: { functionName: 'm', tools: [] } })).toThrow(/mcp.tools is empty/);
  });
  test('fails when the freshness SLO is malformed', () => {
    expect(() => build({ decisions: {}, freshnessSlo: { percentile: 100 } })).toThrow(/percentile is 100/);
    expect(() => build({ decisions: {}, freshnessSlo: { window: Duration.seconds(90) } })).toThrow(/window is 1 minute 30 seconds.*whole minutes/);
    expect(() => build({ decisions: {}, freshnessSlo: { threshold: Duration.seconds(0) } })).toThrow(/threshold must be above zero/);
  });
  test('fails when failedCheckpoints is not a positive integer', () => {
    expect(() => build({ decisions: {}, thresholds: { failedCheckpoints: 0 } })).toThrow(/failedCheckpoints is 0/);
  });
  test('works in an environment-agnostic stack', () => {
    const app = testApp();
    const stack = new Stack(app, 'Agnostic');
    new AgentObservability(stack, 'Obs', { search: { domainName: 'd' } });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ClusterStatus.red', Dimensions: Match.arrayWith([{ Name: 'ClientId', Value: { Ref: 'AWS::AccountId' } }]),
    });
  });
});
