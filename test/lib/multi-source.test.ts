// More than one source database: PostgreSQL and MySQL in one declaration, each with its own connector and topics; views and a
// transform read either; lineage, dashboard, outputs and the doctor's manifest show each; the single `source` keeps its ids.
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { FlinkTable } from '../../constructs/processing/flink-tables';
import { SourceEngine } from '../../constructs/source/engine';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentDataStack, AgentDataStackProps, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { TEST_ENV, testApp } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

const BILLING_INVOICES_TOPIC = 'billing.billing.invoices';
const ENRICHED_TOPIC = 'agentdata.flink.invoices_enriched';

function transformTables(): FlinkTable[] {
  return [
    FlinkTable.debeziumSource({
      name: 'customers', topic: 'agentdata.public.customers',
      columns: [{ name: 'id', type: 'BIGINT' }, { name: 'name', type: 'STRING' }], primaryKey: ['id'],
    }),
    FlinkTable.debeziumSource({
      name: 'invoices', topic: BILLING_INVOICES_TOPIC,
      columns: [{ name: 'id', type: 'BIGINT' }, { name: 'customer_id', type: 'BIGINT' }, { name: 'amount', type: 'DECIMAL(12, 2)' }], primaryKey: ['id'],
    }),
    FlinkTable.upsertKafkaSink({
      name: 'invoices_enriched', topic: ENRICHED_TOPIC,
      columns: [{ name: 'invoice_id', type: 'BIGINT' }, { name: 'customer_name', type: 'STRING' }, { name: 'amount', type: 'DECIMAL(12, 2)' }],
      primaryKey: ['invoice_id'],
    }),
  ];
}

const SQL = `INSERT INTO invoices_enriched
SELECT i.id AS invoice_id, c.name AS customer_name, i.amount FROM invoices AS i JOIN customers AS c ON i.customer_id = c.id;
`;

function declaration(extra: Partial<AgentDataStackProps> = {}, withBilling = true): AgentDataStackProps {
  return {
    env: TEST_ENV, profile: DeploymentProfile.DEVELOPMENT,
    source: { tables: ['public.customers'], databaseName: 'shop' },
    ...(withBilling ? {
      additionalSources: [{ name: 'billing', engine: SourceEngine.mysql(), databaseName: 'billing', tables: ['billing.invoices'] }],
      transforms: [{ name: 'invoice-enrichment', sql: SQL, tables: transformTables() }],
    } : {}),
    views: [
      {
        name: 'customer', description: 'Customers by id.', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
        fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }],
      },
      ...(withBilling ? [
        {
          name: 'invoice', description: 'Invoices by id, from the billing database.', from: ViewSource.table('billing.invoices'),
          store: ViewStore.CACHE, key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'amount', type: ViewFieldType.NUMBER }],
        },
        {
          name: 'invoice_enriched', description: 'Invoices with the customer name.', from: ViewSource.transform('invoice-enrichment', 'invoices_enriched'),
          store: ViewStore.CACHE, key: ['invoice_id'],
          fields: [{ name: 'invoice_id', type: ViewFieldType.INTEGER }, { name: 'customer_name', type: ViewFieldType.STRING }],
        },
      ] : []),
    ],
    ...extra,
  };
}

