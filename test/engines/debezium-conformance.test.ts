// Debezium conformance: the connector and worker configuration the constructs synthesize, run on Kafka Connect 3.7 with the pinned
// Debezium plugin against real PostgreSQL (wal_level=logical) and MariaDB (binlog ROW/FULL), both prepared by the real bootstrap handler.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import * as mysql from 'mysql2/promise';
import { Client } from 'pg';
import { defineExampleApp } from '../../bin/example';
import { startLocalPostgres, LocalPostgres } from '../../cli/dev/embedded-postgres';
import { SourceEngine } from '../../constructs/source/engine';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { BootstrapProperties, onEvent } from '../../lambda/replication-bootstrap';
import { decodeRecord, heartbeatSourceTsMs, MskEventRecord } from '../../lambda/shared/envelope';
import type { StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { testApp } from '../helpers/app';
import { createEvent } from '../source/helpers/events';
import { PrivateMariaDb, startMariaDb } from '../source/helpers/servers';
import {
  bootstrapProperties, CfnTemplate, declaredTopics, deployedConnector, deployedViews, describeTopics, directorySize, createTopics,
  installPlugin, kafkaClasspathDir, KAFKA_VERSION, LocalConnect, LocalKafka, mapForLocal, MappingNote, parseProperties, resolveValue,
  secretFileName, selfSignedCertificate, startConnect, startKafka, TopicReader, validationErrors,
} from './harness';

const timings: Record<string, number> = {};
const time = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    timings[what] = Date.now() - start;
  }
};

/** One stack per engine, built as a user would (bundling off), and what it deploys to MSK Connect. */
function synthesize(engine: 'postgres' | 'mysql') {
  const app = testApp();
  const stack = engine === 'postgres'
    ? defineExampleApp(app, { profile: 'development' })
    : new AgentDataStack(app, 'MysqlStack', {
      profile: DeploymentProfile.DEVELOPMENT,
      topicPrefix: 'shopmysql',
      source: { engine: SourceEngine.mysql(), tables: ['shop.customers'], databaseName: 'shop' },
      views: [{
        name: 'customer', description: 'A customer by id.', from: ViewSource.table('shop.customers'), store: ViewStore.CACHE, key: ['id'],
        fields: [
          { name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING },
          { name: 'tier', type: ViewFieldType.KEYWORD }, { name: 'balance', type: ViewFieldType.NUMBER },
          { name: 'updated_at', type: ViewFieldType.TIMESTAMP },
        ],
      }],
    });
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  return { template, deployed: deployedConnector(template), topics: declaredTopics(template), views: deployedViews(template) };
}
type Synthesized = ReturnType<typeof synthesize>;

