// CdcSourceDatabase: an RDS / Aurora PostgreSQL or MySQL database set up for Debezium, plus the deploy-time replication bootstrap.
import { Annotations, CustomResource, Duration, RemovalPolicy, Size, SizeRoundingBehavior, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ICdcSource } from '../streaming/cdc-source';
import { defaultHashSalt, SourceColumnPolicy, validateColumnPolicies } from './columns';
import { Construct, IConstruct } from 'constructs';
import type { BootstrapProperties } from '../../contract/replication-bootstrap';
import { AgentProvider } from '../common/agent-provider';
import { allowAwsApiEgress, restrictedSecurityGroup } from '../common/security-group';
import { SourceEngine, SourceEngineFamily } from './engine';
import type { SourceSchema } from './schema';
import {
  auroraWriterDimensions, binLogMetricName, instanceDimensions, RDS_METRIC_NAMESPACE, slotLagMetricName, SOURCE_METRICS,
} from './private/metrics';
import { acknowledgeAuroraControls } from './private/aurora-controls';
import { performanceInsightsUnsupportedReason } from './private/performance-insights';
import {
  validateDurations, validateEngine, validateFullRowImageTables, validateHeartbeatTable, validateNames, validateTables,
} from './private/validation';
import { acknowledgeDeployTimeFunctions } from '../common/nag';

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
  /** MySQL: binlog retention set with `mysql.rds_set_configuration` (whole hours; RDS max 168, Aurora max 2160). @default Duration.days(7) */
  readonly binlogRetention?: Duration;
}

/**
 * A database Debezium can read safely: logical replication / row binlog on, TLS forced, encrypted, private,
 * with a rotated admin secret; plus a deploy-time bootstrap that verifies the settings, creates the replication
 * user, the publication and the heartbeat table, and cleans them (and the slot) up when the stack is deleted.
 */
export class CdcSourceDatabase extends Construct implements ICdcSourceDatabase {
  public readonly engine: SourceEngine;
  /** Writer endpoint host name. */
  public readonly endpointAddress: string;
  /** Writer endpoint port (a string token). */
  public readonly endpointPort: string;
  public readonly databaseName: string;
  public readonly capturedTables: string[];
  /** Captured tables whose change events carry the whole old row (`fullRowImageTables`; PostgreSQL: REPLICA IDENTITY FULL). */
  public readonly fullRowImageTables: string[];
  /** Admin credentials (the generated, rotated secret, or `existingAdminSecret`). */
  public readonly adminSecret: secretsmanager.ISecret;
  /** Replication user credentials: JSON `username`, `password`, `engine`, `host`, `port`, `dbname`. */
  public readonly replicationSecret: secretsmanager.ISecret;
  public readonly replicationUsername: string;
  /** PostgreSQL publication name (a bootstrap attribute: using it orders the consumer after the bootstrap). Empty for MySQL. */
  public readonly publicationName: string;
  /** PostgreSQL replication slot name for Debezium's `slot.name` (bootstrap attribute). Empty for MySQL. */
  public readonly slotName: string;
  /** Heartbeat table (bootstrap attribute). */
  public readonly heartbeatTable: string;
  /** PostgreSQL on a new RDS instance: `max_slot_wal_keep_size` in bytes; undefined where this library does not set it. */
  public readonly maxSlotWalKeepSizeBytes?: number;
  /** Columns excluded, hashed or masked per captured table (`columns`). */
  public readonly columnPolicies: Record<string, SourceColumnPolicy>;
  /** Salt of the hashed columns; undefined when no column is hashed. */
  public readonly columnHashSalt?: string;
  /** Statement for Debezium's `heartbeat.action.query`: upserts the heartbeat row so WAL / binlog positions advance on quiet databases. */
  public readonly heartbeatActionQuery: string;
  public readonly connections: ec2.Connections;
  /** The new RDS instance, or `existingInstance`. */
  public readonly instance?: rds.IDatabaseInstance;
  /** The new Aurora cluster, or `existingCluster`. */
  public readonly cluster?: rds.IDatabaseCluster;
  /** The bootstrap custom resource; depend on it to run after the database is ready for Debezium. */
  public readonly bootstrap: CustomResource;
  /** The bootstrap's provider (its onEvent function runs in the VPC). */
  public readonly bootstrapProvider: AgentProvider;

  private readonly metricDimensions: Record<string, string>;

