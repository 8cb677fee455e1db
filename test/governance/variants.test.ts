// Every composed variant of AgentDataStack (RDS or Aurora, PostgreSQL or MySQL, serverless or node-based cache, with or
// without search) builds, and every alarm and dashboard widget names a metric and a dimension set AWS publishes for that
// variant (test/governance/fixtures/published-metrics.ts, each table cited), on a resource of the stack.
import { Template } from 'aws-cdk-lib/assertions';
import { SourceEngine } from '../../constructs/source/engine';
import { AgentCacheProps } from '../../constructs/stores/agent-cache';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { TEST_ENV, testApp } from '../helpers/app';
import { CacheVariant, PublishedNamespace, publishedFor, SourceVariant } from './fixtures/published-metrics';

interface Variant {
  readonly name: string;
  readonly source: SourceVariant;
  readonly cache: CacheVariant;
  readonly search: boolean;
  readonly nodeBased?: AgentCacheProps['nodeBased'];
}

const VARIANTS: Variant[] = [
  { name: 'rds-postgres-serverless', source: 'postgres', cache: 'serverless', search: false },
  { name: 'rds-postgres-nodebased', source: 'postgres', cache: 'node-based', search: false, nodeBased: {} },
  { name: 'aurora-postgres-nodebased-search', source: 'aurora-postgresql', cache: 'node-based', search: true, nodeBased: {} },
  { name: 'rds-mysql-nodebased-search', source: 'mysql', cache: 'node-based', search: true, nodeBased: { replicas: 2 } },
  { name: 'aurora-mysql-serverless-search', source: 'aurora-mysql', cache: 'serverless', search: true },
];

const ENGINES: Record<SourceVariant, () => SourceEngine> = {
  'postgres': () => SourceEngine.postgres(),
  'mysql': () => SourceEngine.mysql(),
  'aurora-postgresql': () => SourceEngine.auroraPostgres(),
  'aurora-mysql': () => SourceEngine.auroraMysql(),
};

function build(v: Variant): { stack: AgentDataStack; t: Template } {
  const table = v.source.endsWith('mysql') ? 'agentdata.customers' : 'public.customers';
  const fields = [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }];
  const stack = new AgentDataStack(testApp(), `Variant-${v.name}`, {
    env: TEST_ENV,
    profile: DeploymentProfile.DEVELOPMENT,
    source: { tables: [table], engine: ENGINES[v.source]() },
    cacheOptions: v.nodeBased ? { nodeBased: v.nodeBased } : undefined,
    views: [
      { name: 'customer', description: 'Customers by id', from: ViewSource.table(table), store: ViewStore.CACHE, key: ['id'], fields },
      ...(v.search ? [{ name: 'customer_search', description: 'Customers by name', from: ViewSource.table(table), store: ViewStore.SEARCH, key: ['id'], fields }] : []),
    ],
  });
  return { stack, t: Template.fromStack(stack) };
}

interface MetricRef { namespace: string; metricName: string; dimensions: Record<string, string>; where: string }

/** A CloudFormation value as a string: references become `<ref:LogicalId>` so dimension values can be traced to resources. */
function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value.Ref) return `<ref:${value.Ref}>`;
  if (value['Fn::GetAtt']) return `<getatt:${value['Fn::GetAtt'].join('.')}>`;
  return `<${Object.keys(value)[0]}>`;
}

function alarmMetrics(t: Template): MetricRef[] {
  const refs: MetricRef[] = [];
  const dims = (list: any[] = []) => Object.fromEntries(list.map((d: any) => [d.Name, flatten(d.Value)]));
  for (const [id, alarm] of Object.entries(t.findResources('AWS::CloudWatch::Alarm'))) {
    const p = alarm.Properties;
    if (p.MetricName) refs.push({ namespace: p.Namespace, metricName: p.MetricName, dimensions: dims(p.Dimensions), where: id });
    for (const m of p.Metrics ?? []) {
      if (m.MetricStat) refs.push({ namespace: m.MetricStat.Metric.Namespace, metricName: m.MetricStat.Metric.MetricName, dimensions: dims(m.MetricStat.Metric.Dimensions), where: id });
    }
  }
  return refs;
}

function dashboardMetrics(t: Template): MetricRef[] {
  const refs: MetricRef[] = [];
  for (const dashboard of Object.values(t.findResources('AWS::CloudWatch::Dashboard'))) {
    for (const w of JSON.parse(flatten(dashboard.Properties.DashboardBody)).widgets) {
      for (const m of w.properties.metrics ?? []) {
        const parts = m.filter((x: unknown) => typeof x === 'string');
        if (parts.length === 0) continue;
        const [namespace, metricName, ...rest] = parts;
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
        refs.push({ namespace, metricName, dimensions, where: `widget '${w.properties.title}'` });
      }
    }
  }
  return refs;
}

/** Every reference whose namespace, metric name or dimension names the variant's services do not publish. */
function unpublished(refs: MetricRef[], published: Record<string, PublishedNamespace>): string[] {
  const problems: string[] = [];
  for (const r of refs) {
    const sets = published[r.namespace]?.metrics[r.metricName];
    const names = JSON.stringify(Object.keys(r.dimensions).sort());
    if (!published[r.namespace]) problems.push(`${r.where}: namespace ${r.namespace} is not published in this variant`);
    else if (!sets) problems.push(`${r.where}: ${r.namespace} publishes no ${r.metricName} in this variant`);
    else if (!sets.some(s => JSON.stringify([...s].sort()) === names)) problems.push(`${r.where}: ${r.namespace}/${r.metricName} is not published with dimensions ${names}`);
  }
  return problems;
}