/** Secrets Manager as the bootstrap sees it, and the same secrets as files for the worker's config provider. */
class LocalSecrets {
  private readonly values = new Map<string, Record<string, string>>();
  public readonly mock = mockClient(SecretsManagerClient);
  public readonly client = new SecretsManagerClient({ region: 'us-east-1' });
  constructor(private readonly dir: string) {
    this.mock.on(GetSecretValueCommand).callsFake(input => {
      const value = this.values.get(input.SecretId);
      if (!value) throw new Error(`ResourceNotFoundException: ${input.SecretId}`);
      return { SecretString: JSON.stringify(value) };
    });
  }
  public put(arn: string, value: Record<string, string>): void {
    this.values.set(arn, value);
    // The file the mapped provider reads for `${secretsmanager:<encoded arn>:<key>}`: the secret's JSON keys as properties.
    fs.writeFileSync(path.join(this.dir, secretFileName(arn)), Object.entries(value).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  }
}

let pg: Synthesized;
let my: Synthesized;
let kafka: LocalKafka;
let connect: LocalConnect;
let reader: TopicReader;
let secrets: LocalSecrets;
let workerNotes: MappingNote[];
const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-secrets-'));
const started = Date.now();

beforeAll(async () => {
  pg = await time('synth example (PostgreSQL)', () => synthesize('postgres'));
  my = await time('synth MySQL stack', () => synthesize('mysql'));
  const jars = await time('resolve Kafka 3.7.2 jars', () => kafkaClasspathDir());
  // The config provider jar (GitHub) is the one part not installed: Kafka's FileConfigProvider stands in for it (mapForLocal).
  const isConfigProvider = (s: { url: string }) => s.url.includes('/msk-config-providers/');
  const pgPlugin = await time('install PostgreSQL plugin', () => installPlugin({ name: 'debezium-postgres', sources: pg.deployed.pluginSources, substitute: isConfigProvider }));
  const myPlugin = await time('install MySQL plugin', () => installPlugin({ name: 'debezium-mysql', sources: my.deployed.pluginSources, substitute: isConfigProvider }));
  timings['download: Kafka + Connect jars (bytes)'] = directorySize(jars);
  timings['download: PostgreSQL plugin (bytes)'] = pgPlugin.sizeBytes;
  timings['download: MySQL plugin (bytes)'] = myPlugin.sizeBytes;

  kafka = await time('start Kafka', () => startKafka());
  timings['Kafka startup (spawn to started)'] = kafka.startupMs;
  // The topics the stacks declare as AWS::MSK::Topic, replication factor 1 on the single local broker.
  await time('create declared topics', () => createTopics(kafka.bootstrapServers,
    [...pg.topics, ...my.topics].map(t => ({ ...t, replicationFactor: 1 }))));
  reader = new TopicReader(kafka.bootstrapServers, '(agentdata|shopmysql)\\..*|__debezium-heartbeat\\..*');
  await time('start topic reader', () => reader.start());

  // Both stacks deploy the same worker configuration; it is what the worker runs with here, mapped for the local broker.
  const pgWorker = parseProperties(Buffer.from(resolveValue(pg.template, { 'Fn::Base64': pg.deployed.workerPropertiesContent }, {}), 'base64').toString('utf8'));
  const myWorker = parseProperties(Buffer.from(resolveValue(my.template, { 'Fn::Base64': my.deployed.workerPropertiesContent }, {}), 'base64').toString('utf8'));
  expect(myWorker).toEqual(pgWorker);
  const mapped = mapForLocal(pgWorker);
  workerNotes = mapped.notes;
  secrets = new LocalSecrets(secretsDir);
  connect = await time('start Kafka Connect', () => startConnect({
    bootstrapServers: kafka.bootstrapServers,
    pluginPath: [pgPlugin.pluginPath, myPlugin.pluginPath],
    cwd: secretsDir,
    workerProperties: {
      // MSK Connect does not let a worker configuration set the override policy and does not document its value
      // (FACTS.md); the connector must not depend on it, so overrides are refused here.
      'connector.client.config.override.policy': 'None',
      ...mapped.properties,
    },
  }));
  timings['Kafka Connect startup (spawn to REST)'] = connect.startupMs;
}, 900_000);

afterAll(async () => {
  const stopStart = Date.now();
  // Every engine is stopped even when one fails to stop; the first failure is reported after.
  const stops = await Promise.allSettled([reader?.stop(), connect?.stop()]);
  stops.push(...await Promise.allSettled([kafka?.stop()]));
  const failed = stops.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  timings['stop Connect + Kafka'] = Date.now() - stopStart;
  secrets?.mock.restore();
  fs.rmSync(secretsDir, { recursive: true, force: true });
  timings['whole file'] = Date.now() - started;
  // Figures for the report: start-up times, download sizes, total time.
  console.log(`engine figures (Kafka ${KAFKA_VERSION}):\n${Object.entries(timings).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  if (failed) throw failed.reason;
}, 120_000);

test('the deployed connector targets Kafka Connect 3.7.x with IAM, the version the harness runs', () => {
  expect(pg.deployed.kafkaConnectVersion).toBe('3.7.x');
  expect(KAFKA_VERSION).toMatch(/^3\.7\./);
  expect(pg.deployed.clientAuthentication).toBe('IAM');
  // Only the Secrets Manager config provider was mapped in the worker configuration.
  expect(workerNotes.map(n => n.rule)).toEqual(expect.arrayContaining(['Secrets Manager config provider -> FileConfigProvider']));
  // The development cluster has 2 brokers: the worker asks for replication factor 2, the single local broker gets 1.
  expect(workerNotes.filter(n => n.rule.startsWith('replication factor')).map(n => [n.property, n.from]).sort()).toEqual([
    ['config.storage.replication.factor', '2'], ['offset.storage.replication.factor', '2'], ['status.storage.replication.factor', '2'],
  ]);
});

test('the worker runs the plugin the construct builds: the pinned Debezium connectors are on plugin.path', async () => {
  const plugins = await connect.rest.plugins();
  const version = (cls: string) => plugins.find(p => p.class === cls)?.version;
  const pinned = /debezium-connector-postgres\/([^/]+)\//.exec(pg.deployed.pluginSources[0].url)![1];
  expect(version('io.debezium.connector.postgresql.PostgresConnector')).toBe(pinned);
  expect(version('io.debezium.connector.mysql.MySqlConnector')).toBe(pinned);
});

/** A local database with the decisive settings of its RDS counterpart, bootstrapped by the real handler from the template's properties. */
interface PreparedSource {
  readonly connectorName: string;
  readonly config: Record<string, string>;
  readonly notes: MappingNote[];
  readonly views: ViewConfig[];
}

async function prepareConnector(s: Synthesized, host: string, port: number, admin: { username: string; password: string }): Promise<PreparedSource> {
  const refs = { bootstrapServers: kafka.bootstrapServers, databaseHost: host, databasePort: port };
  const props: BootstrapProperties = bootstrapProperties(s.template, refs);
  secrets.put(props.AdminSecretArn, admin);
  secrets.put(props.ReplicationSecretArn, { username: props.ReplicationUsername, password: `Repl-${crypto.randomBytes(8).toString('hex')}`, engine: props.Engine, host, port: String(port) });
  // The real bootstrap handler, as CloudFormation would call it (TLS off: the local servers have throwaway certificates).
  const response = await time(`bootstrap ${props.Engine}`, () => onEvent(createEvent(props), { secrets: secrets.client, tls: false }));
  const resolved = resolveValue(s.template, s.deployed.connectorConfiguration, { ...refs, bootstrapAttributes: { ...response.Data } }) as Record<string, string>;
  const { properties, notes } = mapForLocal(resolved);
  const [, connector] = Object.entries(s.template.Resources).find(([, r]) => r.Type === 'AWS::KafkaConnect::Connector')!;
  return { connectorName: resolveValue(s.template, connector.Properties!.ConnectorName, refs), config: properties, notes, views: s.views };
}

function decoded(view: ViewConfig, records: MskEventRecord[]): StoredRecord[] {
  return records.flatMap(r => {
    const out = decodeRecord(view, r, { nowMs: Date.now() });
    return out.kind === 'write' ? [out.record] : [];
  });
}

const onTopic = (topic: string) => reader.records.filter(r => r.topic === topic);

describe('PostgreSQL: the example stack', () => {
  let db: LocalPostgres;
  let admin: Client;
  let prepared: PreparedSource;
  let customers: ViewConfig;

  beforeAll(async () => {
    const password = 'engine-admin';
    db = await time('start PostgreSQL', () => startLocalPostgres({ walLevel: 'logical', password, database: 'shop' }));
    // TLS like RDS (the connector sets database.sslmode=require): a throwaway certificate, enabled by reload.
    const stat = fs.statSync(db.dataDir);
    const cert = selfSignedCertificate(db.dataDir, { uid: stat.uid, gid: stat.gid });
    admin = new Client({ ...db.connection });
    await admin.connect();
    await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${cert.certFile}'`);
    await admin.query(`ALTER SYSTEM SET ssl_key_file = '${cert.keyFile}'`);
    await admin.query('ALTER SYSTEM SET ssl = on');
    await admin.query('SELECT pg_reload_conf()');
    // The example's schema and seed rows, the file the dev loop uses.
    await admin.query(fs.readFileSync(path.join(__dirname, '..', '..', 'cli', 'dev', 'example-schema.sql'), 'utf8'));
    prepared = await prepareConnector(pg, '127.0.0.1', db.port, { username: 'postgres', password });
    customers = prepared.views.find(v => v.topic === 'agentdata.public.customers')!;
  }, 300_000);