  /**
   * This database as the Debezium connector sees it (`ICdcSource`): endpoint, tables, replication user, publication,
   * slot and heartbeat query, with the bootstrap as what the connector must wait for.
   */
  public toCdcSource(): ICdcSource {
    const isPostgres = this.engine.family === SourceEngineFamily.POSTGRESQL;
    return {
      engine: isPostgres ? 'postgres' : 'mysql',
      endpointAddress: this.endpointAddress,
      endpointPort: Token.isUnresolved(this.endpointPort) ? Token.asNumber(this.endpointPort) : Number(this.endpointPort),
      databaseName: this.databaseName,
      tables: [...this.capturedTables],
      replicationUsername: this.replicationUsername,
      replicationSecret: this.replicationSecret,
      publicationName: isPostgres ? this.publicationName : undefined,
      slotName: isPostgres ? this.slotName : undefined,
      heartbeatActionQuery: this.heartbeatActionQuery,
      ...(Object.keys(this.columnPolicies).length > 0 ? { columns: this.columnPolicies, columnHashSalt: this.columnHashSalt } : {}),
      connections: this.connections,
      dependable: this.bootstrap,
    };
  }

  constructor(scope: Construct, id: string, props: CdcSourceDatabaseProps) {
    super(scope, id);
    const engine = props.engine ?? SourceEngine.postgres();
    const isPostgres = engine.family === SourceEngineFamily.POSTGRESQL;
    const existing = props.existingInstance ?? props.existingCluster;

    // Validation first: nothing is created for an invalid configuration.
    if (props.existingInstance && props.existingCluster) {
      throw new Error('CdcSourceDatabase: both existingInstance and existingCluster are set. Set only the one your database is.');
    }
    if (props.existingInstance && engine.isAurora) {
      throw new Error(`CdcSourceDatabase: existingInstance is set but engine is ${engine}. Use existingCluster for Aurora, or SourceEngine.${isPostgres ? 'postgres' : 'mysql'}() for an RDS instance.`);
    }
    if (props.existingCluster && !engine.isAurora) {
      throw new Error(`CdcSourceDatabase: existingCluster is set but engine is ${engine}. Use SourceEngine.${isPostgres ? 'auroraPostgres' : 'auroraMysql'}() for an Aurora cluster, or existingInstance.`);
    }
    if (existing && !props.existingAdminSecret) {
      throw new Error('CdcSourceDatabase: existingAdminSecret is missing. An existing database needs the secret holding its admin username and password so the bootstrap can create the replication user.');
    }
    if (!existing && props.existingAdminSecret) {
      throw new Error('CdcSourceDatabase: existingAdminSecret is set without existingInstance or existingCluster. Pass the existing database too, or drop existingAdminSecret.');
    }
    if (existing && props.databaseName === undefined) {
      throw new Error('CdcSourceDatabase: databaseName is missing. With an existing database, name the database holding the captured tables.');
    }
    if (existing && props.initialSchema && !props.applyInitialSchemaToExistingDatabase) {
      throw new Error(`CdcSourceDatabase: initialSchema (${props.initialSchema.origin}) is set on an existing database. The bootstrap never runs SQL on a `
        + 'database it did not create unless asked: set applyInitialSchemaToExistingDatabase: true to run it there, or drop initialSchema.');
    }
    validateEngine(engine);
    validateTables(engine, props.tables);
    validateFullRowImageTables(props.tables, props.fullRowImageTables ?? []);
    const databaseName = props.databaseName ?? 'agentdata';
    const heartbeatTable = props.heartbeatTable ?? (isPostgres ? 'public.debezium_heartbeat' : `${databaseName.toLowerCase()}.debezium_heartbeat`);
    validateHeartbeatTable(engine, heartbeatTable, props.tables);
    const replicationUsername = props.replicationUsername ?? 'debezium';
    const publicationName = props.publicationName ?? 'agent_data_publication';
    const slotName = props.slotName ?? 'agent_data_slot';
    validateNames(engine, { publicationName, slotName, replicationUsername, databaseName });
    if (!existing && !Token.isUnresolved(replicationUsername) && replicationUsername === (props.adminUsername ?? 'cdc_admin')) {
      throw new Error(`CdcSourceDatabase: replicationUsername is '${replicationUsername}', the admin user of the new database. `
        + 'The bootstrap sets the replication user\'s password and drops it on delete: choose another replicationUsername (default \'debezium\').');
    }
    const backupRetention = props.backupRetention ?? Duration.days(7);
    const binlogRetention = props.binlogRetention ?? Duration.days(7);
    validateDurations(engine, backupRetention, binlogRetention);
    const maxSlots = props.maxReplicationSlots ?? 10;
    if (!Token.isUnresolved(maxSlots) && (!Number.isInteger(maxSlots) || maxSlots < 1)) {
      throw new Error(`CdcSourceDatabase: maxReplicationSlots is ${maxSlots}; Debezium needs at least 1 slot and WAL sender. Set a whole number of 1 or more.`);
    }
    if (!isPostgres && props.slotRecoveryVersion !== undefined) {
      throw new Error(`CdcSourceDatabase: slotRecoveryVersion is set but ${engine} has no replication slot. Remove slotRecoveryVersion.`);
    }
    const keepSize = validateSlotWalKeepSize(this, engine, Boolean(existing), props.maxSlotWalKeepSize, props.maxAllocatedStorage ?? 1000);
    const columnPolicies = props.columns ?? {};
    validateColumnPolicies(engine, props.tables, columnPolicies, props.columnHashSalt);
    if (!isPostgres && !binlogRetention.isUnresolved() && binlogRetention.toHours({ integral: false }) < 24) {
      Annotations.of(this).addWarningV2('cdk-agent-data-stack:source-short-binlog-retention',
        `binlogRetention is ${binlogRetention.toHumanString()}: a connector stopped for longer (a weekend, a failed deploy) finds its binlog position purged and `
        + 'must re-snapshot every table. The CdcLag alarm fires within minutes of the connector stopping; keep at least Duration.hours(24) to have time to act.');
    }
    if (props.adminUsername !== undefined && !/^[a-z][a-z0-9_]{0,15}$/.test(props.adminUsername)) {
      throw new Error(`CdcSourceDatabase: adminUsername is '${props.adminUsername}'; RDS needs a lower-case letter followed by up to 15 letters, digits or _. Choose another name.`);
    }

    this.engine = engine;
    this.databaseName = databaseName;
    this.capturedTables = [...props.tables];
    this.fullRowImageTables = [...(props.fullRowImageTables ?? [])];
    this.replicationUsername = replicationUsername;
    this.maxSlotWalKeepSizeBytes = keepSize?.toBytes();
    this.columnPolicies = columnPolicies;
    const hashes = Object.values(columnPolicies).some(p => (p.hash ?? []).length > 0);
    this.columnHashSalt = hashes ? (props.columnHashSalt ?? defaultHashSalt(this.node.addr)) : undefined;

    const functionSubnets: ec2.SubnetSelection = props.vpc.privateSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
      : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    if (existing) {
      this.adminSecret = props.existingAdminSecret!;
      if (props.existingInstance) {
        this.instance = props.existingInstance;
        this.endpointAddress = props.existingInstance.dbInstanceEndpointAddress;
        this.endpointPort = props.existingInstance.dbInstanceEndpointPort;
        this.connections = props.existingInstance.connections;
        this.metricDimensions = instanceDimensions(props.existingInstance.instanceIdentifier);
      } else {
        const cluster = props.existingCluster!;
        this.cluster = cluster;
        this.endpointAddress = cluster.clusterEndpoint.hostname;
        this.endpointPort = portString(cluster.clusterEndpoint.port);
        this.connections = cluster.connections;
        this.metricDimensions = auroraWriterDimensions(cluster.clusterIdentifier);
      }
    } else {
      const created = this.createDatabase(props, engine, databaseName, backupRetention, maxSlots, functionSubnets, keepSize);
      this.adminSecret = created.secret;
      this.endpointAddress = created.address;
      this.endpointPort = created.port;
      this.connections = created.connections;
      this.metricDimensions = created.dimensions;
      this.instance = created.instance;
      this.cluster = created.cluster;
    }

    this.replicationSecret = new secretsmanager.Secret(this, 'ReplicationSecret', {
      description: `Debezium replication user of ${this.node.path}`,
      encryptionKey: props.encryptionKey,
      generateSecretString: {
        secretStringTemplate: Stack.of(this).toJsonString({
          username: replicationUsername,
          engine: engine.family,
          host: this.endpointAddress,
          port: this.endpointPort,
          dbname: databaseName,
        }),
        generateStringKey: 'password',
        // Letters and digits only: the password travels through SQL, JDBC URLs and Kafka Connect config providers.
        excludePunctuation: true,
        passwordLength: 32,
      },
      // The bootstrap drops the user on delete, so the secret has nothing left to protect.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.replicationSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'No rotation function changes the replication user\'s database password together with this secret, so automatic rotation would '
        + 'leave them apart and fail the connector\'s next start. It is changed on demand instead: put a new value into the secret and change '
        + 'replicationPasswordVersion, which makes CloudFormation update the bootstrap, which applies the password (then restart the connector).',
    });

    this.bootstrapProvider = new AgentProvider(this, 'BootstrapProvider', {
      handlerName: 'replication-bootstrap',
      description: 'Prepares the CDC source database for Debezium: settings check, replication user, publication, heartbeat table',
      vpc: props.vpc,
      vpcSubnets: functionSubnets,
      timeout: Duration.minutes(5),
      environment: {
        // The Lambda Node.js runtime ships the Amazon root and RDS CA certificates here; connections verify against them.
        DB_TLS_CA_FILE: '/var/runtime/ca-cert.pem',
      },
      // pg's optional native binding is never loaded.
      externalModules: ['@aws-sdk/*', 'pg-native'],
    });
    const fn = this.bootstrapProvider.onEventFunction;
    this.adminSecret.grantRead(fn);
    this.replicationSecret.grantRead(fn);
    // Imported databases without a known port fall back to the engine's default.
    const port = this.connections.defaultPort ?? ec2.Port.tcp(engine.defaultPort);
    this.connections.allowFrom(fn, port, 'Replication bootstrap');

    const properties: BootstrapProperties = {
      Engine: engine.family,
      Host: this.endpointAddress,
      Port: this.endpointPort,
      Database: databaseName,
      AdminSecretArn: this.adminSecret.secretArn,
      ReplicationSecretArn: this.replicationSecret.secretArn,
      ReplicationUsername: replicationUsername,
      Tables: this.capturedTables,
      HeartbeatTable: heartbeatTable,
      // Only when set, so templates (and the resource) of sources without the prop are unchanged by its introduction.
      ...(isPostgres && this.fullRowImageTables.length > 0 ? { FullRowImageTables: this.fullRowImageTables } : {}),
      ...(props.replicationPasswordVersion !== undefined ? { ReplicationPasswordVersion: props.replicationPasswordVersion } : {}),
      ...(isPostgres && props.slotRecoveryVersion !== undefined ? { SlotRecoveryVersion: props.slotRecoveryVersion } : {}),
      // Only when set, like FullRowImageTables. The hash makes a schema change visible at a glance in a change set.
      ...(props.initialSchema ? { InitialSchemaSql: props.initialSchema.sql, InitialSchemaSha256: props.initialSchema.sha256 } : {}),
      ...(isPostgres
        ? { PublicationName: publicationName, SlotName: slotName }
        : { BinlogRetentionHours: String(binlogRetention.toHours()) }),
    };
    this.bootstrap = new CustomResource(this, 'ReplicationBootstrap', {
      serviceToken: this.bootstrapProvider.serviceToken,
      resourceType: 'Custom::CdcReplicationBootstrap',
      properties: properties as unknown as Record<string, unknown>,
    });
    // Runs after the database (all its instances) and the ingress rule exist, and on delete runs before they go.
    if (this.instance) this.bootstrap.node.addDependency(this.instance);
    if (this.cluster) this.bootstrap.node.addDependency(this.cluster);
    this.bootstrap.node.addDependency(...this.connections.securityGroups);

    this.publicationName = isPostgres ? this.bootstrap.getAttString('PublicationName') : '';
    this.slotName = isPostgres ? this.bootstrap.getAttString('SlotName') : '';
    this.heartbeatTable = this.bootstrap.getAttString('HeartbeatTable');
    this.heartbeatActionQuery = isPostgres
      ? `INSERT INTO ${this.heartbeatTable} (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts`
      : `INSERT INTO ${this.heartbeatTable} (id, ts) VALUES (1, NOW(6)) ON DUPLICATE KEY UPDATE ts = NOW(6)`;
  }

