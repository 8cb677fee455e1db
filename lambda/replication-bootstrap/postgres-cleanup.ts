// PostgreSQL side of the bootstrap's Delete (and slot recovery): slot, publication, grants, role and tables, each safe to drop when already gone.
import { BootstrapError } from '../../contract/replication-bootstrap';
import {
  PostgresBootstrapConfig, PostgresCleanupOptions, qualified, relationExists, REPLICATION_ROLE_MARKER, roleComment, signalTables, Sql,
} from './postgres-common';
import { dropPostgresSignalTable } from './signal';

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
  // Every grant the role holds in this database, as the catalog lists it: the configured tables and schemas, and any of an
  // earlier configuration an older bootstrap did not revoke (left, it makes DROP ROLE fail with 2BP01 on every retry).
  await revokeRemainingGrants(client, config.replication.username);
  await client.query(`REVOKE ALL ON DATABASE ${client.escapeIdentifier(config.database)} FROM ${user}`);
  if (dropRole) {
    try {
      await client.query(`DROP ROLE IF EXISTS ${user}`);
    } catch (e) {
      const err = e as { code?: string; message?: string; detail?: string };
      if (err.code !== DEPENDENT_OBJECTS_STILL_EXIST) throw e;
      throw new BootstrapError(`Cannot drop replication role ${config.replication.username}: ${err.message}${err.detail ? ` (${err.detail.replace(/\n/g, '; ')})` : ''}. `
        + 'The bootstrap revoked its privileges in this database but drops no objects: objects the role owns (or privileges in another '
        + `database) are left for you. REASSIGN OWNED BY ${user} TO <owner> and DROP OWNED BY ${user} in each database named, then retry.`);
    }
  }
}

/** 2BP01: the role still owns objects or holds privileges somewhere. */
const DEPENDENT_OBJECTS_STILL_EXIST = '2BP01';

/**
 * Revokes every privilege the role holds on relations and schemas of the connected database, as found in the catalog
 * (`pg_shdepend` ACL entries), whatever configuration granted it. Only privileges: nothing is dropped (unlike
 * `DROP OWNED BY`, which would also drop objects the role owns, and which the admin may not run on PostgreSQL 16+
 * without the role's privileges).
 */
async function revokeRemainingGrants(client: Sql, username: string): Promise<void> {
  const res = await client.query<{ kind: string; schema: string; name: string }>(
    `SELECT 'relation' AS kind, n.nspname AS schema, c.relname AS name
       FROM pg_shdepend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.deptype = 'a'
        AND d.refclassid = 'pg_authid'::regclass AND d.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
     UNION
     SELECT 'schema', n.nspname, n.nspname
       FROM pg_shdepend d JOIN pg_namespace n ON d.classid = 'pg_namespace'::regclass AND n.oid = d.objid
      WHERE d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.deptype = 'a'
        AND d.refclassid = 'pg_authid'::regclass AND d.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
     ORDER BY 1, 2, 3`, [username],
  );
  const user = client.escapeIdentifier(username);
  for (const r of res.rows) {
    if (r.kind === 'relation') {
      // ON TABLE covers views and sequences too; table-level REVOKE ALL also removes column privileges.
      await client.query(`REVOKE ALL ON TABLE ${client.escapeIdentifier(r.schema)}.${client.escapeIdentifier(r.name)} FROM ${user}`);
    } else {
      await client.query(`REVOKE ALL ON SCHEMA ${client.escapeIdentifier(r.schema)} FROM ${user}`);
    }
  }
}

/** Drops the publication (a no-op when it is already gone). */
export async function dropPostgresPublication(client: Sql, publicationName: string): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${client.escapeIdentifier(publicationName)}`);
}

/** Drops the heartbeat table (a no-op when it is already gone). */
export async function dropPostgresHeartbeatTable(client: Sql, heartbeatTable: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${qualified(client, heartbeatTable)}`);
}