describe.each(VARIANTS)('AgentDataStack variant $name', (v) => {
  let built: { stack: AgentDataStack; t: Template };
  let alarms: MetricRef[];
  let widgets: MetricRef[];
  beforeAll(() => {
    built = build(v);
    alarms = alarmMetrics(built.t);
    widgets = dashboardMetrics(built.t);
  });

  test('every alarm names a metric and dimension set AWS publishes for this variant', () => {
    expect(alarms.length).toBeGreaterThan(5);
    expect(unpublished(alarms, publishedFor(v))).toEqual([]);
  });

  test('every dashboard widget names a metric and dimension set AWS publishes for this variant', () => {
    expect(widgets.length).toBeGreaterThan(20);
    expect(unpublished(widgets, publishedFor(v))).toEqual([]);
  });

  test('source metrics are those of this stack\'s database: the RDS instance, or the Aurora cluster\'s writer', () => {
    const rds = [...alarms, ...widgets].filter(r => r.namespace === 'AWS/RDS');
    expect(rds.length).toBeGreaterThanOrEqual(4);
    const resource = Object.keys(built.t.findResources(v.source.startsWith('aurora') ? 'AWS::RDS::DBCluster' : 'AWS::RDS::DBInstance'));
    expect(resource).toHaveLength(1);
    const expected = v.source.startsWith('aurora')
      ? { DBClusterIdentifier: `<ref:${resource[0]}>`, Role: 'WRITER' }
      : { DBInstanceIdentifier: `<ref:${resource[0]}>` };
    for (const r of rds) expect({ where: r.where, metric: r.metricName, dimensions: r.dimensions }).toEqual({ where: r.where, metric: r.metricName, dimensions: expected });
  });

  test('the source alarms watch the change-log growth this engine publishes', () => {
    const byId = (pattern: RegExp) => alarms.filter(r => pattern.test(r.where)).map(r => r.metricName);
    const logDisk = { 'postgres': 'TransactionLogsDiskUsage', 'aurora-postgresql': 'TransactionLogsDiskUsage', 'mysql': 'BinLogDiskUsage', 'aurora-mysql': 'SumBinaryLogSize' }[v.source];
    expect(byId(/LogDiskUsageAlarm/)).toEqual([logDisk]);
    const slotLag = { 'postgres': ['OldestReplicationSlotLag'], 'aurora-postgresql': ['TransactionLogsDiskUsage'], 'mysql': [], 'aurora-mysql': [] }[v.source];
    expect(byId(/ReplicationSlotLagAlarm/)).toEqual(slotLag);
  });

  test('cache widgets read this stack\'s cache: per cache when serverless, one line per node cluster when node-based', () => {
    const cacheName = built.stack.cache!.cacheName;
    const cache = widgets.filter(r => r.namespace === 'AWS/ElastiCache');
    expect(cache.length).toBeGreaterThanOrEqual(5);
    if (v.cache === 'serverless') {
      for (const r of cache) expect(r.dimensions).toEqual({ clusterId: cacheName });
      return;
    }
    const nodes = 1 + (v.nodeBased?.replicas ?? 1);
    const ids = Array.from({ length: nodes }, (_, i) => `${cacheName}-00${i + 1}`);
    built.t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { ReplicationGroupId: cacheName, NumCacheClusters: nodes });
    for (const metric of ['EngineCPUUtilization', 'DatabaseMemoryUsagePercentage', 'Evictions']) {
      expect(cache.filter(r => r.metricName === metric).map(r => r.dimensions.CacheClusterId)).toEqual(ids);
    }
  });

  test(`search widgets and alarms ${v.search ? 'are' : 'are not'} there`, () => {
    expect([...alarms, ...widgets].some(r => r.namespace === 'AWS/ES')).toBe(v.search);
  });
});

describe('the published-metrics check', () => {
  test('fails on a metric another variant publishes, and on a dimension set the service does not use', () => {
    const aurora = publishedFor({ source: 'aurora-postgresql', cache: 'serverless' });
    const ref = (metricName: string, dimensions: Record<string, string>): MetricRef => ({ namespace: 'AWS/RDS', metricName, dimensions, where: 'probe' });
    expect(unpublished([ref('TransactionLogsDiskUsage', { DBClusterIdentifier: 'c', Role: 'WRITER' })], aurora)).toEqual([]);
    // Today's defects: the RDS-only slot-lag name on Aurora, and a writer-only metric read on the bare cluster.
    expect(unpublished([ref('OldestLogicalReplicationSlotLag', { DBClusterIdentifier: 'c' })], aurora)).toHaveLength(1);
    expect(unpublished([ref('OldestReplicationSlotLag', { DBClusterIdentifier: 'c', Role: 'WRITER' })], aurora)).toHaveLength(1);
    expect(unpublished([ref('TransactionLogsDiskUsage', { DBClusterIdentifier: 'c' })], aurora)).toHaveLength(1);
    expect(unpublished([ref('BinLogDiskUsage', { DBClusterIdentifier: 'c', Role: 'WRITER' })], publishedFor({ source: 'aurora-mysql' }))).toHaveLength(1);
    expect(unpublished([{ namespace: 'AWS/ElastiCache', metricName: 'EngineCPUUtilization', dimensions: { clusterId: 'x' }, where: 'probe' }],
      publishedFor({ source: 'postgres', cache: 'serverless' }))).toHaveLength(1);
  });
});