describe('two sources: PostgreSQL and MySQL', () => {
  const stack = new AgentDataStack(testApp(), 'TwoSources', declaration());
  const t = Template.fromStack(stack);

  test.each(['development', 'production'])('%s profile: passes the validation gate', (profile) => {
    const app = testApp({ gate: true });
    new AgentDataStack(app, 'TwoSources', declaration({ profile: DeploymentProfile.of(profile) }));
    expect(formatFindings(gateFindings(app))).toBe('');
    // The gate ran (its report exists): a clean result is not a skipped scan.
    expect(fs.existsSync(path.join(app.outdir, 'validation-report.json'))).toBe(true);
  });

  test('each source has its own database, bootstrap and connector; each engine one plugin', () => {
    t.resourceCountIs('AWS::RDS::DBInstance', 2);
    t.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres' });
    t.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'mysql' });
    t.resourceCountIs('Custom::CdcReplicationBootstrap', 2);
    t.resourceCountIs('AWS::KafkaConnect::Connector', 2);
    t.resourceCountIs('AWS::KafkaConnect::CustomPlugin', 2);
    const prefixes = Object.values(t.findResources('AWS::KafkaConnect::Connector'))
      .map((c: any) => c.Properties.ConnectorConfiguration['topic.prefix']).sort();
    expect(prefixes).toEqual(['agentdata', 'billing']);
    expect(stack.sources.map(s => [s.name, s.topicPrefix, s.primary])).toEqual([['Source', 'agentdata', true], ['billing', 'billing', false]]);
    expect(stack.sources[0].connector).toBe(stack.connector);
    expect(stack.sources[0].source).toBe(stack.source);
  });

  test('the MySQL connector declares its own topics; the view and the transform read them', () => {
    t.hasResourceProperties('AWS::MSK::Topic', { TopicName: BILLING_INVOICES_TOPIC });
    t.hasResourceProperties('AWS::MSK::Topic', { TopicName: '__debezium-heartbeat.billing' });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: [BILLING_INVOICES_TOPIC] });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: [ENRICHED_TOPIC] });
    expect(stack.views.find(v => v.name === 'invoice')!.topic).toBe(BILLING_INVOICES_TOPIC);
  });

  test('the sink maps both heartbeat topics and treats every __debezium-heartbeat.<prefix> topic as a heartbeat', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: ['__debezium-heartbeat.agentdata'] });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: ['__debezium-heartbeat.billing'] });
    const fn = Object.values(t.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.AGENT_VIEWS) as any;
    expect(fn.Properties.Environment.Variables.AGENT_SINK_HEARTBEAT_TOPIC_PREFIX).toBe('__debezium-heartbeat.');
  });

  test('the PostgreSQL table a transform reads gets a full row image; the MySQL one needs none', () => {
    expect(stack.sources.map(s => s.source.fullRowImageTables)).toEqual([['public.customers'], []]);
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', { FullRowImageTables: ['public.customers'] });
  });

  test('lineage has both sources, each table under its own connector and topic', () => {
    const catalog = JSON.stringify(stack.lineage.catalog);
    for (const s of stack.sources) expect(catalog).toContain(s.connector.connectorName);
    expect(catalog).toContain(BILLING_INVOICES_TOPIC);
    const tables = stack.lineage.catalog.nodes.filter(n => n.kind === 'source-table').map(n => [n.name, n.details?.engine, n.details?.database]);
    expect(tables).toEqual([['billing.invoices', 'mysql', 'billing'], ['public.customers', 'postgres', 'shop']]);
    const edges = stack.lineage.catalog.edges.map(e => `${e.from} -> ${e.to}`);
    expect(edges).toContain(`source-table:billing.invoices -> connector:${stack.sources[1].connector.connectorName}`);
    expect(edges).toContain(`connector:${stack.sources[1].connector.connectorName} -> topic:${BILLING_INVOICES_TOPIC}`);
    expect(stack.lineage.catalog.views.find(v => v.view === 'invoice_enriched')!.sourceTables).toEqual(['billing.invoices', 'public.customers']);
  });

  test('the dashboard draws each source and connector, with their own alarms', () => {
    const body = JSON.stringify(t.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('1. Source database billing');
    expect(body).toContain('2. CDC connector of billing');
    expect(body).toContain('1. Source database\\"');
    const alarms = Object.keys(t.findResources('AWS::CloudWatch::Alarm'));
    for (const id of ['LogDiskUsageBilling', 'ConnectorErroredTasksBilling', 'CdcLagBilling0', 'ReplicationSlotLag', 'ConnectorErroredTasks', 'HeadroomConnector1']) {
      expect([id, alarms.some(a => a.startsWith(`Observability${id}Alarm`))]).toEqual([id, true]);
    }
  });

  test('status and the doctor see each: connector and endpoint outputs, and both sources in the manifest', () => {
    const outputs = t.toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ConnectorArn', 'ConnectorArnbilling', 'SourceEndpoint', 'SourceEndpointbilling']));
    const value = outputs.OperationsManifest.Value;
    const manifest = JSON.parse((value['Fn::Join'] ? value['Fn::Join'][1] : [value]).map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join(''));
    expect(manifest.sources.map((s: any) => [s.name, s.engine, s.heartbeatTopic, Object.keys(s).filter(k => ['slotLag', 'binLogDiskUsage'].includes(k))])).toEqual([
      ['Source', 'postgres', '__debezium-heartbeat.agentdata', ['slotLag']],
      ['billing', 'mysql', '__debezium-heartbeat.billing', ['binLogDiskUsage']],
    ]);
  });
});

