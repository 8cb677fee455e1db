// MySQL side of the replication bootstrap: binlog checks, replication user and grants, binlog retention, heartbeat table, cleanup.
import * as crypto from 'crypto';
import type { Connection } from 'mysql2/promise';
import { BootstrapError, Credentials, splitQualified } from '../../contract/replication-bootstrap';
import { ensureMysqlSignalTable } from './signal';

/** Everything the bootstrap sets up in one MySQL server. */
export interface MysqlBootstrapConfig {
  /** `database.table`, case as stored by the server. */
  readonly tables: string[];
  /** `database.table` of the heartbeat table. */
  readonly heartbeatTable: string;
  /** `database.table` of Debezium's signaling table. @default - none */
  readonly signalTable?: string;
  readonly replication: Credentials;
  /** Hours of binlog RDS keeps for a connector that falls behind. */
  readonly binlogRetentionHours: number;
}

export interface MysqlBootstrapResult {
  /** False where `mysql.rds_set_configuration` does not exist (self-managed MySQL, MariaDB). */
  readonly binlogRetentionConfigured: boolean;
}

type Sql = Pick<Connection, 'query' | 'escapeId' | 'escape'>;

/** The grants Debezium's MySQL connector needs at the server level (snapshot locking, database list, binlog reading). */
export const MYSQL_GLOBAL_GRANTS = ['RELOAD', 'SHOW DATABASES', 'REPLICATION SLAVE', 'REPLICATION CLIENT'] as const;

const ER_NONEXISTING_TABLE_GRANT = 1147;
const ER_NO_SUCH_TABLE = 1146;
const ER_SP_DOES_NOT_EXIST = 1305;

function qualified(conn: Sql, name: string): string {
  const [database, table] = splitQualified(name);
  return `${conn.escapeId(database)}.${conn.escapeId(table)}`;
}

function account(conn: Sql, username: string): string {
  return `${conn.escape(username)}@'%'`;
}

async function rows<T>(conn: Sql, sql: string, values: unknown[] = []): Promise<T[]> {
  const [result] = await conn.query(sql, values);
  return result as T[];
}

/** Fails unless the binlog is on, row-based and carries full row images; the message names the parameter to change. */
export async function checkMysqlSettings(conn: Sql): Promise<void> {
  const [s] = await rows<{ log_bin: number | string; binlog_format: string; binlog_row_image: string }>(conn,
    'SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS binlog_format, @@GLOBAL.binlog_row_image AS binlog_row_image');
  const problems: string[] = [];
  if (String(s.log_bin) !== '1' && String(s.log_bin).toUpperCase() !== 'ON') {
    problems.push('binary logging is off (log_bin = OFF): turn on automated backups (backup retention of at least 1 day), '
      + 'which is what enables the binlog on RDS; on Aurora MySQL set binlog_format in the DB cluster parameter group');
  }
  if (String(s.binlog_format).toUpperCase() !== 'ROW') {
    problems.push(`binlog_format is '${s.binlog_format}', Debezium needs 'ROW': set binlog_format = ROW in the DB parameter group `
      + '(Aurora MySQL: the DB cluster parameter group)');
  }
  if (String(s.binlog_row_image).toUpperCase() !== 'FULL') {
    problems.push(`binlog_row_image is '${s.binlog_row_image}', Debezium needs 'FULL': set binlog_row_image = FULL in the parameter group`);
  }
  if (problems.length) throw new BootstrapError(`The binlog is not ready for change data capture: ${problems.join('; ')}. Then reboot and deploy again.`);
}

