// The bootstrap's owner marker on real PostgreSQL and MariaDB: one server reached by two host strings (127.0.0.1 and
// localhost) has two physical ids, and the cleanup Delete of the old id leaves what the Update under the new id set up.
import * as crypto from 'crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as mysql from 'mysql2/promise';
import { Client } from 'pg';
import { BootstrapProperties, onEvent } from '../../lambda/replication-bootstrap';
import { MYSQL_OWNER_MARKER_PREFIX } from '../../lambda/replication-bootstrap/mysql';
import { POSTGRES_OWNER_MARKER_PREFIX } from '../../lambda/replication-bootstrap/postgres';
import { ADMIN_SECRET_ARN, BOOTSTRAP_OWNER, createEvent, deleteEvent, mockSecrets, REPLICATION_SECRET_ARN, updateEvent } from './helpers/events';
import { PrivateMariaDb, PrivatePostgres, startMariaDb, startPostgres } from './helpers/servers';

const REPLICATION = { username: 'cdc_replication', password: 'Repl-' + crypto.randomBytes(8).toString('hex') };
/** What the CDK provider framework sends as the physical id of a Create that failed (it answers that Delete itself). */
const CREATE_FAILED_ID = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** Runs `fn` and returns the owner warnings Delete logged (parsed JSON), console.warn silenced meanwhile. */
async function ownerWarnings(fn: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    await fn();
    const parsed = warn.mock.calls.map(c => String(c[0])).filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Record<string, unknown>);
    return parsed.filter(w => 'ownerPhysicalResourceIds' in w);
  } finally {
    warn.mockRestore();
  }
}

/** The update CloudFormation sends when rolling back: the old properties, on the resource whose physical id is now `current`. */
function rollbackEvent(current: string, oldProps: BootstrapProperties, newProps: BootstrapProperties): CloudFormationCustomResourceEvent {
  return updateEvent(current, oldProps, newProps);
}

