// Running for months, on the real engines with a MySQL source (Kafka, Kafka Connect with the pinned Debezium MySQL connector, a
// private MariaDB with binlog ROW/FULL and TLS, the sink into Redis): `resnapshot`'s signal path (sendSnapshotSignal, MySQL branch)
// runs an incremental snapshot while updates keep streaming; it completes, reads the rows, and the cache ends equal to the database:
// chunk reads never overwrite a newer change, also when they are delivered again after everything.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as mysql from 'mysql2/promise';
import { deleteKeys, redisFromUrl } from '../../cli/dev/dev-loop';
import { eventSourceFor, LocalMskEventSource } from '../../cli/dev/engines/msk-event-source';
import { parseNotification, type SnapshotNotification } from '../../cli/resnapshot';
import { SourceEngine } from '../../constructs/source/engine';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import type { ViewConfig } from '../../contract/view-config';
import { sendSnapshotSignal } from '../../lambda/replication-bootstrap/signal-handler';
import type { CacheClient, CacheConnection } from '../../lambda/shared/cache-client';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { MskEvent, MskEventRecord } from '../../lambda/shared/envelope';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import type { DeadLetter } from '../../lambda/sink/dead-letter';
import type { BatchSummary } from '../../lambda/sink/process';
import { cacheSink, waitFor } from './sink-helpers';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { testApp } from '../helpers/app';
import { startMariaDb, type PrivateMariaDb } from '../source/helpers/servers';
import { bootstrapProperties, deployedConnector, deployedViews, selfSignedCertificate, type CfnTemplate } from './harness';
import { startEnginePipeline, type EnginePipeline } from '../../cli/dev/engines/pipeline';

const ROWS = 300;
const FIRST_ID = 1000;
const CHUNK = 50;
const TOPIC = 'shopmysql.shop.customers';

function synthesize(): CfnTemplate {
  return Template.fromStack(new AgentDataStack(testApp(), 'MysqlStack', {
    profile: DeploymentProfile.DEVELOPMENT,
    topicPrefix: 'shopmysql',
    source: { engine: SourceEngine.mysql(), tables: ['shop.customers'], databaseName: 'shop' },
    connectorOptions: { incrementalSnapshotChunkSize: CHUNK },
    views: [{
      name: 'customer', description: 'A customer by id.', from: ViewSource.table('shop.customers'), store: ViewStore.CACHE, key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'tier', type: ViewFieldType.KEYWORD }, { name: 'balance', type: ViewFieldType.NUMBER }],
    }],
  })).toJSON() as CfnTemplate;
}

let template: CfnTemplate;
let db: PrivateMariaDb;
let conn: mysql.Connection;
let pipeline: EnginePipeline;
let cache: CacheClient;
let redis: CacheConnection;
let poller: LocalMskEventSource;
let view: ViewConfig;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-mysql-resnap-'));
const keyPrefix = `test:resnap-mysql:${crypto.randomBytes(6).toString('hex')}:`;
const delivered: MskEventRecord[] = [];
const letters: DeadLetter[] = [];
const figures: Record<string, number | string> = {};

function sink(event: MskEvent): Promise<BatchSummary> {
  return cacheSink({ views: () => [view], writer: cacheBatchWriter(cache), letters, delivered })(event);
}

const envelope = (r: MskEventRecord) => (r.value ? JSON.parse(Buffer.from(r.value, 'base64').toString('utf8')) : null) as
  { op: string; after: Record<string, unknown> | null; source: { snapshot?: string; file: string; pos: number } } | null;
const cached = async (id: number) => (await readCacheRecord(redis, view, { id }))?.row;

beforeAll(async () => {
  template = synthesize();
  const cert = selfSignedCertificate(dir);
  // TLS like RDS (the connector sets database.ssl.mode=required); binlog ROW/FULL as the MySQL profile's parameter group sets it.
  db = await startMariaDb({ extraArgs: [`--ssl-cert=${cert.certFile}`, `--ssl-key=${cert.keyFile}`] });
  conn = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root' });
  await conn.query('CREATE DATABASE shop');
  await conn.query('CREATE TABLE shop.customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, tier varchar(40) NOT NULL, balance decimal(12,2) NOT NULL)');
  await conn.query(`INSERT INTO shop.customers (id, name, tier, balance) SELECT seq, CONCAT('Customer ', seq), 'standard', 10
    FROM shop.seq_${FIRST_ID}_to_${FIRST_ID + ROWS - 1}`);

  // The pipeline bootstraps the source and starts the MySQL connector the template declares, as for the PostgreSQL stacks.
  pipeline = await startEnginePipeline({
    example: { template, views: deployedViews(template) }, source: { port: db.port, username: 'root', password: '' }, log: l => process.stdout.write(`engines: ${l}\n`),
  });

  view = { ...deployedViews(template).find(v => v.name === 'customer')!, cache: { ...deployedViews(template).find(v => v.name === 'customer')!.cache!, keyPrefix } };
  cache = redisFromUrl('redis://127.0.0.1:6379');
  redis = await cache.ready();
  poller = new LocalMskEventSource({ bootstrapServers: pipeline.kafka.bootstrapServers, mapping: eventSourceFor(template, TOPIC), handler: sink });
  await poller.start();
  await waitFor('the initial snapshot in the cache', async () => (await cached(FIRST_ID + ROWS - 1)) !== undefined, 300_000);
}, 900_000);