/** Fails with the full list of captured tables that do not exist and of those without a primary key. */
export async function checkMysqlTables(conn: Sql, tables: string[]): Promise<void> {
  const missing: string[] = [];
  const keyless: string[] = [];
  for (const name of tables) {
    const [database, table] = splitQualified(name);
    const found = await rows<{ has_pk: number }>(conn,
      `SELECT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c
                       WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
                         AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS has_pk
         FROM information_schema.TABLES t
        WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ? AND t.TABLE_TYPE = 'BASE TABLE'`, [database, table]);
    if (found.length === 0) missing.push(name);
    else if (!Number(found[0].has_pk)) keyless.push(name);
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`captured tables not found: ${missing.join(', ')} (create them before deploying or in CdcSourceDatabase's initialSchema, or remove them from 'tables')`);
  if (keyless.length) problems.push(`captured tables without a primary key: ${keyless.join(', ')} (add a PRIMARY KEY so change events carry a key)`);
  if (problems.length) throw new BootstrapError(`Cannot capture changes: ${problems.join('; ')}.`);
}

/**
 * Runs the `initialSchema` SQL in `database` (created if missing) on a connection that allows multiple statements.
 * MySQL commits each DDL statement on its own, so a failure part-way leaves the statements before it applied: the
 * SQL must be safe to run again (CREATE TABLE IF NOT EXISTS, INSERT IGNORE).
 */
export async function applyMysqlSchema(conn: Sql, database: string, sql: string): Promise<void> {
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${conn.escapeId(database)}; USE ${conn.escapeId(database)};\n${sql}`);
  } catch (e) {
    const err = e as { message?: string; code?: string };
    throw new BootstrapError(`initialSchema failed: ${err.message} (${err.code ?? 'unknown'}). Statements before the failing one may have been applied `
      + '(MySQL DDL is not transactional). Fix the SQL (it must be safe to run twice: CREATE TABLE IF NOT EXISTS, INSERT IGNORE) and deploy again.');
  }
}

/** Creates the heartbeat table (one row, updated by Debezium's heartbeat action query). */
export async function ensureMysqlHeartbeatTable(conn: Sql, heartbeatTable: string): Promise<void> {
  const [database] = splitQualified(heartbeatTable);
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${conn.escapeId(database)}`);
  await conn.query(`CREATE TABLE IF NOT EXISTS ${qualified(conn, heartbeatTable)} (id INT PRIMARY KEY, ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`);
  await conn.query(`INSERT IGNORE INTO ${qualified(conn, heartbeatTable)} (id, ts) VALUES (1, CURRENT_TIMESTAMP(6))`);
}

/** The heartbeat statement Debezium runs (`heartbeat.action.query`). */
export function mysqlHeartbeatActionQuery(heartbeatTable: string): string {
  return `INSERT INTO ${heartbeatTable} (id, ts) VALUES (1, NOW(6)) ON DUPLICATE KEY UPDATE ts = NOW(6)`;
}

function capturedDatabases(tables: string[]): Set<string> {
  return new Set(tables.map(t => splitQualified(t)[0]));
}

async function revokeIgnoringMissing(conn: Sql, sql: string): Promise<void> {
  try {
    await conn.query(sql);
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno !== ER_NONEXISTING_TABLE_GRANT && errno !== ER_NO_SUCH_TABLE) throw e;
  }
}

/** The `mysql_native_password` hash of `password` (`*` + upper-case hex of SHA1(SHA1(password))), as MariaDB stores it. */
export function mysqlNativePasswordHash(password: string): string {
  const once = crypto.createHash('sha1').update(Buffer.from(password, 'utf8')).digest();
  return '*' + crypto.createHash('sha1').update(once).digest('hex').toUpperCase();
}

/** MariaDB, or MySQL (RDS for MySQL, Aurora MySQL). */
async function isMariaDb(conn: Sql): Promise<boolean> {
  const [v] = await rows<{ v: string }>(conn, 'SELECT VERSION() AS v');
  return /mariadb/i.test(v.v);
}