  afterAll(async () => {
    await connect?.rest.delete(prepared?.connectorName ?? 'none').catch(() => undefined);
    await admin?.end();
    await db?.stop();
  }, 120_000);

  test('only MSK-specific properties were mapped', () => {
    expect(prepared.notes).toEqual([]);
    expect(prepared.config['database.sslmode']).toBe('require');
    expect(prepared.config['database.password']).toMatch(/^\$\{secretsmanager:arn%3Aaws%3Asecretsmanager%3A.*:password\}$/);
  });

  test('Kafka Connect validates the synthesized connector configuration with zero errors', async () => {
    const result = await connect.rest.validate(prepared.connectorName, prepared.config);
    expect(validationErrors(result)).toEqual([]);
    expect(result.error_count).toBe(0);
  });

  test('snapshot, insert, update, delete, tombstone and heartbeat arrive on the declared topics and decode', async () => {
    await connect.rest.create(prepared.connectorName, prepared.config);
    await time('PostgreSQL connector RUNNING', () => connect.rest.waitRunning(prepared.connectorName, 120_000));
    const topic = customers.topic;
    // Snapshot: the three seed customers.
    await reader.waitFor('snapshot of customers', () => onTopic(topic).length >= 3, 120_000);
    await admin.query(`INSERT INTO public.customers (id, name, email, tier, balance, updated_at) VALUES (900, 'Edsger', 'e@example.com', 'silver', 10.50, '2026-01-02T03:04:05Z')`);
    await admin.query(`UPDATE public.customers SET tier = 'gold', balance = 99.99 WHERE id = 900`);
    await admin.query('DELETE FROM public.customers WHERE id = 900');
    const started = Date.now();
    await reader.waitFor('insert, update, delete and tombstone of customer 900', () => onTopic(topic).filter(r => keyId(r) === 900).length >= 4, 60_000);
    timings['commit to topic (insert..tombstone, ms)'] = Date.now() - started;

    const records = onTopic(topic);
    const writes = decoded(customers, records);
    const snapshot = writes.filter(w => w.provenance.op === 'r').map(w => w.row);
    expect(snapshot).toEqual(expect.arrayContaining([expect.objectContaining({ id: 12345, name: 'Ada Lovelace', tier: 'gold', balance: 1520.75 })]));
    const of900 = records.filter(r => keyId(r) === 900);
    const outcomes = of900.map(r => decodeRecord(customers, r, { nowMs: Date.now() }));
    expect(outcomes.map(o => (o.kind === 'write' ? o.record.provenance.op : o.reason))).toEqual(['c', 'u', 'd', 'tombstone']);
    const [created, updated, deleted] = outcomes.map(o => (o.kind === 'write' ? o.record : undefined));
    expect(created!.row).toEqual(expect.objectContaining({ id: 900, name: 'Edsger', tier: 'silver', balance: 10.5 }));
    expect(Date.parse(String(created!.row!.updated_at))).toBe(Date.parse('2026-01-02T03:04:05Z'));
    expect(updated!.row).toEqual(expect.objectContaining({ id: 900, tier: 'gold', balance: 99.99 }));
    expect(deleted!.row).toBeNull();
    expect(deleted!.provenance.key).toEqual({ id: 900 });
    expect(BigInt(updated!.provenance.version)).toBeGreaterThan(BigInt(created!.provenance.version));
    expect(BigInt(deleted!.provenance.version)).toBeGreaterThan(BigInt(updated!.provenance.version));
    expect(of900[3].value).toBeNull();

    // Heartbeats on the heartbeat topic the construct declares, with the source time the freshness checks read.
    const heartbeatTopic = pg.topics.find(t => t.name.startsWith('__debezium-heartbeat.'))!.name;
    await reader.waitFor('a heartbeat', () => onTopic(heartbeatTopic).length > 0, 60_000);
    expect(heartbeatSourceTsMs(onTopic(heartbeatTopic)[0])).toBeGreaterThan(Date.now() - 10 * 60_000);
    // The heartbeat action query (from the bootstrap's HeartbeatTable attribute) ran against the database.
    const beat = await admin.query('SELECT ts FROM public.debezium_heartbeat WHERE id = 1');
    expect(beat.rows).toHaveLength(1);
  }, 300_000);

