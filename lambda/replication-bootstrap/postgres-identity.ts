// PostgreSQL replica identity: FULL for the tables whose change events need the whole old row (transforms, warehouse views), on each partition and child too.
import { BootstrapError, splitQualified } from '../../contract/replication-bootstrap';
import type { Sql } from './postgres-common';

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