describe('the single source stays as it was', () => {
  test('adding a source keeps every logical id of the one-source stack', () => {
    const one = Template.fromStack(new AgentDataStack(testApp(), 'S', declaration({}, false))).toJSON().Resources;
    const two = Template.fromStack(new AgentDataStack(testApp(), 'S', declaration({}, true))).toJSON().Resources;
    const missing = Object.keys(one).filter(id => !(id in two));
    expect(missing).toEqual([]);
    // The primary keeps the ids it always had.
    for (const prefix of ['Source', 'Cdc', 'DebeziumPlugin']) expect(Object.keys(one).some(id => id.startsWith(prefix))).toBe(true);
  });
});

describe('validation', () => {
  const build = (extra: Partial<AgentDataStackProps>) => () => new AgentDataStack(testApp(), 'Bad', declaration(extra));
  const billing = { name: 'billing', engine: SourceEngine.mysql(), databaseName: 'billing', tables: ['billing.invoices'] };
  test.each([
    ['a topic prefix equal to the primary\'s', { additionalSources: [{ ...billing, topicPrefix: 'agentdata' }] }, /sources 'Source' and 'billing' have colliding topic prefixes 'agentdata' and 'agentdata'/],
    ['a topic prefix extending another', { additionalSources: [{ ...billing, topicPrefix: 'agentdata.billing' }] }, /colliding topic prefixes 'agentdata' and 'agentdata.billing'/],
    ['two sources with one name', { additionalSources: [billing, { ...billing, topicPrefix: 'other' }] }, /additionalSources name 'billing' is declared twice/],
    ['a source named Source', { additionalSources: [{ ...billing, name: 'Source' }] }, /must start with a letter .* and not be 'Source'/],
    ['a topic prefix Kafka rejects', { additionalSources: [{ ...billing, topicPrefix: 'bill ing' }] }, /source 'billing' has topic prefix 'bill ing'; use letters, digits/],
  ] as [string, Partial<AgentDataStackProps>, RegExp][])('fails at synth on %s', (_name, extra, message) => {
    expect(build(extra)).toThrow(message);
  });

  test('a table two sources capture must name its source; a named source must capture it', () => {
    const twoShops = { additionalSources: [{ name: 'shop2', databaseName: 'shop2', tables: ['public.customers'] }] };
    expect(() => new AgentDataStack(testApp(), 'Ambiguous', declaration(twoShops, false))).toThrow(/view 'customer' reads table 'public.customers', which sources 'Source' and 'shop2' both capture. Name the source: ViewSource.table\('public.customers', 'shop2'\)/);
    const named = declaration(twoShops, false);
    const views = named.views.filter(v => v.name === 'customer').map(v => ({ ...v, from: ViewSource.table('public.customers', 'shop2') }));
    const s = new AgentDataStack(testApp(), 'Named', { ...named, views });
    expect(s.views[0].topic).toBe('shop2.public.customers');
    expect(() => new AgentDataStack(testApp(), 'Unknown', { ...named, views: views.map(v => ({ ...v, from: ViewSource.table('public.customers', 'nope') })) }))
      .toThrow(/reads table 'public.customers' of source 'nope', which is not declared. Sources: Source, shop2/);
  });

  test('the primary source\'s messages are unchanged for a one-source stack', () => {
    const one = declaration({}, false);
    expect(() => new AgentDataStack(testApp(), 'One', { ...one, views: one.views.map(v => ({ ...v, from: ViewSource.table('public.nope') })) }))
      .toThrow(/view 'customer' reads table 'public.nope', which is not in source.tables \[public.customers\]/);
  });
});

