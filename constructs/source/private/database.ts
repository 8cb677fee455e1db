// The RDS instance or Aurora cluster a CdcSourceDatabase creates: CDC parameter group, secrets, rotation and the nag acknowledgements of its choices.
import { Annotations, Duration, RemovalPolicy, Size, SizeRoundingBehavior, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeDeployTimeFunctions } from '../../common/nag';
import { allowAwsApiEgress, restrictedSecurityGroup } from '../../common/security-group';
import type { CdcSourceDatabaseProps } from '../cdc-source-database-props';
import { SourceEngine, SourceEngineFamily } from '../engine';
import { auroraWriterDimensions, instanceDimensions } from './metrics';
import { acknowledgeAuroraControls } from './aurora-controls';
import { performanceInsightsUnsupportedReason } from './performance-insights';

/** A database created by createSourceDatabase, as the construct uses it. */
export interface CreatedSourceDatabase {
  readonly instance?: rds.DatabaseInstance;
  readonly cluster?: rds.DatabaseCluster;
  readonly secret: secretsmanager.ISecret;
  readonly connections: ec2.Connections;
  readonly address: string;
  readonly port: string;
  readonly dimensions: Record<string, string>;
}

/** Creates the RDS instance or Aurora cluster (ids under `scope` as before the split: `Resource`, `Parameters`, `SecurityGroup`, ...). */
export function createSourceDatabase(
  scope: Construct, props: CdcSourceDatabaseProps, engine: SourceEngine, databaseName: string, backupRetention: Duration, maxSlots: number,
  functionSubnets: ec2.SubnetSelection, keepSize: Size | undefined,
): CreatedSourceDatabase {
  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  const deletionProtection = props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY;
  const multiAz = props.multiAz ?? true;
  const vpcSubnets = props.vpcSubnets ?? (props.vpc.isolatedSubnets.length > 0
    ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
    : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  const securityGroup = restrictedSecurityGroup(scope, 'SecurityGroup', {
    vpc: props.vpc,
    description: `CDC source database ${scope.node.path}`,
  });
  // The admin secret's rotation function: Secrets Manager over HTTPS; the rotation adds the database port itself.
  const rotationSecurityGroup = restrictedSecurityGroup(scope, 'RotationSingleUserSecurityGroup', {
    vpc: props.vpc, description: `Admin secret rotation of ${scope.node.path}`,
  });
  allowAwsApiEgress(rotationSecurityGroup, 'Rotation function to Secrets Manager (HTTPS)');
  const credentials = rds.Credentials.fromGeneratedSecret(props.adminUsername ?? 'cdc_admin', {
    encryptionKey: props.encryptionKey,
  });
  const parameterGroup = new rds.ParameterGroup(scope, 'Parameters', {
    engine: (engine.instanceEngine ?? engine.clusterEngine)!,
    description: `CDC settings for ${scope.node.path}`,
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
    Annotations.of(scope).addWarningV2('cdk-agent-data-stack:source-performance-insights-off',
      `Performance Insights is off for this database: ${piUnsupported}. Choose instanceType db.t4g.medium or larger to keep it on, `
      + 'or set performanceInsights: false to confirm.');
  }
  const performanceInsights = piUnsupported || props.performanceInsights === false
    ? { enablePerformanceInsights: false }
    : { enablePerformanceInsights: true, performanceInsightEncryptionKey: props.encryptionKey };

  if (!engine.isAurora) {
    const instance = new rds.DatabaseInstance(scope, 'Resource', {
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
  const cluster = new rds.DatabaseCluster(scope, 'Resource', {
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
export function validateSlotWalKeepSize(
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

export function portString(port: number): string {
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