  /** Lets `grantee` read the replication user's credentials (Debezium's worker role). */
  public grantReadReplicationSecret(grantee: iam.IGrantable): iam.Grant {
    return this.replicationSecret.grantRead(grantee);
  }

  /**
   * A metric in `AWS/RDS` for this database: the RDS instance (`DBInstanceIdentifier`), or an Aurora cluster's writer
   * (`DBClusterIdentifier` with `Role` = `WRITER`, which follows the writer across failovers).
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: RDS_METRIC_NAMESPACE,
      metricName,
      dimensionsMap: this.metricDimensions,
      ...props,
    });
  }

  /** CPU utilisation in percent. @default Average over 5 minutes */
  public metricCPUUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(SOURCE_METRICS.CPU_UTILIZATION, { statistic: 'Average', ...props });
  }

  /** Open database connections. @default Maximum over 5 minutes */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(SOURCE_METRICS.DATABASE_CONNECTIONS, { statistic: 'Maximum', ...props });
  }

  /** Free storage in bytes (RDS instances; WAL or binlog retained for a lagging connector eats it). @default Minimum over 5 minutes */
  public metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(SOURCE_METRICS.FREE_STORAGE_SPACE, { statistic: 'Minimum', ...props });
  }

  /**
   * PostgreSQL: WAL bytes the replication slots still hold (RDS: `OldestReplicationSlotLag`; Aurora, which documents no
   * slot-lag metric: the writer's `TransactionLogsDiskUsage`, the WAL kept for logical replication). Growth means Debezium
   * is behind or gone. @default Maximum over 5 minutes
   */
  public metricOldestReplicationSlotLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireFamily(SourceEngineFamily.POSTGRESQL, 'metricOldestReplicationSlotLag');
    return this.metric(slotLagMetricName(this.engine.isAurora), { statistic: 'Maximum', ...props });
  }

  /** PostgreSQL: disk used by replication slot files, in bytes. @default Maximum over 5 minutes */
  public metricReplicationSlotDiskUsage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireFamily(SourceEngineFamily.POSTGRESQL, 'metricReplicationSlotDiskUsage');
    return this.metric(SOURCE_METRICS.REPLICATION_SLOT_DISK_USAGE, { statistic: 'Maximum', ...props });
  }

  /** PostgreSQL: disk used by WAL, in bytes. @default Maximum over 5 minutes */
  public metricTransactionLogsDiskUsage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireFamily(SourceEngineFamily.POSTGRESQL, 'metricTransactionLogsDiskUsage');
    return this.metric(SOURCE_METRICS.TRANSACTION_LOGS_DISK_USAGE, { statistic: 'Maximum', ...props });
  }

  /** MySQL: bytes of binary logs (RDS `BinLogDiskUsage`, Aurora `SumBinaryLogSize`). @default Maximum over 5 minutes */
  public metricBinLogDiskUsage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.requireFamily(SourceEngineFamily.MYSQL, 'metricBinLogDiskUsage');
    return this.metric(binLogMetricName(this.engine.isAurora), { statistic: 'Maximum', ...props });
  }

  private requireFamily(family: SourceEngineFamily, method: string): void {
    if (this.engine.family !== family) {
      throw new Error(`CdcSourceDatabase: ${method}() applies to ${family} sources; this source is ${this.engine}.`);
    }
  }

  private createDatabase(
    props: CdcSourceDatabaseProps, engine: SourceEngine, databaseName: string, backupRetention: Duration, maxSlots: number,
    functionSubnets: ec2.SubnetSelection, keepSize: Size | undefined,
  ) {
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY;
    const multiAz = props.multiAz ?? true;
    const vpcSubnets = props.vpcSubnets ?? (props.vpc.isolatedSubnets.length > 0
      ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
      : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    const securityGroup = restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `CDC source database ${this.node.path}`,
    });
    // The admin secret's rotation function: Secrets Manager over HTTPS; the rotation adds the database port itself.
    const rotationSecurityGroup = restrictedSecurityGroup(this, 'RotationSingleUserSecurityGroup', {
      vpc: props.vpc, description: `Admin secret rotation of ${this.node.path}`,
    });
    allowAwsApiEgress(rotationSecurityGroup, 'Rotation function to Secrets Manager (HTTPS)');
    const credentials = rds.Credentials.fromGeneratedSecret(props.adminUsername ?? 'cdc_admin', {
      encryptionKey: props.encryptionKey,
    });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine: (engine.instanceEngine ?? engine.clusterEngine)!,
      description: `CDC settings for ${this.node.path}`,
      parameters: cdcParameters(engine, maxSlots, keepSize),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logsExports = engine.family === SourceEngineFamily.POSTGRESQL
      ? (engine.isAurora ? ['postgresql'] : ['postgresql', 'upgrade'])
      : ['error', 'slowquery', 'general', 'audit'];
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const rotationInterval = props.adminRotationInterval ?? Duration.days(30);
    const defaultInstanceType = engine.isAurora
      ? ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE)
      : ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE);
    const instanceType = props.instanceType ?? defaultInstanceType;
    // RDS refuses Performance Insights on the smallest MySQL classes (the development profile's db.t4g.micro) and the
    // DB instance would fail to create, rolling the stack back: off there, with a warning saying how to get it back.
    const piUnsupported = performanceInsightsUnsupportedReason(engine, instanceType);
    if (piUnsupported && props.performanceInsights === true) {
      throw new Error(`CdcSourceDatabase: performanceInsights is true but ${piUnsupported}. `
        + 'Choose instanceType db.t4g.medium or larger, or set performanceInsights: false.');
    }
    if (piUnsupported && props.performanceInsights === undefined) {
      Annotations.of(this).addWarningV2('cdk-agent-data-stack:source-performance-insights-off',
        `Performance Insights is off for this database: ${piUnsupported}. Choose instanceType db.t4g.medium or larger to keep it on, `
        + 'or set performanceInsights: false to confirm.');
    }
    const performanceInsights = piUnsupported || props.performanceInsights === false
      ? { enablePerformanceInsights: false }
      : { enablePerformanceInsights: true, performanceInsightEncryptionKey: props.encryptionKey };

    if (!engine.isAurora) {
      const instance = new rds.DatabaseInstance(this, 'Resource', {
        engine: engine.instanceEngine!,
        instanceType,
        vpc: props.vpc,
        vpcSubnets,
        securityGroups: [securityGroup],
        publiclyAccessible: false,
        credentials,
        databaseName,
        parameterGroup,
        multiAz,
        storageType: rds.StorageType.GP3,
        allocatedStorage: props.allocatedStorage ?? 100,
        maxAllocatedStorage: props.maxAllocatedStorage ?? 1000,
        storageEncrypted: true,
        storageEncryptionKey: props.encryptionKey,
        backupRetention,
        deletionProtection,
        removalPolicy,
        cloudwatchLogsExports: logsExports,
        cloudwatchLogsRetention: logRetention,
        ...performanceInsights,
        iamAuthentication: true,
        autoMinorVersionUpgrade: true,
        copyTagsToSnapshot: true,
        caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      });
      retainAdminSecret(instance, removalPolicy);
      instance.addRotationSingleUser({ automaticallyAfter: rotationInterval, vpcSubnets: functionSubnets, securityGroup: rotationSecurityGroup });
      acknowledgeDatabase(instance, engine, { multiAz, deletionProtection });
      return {
        instance, cluster: undefined, secret: instance.secret!, connections: instance.connections,
        address: instance.dbInstanceEndpointAddress, port: instance.dbInstanceEndpointPort,
        dimensions: instanceDimensions(instance.instanceIdentifier),
      };
    }

    const instanceProps: rds.ProvisionedClusterInstanceProps = {
      instanceType,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      ...performanceInsights,
    };
    const cluster = new rds.DatabaseCluster(this, 'Resource', {
      engine: engine.clusterEngine!,
      writer: rds.ClusterInstance.provisioned('Writer', instanceProps),
      readers: multiAz ? [rds.ClusterInstance.provisioned('Reader', instanceProps)] : [],
      vpc: props.vpc,
      vpcSubnets,
      securityGroups: [securityGroup],
      credentials,
      defaultDatabaseName: databaseName,
      parameterGroup,
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      backup: { retention: backupRetention },
      deletionProtection,
      removalPolicy,
      cloudwatchLogsExports: logsExports,
      cloudwatchLogsRetention: logRetention,
      ...performanceInsights,
      iamAuthentication: true,
      copyTagsToSnapshot: true,
    });
    retainAdminSecret(cluster, removalPolicy);
    cluster.addRotationSingleUser({ automaticallyAfter: rotationInterval, vpcSubnets: functionSubnets, securityGroup: rotationSecurityGroup });
    acknowledgeDatabase(cluster, engine, { multiAz, deletionProtection });
    return {
      instance: undefined, cluster, secret: cluster.secret!, connections: cluster.connections,
      address: cluster.clusterEndpoint.hostname, port: portString(cluster.clusterEndpoint.port),
      dimensions: auroraWriterDimensions(cluster.clusterIdentifier),
    };
  }
}

