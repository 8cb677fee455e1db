// The props of CdcSourceDatabase and the interface other layers read it through.
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import type { SourceColumnPolicy } from './columns';
import { SourceEngine } from './engine';
import type { SourceSchema } from './schema';

/** What the CDC layer (Debezium) and the governance dashboard need from a source database. */
export interface ICdcSourceDatabase extends IConstruct, ec2.IConnectable {
  readonly engine: SourceEngine;
  readonly endpointAddress: string;
  readonly endpointPort: string;
  readonly databaseName: string;
  readonly capturedTables: string[];
  readonly replicationSecret: secretsmanager.ISecret;
  readonly replicationUsername: string;
  readonly publicationName: string;
  readonly slotName: string;
  readonly heartbeatTable: string;
  readonly heartbeatActionQuery: string;
  /**
   * PostgreSQL: `max_slot_wal_keep_size` of the source in bytes, the WAL a slot may hold before PostgreSQL invalidates it;
   * alarms on slot lag and WAL disk fire below it. Undefined when this library does not set it (Aurora, MySQL, an existing database).
   */
  readonly maxSlotWalKeepSizeBytes?: number;
  /** Per captured table: columns excluded, hashed or masked at the source (`CdcSourceDatabaseProps.columns`). */
  readonly columnPolicies: Record<string, SourceColumnPolicy>;
  /** Lets `grantee` read the replication user's credentials. */
  grantReadReplicationSecret(grantee: iam.IGrantable): iam.Grant;
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricCPUUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** PostgreSQL only (throws for MySQL). */
  metricOldestReplicationSlotLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** PostgreSQL only (throws for MySQL). */
  metricReplicationSlotDiskUsage(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** PostgreSQL only (throws for MySQL). */
  metricTransactionLogsDiskUsage(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** MySQL only (throws for PostgreSQL). */
  metricBinLogDiskUsage(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

export interface CdcSourceDatabaseProps {
  /** The VPC the database (or the existing database) and the bootstrap function run in. */
  readonly vpc: ec2.IVpc;
  /**
   * Tables Debezium captures: `schema.table` (PostgreSQL) or `database.table` (MySQL). Each must exist with a
   * primary key (PostgreSQL: or REPLICA IDENTITY FULL, or be listed in `fullRowImageTables`) when the stack
   * deploys; the bootstrap checks.
   */
  readonly tables: string[];
  /**
   * Tables, a subset of `tables`, whose UPDATE and DELETE events must carry the whole old row (Debezium's `before`).
   * Needed for every table read by a Flink SQL `debezium-json` source: without the old row Flink fails with
   * "The 'before' field of UPDATE message is null" or retracts the wrong values. PostgreSQL: the bootstrap sets
   * `REPLICA IDENTITY FULL` on them (and their partitions), and sets tables later removed from this list back to
   * `REPLICA IDENTITY DEFAULT` if they have a primary key; the admin user must own them. MySQL: events already
   * carry full images (`binlog_row_image=FULL`), so the prop is accepted and has no effect.
   * @default - none: PostgreSQL tables keep REPLICA IDENTITY DEFAULT (primary key columns only in before-images)
   */
  readonly fullRowImageTables?: string[];
  /** @default SourceEngine.postgres() - RDS for PostgreSQL 17 on a DB instance */
  readonly engine?: SourceEngine;
  /**
   * The database holding the captured tables (PostgreSQL: the database Debezium connects to; MySQL: the initial
   * database, also the default home of the heartbeat table). Required with an existing database.
   * @default 'agentdata' for a new database
   */
  readonly databaseName?: string;

  /**
   * SQL that creates the captured tables, run by the bootstrap before it checks them: a new database starts empty,
   * and without the tables the bootstrap fails ("captured tables not found") and the stack rolls back. Runs on
   * Create and on an Update that changes the SQL (not on other Updates); a retried Create runs it again, so it must
   * be idempotent (`CREATE TABLE IF NOT EXISTS`, `ON CONFLICT DO NOTHING`). PostgreSQL runs it in one transaction
   * in `databaseName`; MySQL runs it in `databaseName` (DDL is not transactional there). On an existing database it
   * only runs with `applyInitialSchemaToExistingDatabase: true`.
   * @default - none: the captured tables must exist before the stack deploys
   */
  readonly initialSchema?: SourceSchema;
  /**
   * Run `initialSchema` on `existingInstance` / `existingCluster` too.
   * @default false - an existing database is never changed by `initialSchema` (synth fails if both are set)
   */
  readonly applyInitialSchemaToExistingDatabase?: boolean;

  /** An existing RDS DB instance to use instead of creating one (its engine must match `engine`). @default - a new database is created */
  readonly existingInstance?: rds.IDatabaseInstance;
  /** An existing Aurora DB cluster to use instead of creating one (its engine must match `engine`). @default - a new database is created */
  readonly existingCluster?: rds.IDatabaseCluster;
  /** Admin credentials (JSON `username`/`password`) of the existing database; required with `existingInstance` / `existingCluster`. @default - the generated admin secret of the new database */
  readonly existingAdminSecret?: secretsmanager.ISecret;

  /** Subnets of the new database. @default - the VPC's isolated subnets if it has any, otherwise its private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - db.m7g.large for an RDS instance, db.r7g.large for Aurora */
  readonly instanceType?: ec2.InstanceType;
  /** A standby in a second Availability Zone (RDS: Multi-AZ; Aurora: one reader). @default true */
  readonly multiAz?: boolean;
  /** RDS instances only: initial storage in GiB. @default 100 */
  readonly allocatedStorage?: number;
  /** RDS instances only: storage autoscaling ceiling in GiB, head room for WAL / binlog a lagging connector retains. @default 1000 */
  readonly maxAllocatedStorage?: number;
  /**
   * Performance Insights on the new database's instances. RDS refuses it on some small classes: RDS for MySQL on
   * db.t2, db.t3 and db.t4g micro and small; Aurora MySQL on every db.t2 and db.t3 and on db.t4g micro and small.
   * `true` on such a class fails at synth; `false` turns it off without a warning.
   * @default - on, except where the engine does not support it on `instanceType`: there it is off, with a warning
   */
  readonly performanceInsights?: boolean;
  /** Customer managed key for storage, Performance Insights and both secrets. @default - the AWS managed `aws/rds` and `aws/secretsmanager` keys */
  readonly encryptionKey?: kms.IKey;
  /** @default Duration.days(7) */
  readonly backupRetention?: Duration;
  /**
   * What happens to the database when it leaves the stack. `RemovalPolicy.DESTROY` is the opt-in for disposable
   * dev setups: it also turns deletion protection off.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** @default - true unless `removalPolicy` is `RemovalPolicy.DESTROY` */
  readonly deletionProtection?: boolean;
  /** Admin user name of a new database. @default 'cdc_admin' */
  readonly adminUsername?: string;
  /** How often Secrets Manager rotates the admin password. @default Duration.days(30) */
  readonly adminRotationInterval?: Duration;
  /** Retention of the database's exported CloudWatch logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** `max_replication_slots` and `max_wal_senders` (PostgreSQL). @default 10 */
  readonly maxReplicationSlots?: number;
  /**
   * RDS for PostgreSQL: `max_slot_wal_keep_size` in the new database's parameter group (whole MiB; RDS's unit is MB), the
   * most WAL a replication slot may hold. A connector that is down or slower than the writes no longer fills the disk:
   * once its slot is further behind than this, PostgreSQL invalidates the slot (`wal_status = 'lost'`), the connector
   * fails, and recovery needs a new slot and a re-snapshot of every table (docs/OPERATIONS.md, "Replication slot
   * invalidated"). Larger values give a stalled connector more time before that, at the cost of disk. The alarms of
   * `AgentObservability` fire at half of it (slot lag) and three quarters (WAL disk use).
   * Not set on Aurora (its storage holds WAL apart from the instance volume, and AWS documents no such parameter for it;
   * a value given there is ignored with an info message) nor on an existing database (set it in its own parameter group).
   * @default Size.gibibytes(50) for a new RDS for PostgreSQL database; unset (unlimited) otherwise
   */
  readonly maxSlotWalKeepSize?: Size;
  /**
   * Personal data per captured table (keys as in `tables`): columns excluded at the source (Debezium
   * `column.exclude.list`: never in Kafka, any store or dead letter), hashed (salted SHA-256, `column.mask.hash.v2`)
   * or masked (`column.mask.with.<n>.chars`), e.g. `{ 'public.customers': { exclude: ['ssn'], hash: ['email'] } }`.
   * Hashing and masking apply to character columns. The lineage catalog (and so the MCP server's `describe_source`)
   * says which fields are hashed or masked; a view that declares an excluded column fails at synth.
   * @default - every column of a captured table is captured as is
   */
  readonly columns?: Record<string, SourceColumnPolicy>;
  /**
   * Salt of the hashed columns (16-128 letters, digits, `_`, `-`). Debezium reads it from a property name, which
   * config providers do not resolve, so it is in the template and the connector configuration in clear whatever its
   * origin: treat it as a pseudonymisation key known to anyone who can read those, not as a secret (docs/source.md).
   * Changing it changes every hash.
   * @default - derived from this construct's path (stable across deploys, distinct per stack)
   */
  readonly columnHashSalt?: string;

  /**
   * The replication user the bootstrap creates for Debezium. It must not be the admin user, nor a role or user that
   * already exists and was not created by this bootstrap (PostgreSQL: marked with a `COMMENT ON ROLE`): the
   * bootstrap refuses both, since it sets the user's password and drops it when the stack is deleted.
   * @default 'debezium'
   */
  readonly replicationUsername?: string;
  /**
   * Any string; change it after putting a new password into `replicationSecret`. The replication password is not
   * rotated automatically, and a new secret value alone changes nothing in the template, so CloudFormation would
   * not run the bootstrap: changing this value makes it update the bootstrap, which applies the secret's current
   * password to the replication user. Restart the connector afterwards so its tasks read the new value.
   * @default - none
   */
  readonly replicationPasswordVersion?: string;
  /**
   * PostgreSQL: any string; change it after the replication slot was invalidated (`wal_status = 'lost'`, past
   * `maxSlotWalKeepSize`). The change makes CloudFormation update the bootstrap, which drops the invalidated slot (every
   * Create and Update does); Debezium, still retrying the slot, then re-snapshots every table into a new slot of the same
   * name. No SQL, no connector change. See docs/OPERATIONS.md, "Replication slot invalidated".
   * @default - none
   */
  readonly slotRecoveryVersion?: string;
  /** PostgreSQL: the publication the bootstrap creates (Debezium: `publication.autocreate.mode=disabled`). @default 'agent_data_publication' */
  readonly publicationName?: string;
  /** PostgreSQL: the slot Debezium creates (`slot.name`); dropped when the stack is deleted. @default 'agent_data_slot' */
  readonly slotName?: string;
  /** Table Debezium's heartbeat action query writes to. @default - 'public.debezium_heartbeat' (PostgreSQL), '<databaseName>.debezium_heartbeat' (MySQL) */
  readonly heartbeatTable?: string;
  /**
   * Debezium's signaling table (`signal.data.collection`), created by the bootstrap next to the heartbeat table. Through it
   * `agent-data-stack resnapshot` re-reads a table (or the rows matching a condition) as an incremental snapshot while changes
   * keep streaming, and a table added to `tables` later is snapshotted alone. The replication user may write it (Debezium
   * inserts its snapshot watermarks there); on PostgreSQL it is in the publication.
   * @default - 'debezium_signal' in the heartbeat table's schema (PostgreSQL) or database (MySQL)
   */
  readonly signalTable?: string;
  /** MySQL: binlog retention set with `mysql.rds_set_configuration` (whole hours; RDS max 168, Aurora max 2160). @default Duration.days(7) */
  readonly binlogRetention?: Duration;
}