  test('a large column an UPDATE leaves unchanged: Debezium sends its placeholder without full row images, which the sink refuses; with them, the value', async () => {
    const tickets = prepared.views.find(v => v.topic === 'agentdata.public.support_tickets')!;
    const identity = async () => (await admin.query("SELECT relreplident FROM pg_class WHERE oid = 'public.support_tickets'::regclass")).rows[0].relreplident;
    // The example lists the table in fullRowImageTables: the real bootstrap set REPLICA IDENTITY FULL.
    expect(await identity()).toBe('f');
    // Incompressible, so PostgreSQL stores it out of line (TOAST) whatever its compression.
    const body = crypto.randomBytes(12_000).toString('base64');
    await admin.query('INSERT INTO public.support_tickets (id, customer_id, subject, body) VALUES (901, 12345, $1, $2)', ['Long ticket', body]);
    // As if the table were not listed: DEFAULT, then an UPDATE that leaves the body unchanged.
    await admin.query('ALTER TABLE public.support_tickets REPLICA IDENTITY DEFAULT');
    await admin.query("UPDATE public.support_tickets SET status = 'pending' WHERE id = 901");
    await admin.query('ALTER TABLE public.support_tickets REPLICA IDENTITY FULL');
    await admin.query("UPDATE public.support_tickets SET status = 'closed' WHERE id = 901");
    await reader.waitFor('insert and two updates of ticket 901', () => onTopic(tickets.topic).filter(r => keyId(r) === 901).length >= 3, 60_000);
    const [created, withoutFull, withFull] = onTopic(tickets.topic).filter(r => keyId(r) === 901);
    const raw = JSON.parse(Buffer.from(withoutFull.value!, 'base64').toString('utf8'));
    expect(raw.payload?.after?.body ?? raw.after.body).toBe('__debezium_unavailable_value');
    const write = (r: MskEventRecord) => {
      const o = decodeRecord(tickets, r, { nowMs: Date.now() });
      if (o.kind !== 'write') throw new Error(`expected a write, got ${o.reason}`);
      return o.record.row;
    };
    expect(write(created)).toEqual(expect.objectContaining({ id: 901, body, status: 'open' }));
    expect(() => decodeRecord(tickets, withoutFull, { nowMs: Date.now() }))
      .toThrow(/^field 'body' holds Debezium's placeholder for an unchanged TOASTed value: .* List public\.support_tickets in the source's fullRowImageTables/);
    expect(write(withFull)).toEqual(expect.objectContaining({ id: 901, body, status: 'closed' }));
  }, 120_000);