/**
 * The CDC parameter set. PostgreSQL: logical decoding (`rds.logical_replication=1` makes RDS set wal_level=logical),
 * enough slots and WAL senders, TLS only, and (RDS) the most WAL a slot may hold (`max_slot_wal_keep_size`, in MB).
 * MySQL: row-based binlog with full images, TLS only. For Aurora the same names go into the DB cluster parameter group,
 * where these settings live.
 */
export function cdcParameters(engine: SourceEngine, maxReplicationSlots: number, maxSlotWalKeepSize?: Size): Record<string, string> {
  if (engine.family === SourceEngineFamily.POSTGRESQL) {
    return {
      'rds.logical_replication': '1',
      'rds.force_ssl': '1',
      'max_replication_slots': String(maxReplicationSlots),
      'max_wal_senders': String(maxReplicationSlots),
      ...(maxSlotWalKeepSize ? { max_slot_wal_keep_size: String(maxSlotWalKeepSize.toMebibytes()) } : {}),
    };
  }
  return {
    binlog_format: 'ROW',
    binlog_row_image: 'FULL',
    require_secure_transport: 'ON',
  };
}

/** Default for a new RDS for PostgreSQL database: a stalled connector has hours before its slot is invalidated, and the disk keeps room. */
export const DEFAULT_MAX_SLOT_WAL_KEEP_SIZE = Size.gibibytes(50);

