// PostgreSQL side of the replication bootstrap: checks, replication user and grants, heartbeat table, publication, cleanup.
import * as crypto from 'crypto';
import type { Client } from 'pg';
import { BootstrapError, Credentials, splitQualified } from '../../contract/replication-bootstrap';
import { dropPostgresSignalTable, ensurePostgresSignalTable } from './signal';

/** `COMMENT ON ROLE` of the replication roles the bootstrap creates: only a role carrying it is ever changed or dropped. */
export const REPLICATION_ROLE_MARKER = 'cdk-agent-data-stack replication user (created and managed by the replication bootstrap)';

/** Everything the bootstrap sets up in one PostgreSQL database. */
export interface PostgresBootstrapConfig {
  /** The database the client is connected to. */
  readonly database: string;
  /** `schema.table`, case-sensitive (quoted as given). */
  readonly tables: string[];
  readonly heartbeatTable: string;
  /** `schema.table` of Debezium's signaling table: written by the replication user (snapshot watermarks), in the publication. @default - none */
  readonly signalTable?: string;
  readonly publicationName: string;
  readonly slotName: string;
  readonly replication: Credentials;
  /** Captured tables to set to `REPLICA IDENTITY FULL` (whole old row in UPDATE / DELETE events). @default [] */
  readonly fullRowImageTables?: string[];
  /** How long `ALTER TABLE ... REPLICA IDENTITY` waits for its ACCESS EXCLUSIVE lock before failing. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /** SQL to run before the table checks (`initialSchema`), when it should run this time. @default - none */
  readonly initialSchemaSql?: string;
}

export interface PostgresCleanupOptions {
  /** Drop the replication role too (false when an Update keeps the same user). @default true */
  readonly dropUser?: boolean;
  /** How long to wait for an active slot to be released before failing. @default 60_000 */
  readonly slotReleaseTimeoutMs?: number;
  /** Poll interval while waiting for the slot; with `terminateActive`, the first retry delay (doubling up to `maxBackoffMs`). @default 2_000 */
  readonly pollIntervalMs?: number;
  /** Longest delay between retries with `terminateActive`. @default 5_000 */
  readonly maxBackoffMs?: number;
  /**
   * End the walsender that holds the slot (`pg_terminate_backend` of the slot's `active_pid`, nothing else) instead
   * of only waiting for it. Stack delete sets it: the connector is being deleted, and waiting could stall the delete.
   * @default false
   */
  readonly terminateActive?: boolean;
}

type Sql = Pick<Client, 'query' | 'escapeIdentifier' | 'escapeLiteral'>;

function signalTables(config: Pick<PostgresBootstrapConfig, 'signalTable'>): string[] {
  return config.signalTable ? [config.signalTable] : [];
}

