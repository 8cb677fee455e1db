// Debezium's signaling table on real PostgreSQL and MariaDB: the bootstrap creates it (publication, grants), `resnapshot`'s direct
// invocation and the table-added signal insert execute-snapshot signals as the replication user, and Delete leaves nothing behind.
import * as crypto from 'crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as mysql from 'mysql2/promise';
import { Client } from 'pg';
import { BootstrapProperties, onEvent, physicalResourceId, type SignalSource } from '../../lambda/replication-bootstrap';
import { onSignalRequest, onSnapshotSignalEvent, signalSourceFromEnv } from '../../lambda/replication-bootstrap/signal-handler';
import { snapshotSignalData } from '../../lambda/replication-bootstrap/signal';
import { publicationTables } from '../../lambda/replication-bootstrap/postgres';
import { ADMIN_SECRET_ARN, BOOTSTRAP_OWNER, createEvent, deleteEvent, mockSecrets, REPLICATION_SECRET_ARN } from './helpers/events';
import { PrivateMariaDb, PrivatePostgres, startMariaDb, startPostgres } from './helpers/servers';

const REPLICATION = { username: 'cdc_replication', password: 'Repl-' + crypto.randomBytes(8).toString('hex') };

function signalEvent(type: 'Create' | 'Update', tables: string[], oldTables?: string[], connector = 'shop-cdc-1a2b3c4d'): CloudFormationCustomResourceEvent {
  return {
    RequestType: type, ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ResponseURL: 'https://example.invalid/r',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Test/guid', RequestId: 'r', LogicalResourceId: 'ConnectorSnapshotSignal',
    ResourceType: 'Custom::CdcSnapshotSignal', ResourceProperties: { ServiceToken: 'x', Tables: tables, ConnectorName: connector },
    ...(type === 'Update' ? { PhysicalResourceId: `cdc-snapshot-signal:${connector}`, OldResourceProperties: { ServiceToken: 'x', Tables: oldTables, ConnectorName: connector } } : {}),
  } as unknown as CloudFormationCustomResourceEvent;
}

test('the signal data is Debezium\'s incremental execute-snapshot, refusing uncaptured tables and unsafe conditions', () => {
  expect(JSON.parse(snapshotSignalData({ tables: ['app.orders'], where: "status = 'open'" }, ['app.orders']))).toEqual({
    'data-collections': ['app.orders'], 'type': 'incremental', 'additional-conditions': [{ 'data-collection': 'app.orders', 'filter': "status = 'open'" }],
  });
  expect(() => snapshotSignalData({ tables: ['app.secrets'] }, ['app.orders'])).toThrow(/'app.secrets' is not captured by this source; captured tables: app.orders/);
  expect(() => snapshotSignalData({ tables: ['app.orders'], where: '1=1; DROP TABLE x' }, ['app.orders'])).toThrow(/without ';'/);
  expect(() => snapshotSignalData({ tables: ['app.orders', 'app.customers'], where: 'id > 1' }, ['app.orders', 'app.customers'])).toThrow(/applies to one table/);
  expect(() => snapshotSignalData({ tables: [] }, ['app.orders'])).toThrow(/at least one captured table/);
});

test('a function deployed before signals says to deploy again', () => {
  expect(() => signalSourceFromEnv({})).toThrow(/AGENT_SIGNAL_SOURCE is not set: .*Deploy the stack again/);
});