/**
 * `max_slot_wal_keep_size` to set, or undefined where this library does not set it (Aurora, MySQL, existing databases: there a
 * value, e.g. from spread profile defaults, is ignored with an info message that says where the setting belongs instead).
 */
function validateSlotWalKeepSize(
  scope: Construct, engine: SourceEngine, existing: boolean, value: Size | undefined, maxAllocatedStorageGiB: number,
): Size | undefined {
  const applies = engine.family === SourceEngineFamily.POSTGRESQL && !engine.isAurora && !existing;
  if (value === undefined) return applies ? DEFAULT_MAX_SLOT_WAL_KEEP_SIZE : undefined;
  if (!applies) {
    const where = engine.family !== SourceEngineFamily.POSTGRESQL ? `${engine} has replication slots only on PostgreSQL`
      : engine.isAurora ? `${engine} keeps WAL in its cluster storage and AWS documents no max_slot_wal_keep_size for it`
        : 'the database is not created by this construct, so its parameter group is not ours';
    // Info, not a warning: spreading profile defaults made for RDS for PostgreSQL onto another engine is harmless here.
    Annotations.of(scope).addInfo(`maxSlotWalKeepSize is ignored: ${where}. Remove maxSlotWalKeepSize`
      + `${existing && engine.family === SourceEngineFamily.POSTGRESQL && !engine.isAurora ? ' and set max_slot_wal_keep_size in the existing database\'s parameter group' : ''}.`);
    return undefined;
  }
  if (value.isUnresolved()) return value;
  const mib = value.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mib) || mib < 1024 || mib > maxAllocatedStorageGiB * 1024) {
    throw new Error(`CdcSourceDatabase: maxSlotWalKeepSize is ${mib} MiB; use a whole number of MiB from 1 GiB up to `
      + `maxAllocatedStorage (${maxAllocatedStorageGiB} GiB), e.g. Size.gibibytes(50). Below 1 GiB a short connector restart could invalidate the slot.`);
  }
  return value;
}