/**
 * The password clause of CREATE / ALTER USER, keeping the password out of the statement text where the server can:
 * MariaDB logs statements as written (its general log does not rewrite passwords), so it gets the stored hash
 * (`IDENTIFIED BY PASSWORD '*...'`, which MariaDB stores as is). MySQL rewrites the password of
 * `CREATE/ALTER USER ... IDENTIFIED BY` before writing the general, slow and binary logs, and its default
 * `caching_sha2_password` takes no client-computed hash that could be checked here, so it gets `IDENTIFIED BY`.
 */
async function identifiedBy(conn: Sql, password: string): Promise<string> {
  return await isMariaDb(conn)
    ? `IDENTIFIED BY PASSWORD ${conn.escape(mysqlNativePasswordHash(password))}`
    : `IDENTIFIED BY ${conn.escape(password)}`;
}

/**
 * Runs a statement whose text carries the password (or its hash). mysql2 attaches the statement text to a failed
 * query's error (`err.sql`), and the Lambda runtime logs an error's enumerable properties, so a refusal (a password
 * validation plugin, `--strict-password-validation`) is rethrown as a BootstrapError with the server's code and
 * message only, never the statement, the password or its hash, and without the original error as `cause`.
 */
async function queryWithPassword(conn: Sql, sql: string, user: Credentials, what: string): Promise<void> {
  try {
    await conn.query(sql);
  } catch (e) {
    const err = e as { message?: string; code?: string; errno?: number; sqlState?: string };
    // Server messages do not quote the password; a syntax error's "near '...'" could, so every form of it is cut out.
    let message = String(err.message ?? 'unknown error');
    const secrets = [user.password, conn.escape(user.password), mysqlNativePasswordHash(user.password)].filter(x => x.length > 0);
    for (const secret of secrets.sort((a, b) => b.length - a.length)) message = message.split(secret).join('<redacted>');
    const out = new BootstrapError(`${what} of replication user '${user.username}' failed: ${message} (${err.code ?? 'unknown'}`
      + `${err.errno !== undefined ? `, errno ${err.errno}` : ''}). The statement is left out of this error because it carries the password. `
      + (err.code === 'ER_NOT_VALID_PASSWORD' || err.code === 'ER_OPTION_PREVENTS_STATEMENT'
        ? 'A password validation policy refused it: put a password the policy accepts into the replication secret (or relax the policy) and deploy again.'
        : ''));
    Object.assign(out, { code: err.code, errno: err.errno, sqlState: err.sqlState });
    throw out;
  }
}

/**
 * Refuses a replication user name that is the admin user the bootstrap connects as: the bootstrap would change its
 * password and drop it when the stack is deleted.
 */
export async function checkMysqlReplicationUser(conn: Sql, username: string): Promise<void> {
  const [me] = await rows<{ u: string }>(conn, 'SELECT CURRENT_USER() AS u');
  const admin = me.u.slice(0, me.u.lastIndexOf('@'));
  if (username === admin) {
    throw new BootstrapError(`replicationUsername '${username}' is the admin user the bootstrap connects as. `
      + 'Choose another replicationUsername (default \'debezium\'): the bootstrap sets its password and drops it when the stack is deleted.');
  }
}

/**
 * Creates (or re-passwords) the replication user with the grants Debezium needs: RELOAD, SHOW DATABASES,
 * REPLICATION SLAVE and REPLICATION CLIENT server-wide, SELECT on each captured table only, LOCK TABLES on the
 * captured databases (snapshot locking on RDS), and SELECT/INSERT/UPDATE on the heartbeat table.
 * Grants on tables and databases no longer captured are revoked.
 */
