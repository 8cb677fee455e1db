// The gate over apps whose stores, warehouse and governance resources are in one stack and the constructs granted
// access to them (sink, MCP server, Flink job, warehouse readers) in another, with weak and strong cross-stack references.
import { Stack } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AgentCache, AgentLineageCatalog, AgentMcpServer, AgentNetwork, AgentObservability, AgentSearch, AgentSink, AgentStreamingCluster,
  AgentView, AgentWarehouse, DecisionAuditLog, DeliveryGuarantee, EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables, FlinkSqlApplication,
  SinkDeadLetter, ViewFieldType, ViewStore,
} from '../../index';
import { DEFAULT_GATE_PACKS, GateScan } from '../../lib/validation-gate';
import { TEST_ENV, testApp } from '../helpers/app';
import { scanApp } from '../helpers/gate';

const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';
type Strength = 'weak' | 'strong';

const customer = new AgentView({
  name: 'customer', description: 'A customer by id', topic: 'shop.public.customers', sourceTable: 'public.customers',
  key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }], store: ViewStore.CACHE,
});
const tickets = new AgentView({
  name: 'tickets', description: 'Support tickets by text', topic: 'shop.public.support_tickets', sourceTable: 'public.support_tickets',
  key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'subject', type: ViewFieldType.TEXT }], store: ViewStore.SEARCH,
  search: { vector: { sourceFields: ['subject'] } },
});
const history = new AgentView({
  name: 'order_history', description: 'Orders over time', topic: 'shop.public.orders', sourceTable: 'public.orders',
  key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'total', type: ViewFieldType.NUMBER }],
  store: ViewStore.WAREHOUSE, warehouse: { history: true },
});

function app(strength: Strength) {
  const a = testApp({ context: { [CROSS_STACK_REFERENCES]: strength } });
  const base = new Stack(a, 'Base', { env: TEST_ENV });
  const vpc = new AgentNetwork(base, 'Net').vpc;
  const cluster = new AgentStreamingCluster(base, 'Kafka', { vpc });
  return { app: a, base, apps: new Stack(a, 'Apps', { env: TEST_ENV }), vpc, cluster };
}

/** The warehouse's freshness alarms notify a topic of its stack (alone, they have no action: CT.CLOUDWATCH.PR.1). */
function notify(warehouse: AgentWarehouse): AgentWarehouse {
  const topic = new sns.Topic(Stack.of(warehouse), 'Alarms', { enforceSSL: true });
  for (const alarm of Object.values(warehouse.freshnessAlarms)) {
    alarm.addAlarmAction(new cw_actions.SnsAction(topic));
    alarm.addOkAction(new cw_actions.SnsAction(topic));
  }
  return warehouse;
}

/** Stores, warehouse, decision log, lineage catalog and a dead-letter bucket in `Base`; sink, MCP server, a Flink job and the dashboard in `Apps`. */
function storesApart(strength: Strength) {
  const { app: a, base, apps, vpc, cluster } = app(strength);
  const cache = new AgentCache(base, 'Cache', { vpc });
  const search = new AgentSearch(base, 'Search', { vpc });
  search.addView(tickets);
  const warehouse = notify(new AgentWarehouse(base, 'Warehouse', { cluster, views: [history] }));
  const decisionAuditLog = new DecisionAuditLog(base, 'Decisions');
  const lineageCatalog = new AgentLineageCatalog(base, 'Lineage', {
    namespace: 'shop', views: [customer, tickets],
    sources: [{ engine: 'postgres', tables: ['public.customers', 'public.support_tickets'], connectorName: 'shop-cdc', topicPrefix: 'shop', database: 'shop' }],
  });
  // The Apps sink dead-letters into the bucket (and its key) of a sink of Base.
  const deadLetters = new AgentSink(base, 'BaseSink', { cluster, cache, views: [customer] }).deadLetterBucket!;
  const sink = new AgentSink(apps, 'Sink', { cluster, cache, search, views: [customer, tickets], deadLetter: SinkDeadLetter.bucket(deadLetters) });
  const mcp = new AgentMcpServer(apps, 'Mcp', { views: [customer, tickets], vpc, cache, search, decisionAuditLog, lineageCatalog });
  warehouse.grantQuery(mcp.function);
  // The vector view: both embed through the domain's Bedrock runtime endpoint (in Base), as AgentDataStack grants it.
  search.grantEmbed(sink.function);
  search.grantEmbed(mcp.function);
  const flink = new FlinkSqlApplication(apps, 'Transform', {
    cluster, sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables(), deliveryGuarantee: DeliveryGuarantee.EXACTLY_ONCE,
  });
  new AgentObservability(apps, 'Observability', { kafka: cluster, flink: [flink], sinks: [sink], cache, search, mcp, decisions: {} });
  return a;
}

