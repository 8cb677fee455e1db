// CdcSourceDatabase: an RDS / Aurora PostgreSQL or MySQL database set up for Debezium, plus the deploy-time replication bootstrap.
import { Annotations, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ICdcSource } from '../streaming/cdc-source';
import { defaultHashSalt, SourceColumnPolicy, validateColumnPolicies } from './columns';
import { Construct } from 'constructs';
import { SIGNAL_SOURCE_ENV, type BootstrapProperties, type SignalSource } from '../../contract/replication-bootstrap';
import { AgentProvider } from '../common/agent-provider';
import type { CdcSourceDatabaseProps, ICdcSourceDatabase } from './cdc-source-database-props';
import { SourceEngine, SourceEngineFamily } from './engine';
import { createSourceDatabase, portString, validateSlotWalKeepSize } from './private/database';
import {
  auroraWriterDimensions, binLogMetricName, instanceDimensions, RDS_METRIC_NAMESPACE, slotLagMetricName, SOURCE_METRICS,
} from './private/metrics';
import {
  validateDurations, validateEngine, validateFullRowImageTables, validateHeartbeatTable, validateNames, validateSignalTable, validateTables,
} from './private/validation';

export type { CdcSourceDatabaseProps, ICdcSourceDatabase } from './cdc-source-database-props';
export { cdcParameters, DEFAULT_MAX_SLOT_WAL_KEEP_SIZE } from './private/database';

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
  /** Debezium's signaling table (`signal.data.collection`): `schema.table` / `database.table`. */
  public readonly signalTable: string;
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
      signal: { dataCollection: this.signalTable, serviceToken: this.bootstrapProvider.serviceToken },
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
    const signalTable = props.signalTable ?? `${heartbeatTable.split('.')[0]}.debezium_signal`;
    validateSignalTable(engine, signalTable, props.tables, heartbeatTable);
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
      const created = createSourceDatabase(this, props, engine, databaseName, backupRetention, maxSlots, functionSubnets, keepSize);
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
        // Direct invocations (`agent-data-stack resnapshot`) and Custom::CdcSnapshotSignal reach the database with these.
        [SIGNAL_SOURCE_ENV]: Stack.of(this).toJsonString({
          Engine: engine.family, Host: this.endpointAddress, Port: this.endpointPort, Database: databaseName,
          ReplicationSecretArn: this.replicationSecret.secretArn, SignalTable: signalTable, Tables: this.capturedTables,
        } satisfies SignalSource),
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
      SignalTable: signalTable,
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
    this.signalTable = signalTable;
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
}
