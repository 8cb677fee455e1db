// The replication bootstrap against real MariaDB: a private server with the binlog on (ROW, FULL) and the machine's running server.
import * as crypto from 'crypto';
import * as mysql from 'mysql2/promise';
import { BootstrapProperties, mysqlConnectionOptions, onEvent } from '../../lambda/replication-bootstrap';
import { mysqlGrants, mysqlHeartbeatActionQuery, mysqlNativePasswordHash, setMysqlBinlogRetention } from '../../lambda/replication-bootstrap/mysql';
import { ADMIN_SECRET_ARN, BOOTSTRAP_OWNER, createEvent, deleteEvent, mockSecrets, REPLICATION_SECRET_ARN, updateEvent } from './helpers/events';
import { PrivateMariaDb, startMariaDb } from './helpers/servers';

const REPLICATION = { username: 'cdc_replication', password: 'Repl-' + crypto.randomBytes(8).toString('hex') };

function props(port: number, overrides: Partial<BootstrapProperties> = {}): BootstrapProperties {
  return {
    Engine: 'mysql',
    Host: '127.0.0.1',
    Port: String(port),
    Database: 'shop',
    AdminSecretArn: ADMIN_SECRET_ARN,
    ReplicationSecretArn: REPLICATION_SECRET_ARN,
    ReplicationUsername: REPLICATION.username,
    Tables: ['shop.orders', 'shop.customers'],
    HeartbeatTable: 'cdc.debezium_heartbeat',
    BinlogRetentionHours: '72',
    ...overrides,
  };
}

async function userExists(conn: mysql.Connection, user: string): Promise<boolean> {
  const [rows] = await conn.query('SELECT 1 FROM mysql.user WHERE User = ?', [user]);
  return (rows as unknown[]).length > 0;
}