export async function ensureMysqlReplicationUser(conn: Sql, config: MysqlBootstrapConfig, previousTables: string[] = []): Promise<void> {
  await checkMysqlReplicationUser(conn, config.replication.username);
  const who = account(conn, config.replication.username);
  const password = await identifiedBy(conn, config.replication.password);
  await queryWithPassword(conn, `CREATE USER IF NOT EXISTS ${who} ${password}`, config.replication, 'CREATE USER');
  await queryWithPassword(conn, `ALTER USER ${who} ${password}`, config.replication, 'ALTER USER');
  await conn.query(`GRANT ${MYSQL_GLOBAL_GRANTS.join(', ')} ON *.* TO ${who}`);
  for (const table of config.tables) await conn.query(`GRANT SELECT ON ${qualified(conn, table)} TO ${who}`);
  await conn.query(`GRANT SELECT, INSERT, UPDATE ON ${qualified(conn, config.heartbeatTable)} TO ${who}`);
  // RDS and Aurora refuse FLUSH TABLES WITH READ LOCK, so Debezium's snapshot falls back to LOCK TABLES, a
  // database-level privilege that only works on tables the user can also SELECT: the captured ones.
  const databases = capturedDatabases(config.tables);
  for (const database of databases) await conn.query(`GRANT LOCK TABLES ON ${conn.escapeId(database)}.* TO ${who}`);
  const kept = new Set([...config.tables, config.heartbeatTable]);
  for (const table of previousTables) {
    if (!kept.has(table)) await revokeIgnoringMissing(conn, `REVOKE SELECT ON ${qualified(conn, table)} FROM ${who}`);
  }
  for (const database of capturedDatabases(previousTables)) {
    if (!databases.has(database)) await revokeIgnoringMissing(conn, `REVOKE LOCK TABLES ON ${conn.escapeId(database)}.* FROM ${who}`);
  }
}

/**
 * Keeps binlog files long enough for a connector that was down to resume. RDS and Aurora MySQL provide
 * `mysql.rds_set_configuration`; elsewhere (self-managed MySQL, MariaDB) the procedure does not exist and the step is skipped.
 */
export async function setMysqlBinlogRetention(conn: Sql, hours: number): Promise<boolean> {
  try {
    await conn.query(`CALL mysql.rds_set_configuration('binlog retention hours', ?)`, [hours]);
    return true;
  } catch (e) {
    if ((e as { errno?: number }).errno === ER_SP_DOES_NOT_EXIST) return false;
    throw e;
  }
}

/** The grants a user holds, as the server prints them (for checks and tests). */
export async function mysqlGrants(conn: Sql, username: string): Promise<string[]> {
  const result = await rows<Record<string, string>>(conn, `SHOW GRANTS FOR ${account(conn, username)}`);
  return result.map(r => Object.values(r)[0]);
}

/** Create or Update: every step is idempotent, so running it twice leaves the same state. */
export async function bootstrapMysql(conn: Sql, config: MysqlBootstrapConfig, previousTables: string[] = []): Promise<MysqlBootstrapResult> {
  await checkMysqlSettings(conn);
  await checkMysqlReplicationUser(conn, config.replication.username);
  await checkMysqlTables(conn, config.tables);
  await ensureMysqlHeartbeatTable(conn, config.heartbeatTable);
  await ensureMysqlReplicationUser(conn, config, previousTables);
  if (config.signalTable) await ensureMysqlSignalTable(conn, config.signalTable, config.replication.username);
  const binlogRetentionConfigured = await setMysqlBinlogRetention(conn, config.binlogRetentionHours);
  return { binlogRetentionConfigured };
}

/**
 * Update, same server: removes what the previous settings had and the new ones no longer use. The old heartbeat and
 * signaling tables are dropped only when the new settings do not name them (the default signaling table sits next to
 * the heartbeat table, so renaming only the heartbeat table keeps it), after revoking the replication user's grants
 * on them (MySQL keeps table grants when a table is dropped, and would give them to a new table of that name).
 * A renamed replication user is dropped, its grants with it.
 */
