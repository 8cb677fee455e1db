// Running for months, on the real engines (Kafka, Kafka Connect with the pinned Debezium, a private PostgreSQL): a table added to the
// declaration is snapshotted alone. The deploy is replayed in CloudFormation's order from two synthesized templates: the bootstrap's
// Update (publication and grants), the connector's new configuration (as MSK Connect's UpdateConnector gives it to the worker), then
// Custom::CdcSnapshotSignal's Update through the real handler; only the new table's rows are read, and live changes keep flowing.
import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { describeNotification, parseNotification, type SnapshotNotification } from '../../cli/resnapshot';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { SIGNAL_SOURCE_ENV, type SignalSource, type SnapshotSignalProperties } from '../../contract/replication-bootstrap';
import { onEvent, physicalResourceId } from '../../lambda/replication-bootstrap';
import { onSnapshotSignalEvent } from '../../lambda/replication-bootstrap/signal-handler';
import { AgentDataStack, ViewSource, type AgentDataStackProps } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { testApp } from '../helpers/app';
import { updateEvent } from '../source/helpers/events';
import {
  bootstrapProperties, createTopics, declaredTopics, deployedConnector, deployedViews, mapForLocal, resolveValue, TopicReader,
  type CfnTemplate, type LocalReferences, type ReadRecord,
} from './harness';
import { startEnginePipeline, startSourceDatabase, type EnginePipeline, type SourceDatabase } from '../../cli/dev/engines/pipeline';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

const CUSTOMERS = 200;
const ORDERS = 300;
const FIRST_ID = 500_000;
const CHUNK = 50;

/** The stack before and after the user adds public.orders to `source.tables` (and a view of it). */
function synthesize(withOrders: boolean): CfnTemplate {
  const views: AgentDataStackProps['views'] = [{
    name: 'customer', description: 'A customer by id.', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
    fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'tier', type: ViewFieldType.KEYWORD }],
  }];
  if (withOrders) {
    views.push({
      name: 'order', description: 'An order by id.', from: ViewSource.table('public.orders'), store: ViewStore.CACHE, key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'status', type: ViewFieldType.KEYWORD }],
    });
  }
  return Template.fromStack(new AgentDataStack(testApp(), 'AgentDataStack', {
    profile: DeploymentProfile.DEVELOPMENT,
    source: { tables: withOrders ? ['public.customers', 'public.orders'] : ['public.customers'], databaseName: 'shop' },
    // Several chunks for a few hundred rows, so live changes interleave with them.
    connectorOptions: { incrementalSnapshotChunkSize: CHUNK },
    views,
  })).toJSON() as CfnTemplate;
}

let before: CfnTemplate;
let after: CfnTemplate;
let source: SourceDatabase;
let pipeline: EnginePipeline;
let reader: TopicReader;
let refs: LocalReferences;
const figures: Record<string, number | string> = {};

const decode = (b64: string | null) => (b64 === null ? '' : Buffer.from(b64, 'base64').toString('utf8'));
type Envelope = { op: string; after: Record<string, unknown> | null; source: { snapshot?: string; table: string } };
const changes = (records: ReadRecord[], topic: string, from = 0) => records.slice(from)
  .filter(r => r.topic === topic && r.value !== null).map(r => JSON.parse(decode(r.value)) as Envelope);

async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
    await new Promise(r => setTimeout(r, 250));
  }
}

/** The resource of a type in a template (exactly one). */
function only(template: CfnTemplate, type: string): Record<string, any> {
  const found = Object.values(template.Resources).filter(r => r.Type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0].Properties ?? {};
}

/** Custom::CdcSnapshotSignal's properties, resolved. */
function signalProperties(template: CfnTemplate): SnapshotSignalProperties {
  const { ServiceToken: _token, ...rest } = only(template, 'Custom::CdcSnapshotSignal');
  return resolveValue(template, rest, refs) as SnapshotSignalProperties;
}