function qualified(client: Sql, name: string): string {
  const [schema, table] = splitQualified(name);
  return `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
}

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

/** One relation whose replica identity the bootstrap manages: a listed table, or a partition / child of one. */
interface IdentityTarget {
  /** `"schema"."table"`, quoted. */
  readonly sql: string;
  /** `schema.table`, for messages. */
  readonly name: string;
  readonly relreplident: string;
  readonly hasPk: boolean;
  /** The connected user has the owner's privileges (owner, member of the owner role, or superuser). */
  readonly owned: boolean;
  readonly owner: string;
}

/**
 * The table and, for a partitioned (or inheritance) parent, every partition / child below it: logical decoding
 * publishes leaf partitions' changes with each partition's own replica identity, which ALTER TABLE on the parent
 * does not propagate. Empty when the table does not exist.
 */
async function identityTargets(client: Sql, table: string): Promise<IdentityTarget[]> {
  const [schema, name] = splitQualified(table);
  const res = await client.query<{ nspname: string; relname: string; relreplident: string; has_pk: boolean; owned: boolean; owner: string }>(
    `WITH RECURSIVE tree(oid, depth) AS (
       SELECT c.oid, 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
       UNION ALL
       SELECT i.inhrelid, t.depth + 1 FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid
     )
     SELECT n.nspname, c.relname, c.relreplident,
            EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary) AS has_pk,
            pg_has_role(c.relowner, 'USAGE') AS owned,
            pg_get_userbyid(c.relowner) AS owner
       FROM tree t JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
      ORDER BY t.depth, n.nspname, c.relname`,
    [schema, name],
  );
  return res.rows.map(r => ({
    sql: `${client.escapeIdentifier(r.nspname)}.${client.escapeIdentifier(r.relname)}`,
    name: `${r.nspname}.${r.relname}`,
    relreplident: r.relreplident,
    hasPk: r.has_pk,
    owned: r.owned,
    owner: r.owner,
  }));
}

/**
 * Sets every table in `fullRowImageTables` (and its partitions) to REPLICA IDENTITY FULL, so UPDATE and DELETE
 * events carry the whole old row (Flink's `debezium-json` needs it), and returns tables that were in
 * `previousFullRowImageTables` but no longer are to REPLICA IDENTITY DEFAULT, where they are FULL and have a
 * primary key (a keyless table stays FULL: DEFAULT would leave its changes without a key). Relations already in
 * the wanted state are not touched, so repeating it changes nothing. Ownership is checked for every relation
 * before any is altered: only the owner may change a replica identity.
 */
export async function ensurePostgresReplicaIdentity(
  client: Sql, fullRowImageTables: string[], previousFullRowImageTables: string[] = [], lockTimeoutMs = 10_000,
): Promise<void> {
  // Keyed by relation: a partition can be reached both on its own and through its parent.
  const wanted = new Map<string, IdentityTarget>();
  for (const table of fullRowImageTables) {
    for (const t of await identityTargets(client, table)) wanted.set(t.name, t);
  }
  const unwanted = new Map<string, IdentityTarget>();
  for (const table of previousFullRowImageTables) {
    for (const t of await identityTargets(client, table)) if (!wanted.has(t.name)) unwanted.set(t.name, t);
  }
  const toFull = [...wanted.values()].filter(t => t.relreplident !== 'f');
  const toDefault = [...unwanted.values()].filter(t => t.relreplident === 'f' && t.hasPk);
  const notOwned = [...toFull, ...toDefault].filter(t => !t.owned);
  if (notOwned.length) {
    const admin = (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
    throw new BootstrapError(`Cannot change the replica identity of ${notOwned.map(t => `${t.name} (owner ${t.owner})`).join(', ')}: `
      + `only a table's owner may, and the admin user '${admin}' is not the owner or a member of its role. `
      + `Run ${notOwned.map(t => `ALTER TABLE ${t.sql} REPLICA IDENTITY ${toFull.includes(t) ? 'FULL' : 'DEFAULT'}`).join('; ')} as the owner `
      + `(or GRANT the owner role to '${admin}'), then deploy again.`);
  }
  if (toFull.length === 0 && toDefault.length === 0) return;
  // The ALTER takes an ACCESS EXCLUSIVE lock: fail fast instead of queueing behind a long transaction (and making every query on the table queue behind us).
  await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
  try {
    for (const t of toFull) await alterReplicaIdentity(client, t, 'FULL', lockTimeoutMs);
    for (const t of toDefault) await alterReplicaIdentity(client, t, 'DEFAULT', lockTimeoutMs);
  } finally {
    await client.query('RESET lock_timeout');
  }
}