export async function cleanupMysqlAfterUpdate(conn: Sql, before: MysqlBootstrapConfig, after: MysqlBootstrapConfig): Promise<void> {
  const userChanged = before.replication.username !== after.replication.username;
  const inUse = new Set([...after.tables, after.heartbeatTable, ...(after.signalTable ? [after.signalTable] : [])]);
  const unused = [before.heartbeatTable, ...(before.signalTable ? [before.signalTable] : [])].filter(t => !inUse.has(t));
  for (const table of new Set(unused)) {
    if (!userChanged) {
      await revokeIgnoringMissing(conn, `REVOKE ALL PRIVILEGES ON ${qualified(conn, table)} FROM ${account(conn, before.replication.username)}`);
    }
    await conn.query(`DROP TABLE IF EXISTS ${qualified(conn, table)}`);
  }
  if (userChanged) await conn.query(`DROP USER IF EXISTS ${account(conn, before.replication.username)}`);
}

/** The heartbeat and signaling tables: what the bootstrap creates besides the user. */
function ownTables(config: MysqlBootstrapConfig): string[] {
  return [...new Set([config.heartbeatTable, ...(config.signalTable ? [config.signalTable] : [])])];
}

/** Names other resources use on this server: Delete leaves them. */
export interface MysqlInUse { readonly users: ReadonlySet<string>; readonly tables: ReadonlySet<string> }

const NOTHING_IN_USE: MysqlInUse = { users: new Set(), tables: new Set() };

/**
 * Delete: drops the heartbeat and signaling tables and the replication user. Binlog retention is left as set.
 * What `inUse` names is left; a table dropped while its user stays first loses that user's grants (MySQL keeps a dropped
 * table's grants and would give them to a new table of that name).
 */
export async function cleanupMysql(conn: Sql, config: MysqlBootstrapConfig, inUse: MysqlInUse = NOTHING_IN_USE): Promise<void> {
  const keepUser = inUse.users.has(config.replication.username);
  for (const table of ownTables(config).filter(t => !inUse.tables.has(t))) {
    if (keepUser) await revokeIgnoringMissing(conn, `REVOKE ALL PRIVILEGES ON ${qualified(conn, table)} FROM ${account(conn, config.replication.username)}`);
    await conn.query(`DROP TABLE IF EXISTS ${qualified(conn, table)}`);
  }
  if (!keepUser) await conn.query(`DROP USER IF EXISTS ${account(conn, config.replication.username)}`);
}

/** What already existed before a Create ran: a failed Create removes only what is not in here. */
export interface MysqlCreateBaseline {
  readonly user: boolean;
  /** Heartbeat and signaling tables that existed. */
  readonly tables: ReadonlySet<string>;
}

/** The table's `COMMENT`, undefined when there is no such table. */
async function tableComment(conn: Sql, name: string): Promise<string | undefined> {
  const [found] = await rows<{ c: string }>(conn, 'SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', splitQualified(name));
  return found?.c;
}

export async function mysqlCreateBaseline(conn: Sql, config: MysqlBootstrapConfig): Promise<MysqlCreateBaseline> {
  const tables = new Set<string>();
  for (const t of ownTables(config)) if (await tableComment(conn, t) !== undefined) tables.add(t);
  const user = await rows(conn, `SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'`, [config.replication.username]);
  return { user: user.length > 0, tables };
}

/**
 * After a failed Create: removes what this run created (the heartbeat and signaling tables, the replication user with
 * its grants), nothing that existed before it; a user that existed keeps what the run granted it, except on the tables
 * dropped. The provider framework answers CloudFormation's Delete of a failed Create itself, so nothing else would.
 * Databases created (for the tables, or by `initialSchema`) are left.
 */
export async function undoMysqlCreate(conn: Sql, config: MysqlBootstrapConfig, baseline: MysqlCreateBaseline): Promise<void> {
  await cleanupMysql(conn, config, { users: new Set(baseline.user ? [config.replication.username] : []), tables: baseline.tables });
}

