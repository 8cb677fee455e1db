// Incremental snapshots, declared: the source's bootstrap creates the signaling table and its function knows how to reach it, the
// connector reads signals from it (Debezium 3.1 source channel) and logs snapshot notifications, and a table-added signal runs after the connector.

import { Match, Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { CdcSourceDatabase, CdcSourceDatabaseProps, SourceEngine } from '../../constructs/source';
import { AgentStreamingCluster, DebeziumConnector, DebeziumConnectorProps, DebeziumPlugin } from '../../constructs/streaming';
import { testApp, testStack } from '../helpers/app';
import { fakeSource, network } from './fixtures';

function build(source: Partial<CdcSourceDatabaseProps> = {}, connector: Partial<DebeziumConnectorProps> = {}) {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const db = new CdcSourceDatabase(stack, 'Source', { vpc, tables: ['public.orders', 'public.customers'], ...source });
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
  const engine = db.engine.family === 'postgresql' ? 'postgres' : 'mysql';
  const plugin = new DebeziumPlugin(stack, 'Plugin', { engine });
  const cdc = new DebeziumConnector(stack, 'Cdc', { cluster, source: db.toCdcSource(), plugin, topicPrefix: 'shop', ...connector });
  return { stack, db, cdc, t: Template.fromStack(stack) };
}

function connectorConfig(t: Template): Record<string, unknown> {
  return Object.values(t.findResources('AWS::KafkaConnect::Connector'))[0].Properties.ConnectorConfiguration;
}

describe('PostgreSQL', () => {
  const { stack, db, cdc, t } = build();

  test('the bootstrap creates public.debezium_signal (next to the heartbeat table) by default', () => {
    expect(db.signalTable).toBe('public.debezium_signal');
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', { SignalTable: 'public.debezium_signal' });
  });

  test('the bootstrap function carries what a direct invocation needs: the replication secret, never the admin one', () => {
    const fn = Object.values(t.findResources('AWS::Lambda::Function')).find(f => f.Properties.Environment?.Variables?.AGENT_SIGNAL_SOURCE);
    const env = stack.resolve(fn!.Properties.Environment.Variables.AGENT_SIGNAL_SOURCE);
    const text = JSON.stringify(env);
    expect(text).toContain('"SignalTable\\":\\"public.debezium_signal\\"');
    expect(text).toContain('"Tables\\":[\\"public.orders\\",\\"public.customers\\"]');
    expect(text).toMatch(/ReplicationSecretArn.*SourceReplicationSecret/);
    expect(text).not.toMatch(/AdminSecret|SourceSecret[0-9A-F]{8}/);
  });

  test('the connector reads signals from the table, snapshots in chunks of 1024 with insert_delete watermarks, and logs notifications', () => {
    expect(connectorConfig(t)).toEqual(expect.objectContaining({
      'signal.enabled.channels': 'source',
      'signal.data.collection': 'public.debezium_signal',
      'incremental.snapshot.chunk.size': '1024',
      'incremental.snapshot.watermarking.strategy': 'insert_delete',
      'notification.enabled.channels': 'log',
    }));
    // The signaling table is not captured into a topic: Debezium reads it through signal.data.collection.
    expect(connectorConfig(t)['table.include.list']).toBe('public.orders,public.customers');
  });

  test('the signaling table\'s own change events (watermarks) are dropped before the producer: no topic to declare or grant', () => {
    expect(connectorConfig(t)).toEqual(expect.objectContaining({
      'transforms': 'dropSignalTable',
      'transforms.dropSignalTable.type': 'org.apache.kafka.connect.transforms.Filter',
      'transforms.dropSignalTable.predicate': 'isSignalTable',
      'predicates': 'isSignalTable',
      'predicates.isSignalTable.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
      'predicates.isSignalTable.pattern': 'shop\\.public\\.debezium_signal',
    }));
  });

  test('the table-added snapshot signal runs after the connector, through the bootstrap provider', () => {
    const signals = t.findResources('Custom::CdcSnapshotSignal');
    expect(Object.keys(signals)).toHaveLength(1);
    const [id, signal] = Object.entries(signals)[0];
    expect(id).toMatch(/^CdcSnapshotSignal/);
    expect(signal.DependsOn).toEqual(expect.arrayContaining([stack.getLogicalId(cdc.resource)]));
    expect(signal.Properties).toEqual({
      ServiceToken: stack.resolve(db.bootstrapProvider.serviceToken),
      Tables: ['public.orders', 'public.customers'],
      ConnectorName: cdc.connectorName,
    });
  });
});

test('MySQL: the signaling table lives in the heartbeat table\'s database', () => {
  const { t } = build({ engine: SourceEngine.mysql(), tables: ['shop.orders'], databaseName: 'shop' });
  t.hasResourceProperties('Custom::CdcReplicationBootstrap', { SignalTable: 'shop.debezium_signal' });
  expect(connectorConfig(t)['signal.data.collection']).toBe('shop.debezium_signal');
});

test('signalTable and incrementalSnapshotChunkSize are honoured', () => {
  const { t } = build({ signalTable: 'ops.cdc_signal' }, { incrementalSnapshotChunkSize: 5000 });
  t.hasResourceProperties('Custom::CdcReplicationBootstrap', { SignalTable: 'ops.cdc_signal' });
  expect(connectorConfig(t)).toEqual(expect.objectContaining({ 'signal.data.collection': 'ops.cdc_signal', 'incremental.snapshot.chunk.size': '5000' }));
});

test('transforms and predicates of extraProperties run after the signal filter', () => {
  const { t } = build({}, { extraProperties: { 'transforms': 'route', 'transforms.route.type': 'x.Route', 'predicates': 'p' } });
  expect(connectorConfig(t)).toEqual(expect.objectContaining({ 'transforms': 'dropSignalTable,route', 'predicates': 'isSignalTable,p', 'transforms.route.type': 'x.Route' }));
});

test('fails when extraProperties sets incremental.snapshot.chunk.size next to a signaling table (incrementalSnapshotChunkSize writes it)', () => {
  expect(() => build({}, { extraProperties: { 'incremental.snapshot.chunk.size': '5000' } }))
    .toThrow(/extraProperties sets incremental\.snapshot\.chunk\.size, which the typed prop incrementalSnapshotChunkSize writes \(extraProperties would override it silently\); set incrementalSnapshotChunkSize instead/);
});

test('a source without a signaling table gets no signal settings and no signal resource', () => {
  const stack = testStack(testApp());
  const vpc = network(stack);
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
  new DebeziumConnector(stack, 'Cdc', { cluster, source: fakeSource(stack, vpc, 'postgres'), plugin: new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres' }), topicPrefix: 'shop' });
  const t = Template.fromStack(stack);
  t.resourceCountIs('Custom::CdcSnapshotSignal', 0);
  t.hasResourceProperties('AWS::KafkaConnect::Connector', { ConnectorConfiguration: Match.not(Match.objectLike({ 'signal.data.collection': Match.anyValue() })) });
});

test('fails when signalTable is not a plain lower-case name, or is a captured or heartbeat table', () => {
  expect(() => build({ signalTable: 'Signals' })).toThrow(/signalTable is 'Signals'; it must be schema.table in lower-case/);
  expect(() => build({ signalTable: 'public.orders' })).toThrow(/signalTable 'public.orders' is also in tables/);
  expect(() => build({ signalTable: 'public.debezium_heartbeat' })).toThrow(/is also the heartbeatTable/);
});

test('fails when incrementalSnapshotChunkSize is not a whole number of rows from 1 to 100000', () => {
  expect(() => build({}, { incrementalSnapshotChunkSize: 0 })).toThrow(/incrementalSnapshotChunkSize 0 is invalid/);
  expect(() => build({}, { incrementalSnapshotChunkSize: 2.5 })).toThrow(/incrementalSnapshotChunkSize 2.5 is invalid/);
});