function portString(port: number): string {
  return Token.isUnresolved(port) ? Token.asString(port) : String(port);
}

/** The admin secret lives as long as the database: a retained database without its credentials is locked. */
function retainAdminSecret(database: Construct, removalPolicy: RemovalPolicy): void {
  const secret = database.node.tryFindChild('Secret');
  if (!(secret instanceof secretsmanager.Secret)) throw new Error('CdcSourceDatabase: the generated admin secret was not found (aws-cdk-lib layout changed).');
  secret.applyRemovalPolicy(removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN);
}

function acknowledgeDatabase(database: Construct, engine: SourceEngine, choices: { multiAz: boolean; deletionProtection: boolean }): void {
  // Single-AZ and unprotected databases exist only when the caller asked for them (a disposable development setup).
  if (!choices.multiAz && !engine.isAurora) {
    Validations.of(database).acknowledge({
      id: 'AwsSolutions-RDS3',
      reason: 'The caller set multiAz: false (e.g. the development profile): a disposable single-AZ database chosen for cost; the production default is Multi-AZ.',
    });
  }
  if (!choices.deletionProtection) {
    Validations.of(database).acknowledge({
      id: 'AwsSolutions-RDS10',
      reason: 'The caller opted into a disposable database (removalPolicy DESTROY or deletionProtection: false, e.g. the development profile); the default is RETAIN with deletion protection.',
    });
  }
  // `cloudwatchLogsRetention` uses aws-cdk-lib's LogRetention singleton function (one per stack).
  const logRetention = Stack.of(database).node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
  if (logRetention) {
    Validations.of(logRetention).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'aws-cdk-lib\'s LogRetention singleton (sets retention on the RDS log export groups RDS creates) is built with the AWS-managed basic execution role; it only writes its own logs.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'aws-cdk-lib\'s LogRetention singleton calls logs:PutRetentionPolicy / DeleteRetentionPolicy on log groups RDS names at deploy time (/aws/rds/...), so aws-cdk-lib grants them on all log groups.',
      },
    );
    acknowledgeDeployTimeFunctions(logRetention, 'aws-cdk-lib\'s LogRetention singleton (sets the retention of the RDS log export groups at deploy time)');
  }
  if (!engine.isAurora) {
    // Aurora's instances take their settings from the cluster; these instance-level findings only arise without Aurora.
    for (const c of database.node.findAll()) {
      if (c instanceof rds.CfnDBInstance) acknowledgeInstanceControls(c);
    }
  } else {
    acknowledgeAuroraControls(database, engine);
  }
  // cdk-nag's RDS11 finds the default port on RDS instances and on Aurora MySQL clusters, not on Aurora PostgreSQL clusters.
  if (!engine.isAurora || engine.family === SourceEngineFamily.MYSQL) {
    Validations.of(database).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason: 'The engine default port is kept: Debezium, the bootstrap and client tooling assume it, and access is already limited to named security groups in private subnets.',
    });
  }
  if (engine.isAurora && engine.family === SourceEngineFamily.MYSQL) {
    Validations.of(database).acknowledge({
      id: 'AwsSolutions-RDS14',
      reason: 'Backtrack is not supported together with binlog replication, which Debezium relies on (Aurora User Guide, backtracking limitations).',
    });
  }
}