afterAll(async () => {
  await poller?.stop();
  if (redis) await deleteKeys(redis, keyPrefix);
  await cache?.close();
  await pipeline?.stop();
  await conn?.end();
  await db?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`engines: MySQL incremental snapshot figures ${JSON.stringify(figures)}\n`);
}, 180_000);

test('the synthesized MySQL connector reads signals from the bootstrap\'s signaling table', () => {
  expect(deployedConnector(template).connectorConfiguration).toEqual(expect.objectContaining({
    'signal.data.collection': 'shop.debezium_signal', 'incremental.snapshot.chunk.size': String(CHUNK), 'notification.enabled.channels': 'log',
  }));
});

test('an incremental snapshot on MySQL, interleaved with live updates, completes and leaves the cache equal to the database', async () => {
  const props = bootstrapProperties(template, { bootstrapServers: pipeline.kafka.bootstrapServers, databaseHost: '127.0.0.1', databasePort: db.port });
  const signalSource = {
    Engine: props.Engine, Host: '127.0.0.1', Port: String(db.port), Database: props.Database,
    ReplicationSecretArn: props.ReplicationSecretArn, SignalTable: props.SignalTable!, Tables: props.Tables,
  };
  const logStart = fs.statSync(pipeline.connect.jvm.logFile).size;
  const mark = delivered.length;
  let live = 0;
  let stop = false;
  const writer = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root' });
  const updates = (async () => {
    while (!stop) {
      live += 1;
      await writer.query('UPDATE shop.customers SET tier = ?, balance = balance + 1 WHERE id = ?', [`live-${live}`, FIRST_ID + ((live * 97) % ROWS)]);
      await new Promise(r => setTimeout(r, 20));
    }
  })();

  const started = Date.now();
  const notifications: SnapshotNotification[] = [];
  let signal: Awaited<ReturnType<typeof sendSnapshotSignal>> | undefined;
  try {
    // The signal as `agent-data-stack resnapshot` sends it, through the bootstrap function's MySQL branch, as the replication user.
    signal = await sendSnapshotSignal(signalSource, { tables: ['shop.customers'] }, { secrets: pipeline.secrets, tls: false });
    const id = signal.SignalId;
    await waitFor('Debezium\'s COMPLETED notification for the signal', () => {
      notifications.splice(0, notifications.length, ...fs.readFileSync(pipeline.connect.jvm.logFile, 'utf8').slice(logStart).split('\n')
        .map(parseNotification).filter((n): n is SnapshotNotification => n?.id === id));
      return notifications.some(n => n.type === 'COMPLETED' || n.type === 'ABORTED');
    }, 300_000);
  } finally {
    stop = true;
    await updates;
  }
  figures['incremental snapshot (ms)'] = Date.now() - started;
  figures['live updates during the snapshot'] = live;
  figures.notifications = notifications.map(n => n.type).join(',');
  expect(notifications.map(n => n.type)).toEqual(expect.arrayContaining(['STARTED', 'IN_PROGRESS', 'TABLE_SCAN_COMPLETED', 'COMPLETED']));
  const scan = notifications.find(n => n.type === 'TABLE_SCAN_COMPLETED')!.additionalData;
  figures['table scan'] = `${scan.scanned_collection} ${scan.total_rows_scanned} rows ${scan.status}`;
  expect(scan).toMatchObject({ scanned_collection: 'shop.customers', status: 'SUCCEEDED', total_rows_scanned: String(ROWS) });

  await writer.query(`UPDATE shop.customers SET tier = 'final' WHERE id = ${FIRST_ID}`);
  await writer.end();
  await waitFor('the sink caught up with the final update', async () => (await cached(FIRST_ID))?.tier === 'final', 120_000);
  const [rows] = await conn.query('SELECT id, tier, balance FROM shop.customers ORDER BY id') as [Array<{ id: number; tier: string; balance: string }>, unknown];
  const compare = async () => {
    const wrong: string[] = [];
    for (const r of rows) {
      const c = await cached(Number(r.id));
      if (c?.tier !== r.tier || c?.balance !== Number(r.balance)) wrong.push(`${r.id}: cache ${JSON.stringify(c)} vs ${r.tier}/${r.balance}`);
    }
    return wrong;
  };
  expect(await compare()).toEqual([]);

  const after = delivered.slice(mark);
  const reads = after.filter(r => envelope(r)?.op === 'r' && envelope(r)?.source.snapshot === 'incremental');
  figures['rows read by the snapshot'] = new Set(reads.map(r => envelope(r)!.after!.id)).size;
  expect(figures['rows read by the snapshot']).toBeGreaterThan(ROWS / 2);
  const interleaved = after.slice(after.indexOf(reads[0]), after.indexOf(reads[reads.length - 1])).filter(r => envelope(r)?.op === 'u').length;
  figures['live changes between the first and last chunk read'] = interleaved;
  expect(interleaved).toBeGreaterThan(0);

  // Every chunk read delivered again after all the live changes: each ranks below the newer change it would overwrite.
  const replay = await cacheSink({ views: () => [view], writer: cacheBatchWriter(cache), letters: [] })({ records: { [`${TOPIC}-0`]: reads } });
  figures['replayed chunk reads'] = JSON.stringify(replay);
  expect(replay).toMatchObject({ received: reads.length, written: 0, deadLettered: 0, stale: reads.length });
  expect(await compare()).toEqual([]);
  expect(letters).toEqual([]);
});
