// Definitions the PostgreSQL bootstrap modules share: the configuration, the marker of roles the bootstrap owns, and small catalog queries.
import type { Client } from 'pg';
import { Credentials, splitQualified } from '../../contract/replication-bootstrap';

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

export type Sql = Pick<Client, 'query' | 'escapeIdentifier' | 'escapeLiteral'>;

export function signalTables(config: Pick<PostgresBootstrapConfig, 'signalTable'>): string[] {
  return config.signalTable ? [config.signalTable] : [];
}

export function qualified(client: Sql, name: string): string {
  const [schema, table] = splitQualified(name);
  return `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
}

export async function roleExists(client: Sql, name: string): Promise<boolean> {
  const res = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return res.rows.length > 0;
}

/** The role's `COMMENT ON ROLE`, null without one, undefined when there is no such role. */
export async function roleComment(client: Sql, name: string): Promise<string | null | undefined> {
  const res = await client.query<{ comment: string | null }>(
    `SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`, [name],
  );
  return res.rows.length === 0 ? undefined : res.rows[0].comment;
}

export async function relationExists(client: Sql, name: string): Promise<boolean> {
  const [schema, table] = splitQualified(name);
  const res = await client.query(
    'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
    [schema, table],
  );
  return res.rows.length > 0;
}

export async function schemaExists(client: Sql, schema: string): Promise<boolean> {
  const res = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return res.rows.length > 0;
}