describe('PostgreSQL (wal_level=logical)', () => {
  let server: PrivatePostgres;
  let admin: Client;
  let secrets: ReturnType<typeof mockSecrets>;
  let props: BootstrapProperties;
  let source: SignalSource;

  beforeAll(async () => {
    server = await startPostgres('logical');
    secrets = mockSecrets({ username: server.user, password: server.password }, REPLICATION);
    const boot = new Client({ host: '127.0.0.1', port: server.port, database: 'postgres', user: server.user, password: server.password });
    await boot.connect();
    await boot.query('CREATE DATABASE signals');
    await boot.end();
    admin = new Client({ host: '127.0.0.1', port: server.port, database: 'signals', user: server.user, password: server.password });
    await admin.connect();
    await admin.query('CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY, status text); CREATE TABLE app.customers (id int PRIMARY KEY)');
    props = {
      Engine: 'postgresql', Host: '127.0.0.1', Port: String(server.port), Database: 'signals', AdminSecretArn: ADMIN_SECRET_ARN,
      ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: REPLICATION.username, Tables: ['app.orders', 'app.customers'],
      HeartbeatTable: 'public.debezium_heartbeat', PublicationName: 'agent_cdc', SlotName: 'agent_cdc_slot', SignalTable: 'public.debezium_signal',
    };
    source = { Engine: 'postgresql', Host: '127.0.0.1', Port: String(server.port), Database: 'signals', ReplicationSecretArn: REPLICATION_SECRET_ARN, SignalTable: 'public.debezium_signal', Tables: props.Tables };
  });
  afterAll(async () => {
    secrets.mock.restore();
    await admin?.end();
    await server?.stop();
  });

  const signals = async () => (await admin.query<{ id: string; type: string; data: string }>('SELECT id, type, data FROM public.debezium_signal ORDER BY data')).rows;

  test('Create makes the signaling table Debezium requires, in the publication, writable by the replication user', async () => {
    await onEvent(createEvent(props), { secrets: secrets.client, tls: false });
    const cols = await admin.query<{ column_name: string; data_type: string; character_maximum_length: number }>(
      `SELECT column_name, data_type, character_maximum_length FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'debezium_signal' ORDER BY ordinal_position`);
    expect(cols.rows).toEqual([
      { column_name: 'id', data_type: 'character varying', character_maximum_length: 42 },
      { column_name: 'type', data_type: 'character varying', character_maximum_length: 32 },
      { column_name: 'data', data_type: 'character varying', character_maximum_length: 2048 },
    ]);
    expect(await publicationTables(admin, 'agent_cdc')).toEqual(['app.customers', 'app.orders', 'public.debezium_heartbeat', 'public.debezium_signal']);
    const privileges = await admin.query<{ p: string }>(`SELECT privilege_type AS p FROM information_schema.role_table_grants WHERE grantee = $1 AND table_name = 'debezium_signal' ORDER BY 1`, [REPLICATION.username]);
    expect(privileges.rows.map(r => r.p)).toEqual(['DELETE', 'INSERT', 'SELECT', 'UPDATE']);
  });

  test('resnapshot\'s direct invocation inserts one execute-snapshot signal as the replication user; an uncaptured table inserts nothing', async () => {
    await admin.query('DELETE FROM public.debezium_signal');
    const out = await onSignalRequest({ Action: 'execute-snapshot', Tables: ['app.orders'], Where: "status = 'open'" }, source, { secrets: secrets.client, tls: false });
    expect(out).toEqual({ SignalId: expect.stringMatching(/^[0-9a-f-]{36}$/), SignalTable: 'public.debezium_signal', Tables: ['app.orders'] });
    expect(await signals()).toEqual([{ id: out.SignalId, type: 'execute-snapshot', data: JSON.stringify({ 'data-collections': ['app.orders'], 'type': 'incremental', 'additional-conditions': [{ 'data-collection': 'app.orders', 'filter': "status = 'open'" }] }) }]);
    await expect(onSignalRequest({ Action: 'execute-snapshot', Tables: ['app.nope'] }, source, { secrets: secrets.client, tls: false })).rejects.toThrow(/not captured/);
    expect(await signals()).toHaveLength(1);
    // The replication user could not write any other table: the signal path holds no more than the connector does.
    const repl = new Client({ host: '127.0.0.1', port: server.port, database: 'signals', user: REPLICATION.username, password: REPLICATION.password });
    await repl.connect();
    await expect(repl.query('INSERT INTO app.orders VALUES (1, \'x\')')).rejects.toThrow(/permission denied/);
    await repl.end();
  });

  test('the table-added signal snapshots only the added tables, after an Update of the same connector; Create and a new connector send none', async () => {
    await admin.query('DELETE FROM public.debezium_signal');
    const deps = { secrets: secrets.client, tls: false as const };
    expect((await onSnapshotSignalEvent(signalEvent('Create', ['app.orders']), source, deps)).Data.SignalId).toBe('');
    const added = await onSnapshotSignalEvent(signalEvent('Update', ['app.orders', 'app.customers'], ['app.orders']), source, deps);
    expect(added.Data.SnapshotTables).toBe('app.customers');
    expect(await signals()).toEqual([{ id: added.Data.SignalId, type: 'execute-snapshot', data: JSON.stringify({ 'data-collections': ['app.customers'], 'type': 'incremental' }) }]);
    const newConnector = { ...signalEvent('Update', ['app.orders', 'app.customers'], ['app.orders'], 'shop-cdc-99999999'), OldResourceProperties: { Tables: ['app.orders'], ConnectorName: 'shop-cdc-1a2b3c4d' } } as unknown as CloudFormationCustomResourceEvent;
    expect((await onSnapshotSignalEvent(newConnector, source, deps)).Data.SignalId).toBe('');
    expect(await signals()).toHaveLength(1);
  });

  test('Delete drops the signaling table with the rest, and the replication role despite its grant there', async () => {
    await onEvent(deleteEvent(physicalResourceId(props, BOOTSTRAP_OWNER), props), { secrets: secrets.client, tls: false });
    expect((await admin.query(`SELECT to_regclass('public.debezium_signal') AS t`)).rows[0].t).toBeNull();
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [REPLICATION.username])).rowCount).toBe(0);
  });
});