describe('PostgreSQL: Delete decides by the owner marker on the server, not by the host string', () => {
  let server: PrivatePostgres;
  let secrets: ReturnType<typeof mockSecrets>;
  let admin: Client;
  let database: string;
  let n = 0;

  const connect = async (port: number, db: string, user = 'postgres', password = 'bootstrap-test') => {
    const c = new Client({ host: '127.0.0.1', port, database: db, user, password });
    await c.connect();
    return c;
  };
  const props = (overrides: Partial<BootstrapProperties> = {}): BootstrapProperties => ({
    Engine: 'postgresql', Host: '127.0.0.1', Port: String(server.port), Database: database,
    AdminSecretArn: ADMIN_SECRET_ARN, ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: REPLICATION.username,
    Tables: ['app.orders', 'app.customers'], HeartbeatTable: 'public.debezium_heartbeat', SignalTable: 'public.debezium_signal',
    PublicationName: 'agent_cdc', SlotName: 'agent_cdc_slot', ...overrides,
  });
  const deps = () => ({ secrets: secrets.client, tls: false as const, slotReleaseTimeoutMs: 1_000, pollIntervalMs: 100 });

  async function prepare(port: number, db: string): Promise<void> {
    const root = await connect(port, 'postgres');
    await root.query(`CREATE DATABASE ${db}`);
    await root.end();
    const c = await connect(port, db);
    await c.query('CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY); CREATE TABLE app.customers (id int PRIMARY KEY)');
    await c.end();
  }
  async function dispose(port: number, db: string): Promise<void> {
    const root = await connect(port, 'postgres');
    await root.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`, [db]);
    await root.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await root.query(`DROP ROLE IF EXISTS ${REPLICATION.username}`);
    await root.end();
  }

  /** Which of the bootstrap's objects exist (the slot as Debezium would have created it). */
  async function state(c: Client, names: { publication?: string; slot?: string } = {}) {
    const r = await c.query(`SELECT
        EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1) AS publication,
        EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $2) AS slot,
        EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $3) AS role,
        to_regclass('public.debezium_heartbeat') IS NOT NULL AS heartbeat,
        to_regclass('public.debezium_signal') IS NOT NULL AS signal`,
    [names.publication ?? 'agent_cdc', names.slot ?? 'agent_cdc_slot', REPLICATION.username]);
    return r.rows[0] as Record<string, boolean>;
  }
  const everything = { publication: true, slot: true, role: true, heartbeat: true, signal: true };
  const nothing = { publication: false, slot: false, role: false, heartbeat: false, signal: false };

  async function markerId(publication = 'agent_cdc'): Promise<string | undefined> {
    const r = await admin.query(`SELECT obj_description(oid, 'pg_publication') AS c FROM pg_publication WHERE pubname = $1`, [publication]);
    const comment: string | null | undefined = r.rows[0]?.c;
    return comment?.startsWith(POSTGRES_OWNER_MARKER_PREFIX)
      ? (JSON.parse(comment.slice(POSTGRES_OWNER_MARKER_PREFIX.length)) as { physicalResourceId: string }).physicalResourceId : undefined;
  }
  const createSlot = (slot = 'agent_cdc_slot') => admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);

  beforeAll(async () => {
    server = await startPostgres('logical');
    secrets = mockSecrets({ username: server.user, password: server.password }, REPLICATION);
  });
  afterAll(async () => {
    secrets.mock.restore();
    await server.stop();
  });
  beforeEach(async () => {
    database = `owner_${++n}`;
    await prepare(server.port, database);
    admin = await connect(server.port, database);
  });
  afterEach(async () => {
    await admin.end();
    await dispose(server.port, database);
  });

  test('(a) host changed, same server: the cleanup Delete of the old id drops nothing and warns naming both ids; Delete of the new id drops it all', async () => {
    const byIp = props();
    const byName = props({ Host: 'localhost' });
    const created = await onEvent(createEvent(byIp), deps());
    await createSlot();
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, byName, byIp), deps());
    expect(updated.PhysicalResourceId).toBe(`cdc-bootstrap:postgresql:localhost:${server.port}:${BOOTSTRAP_OWNER}`);
    expect(await markerId()).toBe(updated.PhysicalResourceId);

    const warnings = await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, byIp), deps()));
    expect(await state(admin)).toEqual(everything);
    expect(warnings).toEqual([expect.objectContaining({
      physicalResourceId: created.PhysicalResourceId, ownerPhysicalResourceIds: [updated.PhysicalResourceId],
      kept: ['publication agent_cdc', 'slot agent_cdc_slot', 'role cdc_replication', 'table public.debezium_heartbeat', 'table public.debezium_signal'],
    })]);
    // The replication user still logs in and reads: CDC goes on.
    const repl = await connect(server.port, database, REPLICATION.username, REPLICATION.password);
    await repl.query('SELECT * FROM app.orders');
    await repl.end();

    await onEvent(deleteEvent(updated.PhysicalResourceId, byName), deps());
    expect(await state(admin)).toEqual(nothing);
  });

  // A construct moved in the tree (its logical id changed) is a new resource beside the old one: CloudFormation creates the new one,
  // then deletes the old one, with the same properties and the same server.
  test('a logical id change: the Delete of the old resource drops nothing the new one uses', async () => {
    const p = props();
    const old = await onEvent(createEvent(p), deps());
    await createSlot();
    const moved = await onEvent({ ...createEvent(p), LogicalResourceId: 'MovedBootstrap' } as CloudFormationCustomResourceEvent, deps());
    expect(moved.PhysicalResourceId).toBe(`cdc-bootstrap:postgresql:127.0.0.1:${server.port}:Test/MovedBootstrap`);
    expect(moved.PhysicalResourceId).not.toBe(old.PhysicalResourceId);
    const warnings = await ownerWarnings(() => onEvent(deleteEvent(old.PhysicalResourceId, p), deps()));
    expect(await state(admin)).toEqual(everything);
    expect(warnings).toEqual([expect.objectContaining({ physicalResourceId: old.PhysicalResourceId, ownerPhysicalResourceIds: [moved.PhysicalResourceId] })]);
    await onEvent({ ...deleteEvent(moved.PhysicalResourceId, p), LogicalResourceId: 'MovedBootstrap' } as CloudFormationCustomResourceEvent, deps());
    expect(await state(admin)).toEqual(nothing);
  });

  test('an id minted before ids named their owner is kept by an Update on the same host', async () => {
    const p = props();
    const legacy = `cdc-bootstrap:postgresql:127.0.0.1:${server.port}`;
    await onEvent(createEvent(p), deps());
    const updated = await onEvent(updateEvent(legacy, props({ Tables: ['app.orders'] }), p), deps());
    expect(updated.PhysicalResourceId).toBe(legacy);
    expect(await markerId()).toBe(legacy);
    await onEvent(deleteEvent(legacy, p), deps());
    expect(await state(admin)).toEqual(nothing);
  });

  test('(b) the update rolled back: the cleanup Delete of the new id drops nothing; the marker names the old id again', async () => {
    const byIp = props();
    const byName = props({ Host: 'localhost' });
    const created = await onEvent(createEvent(byIp), deps());
    await createSlot();
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, byName, byIp), deps());
    const rolledBack = await onEvent(rollbackEvent(updated.PhysicalResourceId, byIp, byName), deps());
    expect(rolledBack.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(await markerId()).toBe(created.PhysicalResourceId);

    await ownerWarnings(() => onEvent(deleteEvent(updated.PhysicalResourceId, byName), deps()));
    expect(await state(admin)).toEqual(everything);
  });

  test('(c) a different server: the Delete of the old id drops everything there, the new server keeps its own', async () => {
    const other = await startPostgres('logical');
    try {
      await prepare(other.port, database);
      const before = props();
      const after = props({ Port: String(other.port) });
      const created = await onEvent(createEvent(before), deps());
      await createSlot();
      const moved = await onEvent(updateEvent(created.PhysicalResourceId, after, before), deps());
      expect(moved.PhysicalResourceId).toBe(`cdc-bootstrap:postgresql:127.0.0.1:${other.port}:${BOOTSTRAP_OWNER}`);

      const warnings = await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, before), deps()));
      expect(warnings).toEqual([]);
      expect(await state(admin)).toEqual(nothing);
      const there = await connect(other.port, database);
      try {
        expect(await state(there)).toEqual({ ...everything, slot: false });
      } finally {
        await there.end();
      }
    } finally {
      await dispose(other.port, database).catch(() => undefined);
      await other.stop();
    }
  });

  test('(d) the Delete of a Create that failed before returning an id touches nothing', async () => {
    // Set up already (under the same names); a second Create fails on a missing table, and the framework answers with its own id.
    const created = await onEvent(createEvent(props()), deps());
    await expect(onEvent(createEvent(props({ Tables: ['app.orders', 'app.missing'] })), deps())).rejects.toThrow(/captured tables not found/);
    await createSlot();
    await onEvent(deleteEvent(CREATE_FAILED_ID, props()), deps());
    expect(await state(admin)).toEqual(everything);
    expect(await markerId()).toBe(created.PhysicalResourceId);
  });

  test('host changed together with the publication and slot names: the cleanup Delete drops only the old publication and slot', async () => {
    const byIp = props();
    const renamed = props({ Host: 'localhost', PublicationName: 'agent_cdc_v2', SlotName: 'agent_cdc_slot_v2' });
    const created = await onEvent(createEvent(byIp), deps());
    await createSlot();
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, renamed, byIp), deps());
    await createSlot('agent_cdc_slot_v2');

    const warnings = await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, byIp), deps()));
    expect(await state(admin)).toEqual({ ...everything, publication: false, slot: false });
    expect(await state(admin, { publication: 'agent_cdc_v2', slot: 'agent_cdc_slot_v2' })).toEqual(everything);
    expect(warnings).toEqual([expect.objectContaining({ kept: ['role cdc_replication', 'table public.debezium_heartbeat', 'table public.debezium_signal'] })]);
    expect(await markerId('agent_cdc_v2')).toBe(updated.PhysicalResourceId);
  });

  test('a resource from before markers: its Delete drops everything as before; its next Update marks it, so a host change is safe', async () => {
    const byIp = props();
    const created = await onEvent(createEvent(byIp), deps());
    await createSlot();
    // As an older release left it: no marker.
    await admin.query('COMMENT ON PUBLICATION agent_cdc IS NULL');
    const byName = props({ Host: 'localhost' });
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, byName, byIp), deps());
    await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, byIp), deps()));
    expect(await state(admin)).toEqual(everything);

    await admin.query('COMMENT ON PUBLICATION agent_cdc IS NULL');
    await onEvent(deleteEvent(updated.PhysicalResourceId, byName), deps());
    expect(await state(admin)).toEqual(nothing);
  });

  test('another resource\'s marker in the same database leaves only what it names: this Delete drops its own publication and slot', async () => {
    // A second bootstrap on this database (another stack) with its own publication and slot but the same role and tables.
    const theirs = await onEvent(createEvent(props({ Host: 'localhost', PublicationName: 'theirs', SlotName: 'their_slot' })), deps());
    const ours = await onEvent(createEvent(props()), deps());
    await createSlot();
    await createSlot('their_slot');
    await ownerWarnings(() => onEvent(deleteEvent(ours.PhysicalResourceId, props()), deps()));
    expect(await state(admin)).toEqual({ ...everything, publication: false, slot: false });
    expect(await state(admin, { publication: 'theirs', slot: 'their_slot' })).toEqual(everything);
    expect(await markerId('theirs')).toBe(theirs.PhysicalResourceId);
  });
});

describe('MariaDB: Delete decides by the owner marker on the server, not by the host string', () => {
  let server: PrivateMariaDb;
  let admin: mysql.Connection;
  let secrets: ReturnType<typeof mockSecrets>;

  const props = (overrides: Partial<BootstrapProperties> = {}): BootstrapProperties => ({
    Engine: 'mysql', Host: '127.0.0.1', Port: String(server.port), Database: 'shop',
    AdminSecretArn: ADMIN_SECRET_ARN, ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: REPLICATION.username,
    Tables: ['shop.orders'], HeartbeatTable: 'cdc.debezium_heartbeat', SignalTable: 'cdc.debezium_signal', BinlogRetentionHours: '72', ...overrides,
  });
  const deps = () => ({ secrets: secrets.client, tls: false as const });

  async function prepare(conn: mysql.Connection): Promise<void> {
    await conn.query('CREATE DATABASE shop');
    await conn.query('CREATE TABLE shop.orders (id INT PRIMARY KEY)');
  }
  async function dispose(conn: mysql.Connection): Promise<void> {
    await conn.query('DROP DATABASE IF EXISTS shop');
    await conn.query('DROP DATABASE IF EXISTS cdc');
    await conn.query(`DROP USER IF EXISTS 'cdc_replication'@'%'`);
  }
  async function state(conn: mysql.Connection, heartbeat = 'debezium_heartbeat') {
    const [[r]] = await conn.query(`SELECT
        EXISTS (SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%') AS \`user\`,
        EXISTS (SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cdc' AND TABLE_NAME = ?) AS \`heartbeat\`,
        EXISTS (SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cdc' AND TABLE_NAME = 'debezium_signal') AS \`signal\``,
    [REPLICATION.username, heartbeat]) as unknown as [Array<Record<string, number>>];
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v) === 1]));
  }
  const everything = { user: true, heartbeat: true, signal: true };
  const nothing = { user: false, heartbeat: false, signal: false };

  async function markerId(table = 'debezium_heartbeat'): Promise<string | undefined> {
    const [rows] = await admin.query(`SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cdc' AND TABLE_NAME = ?`, [table]);
    const comment = (rows as Array<{ c: string }>)[0]?.c;
    return comment?.startsWith(MYSQL_OWNER_MARKER_PREFIX)
      ? (JSON.parse(comment.slice(MYSQL_OWNER_MARKER_PREFIX.length)) as { physicalResourceId: string }).physicalResourceId : undefined;
  }

  beforeAll(async () => {
    server = await startMariaDb();
    secrets = mockSecrets({ username: 'root', password: '' }, REPLICATION);
    admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  });
  afterAll(async () => {
    secrets.mock.restore();
    await admin.end();
    await server.stop();
  });
  beforeEach(() => prepare(admin));
  afterEach(() => dispose(admin));

  test('(a) host changed, same server: the cleanup Delete of the old id drops nothing and warns naming both ids; Delete of the new id drops it all', async () => {
    const byIp = props();
    const byName = props({ Host: 'localhost' });
    const created = await onEvent(createEvent(byIp), deps());
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, byName, byIp), deps());
    expect(updated.PhysicalResourceId).toBe(`cdc-bootstrap:mysql:localhost:${server.port}:${BOOTSTRAP_OWNER}`);
    expect(await markerId()).toBe(updated.PhysicalResourceId);

    const warnings = await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, byIp), deps()));
    expect(await state(admin)).toEqual(everything);
    expect(warnings).toEqual([expect.objectContaining({
      physicalResourceId: created.PhysicalResourceId, ownerPhysicalResourceIds: [updated.PhysicalResourceId],
      kept: ['user cdc_replication', 'table cdc.debezium_heartbeat', 'table cdc.debezium_signal'],
    })]);
    const repl = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: REPLICATION.username, password: REPLICATION.password });
    await repl.query('SELECT * FROM shop.orders');
    await repl.end();

    await onEvent(deleteEvent(updated.PhysicalResourceId, byName), deps());
    expect(await state(admin)).toEqual(nothing);
  });

  test('(b) the update rolled back: the cleanup Delete of the new id drops nothing; the marker names the old id again', async () => {
    const byIp = props();
    const byName = props({ Host: 'localhost' });
    const created = await onEvent(createEvent(byIp), deps());
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, byName, byIp), deps());
    const rolledBack = await onEvent(rollbackEvent(updated.PhysicalResourceId, byIp, byName), deps());
    expect(rolledBack.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(await markerId()).toBe(created.PhysicalResourceId);

    await ownerWarnings(() => onEvent(deleteEvent(updated.PhysicalResourceId, byName), deps()));
    expect(await state(admin)).toEqual(everything);
  });

  test('(c) a different server: the Delete of the old id drops everything there, the new server keeps its own', async () => {
    const other = await startMariaDb();
    const there = await mysql.createConnection({ host: '127.0.0.1', port: other.port, user: 'root' });
    try {
      await prepare(there);
      const before = props();
      const after = props({ Port: String(other.port) });
      const created = await onEvent(createEvent(before), deps());
      await onEvent(updateEvent(created.PhysicalResourceId, after, before), deps());
      const warnings = await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, before), deps()));
      expect(warnings).toEqual([]);
      expect(await state(admin)).toEqual(nothing);
      expect(await state(there)).toEqual(everything);
    } finally {
      await there.end();
      await other.stop();
    }
  });

  test('(d) the Delete of a Create that failed before returning an id touches nothing', async () => {
    const created = await onEvent(createEvent(props()), deps());
    await expect(onEvent(createEvent(props({ Tables: ['shop.orders', 'shop.missing'] })), deps())).rejects.toThrow(/captured tables not found/);
    await onEvent(deleteEvent(CREATE_FAILED_ID, props()), deps());
    expect(await state(admin)).toEqual(everything);
    expect(await markerId()).toBe(created.PhysicalResourceId);
  });

  test('host changed together with the heartbeat table name: the cleanup Delete drops only the old heartbeat table, revoking its grant', async () => {
    const byIp = props();
    const renamed = props({ Host: 'localhost', HeartbeatTable: 'cdc.heartbeat_v2' });
    const created = await onEvent(createEvent(byIp), deps());
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, renamed, byIp), deps());
    await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, byIp), deps()));
    expect(await state(admin)).toEqual({ ...everything, heartbeat: false });
    expect(await state(admin, 'heartbeat_v2')).toEqual(everything);
    expect(await markerId('heartbeat_v2')).toBe(updated.PhysicalResourceId);
    const [grants] = await admin.query(`SHOW GRANTS FOR 'cdc_replication'@'%'`);
    expect(JSON.stringify(grants)).not.toMatch(/debezium_heartbeat/);
  });

  test('a resource from before markers: its Delete drops everything as before; its next Update marks it, so a host change is safe', async () => {
    const byIp = props();
    const created = await onEvent(createEvent(byIp), deps());
    await admin.query(`ALTER TABLE cdc.debezium_heartbeat COMMENT = ''`);
    const byName = props({ Host: 'localhost' });
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, byName, byIp), deps());
    await ownerWarnings(() => onEvent(deleteEvent(created.PhysicalResourceId, byIp), deps()));
    expect(await state(admin)).toEqual(everything);

    await admin.query(`ALTER TABLE cdc.debezium_heartbeat COMMENT = ''`);
    await onEvent(deleteEvent(updated.PhysicalResourceId, byName), deps());
    expect(await state(admin)).toEqual(nothing);
  });
});
