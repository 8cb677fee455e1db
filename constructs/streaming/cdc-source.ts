// What the Debezium connector needs to know about a source database, so it does not depend on the source layer's class.
import { IDependable } from 'constructs';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Personal data in one captured table, handled by Debezium before a record reaches Kafka: excluded columns are left
 * out of every record (`column.exclude.list`), hashed columns carry a salted SHA-256 of the value
 * (`column.mask.hash.v2.SHA-256.with.salt.<salt>`), masked columns carry `maskChars` asterisks (`column.mask.with.<n>.chars`).
 */
export interface CdcColumnPolicy {
  /** Columns that never leave the database. @default - none */
  readonly exclude?: string[];
  /** Character columns replaced by the hex SHA-256 of salt + value (a stable pseudonym, joinable, not reversible without the salt). @default - none */
  readonly hash?: string[];
  /** Character columns replaced by `maskChars` asterisks. @default - none */
  readonly mask?: string[];
  /** Length of the mask. @default 8 */
  readonly maskChars?: number;
}

/** Database engines the Debezium connector supports here. */
export type CdcEngine = 'postgres' | 'mysql';

/**
 * A database prepared for change data capture: logical replication on, a replication user, and (PostgreSQL)
 * a publication and slot created by a bootstrap that `dependable` stands for.
 */
export interface ICdcSource extends ec2.IConnectable {
  readonly engine: CdcEngine;
  /** Host name of the writer endpoint. */
  readonly endpointAddress: string;
  /** Port of the writer endpoint (may be a token). */
  readonly endpointPort: number;
  /** Database to capture. */
  readonly databaseName: string;
  /** Captured tables: `schema.table` for PostgreSQL, `table` or `database.table` for MySQL. */
  readonly tables: string[];
  /** User Debezium connects as. */
  readonly replicationUsername: string;
  /** Secret holding that user's password under the JSON key `password`. */
  readonly replicationSecret: secretsmanager.ISecret;
  /** PostgreSQL publication created by the bootstrap (Debezium does not auto-create it). */
  readonly publicationName?: string;
  /** PostgreSQL logical replication slot name. */
  readonly slotName?: string;
  /** SQL Debezium runs on each heartbeat so the slot advances on idle databases (PostgreSQL). */
  readonly heartbeatActionQuery?: string;
  /** Per captured table (as in `tables`): columns excluded, hashed or masked at the source. @default - every column is captured as is */
  readonly columns?: Record<string, CdcColumnPolicy>;
  /** Salt of the hashed columns (part of the property name, so it is not a secret: see docs/source.md). @default - none (required when a column is hashed) */
  readonly columnHashSalt?: string;
  /** What the connector must be created after (the replication bootstrap custom resource). */
  readonly dependable: IDependable;
  /**
   * Debezium's signaling table and the function that writes signals to it: with it the connector is configured for incremental
   * snapshots (`signal.data.collection`) and tables added later are snapshotted alone. @default - no signaling: no incremental snapshots
   */
  readonly signal?: CdcSignalChannel;
}

/** The source side of Debezium's source signal channel. */
export interface CdcSignalChannel {
  /** The signaling table, as `signal.data.collection` names it: `schema.table` (PostgreSQL) or `database.table` (MySQL). */
  readonly dataCollection: string;
  /** Service token of the custom resource provider that inserts execute-snapshot signals (`Custom::CdcSnapshotSignal`). */
  readonly serviceToken: string;
}
