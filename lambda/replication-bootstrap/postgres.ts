// PostgreSQL side of the replication bootstrap: checks, replication user and grants, heartbeat table, publication, cleanup.
import * as crypto from 'crypto';
import { BootstrapError, splitQualified } from '../../contract/replication-bootstrap';
import {
  PostgresBootstrapConfig, qualified, relationExists, REPLICATION_ROLE_MARKER, roleComment, roleExists, schemaExists, signalTables, Sql,
} from './postgres-common';
import { dropInvalidatedPostgresSlot } from './postgres-cleanup';
import { ensurePostgresReplicaIdentity } from './postgres-identity';
import { ensurePostgresSignalTable } from './signal';

export { REPLICATION_ROLE_MARKER } from './postgres-common';
export type { PostgresBootstrapConfig, PostgresCleanupOptions } from './postgres-common';
export { ensurePostgresReplicaIdentity } from './postgres-identity';
export {
  cleanupPostgres, dropInvalidatedPostgresSlot, dropPostgresHeartbeatTable, dropPostgresPublication, dropPostgresReplicationUser, dropPostgresSlot,
  markPostgresOwner, POSTGRES_OWNER_MARKER_PREFIX, postgresCreateBaseline, postgresInUseElsewhere, postgresOwnerMarker, postgresOwners, undoPostgresCreate,
} from './postgres-cleanup';
export type { PostgresCreateBaseline, PostgresElsewhere, PostgresInUse, PostgresOwner } from './postgres-cleanup';

/**
 * Fails unless logical decoding is on. `wal_level` is what RDS derives from `rds.logical_replication`,
 * so an imported database whose parameter group was never changed is caught here.
 */
export async function checkPostgresSettings(client: Sql): Promise<void> {
  const res = await client.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders')`,
  );
  const settings = Object.fromEntries(res.rows.map(r => [r.name, r.setting]));
  if (settings.wal_level !== 'logical') {
    throw new BootstrapError(
      `Logical replication is off: wal_level is '${settings.wal_level}', Debezium needs 'logical'. `
      + `Set the parameter rds.logical_replication = 1 in the database's parameter group `
      + `(Aurora: the DB cluster parameter group) and reboot the writer, then deploy again.`,
    );
  }
  for (const name of ['max_replication_slots', 'max_wal_senders']) {
    if (Number(settings[name] ?? '0') < 1) {
      throw new BootstrapError(`${name} is ${settings[name]}; Debezium needs at least one. Raise ${name} in the parameter group and reboot.`);
    }
  }
}

/**
 * Fails with the full list of captured tables that do not exist, and of those that have neither a primary key
 * nor a usable replica identity (UPDATE and DELETE events would carry no key). Tables in `fullRowImageTables`
 * are accepted without a primary key: the bootstrap sets them to REPLICA IDENTITY FULL.
 */