/**
 * The owner marker, the heartbeat table's `COMMENT`: the physical id whose Create or Update last set the server up, and
 * the user and tables that resource uses. The physical id holds the host string, so one server reached by two host
 * names (an Aurora instance and its cluster endpoint, an IP and a DNS name) has two ids; the marker, kept on the server
 * itself, tells Delete which of them owns what it would drop.
 */
export interface MysqlOwner {
  readonly physicalResourceId: string;
  readonly user: string;
  /** The heartbeat and signaling tables. */
  readonly tables: string[];
}

/** The marker's text: this prefix, then JSON of the owner. At most 2048 characters (MySQL's table comment limit). */
export const MYSQL_OWNER_MARKER_PREFIX = 'cdk-agent-data-stack replication bootstrap owner: ';

export function mysqlOwnerMarker(config: MysqlBootstrapConfig, physicalResourceId: string): string {
  return MYSQL_OWNER_MARKER_PREFIX + JSON.stringify({ physicalResourceId, user: config.replication.username, tables: ownTables(config) });
}

function parseMysqlOwner(table: string, comment: string): MysqlOwner | undefined {
  try {
    const o = JSON.parse(comment.slice(MYSQL_OWNER_MARKER_PREFIX.length)) as Partial<MysqlOwner>;
    if (typeof o.physicalResourceId === 'string' && typeof o.user === 'string' && Array.isArray(o.tables)) {
      return { physicalResourceId: o.physicalResourceId, user: o.user, tables: o.tables.map(String) };
    }
  } catch {
    // Not JSON: reported below like any other unreadable marker.
  }
  console.warn(JSON.stringify({ message: 'ignoring an unreadable owner marker (table COMMENT)', table, comment }));
  return undefined;
}

/**
 * Create and Update: marks the heartbeat table as set up for `physicalResourceId` (an unchanged marker is not written
 * again: ALTER TABLE is DDL). Runs after `bootstrapMysql`, which created the table.
 */
export async function markMysqlOwner(conn: Sql, config: MysqlBootstrapConfig, physicalResourceId: string): Promise<void> {
  const marker = mysqlOwnerMarker(config, physicalResourceId);
  if (await tableComment(conn, config.heartbeatTable) === marker) return;
  await conn.query(`ALTER TABLE ${qualified(conn, config.heartbeatTable)} COMMENT = ${conn.escape(marker)}`);
}

/** Every owner marker on the server. */
export async function mysqlOwners(conn: Sql): Promise<MysqlOwner[]> {
  const found = await rows<{ t: string; c: string }>(conn,
    `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS t, TABLE_COMMENT AS c FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_COMMENT LIKE ? ORDER BY 1`, [`${MYSQL_OWNER_MARKER_PREFIX}%`]);
  return found.map(r => parseMysqlOwner(r.t, r.c)).filter((o): o is MysqlOwner => o !== undefined);
}

/**
 * Reads the owner markers for Delete of `physicalResourceId`. Markers naming another physical id belong to a newer
 * resource on this same server (its host string changed, or an update was rolled back): Delete leaves the user and
 * tables those name (`inUse`; `kept`: which of `config`'s) and drops the rest. No marker at all (a resource an older
 * release created): Delete drops as before markers.
 */
export async function mysqlInUseElsewhere(
  conn: Sql, config: MysqlBootstrapConfig, physicalResourceId: string,
): Promise<{ owners: string[]; inUse: MysqlInUse; kept: string[] }> {
  const others = (await mysqlOwners(conn)).filter(o => o.physicalResourceId !== physicalResourceId);
  const inUse: MysqlInUse = { users: new Set(others.map(o => o.user)), tables: new Set(others.flatMap(o => o.tables)) };
  const kept = [
    ...(inUse.users.has(config.replication.username) ? [`user ${config.replication.username}`] : []),
    ...ownTables(config).filter(t => inUse.tables.has(t)).map(t => `table ${t}`),
  ];
  return { owners: [...new Set(others.map(o => o.physicalResourceId))], inUse, kept };
}