/** Names other resources use in this database: Delete leaves them. */
export interface PostgresInUse {
  readonly publications: ReadonlySet<string>;
  readonly slots: ReadonlySet<string>;
  readonly users: ReadonlySet<string>;
  readonly tables: ReadonlySet<string>;
}

const NOTHING_IN_USE: PostgresInUse = { publications: new Set(), slots: new Set(), users: new Set(), tables: new Set() };

/**
 * Delete: drops the publication, the slot (once no connector holds it), the heartbeat table, the grants and
 * (unless `dropUser` is false) the replication role. Safe to run when some or all of it is already gone.
 * What `inUse` names (another physical id's resource uses it: `postgresInUseElsewhere`) is left, the role's grants too.
 */
export async function cleanupPostgres(
  client: Sql, config: PostgresBootstrapConfig, options: PostgresCleanupOptions = {}, inUse: PostgresInUse = NOTHING_IN_USE,
): Promise<void> {
  if (!inUse.publications.has(config.publicationName)) await dropPostgresPublication(client, config.publicationName);
  if (!inUse.slots.has(config.slotName)) await dropPostgresSlot(client, config, options);
  if (!inUse.users.has(config.replication.username)) await dropPostgresReplicationUser(client, config, options.dropUser ?? true);
  if (!inUse.tables.has(config.heartbeatTable)) await dropPostgresHeartbeatTable(client, config.heartbeatTable);
  if (config.signalTable && !inUse.tables.has(config.signalTable)) await dropPostgresSignalTable(client, config.signalTable);
}

/** What already existed before a Create ran: a failed Create removes only what is not in here. */
export interface PostgresCreateBaseline {
  readonly role: boolean;
  readonly publication: boolean;
  /** Heartbeat and signaling tables that existed. */
  readonly tables: ReadonlySet<string>;
}

export async function postgresCreateBaseline(client: Sql, config: PostgresBootstrapConfig): Promise<PostgresCreateBaseline> {
  const tables = new Set<string>();
  for (const t of [config.heartbeatTable, ...signalTables(config)]) if (await relationExists(client, t)) tables.add(t);
  const pub = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [config.publicationName]);
  return { role: await roleComment(client, config.replication.username) !== undefined, publication: pub.rows.length > 0, tables };
}

/**
 * After a failed Create: removes what this run created (the publication, the heartbeat and signaling tables, and the
 * role with its grants), nothing that existed before it. CloudFormation's Delete of a failed Create never reaches the
 * handler (the provider framework answers it), so nothing else would. Replica identities set are left (see Delete).
 */
export async function undoPostgresCreate(client: Sql, config: PostgresBootstrapConfig, baseline: PostgresCreateBaseline): Promise<void> {
  if (!baseline.publication) await dropPostgresPublication(client, config.publicationName);
  // dropPostgresReplicationUser touches only a role carrying the marker, i.e. the one this run created.
  if (!baseline.role) await dropPostgresReplicationUser(client, config, true);
  for (const t of [config.heartbeatTable, ...signalTables(config)]) {
    if (!baseline.tables.has(t)) await client.query(`DROP TABLE IF EXISTS ${qualified(client, t)}`);
  }
}

/**
 * The owner marker, `COMMENT ON PUBLICATION`: the physical id whose Create or Update last set up the publication, and
 * the slot, role and tables that resource uses. The physical id holds the host string, so one server reached by two
 * host names (an Aurora instance and its cluster endpoint, an IP and a DNS name) has two ids; the marker, kept on the
 * server itself, tells Delete which of them owns what it would drop.
 */
export interface PostgresOwner {
  readonly physicalResourceId: string;
  readonly publication: string;
  readonly slot: string;
  readonly user: string;
  /** The heartbeat and signaling tables. */
  readonly tables: string[];
}

/** The marker's text: this prefix, then JSON of the owner without the publication (the commented object). */
export const POSTGRES_OWNER_MARKER_PREFIX = 'cdk-agent-data-stack replication bootstrap owner: ';

export function postgresOwnerMarker(config: PostgresBootstrapConfig, physicalResourceId: string): string {
  return POSTGRES_OWNER_MARKER_PREFIX + JSON.stringify({
    physicalResourceId, slot: config.slotName, user: config.replication.username, tables: [config.heartbeatTable, ...signalTables(config)],
  });
}