/** The Control Tower RDS controls this instance does not meet, each for the choice that made it so. */
function acknowledgeInstanceControls(db: rds.CfnDBInstance): void {
  const acks: Array<{ id: string; reason: string }> = [];
  const resolved = Stack.of(db).resolve({ multiAz: db.multiAz, deletionProtection: db.deletionProtection, backup: db.backupRetentionPeriod, monitoring: db.monitoringInterval, key: db.kmsKeyId });
  if (resolved.multiAz !== true) acks.push({ id: 'ControlTower-CT.RDS.PR.1', reason: 'multiAz is false: the caller (the development profile) chose a disposable single-AZ database for cost; the default is Multi-AZ.' });
  if (resolved.deletionProtection !== true) acks.push({ id: 'ControlTower-CT.RDS.PR.13', reason: 'deletionProtection is off: the caller (the development profile) opted into a disposable database; the default is RETAIN with deletion protection.' });
  if (!(Number(resolved.backup) >= 7)) acks.push({ id: 'ControlTower-CT.RDS.PR.8', reason: `Automated backups are kept ${Number(resolved.backup ?? 0)} day(s): the caller (the development profile) chose a disposable database; the default keeps 7 days.` });
  if (!resolved.monitoring) acks.push({ id: 'ControlTower-CT.RDS.PR.2', reason: 'Enhanced Monitoring (an extra role and per-second OS metrics billed as CloudWatch Logs) is not enabled; the stack alarms on the CloudWatch RDS metrics and the replication slot or binlog lag instead.' });
  if (resolved.key === undefined) acks.push({ id: 'ControlTower-CT.RDS.PR.30', reason: 'Storage is encrypted with the AWS managed key aws/rds because no encryptionKey was given; pass encryptionKey to use a customer-managed key.' });
  acks.push({ id: 'ControlTower-CT.RDS.PR.20', reason: 'The engine default port is kept: Debezium, the bootstrap and client tooling assume it, and only named security groups in private subnets can reach it.' });
  Validations.of(db).acknowledge(...acks);
}