async function alterReplicaIdentity(client: Sql, target: IdentityTarget, identity: 'FULL' | 'DEFAULT', lockTimeoutMs: number): Promise<void> {
  const statement = `ALTER TABLE ${target.sql} REPLICA IDENTITY ${identity}`;
  try {
    await client.query(statement);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === '42501') {
      throw new BootstrapError(`Cannot set REPLICA IDENTITY ${identity} on ${target.name}: ${err.message}. `
        + `Run ${statement} as the table's owner (${target.owner}), or give the admin user the owner's role and USAGE on the schema, then deploy again.`);
    }
    if (err.code === '55P03') {
      throw new BootstrapError(`Timed out after ${lockTimeoutMs} ms waiting for a lock on ${target.name} to set REPLICA IDENTITY ${identity}: `
        + `a long-running transaction holds it. Let it finish (see pg_stat_activity), then deploy again.`);
    }
    throw e;
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

async function roleExists(client: Sql, name: string): Promise<boolean> {
  const res = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return res.rows.length > 0;
}

/** The role's `COMMENT ON ROLE`, null without one, undefined when there is no such role. */
async function roleComment(client: Sql, name: string): Promise<string | null | undefined> {
  const res = await client.query<{ comment: string | null }>(
    `SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`, [name],
  );
  return res.rows.length === 0 ? undefined : res.rows[0].comment;
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

async function relationExists(client: Sql, name: string): Promise<boolean> {
  const [schema, table] = splitQualified(name);
  const res = await client.query(
    'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
    [schema, table],
  );
  return res.rows.length > 0;
}

async function schemaExists(client: Sql, schema: string): Promise<boolean> {
  const res = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return res.rows.length > 0;
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

/**
 * Drops the configured slot when PostgreSQL invalidated it (`wal_status = 'lost'`: it fell behind by more than
 * `max_slot_wal_keep_size`) and no process holds it. Such a slot can never stream again; Debezium keeps retrying it, and
 * once it is gone finds its stored position unavailable, re-snapshots (`snapshot.mode` `when_needed`) and creates a new
 * slot of the same name. Returns whether a slot was dropped.
 */
export async function dropInvalidatedPostgresSlot(client: Sql, config: Pick<PostgresBootstrapConfig, 'slotName' | 'database'>): Promise<boolean> {
  if (!config.slotName) return false;
  const res = await client.query(
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
      WHERE slot_name = $1 AND database = $2 AND wal_status = 'lost' AND NOT active`, [config.slotName, config.database],
  );
  const dropped = (res.rowCount ?? 0) > 0;
  if (dropped) console.warn(JSON.stringify({ message: 'dropped the invalidated replication slot; the connector re-snapshots into a new one', slot: config.slotName }));
  return dropped;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** 55006 object_in_use: the slot became active again between the check and the drop (a connector reconnecting). */
const OBJECT_IN_USE = '55006';
/** 42704 undefined_object: no such slot. */
const UNDEFINED_OBJECT = '42704';

/**
 * Drops the replication slot. A slot left behind retains WAL until the disk fills, so it is never ignored:
 * - without `terminateActive`, an active slot is waited for (a connector being deleted releases it) and then reported;
 * - with `terminateActive` (stack delete), the walsender holding it, and only that process (`active_pid` of this slot),
 *   is ended with `pg_terminate_backend`, and the drop is retried with backoff until `slotReleaseTimeoutMs`, since a
 *   connector that is still shutting down may reconnect in between.
 */
export async function dropPostgresSlot(client: Sql, config: Pick<PostgresBootstrapConfig, 'slotName' | 'database'>, options: PostgresCleanupOptions = {}): Promise<boolean> {
  const timeout = options.slotReleaseTimeoutMs ?? 60_000;
  const interval = options.pollIntervalMs ?? 2_000;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const deadline = Date.now() + timeout;
  let backoff = interval;
  let terminated = 0;
  for (;;) {
    const res = await client.query<{ active: boolean; active_pid: number | null }>(
      'SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1 AND database = $2', [config.slotName, config.database],
    );
    if (res.rows.length === 0) return false;
    const { active, active_pid: pid } = res.rows[0];
    if (!active) {
      try {
        await client.query('SELECT pg_drop_replication_slot($1)', [config.slotName]);
        return true;
      } catch (e) {
        const code = (e as { code?: string }).code;
        // Dropped by someone else meanwhile: gone is what we want.
        if (code === UNDEFINED_OBJECT) return false;
        // Re-taken by a reconnecting connector between the check and the drop: look again.
        if (code !== OBJECT_IN_USE) throw e;
      }
    } else if (options.terminateActive && pid !== null) {
      await terminateWalsender(client, config.slotName, pid);
      terminated++;
    }
    if (Date.now() >= deadline) {
      throw new BootstrapError(`Replication slot ${config.slotName} is still in use by process ${pid ?? 'unknown'} (a running Debezium connector)`
        + (terminated > 0 ? ` after ending its walsender ${terminated} time(s) over ${timeout} ms: something keeps reconnecting to it` : '')
        + '. Stop or delete the connector, then retry; the slot must not be left behind because it retains WAL.');
    }
    await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
    if (options.terminateActive) backoff = Math.min(backoff * 2, maxBackoff);
  }
}

/**
 * Ends the walsender streaming from `slotName`: the pid is re-checked in the same statement, so a process that
 * released the slot meanwhile (and whose pid may be reused) is never signalled.
 */
async function terminateWalsender(client: Sql, slotName: string, pid: number): Promise<void> {
  try {
    await client.query(
      'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid = $2', [slotName, pid],
    );
  } catch (e) {
    if ((e as { code?: string }).code === '42501') {
      const admin = (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0].u;
      throw new BootstrapError(`Cannot end process ${pid}, which holds replication slot ${slotName}: the admin user '${admin}' may not signal it `
        + `(${(e as Error).message}). GRANT pg_signal_backend TO ${admin} (RDS: it is a member of rds_superuser), or stop the connector, then retry.`);
    }
    throw e;
  }
}

/**
 * Revokes what `ensurePostgresReplicationUser` granted in this database and, unless `dropRole` is false, drops the
 * role; a role without the bootstrap's marker comment (not created by it) is left alone.
 */
export async function dropPostgresReplicationUser(
  client: Sql, config: Pick<PostgresBootstrapConfig, 'database' | 'tables' | 'heartbeatTable' | 'signalTable' | 'replication'>, dropRole = true,
): Promise<void> {
  // Only a role this bootstrap created (marked) is touched: an Update rolled back after a refused rename must not
  // revoke or drop the grants of the foreign role it was refused for.
  if (await roleComment(client, config.replication.username) !== REPLICATION_ROLE_MARKER) return;
  const user = client.escapeIdentifier(config.replication.username);
  const tables = [...config.tables, config.heartbeatTable, ...signalTables(config)];
  for (const table of tables) {
    if (await relationExists(client, table)) await client.query(`REVOKE ALL ON TABLE ${qualified(client, table)} FROM ${user}`);
  }
  for (const schema of new Set(tables.map(t => splitQualified(t)[0]))) {
    if (await schemaExists(client, schema)) await client.query(`REVOKE USAGE ON SCHEMA ${client.escapeIdentifier(schema)} FROM ${user}`);
  }
  await client.query(`REVOKE CONNECT ON DATABASE ${client.escapeIdentifier(config.database)} FROM ${user}`);
  if (dropRole) await client.query(`DROP ROLE IF EXISTS ${user}`);
}

/** Drops the publication (a no-op when it is already gone). */
export async function dropPostgresPublication(client: Sql, publicationName: string): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${client.escapeIdentifier(publicationName)}`);
}

/** Drops the heartbeat table (a no-op when it is already gone). */
export async function dropPostgresHeartbeatTable(client: Sql, heartbeatTable: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${qualified(client, heartbeatTable)}`);
}

/**
 * Delete: drops the publication, the slot (once no connector holds it), the heartbeat table, the grants and
 * (unless `dropUser` is false) the replication role. Safe to run when some or all of it is already gone.
 */
export async function cleanupPostgres(client: Sql, config: PostgresBootstrapConfig, options: PostgresCleanupOptions = {}): Promise<void> {
  await dropPostgresPublication(client, config.publicationName);
  await dropPostgresSlot(client, config, options);
  await dropPostgresReplicationUser(client, config, options.dropUser ?? true);
  await dropPostgresHeartbeatTable(client, config.heartbeatTable);
  if (config.signalTable) await dropPostgresSignalTable(client, config.signalTable);
}