describe('replication bootstrap on MariaDB with the binlog on', () => {
  let server: PrivateMariaDb;
  let admin: mysql.Connection;
  let secrets: ReturnType<typeof mockSecrets>;

  beforeAll(async () => {
    server = await startMariaDb({ generalLog: true });
    secrets = mockSecrets({ username: 'root', password: '' }, REPLICATION);
    admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  });
  afterAll(async () => {
    secrets.mock.restore();
    await admin.end();
    await server.stop();
  });
  beforeEach(async () => {
    await admin.query('CREATE DATABASE shop');
    await admin.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2))');
    await admin.query('CREATE TABLE shop.customers (id INT PRIMARY KEY, name TEXT)');
    await admin.query('CREATE TABLE shop.events (id BIGINT PRIMARY KEY, kind TEXT)');
    await admin.query('CREATE TABLE shop.audit (at DATETIME, what TEXT)');
  });
  afterEach(async () => {
    await admin.query('DROP DATABASE IF EXISTS shop');
    await admin.query('DROP DATABASE IF EXISTS cdc');
    await admin.query(`DROP USER IF EXISTS 'cdc_replication'@'%'`);
    await admin.query('DROP PROCEDURE IF EXISTS mysql.rds_set_configuration');
  });

  const deps = () => ({ secrets: secrets.client, tls: false as const });

  test('create makes the replication user with the Debezium grants, SELECT on the captured tables only, and the heartbeat table', async () => {
    const res = await onEvent(createEvent(props(server.port)), deps());
    expect(res.PhysicalResourceId).toBe(`cdc-bootstrap:mysql:127.0.0.1:${server.port}:${BOOTSTRAP_OWNER}`);
    expect(res.Data).toEqual({
      ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: 'cdc_replication', HeartbeatTable: 'cdc.debezium_heartbeat',
      PublicationName: '', SlotName: '', BinlogRetentionConfigured: 'false',
    });
    const grants = (await mysqlGrants(admin, 'cdc_replication')).join('\n');
    expect(grants).toMatch(/GRANT RELOAD, SHOW DATABASES, BINLOG MONITOR, REPLICATION SLAVE ON \*\.\*|GRANT RELOAD, SHOW DATABASES, REPLICATION SLAVE, (REPLICATION CLIENT|BINLOG MONITOR) ON \*\.\*/);
    expect(grants).toMatch(/GRANT SELECT ON `shop`\.`orders`/);
    expect(grants).toMatch(/GRANT SELECT ON `shop`\.`customers`/);
    expect(grants).toMatch(/GRANT SELECT, INSERT, UPDATE ON `cdc`\.`debezium_heartbeat`/);
    expect(grants).toMatch(/GRANT LOCK TABLES ON `shop`\.\*/);
    expect(grants).not.toMatch(/shop`\.`events`/);
    expect(grants).not.toMatch(/GRANT SELECT ON \*\.\*|ALL PRIVILEGES/);

    // As the replication user: read a captured table, run the heartbeat action query twice, be refused elsewhere.
    const repl = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: REPLICATION.username, password: REPLICATION.password });
    try {
      await repl.query('SELECT * FROM shop.orders');
      await repl.query(mysqlHeartbeatActionQuery('cdc.debezium_heartbeat'));
      await repl.query(mysqlHeartbeatActionQuery('cdc.debezium_heartbeat'));
      await repl.query('SHOW BINARY LOGS');
      await repl.query('LOCK TABLES shop.orders READ');
      await repl.query('UNLOCK TABLES');
      await expect(repl.query('SELECT * FROM shop.events')).rejects.toThrow(/denied/);
    } finally {
      await repl.end();
    }
    const [hb] = await admin.query('SELECT id FROM cdc.debezium_heartbeat');
    expect(hb).toEqual([{ id: 1 }]);
  });

  test('running create twice is safe and leaves the same state', async () => {
    const first = await onEvent(createEvent(props(server.port)), deps());
    const grantsBefore = await mysqlGrants(admin, 'cdc_replication');
    const second = await onEvent(createEvent(props(server.port)), deps());
    expect(second).toEqual(first);
    expect((await mysqlGrants(admin, 'cdc_replication')).sort()).toEqual(grantsBefore.sort());
    const [count] = await admin.query('SELECT COUNT(*) AS n FROM cdc.debezium_heartbeat');
    expect(count).toEqual([{ n: 1 }]);
  });

  test('update grants SELECT on an added table and revokes it on a removed one', async () => {
    const before = props(server.port);
    const created = await onEvent(createEvent(before), deps());
    const after = props(server.port, { Tables: ['shop.orders', 'shop.events'] });
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, after, before), deps());
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    const grants = (await mysqlGrants(admin, 'cdc_replication')).join('\n');
    expect(grants).toMatch(/GRANT SELECT ON `shop`\.`events`/);
    expect(grants).not.toMatch(/`shop`\.`customers`/);
  });

  async function cdcTables(): Promise<string[]> {
    const [r] = await admin.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cdc' ORDER BY 1`);
    return (r as { t: string }[]).map(x => x.t);
  }

  test('update renaming only the heartbeat table keeps the signaling table in use, its grant too; drops and revokes the old heartbeat table', async () => {
    const before = props(server.port, { SignalTable: 'cdc.debezium_signal' });
    const created = await onEvent(createEvent(before), deps());
    const after = props(server.port, { SignalTable: 'cdc.debezium_signal', HeartbeatTable: 'cdc.heartbeat_v2' });
    await onEvent(updateEvent(created.PhysicalResourceId, after, before), deps());

    expect(await cdcTables()).toEqual(['debezium_signal', 'heartbeat_v2']);
    const grants = (await mysqlGrants(admin, 'cdc_replication')).join('\n');
    expect(grants).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON `cdc`\.`debezium_signal`/);
    expect(grants).toMatch(/GRANT SELECT, INSERT, UPDATE ON `cdc`\.`heartbeat_v2`/);
    expect(grants).not.toMatch(/debezium_heartbeat/);
    const repl = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: REPLICATION.username, password: REPLICATION.password });
    try {
      await repl.query(`INSERT INTO cdc.debezium_signal (id, type, data) VALUES ('w1', 'snapshot-window-open', NULL)`);
    } finally {
      await repl.end();
    }
  });

  test('update renaming only the signaling table drops the old one and revokes its grant', async () => {
    const before = props(server.port, { SignalTable: 'cdc.debezium_signal' });
    const created = await onEvent(createEvent(before), deps());
    const after = props(server.port, { SignalTable: 'cdc.signal_v2' });
    await onEvent(updateEvent(created.PhysicalResourceId, after, before), deps());

    expect(await cdcTables()).toEqual(['debezium_heartbeat', 'signal_v2']);
    const grants = (await mysqlGrants(admin, 'cdc_replication')).join('\n');
    expect(grants).toMatch(/ON `cdc`\.`signal_v2`/);
    expect(grants).toMatch(/ON `cdc`\.`debezium_heartbeat`/);
    expect(grants).not.toMatch(/debezium_signal/);
  });

  test('delete drops the replication user and the heartbeat table; a second delete succeeds', async () => {
    const p = props(server.port);
    const created = await onEvent(createEvent(p), deps());
    await onEvent(deleteEvent(created.PhysicalResourceId, p), deps());
    expect(await userExists(admin, 'cdc_replication')).toBe(false);
    const [tables] = await admin.query(`SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cdc' AND TABLE_NAME = 'debezium_heartbeat'`);
    expect(tables).toEqual([]);
    await expect(onEvent(deleteEvent(created.PhysicalResourceId, p), deps())).resolves.toBeDefined();
  });

  /** A stand-in for the RDS procedure that refuses: the last step of a Create fails, after the user and tables exist. */
  const failBinlogRetention = () => admin.query(`CREATE PROCEDURE mysql.rds_set_configuration(IN name VARCHAR(64), IN value INT)
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'binlog retention refused'`);

  test('a create that fails part-way removes the user and tables it created, and only those, then reports the original error', async () => {
    // Already there before the Create: not the run's to remove.
    await admin.query('CREATE DATABASE cdc');
    await admin.query('CREATE TABLE cdc.debezium_heartbeat (id INT PRIMARY KEY, ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))');
    await failBinlogRetention();
    await expect(onEvent(createEvent(props(server.port, { SignalTable: 'cdc.debezium_signal' })), deps())).rejects.toThrow(/binlog retention refused/);
    expect(await userExists(admin, 'cdc_replication')).toBe(false);
    expect(await cdcTables()).toEqual(['debezium_heartbeat']);
  });

  test('a failed create leaves a user that existed before it, revoking its grants on the tables it drops', async () => {
    await admin.query(`CREATE USER 'cdc_replication'@'%' IDENTIFIED BY 'their-own-pw'`);
    await failBinlogRetention();
    await expect(onEvent(createEvent(props(server.port, { SignalTable: 'cdc.debezium_signal' })), deps())).rejects.toThrow(/binlog retention refused/);
    expect(await userExists(admin, 'cdc_replication')).toBe(true);
    expect(await cdcTables()).toEqual([]);
    expect((await mysqlGrants(admin, 'cdc_replication')).join('\n')).not.toMatch(/`cdc`/);
  });

  test('sets binlog retention through mysql.rds_set_configuration where the procedure exists', async () => {
    // Stand-in for the RDS procedure, recording what it was called with.
    await admin.query('CREATE TABLE shop.rds_configuration (name VARCHAR(64) PRIMARY KEY, value VARCHAR(64))');
    await admin.query(`CREATE PROCEDURE mysql.rds_set_configuration(IN name VARCHAR(64), IN value INT)
      REPLACE INTO shop.rds_configuration VALUES (name, value)`);
    const res = await onEvent(createEvent(props(server.port)), deps());
    expect(res.Data.BinlogRetentionConfigured).toBe('true');
    const [rows] = await admin.query('SELECT name, value FROM shop.rds_configuration');
    expect(rows).toEqual([{ name: 'binlog retention hours', value: '72' }]);
  });

  test('skips binlog retention where mysql.rds_set_configuration does not exist (MariaDB, self-managed MySQL)', async () => {
    await expect(setMysqlBinlogRetention(admin, 24)).resolves.toBe(false);
  });

  test('fails listing every table without a primary key', async () => {
    await admin.query('CREATE TABLE shop.logs (line TEXT)');
    await expect(onEvent(createEvent(props(server.port, { Tables: ['shop.orders', 'shop.audit', 'shop.logs'] })), deps()))
      .rejects.toThrow(/captured tables without a primary key: shop\.audit, shop\.logs \(add a PRIMARY KEY/);
    expect(await userExists(admin, 'cdc_replication')).toBe(false);
  });

  test('fails listing every missing table', async () => {
    await expect(onEvent(createEvent(props(server.port, { Tables: ['shop.orders', 'shop.nope', 'other.gone'] })), deps()))
      .rejects.toThrow(/captured tables not found: shop\.nope, other\.gone/);
  });

  test('the replication password never reaches the general query log (MariaDB logs statements as written); the login works', async () => {
    const before = server.generalLog().length;
    await onEvent(createEvent(props(server.port)), deps());
    await onEvent(createEvent(props(server.port)), deps());
    const log = server.generalLog().slice(before);
    expect(log).toMatch(/CREATE USER IF NOT EXISTS 'cdc_replication'@'%' IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}'/);
    expect(log).not.toContain(REPLICATION.password);
    const repl = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: REPLICATION.username, password: REPLICATION.password });
    await repl.query('SELECT * FROM shop.orders');
    await repl.end();
    const [[serverHash]] = await admin.query(`SELECT PASSWORD('probe-Pw-1') AS h`) as unknown as [{ h: string }[]];
    expect(mysqlNativePasswordHash('probe-Pw-1')).toBe(serverHash.h);
  });

  test('refuses a replicationUsername equal to the admin user, before changing anything', async () => {
    secrets.mock.restore();
    const s = mockSecrets({ username: 'root', password: '' }, { username: 'root', password: 'would-replace-root' });
    try {
      await expect(onEvent(createEvent(props(server.port, { ReplicationUsername: 'root' })), { secrets: s.client, tls: false }))
        .rejects.toThrow(/replicationUsername 'root' is the admin user the bootstrap connects as/);
    } finally {
      // Restoring a client mock restores them all: put the suite's back.
      s.mock.restore();
      secrets = mockSecrets({ username: 'root', password: '' }, REPLICATION);
    }
    const rootAgain = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    await rootAgain.end();
    const [hb] = await admin.query(`SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cdc'`);
    expect(hb).toEqual([]);
  });

  test('initialSchema creates the captured tables (and their database) before the checks; running it twice is safe', async () => {
    const sql = [
      'CREATE TABLE IF NOT EXISTS products (id INT PRIMARY KEY, name TEXT NOT NULL);',
      `INSERT IGNORE INTO products VALUES (1, 'kettle');`,
    ].join('\n');
    const sha = crypto.createHash('sha256').update(sql).digest('hex');
    const p = props(server.port, { Database: 'catalog', Tables: ['catalog.products'], InitialSchemaSql: sql, InitialSchemaSha256: sha });
    try {
      await onEvent(createEvent(p), deps());
      await onEvent(createEvent(p), deps());
      const [rows] = await admin.query('SELECT id, name FROM catalog.products');
      expect(rows).toEqual([{ id: 1, name: 'kettle' }]);
      expect((await mysqlGrants(admin, 'cdc_replication')).join('\n')).toMatch(/GRANT SELECT ON `catalog`\.`products`/);
      await expect(onEvent(createEvent(props(server.port, { ...p, Tables: ['catalog.products', 'catalog.prices'] })), deps()))
        .rejects.toThrow(/captured tables not found: catalog\.prices \(create them before deploying or in CdcSourceDatabase's initialSchema/);
      await expect(onEvent(createEvent(props(server.port, { ...p, InitialSchemaSql: 'CREATE TABLE oops (', InitialSchemaSha256: 'x' })), deps()))
        .rejects.toThrow(/initialSchema failed: .*syntax/);
    } finally {
      await admin.query('DROP DATABASE IF EXISTS catalog');
    }
  });

  test('the connection settings verify the server certificate when TLS is on', () => {
    const p = props(3306);
    expect(mysqlConnectionOptions(p, { username: 'a', password: 'b' }, { ca: 'PEM' }).ssl).toEqual({ ca: 'PEM', rejectUnauthorized: true });
    expect(mysqlConnectionOptions(p, { username: 'a', password: 'b' }, false).ssl).toBeUndefined();
  });
});

describe('replication bootstrap on the machine\'s running MariaDB (binlog off, binlog_format=MIXED)', () => {
  test('refuses, naming the parameters to change, before creating anything', async () => {
    const secrets = mockSecrets({ username: 'root', password: '' }, { username: 'cdc_never_created', password: 'x' });
    try {
      await expect(onEvent(createEvent(props(3306, { ReplicationUsername: 'cdc_never_created' })), { secrets: secrets.client, tls: false }))
        .rejects.toThrow(/binary logging is off \(log_bin = OFF\).*binlog_format is 'MIXED', Debezium needs 'ROW': set binlog_format = ROW in the DB parameter group/);
      const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      try {
        expect(await userExists(admin, 'cdc_never_created')).toBe(false);
      } finally {
        await admin.end();
      }
    } finally {
      secrets.mock.restore();
    }
  });
});