export async function checkPostgresTables(client: Sql, tables: string[], fullRowImageTables: string[] = []): Promise<void> {
  const willBeFull = new Set(fullRowImageTables);
  const missing: string[] = [];
  const keyless: string[] = [];
  for (const name of tables) {
    const [schema, table] = splitQualified(name);
    const res = await client.query<{ relreplident: string; has_pk: boolean }>(
      `SELECT c.relreplident,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    );
    if (res.rows.length === 0) {
      missing.push(name);
      continue;
    }
    const { relreplident, has_pk } = res.rows[0];
    // 'f' (FULL) and 'i' (USING INDEX) identify rows without a primary key; 'n' (NOTHING) never does.
    const identified = willBeFull.has(name) || relreplident === 'f' || relreplident === 'i' || (relreplident === 'd' && has_pk);
    if (!identified) keyless.push(name);
  }
  const problems: string[] = [];
  if (missing.length) {
    problems.push(`captured tables not found in database: ${missing.join(', ')} (create them before deploying or in CdcSourceDatabase's initialSchema, or remove them from 'tables'; names are case-sensitive)`);
  }
  if (keyless.length) {
    problems.push(`captured tables without a primary key or replica identity: ${keyless.join(', ')} `
      + `(add a PRIMARY KEY, or run ALTER TABLE <table> REPLICA IDENTITY FULL)`);
  }
  if (problems.length) throw new BootstrapError(`Cannot capture changes: ${problems.join('; ')}.`);
}

/** `line L` of a 1-based character position in `sql` (PostgreSQL reports error positions that way). */
export function sqlLineOf(sql: string, position: number): number {
  return sql.slice(0, Math.max(0, position - 1)).split('\n').length;
}

/**
 * Runs the `initialSchema` SQL. Sent as one simple query, its statements run in one implicit transaction: a failing
 * statement leaves nothing half-created. The error names the line and the server's message.
 */
export async function applyPostgresSchema(client: Sql, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (e) {
    const err = e as { message?: string; position?: string; code?: string };
    const where = err.position ? ` at line ${sqlLineOf(sql, Number(err.position))}` : '';
    throw new BootstrapError(`initialSchema failed${where}: ${err.message} (SQLSTATE ${err.code ?? 'unknown'}). Nothing of it was applied. `
      + 'Fix the SQL (it must also be safe to run twice: CREATE TABLE IF NOT EXISTS, INSERT ... ON CONFLICT DO NOTHING) and deploy again.');
  }
}

/** Creates the heartbeat table (one row, updated by Debezium's heartbeat action query). */
export async function ensurePostgresHeartbeatTable(client: Sql, heartbeatTable: string): Promise<void> {
  const [schema] = splitQualified(heartbeatTable);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${qualified(client, heartbeatTable)} (id integer PRIMARY KEY, ts timestamptz NOT NULL DEFAULT now())`);
  await client.query(`INSERT INTO ${qualified(client, heartbeatTable)} (id, ts) VALUES (1, now()) ON CONFLICT (id) DO NOTHING`);
}

/** The heartbeat statement Debezium runs (`heartbeat.action.query`), for an already quoted-or-plain table name. */
export function postgresHeartbeatActionQuery(heartbeatTable: string): string {
  return `INSERT INTO ${heartbeatTable} (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts`;
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 / RFC 7677, PostgreSQL's
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`). Sent as `PASSWORD '<verifier>'`, PostgreSQL stores
 * it as is, so the password itself never appears in statement text, which the server may log (log_statement,
 * log_min_error_statement) and RDS exports to CloudWatch Logs.
 */
export function scramSha256Verifier(password: string, salt: Buffer = crypto.randomBytes(16), iterations = 4096): string {
  // SASLprep leaves printable ASCII unchanged; anything else would need its normalisation, so it is refused.
  if (!/^[\x20-\x7e]+$/.test(password)) {
    throw new BootstrapError('The replication password must be non-empty printable ASCII (the generated one is letters and digits); set such a value in the replication secret.');
  }
  const salted = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = crypto.createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = crypto.createHash('sha256').update(clientKey).digest();
  const serverKey = crypto.createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Refuses a replication user name that is the admin user, or a role this bootstrap did not create (no marker
 * comment): changing its password and grants, and dropping it on delete, would hijack someone else's account.
 * `adopt` accepts an unmarked role the previous configuration already used (created by an older bootstrap).
 * Returns whether the role exists.
 */
export async function checkPostgresReplicationRole(client: Sql, username: string, adopt = false): Promise<boolean> {
  const admin = (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
  if (username === admin) {
    throw new BootstrapError(`replicationUsername '${username}' is the admin user the bootstrap connects as. `
      + 'Choose another replicationUsername (default \'debezium\'): the bootstrap sets its password and drops it when the stack is deleted.');
  }
  const comment = await roleComment(client, username);
  if (comment === undefined) return false;
  if (comment !== REPLICATION_ROLE_MARKER && !adopt) {
    throw new BootstrapError(`replicationUsername '${username}' names an existing role that this stack did not create. `
      + 'The bootstrap would change its password and grants and drop it when the stack is deleted. Choose another replicationUsername, '
      + `or, if the role is unused and may be taken over, run COMMENT ON ROLE ${client.escapeIdentifier(username)} IS ${client.escapeLiteral(REPLICATION_ROLE_MARKER)} and deploy again.`);
  }
  return true;
}

/**
 * Creates (or re-passwords) the replication role with exactly what Debezium needs: replication (the RDS
 * `rds_replication` role where it exists), CONNECT, USAGE on the captured schemas, SELECT on the captured tables,
 * and SELECT/INSERT/UPDATE on the heartbeat table. Grants on tables no longer captured are revoked.
 */
export async function ensurePostgresReplicationUser(
  client: Sql, config: PostgresBootstrapConfig, previousTables: string[] = [], adoptExistingRole = false,
): Promise<void> {
  const user = client.escapeIdentifier(config.replication.username);
  // The verifier, never the password: statement text can reach the server log.
  const verifier = client.escapeLiteral(scramSha256Verifier(config.replication.password));
  if (await checkPostgresReplicationRole(client, config.replication.username, adoptExistingRole)) {
    await client.query(`ALTER ROLE ${user} WITH LOGIN PASSWORD ${verifier}`);
  } else {
    await client.query(`CREATE ROLE ${user} WITH LOGIN PASSWORD ${verifier}`);
  }
  await client.query(`COMMENT ON ROLE ${user} IS ${client.escapeLiteral(REPLICATION_ROLE_MARKER)}`);
  if (await roleExists(client, 'rds_replication')) {
    await client.query(`GRANT rds_replication TO ${user}`);
  } else {
    // Self-managed PostgreSQL (and the test servers): the REPLICATION attribute is the equivalent.
    await client.query(`ALTER ROLE ${user} WITH REPLICATION`);
  }
  await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(config.database)} TO ${user}`);

  const schemas = new Set([...config.tables, config.heartbeatTable, ...signalTables(config)].map(t => splitQualified(t)[0]));
  for (const schema of schemas) await client.query(`GRANT USAGE ON SCHEMA ${client.escapeIdentifier(schema)} TO ${user}`);
  for (const table of config.tables) await client.query(`GRANT SELECT ON TABLE ${qualified(client, table)} TO ${user}`);
  await client.query(`GRANT SELECT, INSERT, UPDATE ON TABLE ${qualified(client, config.heartbeatTable)} TO ${user}`);
  // Incremental snapshots insert (and with insert_delete watermarking delete) their window watermarks in the signaling table.
  for (const table of signalTables(config)) await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${qualified(client, table)} TO ${user}`);

  const kept = new Set([...config.tables, config.heartbeatTable, ...signalTables(config)]);
  for (const table of previousTables) {
    if (!kept.has(table) && await relationExists(client, table)) {
      await client.query(`REVOKE ALL ON TABLE ${qualified(client, table)} FROM ${user}`);
    }
  }
  const previousSchemas = new Set(previousTables.map(t => splitQualified(t)[0]));
  for (const schema of previousSchemas) {
    if (!schemas.has(schema) && await schemaExists(client, schema)) {
      await client.query(`REVOKE USAGE ON SCHEMA ${client.escapeIdentifier(schema)} FROM ${user}`);
    }
  }
}

/** Creates the publication for exactly the captured tables plus the heartbeat table, or sets an existing one to that list. */
export async function ensurePostgresPublication(client: Sql, config: PostgresBootstrapConfig): Promise<void> {
  // The signaling table is read from the WAL like the captured tables (Debezium's source signal channel).
  const tableList = [...config.tables, config.heartbeatTable, ...signalTables(config)].map(t => qualified(client, t)).join(', ');
  const name = client.escapeIdentifier(config.publicationName);
  const res = await client.query<{ puballtables: boolean }>('SELECT puballtables FROM pg_publication WHERE pubname = $1', [config.publicationName]);
  if (res.rows.length === 0) {
    await client.query(`CREATE PUBLICATION ${name} FOR TABLE ${tableList}`);
  } else if (res.rows[0].puballtables) {
    throw new BootstrapError(`Publication ${config.publicationName} already exists FOR ALL TABLES and was not created by this stack. `
      + `Drop it or choose another publicationName.`);
  } else {
    await client.query(`ALTER PUBLICATION ${name} SET TABLE ${tableList}`);
  }
}

/** The tables currently in a publication, as `schema.table`, sorted. */
export async function publicationTables(client: Sql, publicationName: string): Promise<string[]> {
  const res = await client.query<{ name: string }>(
    `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`, [publicationName],
  );
  return res.rows.map(r => r.name);
}

/**
 * Create or Update: every step is idempotent, so running it twice leaves the same state. `previousTables` and
 * `previousFullRowImageTables` are the last configuration's lists in this database (what an Update may undo).
 */
export async function bootstrapPostgres(
  client: Sql, config: PostgresBootstrapConfig, previousTables: string[] = [], previousFullRowImageTables: string[] = [],
  adoptExistingRole = false,
): Promise<void> {
  await checkPostgresSettings(client);
  await checkPostgresReplicationRole(client, config.replication.username, adoptExistingRole);
  if (config.initialSchemaSql) await applyPostgresSchema(client, config.initialSchemaSql);
  await checkPostgresTables(client, config.tables, config.fullRowImageTables);
  await ensurePostgresReplicaIdentity(client, config.fullRowImageTables ?? [], previousFullRowImageTables, config.lockTimeoutMs);
  await ensurePostgresHeartbeatTable(client, config.heartbeatTable);
  if (config.signalTable) await ensurePostgresSignalTable(client, config.signalTable);
  await ensurePostgresReplicationUser(client, config, previousTables, adoptExistingRole);
  await ensurePostgresPublication(client, config);
  await dropInvalidatedPostgresSlot(client, config);
}
