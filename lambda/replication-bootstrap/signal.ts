// Debezium's signaling table: created by the bootstrap, written by `agent-data-stack resnapshot` and by the table-added snapshot signal (incremental snapshots).
import * as crypto from 'crypto';
import { BootstrapError, splitQualified } from '../../contract/replication-bootstrap';

/** The columns Debezium requires of a signaling table, in order: id, type, data (Debezium "Sending signals to a Debezium connector"). */
export const SIGNAL_TABLE_COLUMNS = { id: 42, type: 32, data: 2048 } as const;

/** The longest `--where` condition accepted: the signal's `data` column holds 2048 characters. */
export const MAX_WHERE_LENGTH = 1500;

interface PgSql {
  query(text: string, values?: unknown[]): Promise<unknown>;
  escapeIdentifier(s: string): string;
}
interface MySql {
  query(sql: string, values?: unknown[]): Promise<unknown>;
  escapeId(s: string): string;
  escape(s: string): string;
}

function pgQualified(client: PgSql, name: string): string {
  const [schema, table] = splitQualified(name);
  return `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
}

const DDL = `(id VARCHAR(${SIGNAL_TABLE_COLUMNS.id}) PRIMARY KEY, type VARCHAR(${SIGNAL_TABLE_COLUMNS.type}) NOT NULL, data VARCHAR(${SIGNAL_TABLE_COLUMNS.data}) NULL)`;

/** PostgreSQL: creates the signaling table (idempotent). Grants and the publication are set with the captured tables'. */
export async function ensurePostgresSignalTable(client: PgSql, signalTable: string): Promise<void> {
  const [schema] = splitQualified(signalTable);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${pgQualified(client, signalTable)} ${DDL}`);
}

/** PostgreSQL: drops the signaling table (a no-op when it is already gone); its grants go with it. */
export async function dropPostgresSignalTable(client: PgSql, signalTable: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${pgQualified(client, signalTable)}`);
}

/** MySQL: creates the signaling table and lets the replication user write it (Debezium inserts its snapshot watermarks there). */
export async function ensureMysqlSignalTable(conn: MySql, signalTable: string, replicationUser: string): Promise<void> {
  const [database, table] = splitQualified(signalTable);
  const name = `${conn.escapeId(database)}.${conn.escapeId(table)}`;
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${conn.escapeId(database)}`);
  await conn.query(`CREATE TABLE IF NOT EXISTS ${name} ${DDL}`);
  await conn.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${name} TO ${conn.escape(replicationUser)}@'%'`);
}

/** MySQL: drops the signaling table (a no-op when it is already gone). */
export async function dropMysqlSignalTable(conn: MySql, signalTable: string): Promise<void> {
  const [database, table] = splitQualified(signalTable);
  await conn.query(`DROP TABLE IF EXISTS ${conn.escapeId(database)}.${conn.escapeId(table)}`);
}

/** What to snapshot: captured tables, and optionally a row condition for one of them. */
export interface SnapshotSignal {
  readonly tables: string[];
  readonly where?: string;
  /** @default - a new UUID */
  readonly id?: string;
}

/**
 * The `execute-snapshot` signal's `data`: an incremental snapshot of `tables` (Debezium 3.1 signalling: `data-collections`,
 * `type: incremental`, `additional-conditions` of `{data-collection, filter}`). Table names must be captured tables, so a
 * signal can never make the connector read a table the declaration does not capture.
 */
export function snapshotSignalData(signal: SnapshotSignal, captured: readonly string[]): string {
  if (signal.tables.length === 0) throw new BootstrapError('No table to snapshot: name at least one captured table.');
  const unknown = signal.tables.filter(t => !captured.includes(t));
  if (unknown.length > 0) {
    throw new BootstrapError(`${unknown.map(t => `'${t}'`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not captured by this source; captured tables: ${captured.join(', ')}.`);
  }
  const where = signal.where?.trim();
  if (signal.where !== undefined && !where) throw new BootstrapError('The row condition (--where) is empty: give a SQL condition, or leave it out to re-read the whole table.');
  if (where && signal.tables.length > 1) throw new BootstrapError('A row condition (--where) applies to one table: snapshot one table at a time with it.');
  if (where && (where.length > MAX_WHERE_LENGTH || where.includes(';'))) {
    throw new BootstrapError(`The row condition must be one SQL condition without ';' and at most ${MAX_WHERE_LENGTH} characters (it is stored in the signaling table's data column).`);
  }
  const data = JSON.stringify({
    'data-collections': [...signal.tables],
    'type': 'incremental',
    ...(where ? { 'additional-conditions': [{ 'data-collection': signal.tables[0], 'filter': where }] } : {}),
  });
  if (data.length > SIGNAL_TABLE_COLUMNS.data) throw new BootstrapError(`The signal is ${data.length} characters, more than the signaling table's data column holds (${SIGNAL_TABLE_COLUMNS.data}): snapshot fewer tables at once.`);
  return data;
}

/** Inserts the signal (parameters, never string-built SQL) and returns its id, which Debezium's notifications of that snapshot carry. */
export async function insertPostgresSnapshotSignal(client: PgSql, signalTable: string, signal: SnapshotSignal, captured: readonly string[]): Promise<string> {
  const id = signal.id ?? crypto.randomUUID();
  const data = snapshotSignalData(signal, captured);
  await client.query(`INSERT INTO ${pgQualified(client, signalTable)} (id, type, data) VALUES ($1, 'execute-snapshot', $2)`, [id, data]);
  return id;
}

export async function insertMysqlSnapshotSignal(conn: MySql, signalTable: string, signal: SnapshotSignal, captured: readonly string[]): Promise<string> {
  const id = signal.id ?? crypto.randomUUID();
  const data = snapshotSignalData(signal, captured);
  const [database, table] = splitQualified(signalTable);
  await conn.query(`INSERT INTO ${conn.escapeId(database)}.${conn.escapeId(table)} (id, type, data) VALUES (?, 'execute-snapshot', ?)`, [id, data]);
  return id;
}

/** Tables in `current` that `previous` did not have: what a table-added snapshot signal re-reads. */
export function addedTables(previous: readonly string[], current: readonly string[]): string[] {
  return current.filter(t => !previous.includes(t));
}