  test('BIGINT keys beyond 2^53, as the JSON converter writes them, decode to two rows with every digit', async () => {
    const ids = ['9007199254740992', '9007199254740993'];
    for (const id of ids) {
      await admin.query("INSERT INTO public.customers (id, name, email, tier, balance) VALUES ($1::bigint, 'Big', 'big@example.com', 'gold', 1)", [id]);
    }
    const rawKey = (r: MskEventRecord) => (r.key ? Buffer.from(r.key, 'base64').toString('utf8') : '');
    const ofIds = () => onTopic(customers.topic).filter(r => ids.some(id => rawKey(r).includes(id)));
    await reader.waitFor('the two BIGINT customers', () => ofIds().length >= 2, 60_000);
    // The converter writes the key as a JSON number, which JSON.parse alone would round to one value.
    expect(ofIds().map(rawKey)).toEqual(ids.map(id => expect.stringContaining(`:${id}`)));
    const records = decoded(customers, ofIds());
    expect(records.map(r => r.provenance.key)).toEqual(ids.map(id => ({ id })));
    expect(records.map(r => r.row!.id)).toEqual(ids);
  }, 120_000);

  test('the topics keep the configuration the constructs declare', async () => {
    const declared = pg.topics.filter(t => !t.name.includes('.flink.'));
    const actual = await describeTopics(kafka.bootstrapServers, declared.map(t => t.name));
    for (const t of declared) {
      expect(actual.find(a => a.topic === t.name)).toEqual({ topic: t.name, partitions: t.partitions, configs: t.configs });
    }
  });
});