function parsePostgresOwner(publication: string, comment: string | null): PostgresOwner | undefined {
  if (!comment?.startsWith(POSTGRES_OWNER_MARKER_PREFIX)) return undefined;
  try {
    const o = JSON.parse(comment.slice(POSTGRES_OWNER_MARKER_PREFIX.length)) as Partial<PostgresOwner>;
    if (typeof o.physicalResourceId === 'string' && typeof o.slot === 'string' && typeof o.user === 'string' && Array.isArray(o.tables)) {
      return { physicalResourceId: o.physicalResourceId, publication, slot: o.slot, user: o.user, tables: o.tables.map(String) };
    }
  } catch {
    // Not JSON: reported below like any other unreadable marker.
  }
  console.warn(JSON.stringify({ message: 'ignoring an unreadable owner marker (COMMENT ON PUBLICATION)', publication, comment }));
  return undefined;
}

/**
 * Create and Update: marks the publication as set up for `physicalResourceId` (an unchanged marker is not written again).
 * Runs after `bootstrapPostgres`, which created or checked the publication.
 */
export async function markPostgresOwner(client: Sql, config: PostgresBootstrapConfig, physicalResourceId: string): Promise<void> {
  const marker = postgresOwnerMarker(config, physicalResourceId);
  const res = await client.query<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_publication') AS comment FROM pg_publication WHERE pubname = $1`, [config.publicationName],
  );
  if (res.rows[0]?.comment === marker) return;
  await client.query(`COMMENT ON PUBLICATION ${client.escapeIdentifier(config.publicationName)} IS ${client.escapeLiteral(marker)}`);
}

/** Every owner marker in the connected database. */
export async function postgresOwners(client: Sql): Promise<PostgresOwner[]> {
  const res = await client.query<{ pubname: string; comment: string | null }>(
    `SELECT pubname, obj_description(oid, 'pg_publication') AS comment FROM pg_publication ORDER BY pubname`,
  );
  return res.rows.map(r => parsePostgresOwner(r.pubname, r.comment)).filter((o): o is PostgresOwner => o !== undefined);
}

/** What Delete of `physicalResourceId` must leave: the objects the markers of other physical ids in this database name. */
export interface PostgresElsewhere {
  /** The other physical ids. */
  readonly owners: string[];
  readonly inUse: PostgresInUse;
  /** Those of `config`'s objects that another owner uses. */
  readonly kept: string[];
}

/**
 * Reads the owner markers for Delete. Markers naming another physical id belong to a newer resource on this same
 * server (its host string changed, or an update was rolled back): Delete leaves the publication, slot, role and tables
 * those name, and drops the rest of `config`'s (e.g. a slot the newer resource renamed). No marker at all (a resource
 * an older release created) leaves nothing in use: Delete drops as before markers.
 */
export async function postgresInUseElsewhere(client: Sql, config: PostgresBootstrapConfig, physicalResourceId: string): Promise<PostgresElsewhere> {
  const others = (await postgresOwners(client)).filter(o => o.physicalResourceId !== physicalResourceId);
  const inUse: PostgresInUse = {
    publications: new Set(others.map(o => o.publication)),
    slots: new Set(others.map(o => o.slot)),
    users: new Set(others.map(o => o.user)),
    tables: new Set(others.flatMap(o => o.tables)),
  };
  const kept = [
    ...(inUse.publications.has(config.publicationName) ? [`publication ${config.publicationName}`] : []),
    ...(inUse.slots.has(config.slotName) ? [`slot ${config.slotName}`] : []),
    ...(inUse.users.has(config.replication.username) ? [`role ${config.replication.username}`] : []),
    ...[config.heartbeatTable, ...signalTables(config)].filter(t => inUse.tables.has(t)).map(t => `table ${t}`),
  ];
  return { owners: [...new Set(others.map(o => o.physicalResourceId))], inUse, kept };
}
