// The replication bootstrap's contract: custom resource properties (set by CdcSourceDatabase) and the attributes it returns.

/** `ResourceProperties` of the `Custom::CdcReplicationBootstrap` resource. CloudFormation passes every scalar as a string. */
export interface BootstrapProperties {
  /** `postgresql` or `mysql`. */
  readonly Engine: 'postgresql' | 'mysql';
  readonly Host: string;
  readonly Port: string;
  /** The database holding the captured tables (PostgreSQL: the database connected to; MySQL: the heartbeat table's database). */
  readonly Database: string;
  /** Secret with the admin `username` and `password`. */
  readonly AdminSecretArn: string;
  /** Secret with the replication user's `username` and generated `password`. */
  readonly ReplicationSecretArn: string;
  readonly ReplicationUsername: string;
  /** Captured tables: `schema.table` (PostgreSQL) or `database.table` (MySQL). */
  readonly Tables: string[];
  /** `schema.table` / `database.table` of the heartbeat table the connector writes to. */
  readonly HeartbeatTable: string;
  /**
   * PostgreSQL only: captured tables (a subset of `Tables`) set to `REPLICA IDENTITY FULL`, so UPDATE and DELETE
   * events carry the whole old row. Absent in templates that predate it: treated as empty.
   */
  readonly FullRowImageTables?: string[];
  /**
   * SQL creating the captured tables (`initialSchema`), run before the table checks on Create and when
   * `InitialSchemaSha256` changes on Update. Absent: nothing is run.
   */
  readonly InitialSchemaSql?: string;
  /** SHA-256 (hex) of `InitialSchemaSql`. */
  readonly InitialSchemaSha256?: string;
  /**
   * Changed by the user after putting a new password into the replication secret: a property change, so
   * CloudFormation sends an Update, which re-applies the secret's password. Not read otherwise.
   */
  readonly ReplicationPasswordVersion?: string;
  /**
   * Changed by the user after the replication slot was invalidated: a property change, so CloudFormation sends an
   * Update, whose bootstrap drops the invalidated slot (as every Create and Update does). Not read otherwise.
   */
  readonly SlotRecoveryVersion?: string;
  /** PostgreSQL only. */
  readonly PublicationName?: string;
  /** PostgreSQL only: the slot Debezium creates, dropped on Delete when inactive. */
  readonly SlotName?: string;
  /** MySQL only: hours of binlog RDS keeps (`mysql.rds_set_configuration`). */
  readonly BinlogRetentionHours?: string;
  /**
   * Debezium's signaling table (`signal.data.collection`), `schema.table` / `database.table`: created with the replication user
   * allowed to write it (incremental snapshots insert their watermarks there) and, on PostgreSQL, added to the publication.
   * Absent in templates that predate it: no signaling table.
   */
  readonly SignalTable?: string;
}

/**
 * Environment variable of the bootstrap function: JSON `SignalSource`, what a snapshot signal needs to reach the database
 * when the function is invoked directly (`agent-data-stack resnapshot`) rather than by CloudFormation.
 */
export const SIGNAL_SOURCE_ENV = 'AGENT_SIGNAL_SOURCE';

/** The database side of the signal path (`SIGNAL_SOURCE_ENV`). */
export interface SignalSource {
  readonly Engine: 'postgresql' | 'mysql';
  readonly Host: string;
  readonly Port: string;
  readonly Database: string;
  /** The replication user's secret: it may write the signaling table and nothing else beyond reading the captured tables. */
  readonly ReplicationSecretArn: string;
  readonly SignalTable: string;
  /** Captured tables; a signal may name only these. */
  readonly Tables: string[];
}

/** A direct invocation of the bootstrap function: insert an `execute-snapshot` signal (incremental) for captured tables. */
export interface SnapshotSignalRequest {
  readonly Action: 'execute-snapshot';
  /** Captured tables to re-snapshot, as declared (`schema.table` / `database.table`). */
  readonly Tables: string[];
  /** Optional SQL condition (Debezium `additional-conditions` filter) limiting the rows re-read, e.g. `status = 'open'`; one table only. */
  readonly Where?: string;
}

/** What a snapshot signal returns: the id Debezium's notifications of that snapshot carry. */
export interface SnapshotSignalResponse {
  readonly SignalId: string;
  readonly SignalTable: string;
  readonly Tables: string[];
}

/** `ResourceProperties` of `Custom::CdcSnapshotSignal`: on Update, tables added since the last deploy get an incremental snapshot. */
export interface SnapshotSignalProperties {
  /** Captured tables, as the connector's `table.include.list` names them. */
  readonly Tables: string[];
  /** The connector the signal is for (changes with the plugin: a new connector snapshots everything itself). */
  readonly ConnectorName: string;
}

/** The `Data` the bootstrap returns; readable with `CustomResource.getAttString`. */
export interface BootstrapAttributes {
  readonly ReplicationSecretArn: string;
  readonly ReplicationUsername: string;
  readonly HeartbeatTable: string;
  /** PostgreSQL: the publication name; MySQL: empty. */
  readonly PublicationName: string;
  /** PostgreSQL: the slot name; MySQL: empty. */
  readonly SlotName: string;
  /** MySQL: `true` when `mysql.rds_set_configuration` set the binlog retention, `false` when the procedure does not exist. */
  readonly BinlogRetentionConfigured: string;
}

/** A database user name and password, as read from Secrets Manager. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Raised for problems the user must fix; the message says what to change. */
export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/** Splits `a.b` into its two parts (validated at synth time; re-checked here). */
export function splitQualified(name: string): [string, string] {
  const parts = name.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new BootstrapError(`Table name '${name}' is not of the form 'schema.table' / 'database.table'.`);
  }
  return [parts[0], parts[1]];
}