describe('MySQL (MariaDB with binlog ROW/FULL): an AgentDataStack with a MySQL source', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let prepared: PreparedSource;
  let customers: ViewConfig;
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-mariadb-tls-'));

  beforeAll(async () => {
    const cert = selfSignedCertificate(certDir);
    // TLS like RDS (the connector sets database.ssl.mode=required).
    db = await time('start MariaDB', () => startMariaDb({ extraArgs: [`--ssl-cert=${cert.certFile}`, `--ssl-key=${cert.keyFile}`] }));
    conn = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root' });
    await conn.query('CREATE DATABASE shop');
    await conn.query(`CREATE TABLE shop.customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, tier varchar(20) NOT NULL,
      balance decimal(12,2) NOT NULL, updated_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`);
    await conn.query("INSERT INTO shop.customers (id, name, tier, balance) VALUES (1, 'Ada', 'gold', 1520.75), (2, 'Grace', 'platinum', 88.10)");
    prepared = await prepareConnector(my, '127.0.0.1', db.port, { username: 'root', password: '' });
    customers = prepared.views.find(v => v.topic === 'shopmysql.shop.customers')!;
  }, 300_000);

  afterAll(async () => {
    await connect?.rest.delete(prepared?.connectorName ?? 'none').catch(() => undefined);
    await conn?.end();
    await db?.stop();
    fs.rmSync(certDir, { recursive: true, force: true });
  }, 120_000);

  test('only MSK-specific properties were mapped: the schema-history clients go from IAM SASL to PLAINTEXT', () => {
    expect(prepared.notes.every(n => n.rule === 'IAM SASL -> PLAINTEXT' && n.property.startsWith('schema.history.internal.'))).toBe(true);
    expect(prepared.notes).toHaveLength(8);
    expect(prepared.config['schema.history.internal.kafka.bootstrap.servers']).toBe(kafka.bootstrapServers);
    expect(prepared.config['database.ssl.mode']).toBe('required');
  });

  test('Kafka Connect validates the synthesized connector configuration with zero errors', async () => {
    const result = await connect.rest.validate(prepared.connectorName, prepared.config);
    expect(validationErrors(result)).toEqual([]);
    expect(result.error_count).toBe(0);
  });

  test('snapshot, insert, update, delete, tombstone and heartbeat arrive on the declared topics and decode', async () => {
    await connect.rest.create(prepared.connectorName, prepared.config);
    await time('MySQL connector RUNNING', () => connect.rest.waitRunning(prepared.connectorName, 120_000));
    const topic = customers.topic;
    await reader.waitFor('snapshot of customers', () => onTopic(topic).length >= 2, 120_000);
    await conn.query("INSERT INTO shop.customers (id, name, tier, balance, updated_at) VALUES (900, 'Edsger', 'silver', 10.50, '2026-01-02 03:04:05')");
    await conn.query("UPDATE shop.customers SET tier = 'gold', balance = 99.99 WHERE id = 900");
    await conn.query('DELETE FROM shop.customers WHERE id = 900');
    await reader.waitFor('insert, update, delete and tombstone of customer 900', () => onTopic(topic).filter(r => keyId(r) === 900).length >= 4, 60_000);

    const writes = decoded(customers, onTopic(topic));
    expect(writes.filter(w => w.provenance.op === 'r').map(w => w.row)).toEqual(expect.arrayContaining([
      expect.objectContaining({ id: 1, name: 'Ada', tier: 'gold', balance: 1520.75 }),
    ]));
    const of900 = onTopic(topic).filter(r => keyId(r) === 900);
    const outcomes = of900.map(r => decodeRecord(customers, r, { nowMs: Date.now() }));
    expect(outcomes.map(o => (o.kind === 'write' ? o.record.provenance.op : o.reason))).toEqual(['c', 'u', 'd', 'tombstone']);
    const [created, updated, deleted] = outcomes.map(o => (o.kind === 'write' ? o.record : undefined));
    expect(created!.row).toEqual(expect.objectContaining({ id: 900, name: 'Edsger', tier: 'silver', balance: 10.5 }));
    expect(updated!.row).toEqual(expect.objectContaining({ id: 900, tier: 'gold', balance: 99.99 }));
    expect(deleted!.row).toBeNull();
    expect(created!.provenance.position.kind).toBe('mysql');
    expect(BigInt(deleted!.provenance.version)).toBeGreaterThan(BigInt(updated!.provenance.version));

    const heartbeatTopic = my.topics.find(t => t.name.startsWith('__debezium-heartbeat.'))!.name;
    await reader.waitFor('a heartbeat', () => onTopic(heartbeatTopic).length > 0, 60_000);
    const [beat] = await conn.query('SELECT ts FROM shop.debezium_heartbeat WHERE id = 1') as [unknown[], unknown];
    expect(beat).toHaveLength(1);
  }, 300_000);

  test('the topics keep the configuration the constructs declare', async () => {
    const actual = await describeTopics(kafka.bootstrapServers, my.topics.map(t => t.name));
    for (const t of my.topics) {
      expect(actual.find(a => a.topic === t.name)).toEqual({ topic: t.name, partitions: t.partitions, configs: t.configs });
    }
  });
});

/** The `id` in a record's JSON key (schemas off: `{"id":900}`). */
function keyId(r: { key: string | null }): number | undefined {
  if (!r.key) return undefined;
  return (JSON.parse(Buffer.from(r.key, 'base64').toString('utf8')) as { id?: number }).id;
}