/** The warehouse (its writer jobs, freshness probe) in `Apps`, reading the cluster of `Base`. */
function warehouseApart(strength: Strength) {
  const { app: a, apps, cluster } = app(strength);
  notify(new AgentWarehouse(apps, 'Warehouse', { cluster, views: [history] }));
  return a;
}

const unacknowledged = (scan: GateScan) => scan.unacknowledged.map(f => `${f.rule} ${f.constructPath}`);
const stale = (scan: GateScan) => scan.stale.map(a => `${a.rule} ${a.path}`);
/** The IAM5 findings whose resource holds an import of Base (strong: its export name; weak: the scan's opaque Fn::GetStackOutput). */
const importedWildcards = (scan: GateScan) => scan.findings
  .filter(f => f.rule.startsWith('AwsSolutions-IAM5[') && /Base:ExportsOutput|Fn::GetStackOutput:us-east-1:Base:/.test(f.rule))
  .map(f => `${f.rule.replace(/Base:ExportsOutput\w+|Fn::GetStackOutput:us-east-1:Base:\w+/g, '<import>')} ${f.constructPath} ${f.acknowledgedBy ? 'acknowledged' : 'UNACKNOWLEDGED'}`)
  .sort();

describe.each<Strength>(['strong', 'weak'])('the full gate over stores in one stack and their grantees in another (%s references)', strength => {
  test('sink, MCP server, Flink job and dashboard apart from the cluster, cache, search domain, warehouse, decision log, catalog and dead-letter bucket', () => {
    const scan = scanApp(storesApart(strength), DEFAULT_GATE_PACKS);
    expect(unacknowledged(scan)).toEqual([]);
    expect(stale(scan)).toEqual([]);
    // Each wildcard on another stack's resource is acknowledged as the grantee's template names it.
    expect(importedWildcards(scan)).toEqual([
      'AwsSolutions-IAM5[Resource::<import>/*] Apps/Sink/FunctionRole/DefaultPolicy/Resource acknowledged',
      'AwsSolutions-IAM5[Resource::<import>/athena-results/*] Apps/Mcp/FunctionRole/DefaultPolicy/Resource acknowledged',
      'AwsSolutions-IAM5[Resource::<import>/tables/order_history/*] Apps/Mcp/FunctionRole/DefaultPolicy/Resource acknowledged',
      'AwsSolutions-IAM5[Resource::<import>/tables/order_history_history/*] Apps/Mcp/FunctionRole/DefaultPolicy/Resource acknowledged',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:aws:kafka:us-east-1:123456789012:transactional-id\/.*<import>.*\/flink\.Apps-Transform-\w+\.orders_enriched\*\] Apps\/Transform\/Role\/DefaultPolicy\/Resource acknowledged$/),
    ]);
  });

  test('a warehouse apart from its cluster', () => {
    const scan = scanApp(warehouseApart(strength), DEFAULT_GATE_PACKS);
    expect(unacknowledged(scan)).toEqual([]);
    expect(stale(scan)).toEqual([]);
  });
});