describe('MariaDB (binlog ROW, FULL)', () => {
  let server: PrivateMariaDb;
  let admin: mysql.Connection;
  let secrets: ReturnType<typeof mockSecrets>;
  let props: BootstrapProperties;
  let source: SignalSource;

  beforeAll(async () => {
    server = await startMariaDb();
    secrets = mockSecrets({ username: 'root', password: '' }, REPLICATION);
    admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    await admin.query('CREATE DATABASE shop');
    await admin.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, status TEXT)');
    await admin.query('CREATE TABLE shop.customers (id INT PRIMARY KEY)');
    props = {
      Engine: 'mysql', Host: '127.0.0.1', Port: String(server.port), Database: 'shop', AdminSecretArn: ADMIN_SECRET_ARN, ReplicationSecretArn: REPLICATION_SECRET_ARN,
      ReplicationUsername: REPLICATION.username, Tables: ['shop.orders', 'shop.customers'], HeartbeatTable: 'shop.debezium_heartbeat', BinlogRetentionHours: '72',
      SignalTable: 'shop.debezium_signal',
    };
    source = { Engine: 'mysql', Host: '127.0.0.1', Port: String(server.port), Database: 'shop', ReplicationSecretArn: REPLICATION_SECRET_ARN, SignalTable: 'shop.debezium_signal', Tables: props.Tables };
  });
  afterAll(async () => {
    secrets.mock.restore();
    await admin?.end();
    await server?.stop();
  });

  test('Create makes the signaling table and lets the replication user write it; the signals arrive as the replication user; Delete drops it', async () => {
    await onEvent(createEvent(props), { secrets: secrets.client, tls: false });
    const [cols] = await admin.query(`SELECT COLUMN_NAME AS c, CHARACTER_MAXIMUM_LENGTH AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'debezium_signal' ORDER BY ORDINAL_POSITION`);
    expect(cols).toEqual([{ c: 'id', n: 42 }, { c: 'type', n: 32 }, { c: 'data', n: 2048 }]);
    const [grants] = await admin.query(`SHOW GRANTS FOR 'cdc_replication'@'%'`);
    expect((grants as Record<string, string>[]).map(g => Object.values(g)[0]).join('\n')).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON `shop`\.`debezium_signal`/);

    const out = await onSignalRequest({ Action: 'execute-snapshot', Tables: ['shop.customers'] }, source, { secrets: secrets.client, tls: false });
    const [rows] = await admin.query('SELECT id, type, data FROM shop.debezium_signal');
    expect(rows).toEqual([{ id: out.SignalId, type: 'execute-snapshot', data: JSON.stringify({ 'data-collections': ['shop.customers'], 'type': 'incremental' }) }]);
    const added = await onSnapshotSignalEvent(signalEvent('Update', ['shop.orders', 'shop.customers'], ['shop.customers']), source, { secrets: secrets.client, tls: false });
    expect(added.Data.SnapshotTables).toBe('shop.orders');

    await onEvent(deleteEvent(physicalResourceId(props, BOOTSTRAP_OWNER), props), { secrets: secrets.client, tls: false });
    const [left] = await admin.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME LIKE 'debezium%'`);
    expect(left).toEqual([]);
  });
});