/** The bootstrap function's signal source (its environment), as the deployed function reads it. */
function signalSource(template: CfnTemplate): SignalSource {
  const fn = Object.values(template.Resources).find(r => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.[SIGNAL_SOURCE_ENV]);
  if (!fn) throw new Error(`no function with ${SIGNAL_SOURCE_ENV}`);
  return JSON.parse(resolveValue(template, fn.Properties!.Environment.Variables[SIGNAL_SOURCE_ENV], refs)) as SignalSource;
}

beforeAll(async () => {
  before = synthesize(false);
  after = synthesize(true);
  source = await startSourceDatabase();
  await source.admin.query(`INSERT INTO public.customers (id, name, email, tier, balance)
    SELECT g, 'Customer ' || g, 'c' || g || '@example.com', 'standard', 10 FROM generate_series(${FIRST_ID}, ${FIRST_ID + CUSTOMERS - 1}) g`);
  await source.admin.query(`INSERT INTO public.orders (id, customer_id, status, total)
    SELECT g, ${FIRST_ID} + (g % ${CUSTOMERS}), 'open', g FROM generate_series(${FIRST_ID}, ${FIRST_ID + ORDERS - 1}) g`);
  pipeline = await startEnginePipeline({ example: { template: before, views: deployedViews(before) }, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  refs = { bootstrapServers: pipeline.kafka.bootstrapServers, databaseHost: '127.0.0.1', databasePort: source.db.port };
  // The topics the second deploy declares (AWS::MSK::Topic is created before the connector is updated); made now so that the
  // reader's pattern subscription sees them from its start.
  const existing = new Set(declaredTopics(before).map(t => t.name));
  await createTopics(pipeline.kafka.bootstrapServers, declaredTopics(after).filter(t => !existing.has(t.name)).map(t => ({ ...t, replicationFactor: 1 })));
  reader = new TopicReader(pipeline.kafka.bootstrapServers, 'agentdata\\..*');
  await reader.start();
  await reader.waitFor('the initial snapshot of the customers', rs => changes(rs, 'agentdata.public.customers').filter(c => c.op === 'r').length >= CUSTOMERS + 3, 240_000);
  // A deploy that adds a table comes long after the first snapshot: the connector's committed offset is a streaming position.
  // Restarted (by its new configuration) before that offset is committed, the connector would snapshot every table again
  // (snapshot.mode when_needed: the stored offset says a snapshot was running), which is not what this test is about.
  await source.admin.query(`UPDATE public.customers SET tier = 'streaming' WHERE id = ${FIRST_ID}`);
  await waitUntil('a committed streaming offset (GET /connectors/{name}/offsets)', async () => {
    const res = await fetch(`${pipeline.connect.url}/connectors/${encodeURIComponent(pipeline.connectorName)}/offsets`);
    const body = await res.json() as { offsets?: Array<{ offset: Record<string, unknown> }> };
    const offset = body.offsets?.[0]?.offset;
    figures['committed offset before the deploy'] = JSON.stringify(offset);
    return offset !== undefined && offset.lsn !== undefined && offset.snapshot === undefined && offset.last_snapshot_record === undefined;
  }, 120_000);
}, 900_000);

afterAll(async () => {
  await reader?.stop();
  await pipeline?.stop();
  await source?.stop();
  process.stdout.write(`engines: added table figures ${JSON.stringify(figures)}\n`);
}, 180_000);

test('the second template adds public.orders to the connector, the bootstrap and the snapshot signal, and nothing else of the connector', () => {
  const a = deployedConnector(before).connectorConfiguration;
  const b = deployedConnector(after).connectorConfiguration;
  expect(a['table.include.list']).toBe('public.customers');
  expect(b['table.include.list']).toBe('public.customers,public.orders');
  const changed = Object.keys({ ...a, ...b }).filter(k => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  expect(changed).toEqual(['table.include.list']);
  expect(signalProperties(before).Tables).toEqual(['public.customers']);
  expect(signalProperties(after).Tables).toEqual(['public.customers', 'public.orders']);
});

test('adding a table snapshots only that table, while live changes to both tables keep flowing', async () => {
  const name = pipeline.connectorName;
  const mark = reader.records.length;
  // Nothing of orders is read while the connector does not capture it.
  await source.admin.query(`UPDATE public.orders SET status = 'before-deploy' WHERE id = ${FIRST_ID}`);
  expect(changes(reader.records, 'agentdata.public.orders')).toEqual([]);

  const logStart = fs.statSync(pipeline.connect.jvm.logFile).size;
  const started = Date.now();
  // 1. The bootstrap's Update (CloudFormation updates it first: the connector depends on it): orders joins the publication and the grants.
  const oldProps = bootstrapProperties(before, refs);
  const newProps = bootstrapProperties(after, refs);
  const bootstrap = await onEvent(updateEvent(physicalResourceId(newProps), newProps, oldProps), { secrets: pipeline.secrets, tls: false, pollIntervalMs: 200 });
  const publication = await source.admin.query<{ tablename: string }>(`SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY tablename`, [bootstrap.Data.PublicationName]);
  expect(publication.rows.map(r => r.tablename)).toEqual(expect.arrayContaining(['customers', 'orders']));

  // 2. The connector's Update: MSK Connect hands the new configuration to the worker; here, Kafka Connect's PUT /connectors/{name}/config.
  const config = mapForLocal(resolveValue(after, deployedConnector(after).connectorConfiguration, { ...refs, bootstrapAttributes: { ...bootstrap.Data } })).properties;
  const res = await fetch(`${pipeline.connect.url}/connectors/${encodeURIComponent(name)}/config`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(config),
  });
  expect(res.status).toBe(200);
  await waitUntil('the connector restarted with orders in table.include.list', async () => {
    const s = await pipeline.connect.rest.status(name);
    const cfg = await (await fetch(`${pipeline.connect.url}/connectors/${encodeURIComponent(name)}/config`)).json() as Record<string, string>;
    return cfg['table.include.list'] === 'public.customers,public.orders' && s?.tasks.length === 1 && s.tasks[0].state === 'RUNNING';
  }, 120_000);
  // A restarted connector with its offsets snapshots nothing itself (snapshot.mode when_needed): orders has no record yet, and live
  // changes of orders stream from now on.
  await source.admin.query(`UPDATE public.orders SET status = 'after-connector-update' WHERE id = ${FIRST_ID + 1}`);
  const opsAfter = (from: number) => JSON.stringify(reader.records.slice(from).filter(r => r.value !== null).reduce<Record<string, number>>((a, r) => {
    const k = `${r.topic.split('.').pop()}:${(JSON.parse(decode(r.value)) as Envelope).op}`;
    return { ...a, [k]: (a[k] ?? 0) + 1 };
  }, {}));
  try {
    await reader.waitFor('the live update of order 1 after the connector update', rs => changes(rs, 'agentdata.public.orders').some(c => c.op === 'u'), 180_000);
  } finally {
    figures['records after the connector update'] = opsAfter(mark);
  }
  expect(changes(reader.records, 'agentdata.public.orders').filter(c => c.op === 'r')).toEqual([]);

  // 3. Custom::CdcSnapshotSignal's Update, after the connector, through the real handler with the new function's signal source.
  const event = {
    RequestType: 'Update', ServiceToken: 'provider', ResponseURL: 'https://example.invalid/response', StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Engines/guid',
    RequestId: 'signal', LogicalResourceId: 'SnapshotSignal', ResourceType: 'Custom::CdcSnapshotSignal', PhysicalResourceId: `cdc-snapshot-signal:${name}`,
    ResourceProperties: { ServiceToken: 'provider', ...signalProperties(after) }, OldResourceProperties: { ServiceToken: 'provider', ...signalProperties(before) },
  } as unknown as CloudFormationCustomResourceEvent;
  const signal = await onSnapshotSignalEvent(event, signalSource(after), { secrets: pipeline.secrets, tls: false });
  expect(signal.Data.SnapshotTables).toBe('public.orders');

  const notifications: SnapshotNotification[] = [];
  // Live changes while it snapshots.
  let live = 0;
  let stop = false;
  const writes = (async () => {
    while (!stop) {
      live += 1;
      await source.admin.query(`UPDATE public.customers SET tier = $1 WHERE id = $2`, [`live-${live}`, FIRST_ID + (live % CUSTOMERS)]);
      await source.admin.query(`UPDATE public.orders SET status = $1 WHERE id = $2`, [`live-${live}`, FIRST_ID + 2 + (live % (ORDERS - 2))]);
      await new Promise(r => setTimeout(r, 50));
    }
  })();
  try {
    await waitUntil('Debezium\'s COMPLETED notification for the signal', () => {
      notifications.splice(0, notifications.length, ...fs.readFileSync(pipeline.connect.jvm.logFile, 'utf8').slice(logStart).split('\n')
        .map(parseNotification).filter((n): n is SnapshotNotification => n?.id === signal.Data.SignalId));
      return notifications.some(n => n.type === 'COMPLETED');
    }, 300_000);
    figures.notifications = notifications.map(describeNotification).join(' | ');
  } finally {
    stop = true;
    await writes;
  }
  figures['deploy to orders snapshotted (ms)'] = Date.now() - started;
  figures['live updates during the snapshot'] = live;

  // Every order is there, read or (changed while its chunk was open) carried by its live change instead.
  const all = (await source.admin.query<{ id: string }>('SELECT id FROM public.orders')).rows.map(r => Number(r.id));
  const missing = (rs: ReadRecord[]) => {
    const seen = new Set(changes(rs, 'agentdata.public.orders', mark).filter(c => c.op === 'r' || c.op === 'u').map(c => c.after!.id));
    return all.filter(id => !seen.has(id));
  };
  await reader.waitFor('every order on the topic, read or carried by its live change', rs => missing(rs).length === 0, 120_000);
  expect(missing(reader.records)).toEqual([]);
  const orderReads = changes(reader.records, 'agentdata.public.orders', mark).filter(c => c.op === 'r');
  const customerReads = changes(reader.records, 'agentdata.public.customers', mark).filter(c => c.op === 'r');
  const readIds = new Set(orderReads.map(c => c.after!.id));
  figures['orders read'] = orderReads.length;
  figures['distinct orders read'] = readIds.size;
  figures['customer reads after the deploy'] = customerReads.length;
  // Only the new table: the snapshot names orders alone, no customer is read again, and the orders reads are incremental snapshot chunks.
  expect(notifications.find(n => n.type === 'STARTED')!.additionalData.data_collections).toMatch(/^(shop\.)?public\.orders$/);
  expect(notifications.filter(n => n.type === 'TABLE_SCAN_COMPLETED').map(n => n.additionalData.scanned_collection)).toEqual([expect.stringMatching(/public\.orders$/)]);
  expect(customerReads).toEqual([]);
  expect(orderReads.length).toBeGreaterThan(0);
  expect(orderReads.every(c => c.source.snapshot === 'incremental' && c.source.table === 'orders')).toBe(true);
  // The live changes of the already captured table went on through it all.
  const customerUpdates = changes(reader.records, 'agentdata.public.customers', mark).filter(c => c.op === 'u');
  figures['customer updates streamed'] = customerUpdates.length;
  expect(customerUpdates.length).toBeGreaterThan(0);

  await source.admin.query(`UPDATE public.orders SET status = 'shipped' WHERE id = ${FIRST_ID + 5}`);
  await source.admin.query(`UPDATE public.customers SET tier = 'final' WHERE id = ${FIRST_ID + 5}`);
  await reader.waitFor('live changes of both tables after the snapshot', rs =>
    changes(rs, 'agentdata.public.orders', mark).some(c => c.op === 'u' && c.after?.status === 'shipped')
    && changes(rs, 'agentdata.public.customers', mark).some(c => c.op === 'u' && c.after?.tier === 'final'), 60_000);
});
