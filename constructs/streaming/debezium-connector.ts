// DebeziumConnector: Debezium on MSK Connect with the password resolved at runtime, least-privilege role, network path and CDC topics.
import { createHash } from 'crypto';
import { Annotations, ArnFormat, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kafkaconnect from 'aws-cdk-lib/aws-kafkaconnect';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { restrictedSecurityGroup } from '../common/security-group';
import { CdcColumnPolicy, CdcEngine, ICdcSource } from './cdc-source';
import { AgentStreamingCluster, AgentStreamingClusterBase } from './cluster';
import { DatabaseTls } from './database-tls';
import { DebeziumPlugin, KafkaConnectVersion } from './debezium-plugin';
import { GROUP_ACTIONS, TOPIC_CREATE_ACTIONS, TOPIC_READ_ACTIONS, TOPIC_WRITE_ACTIONS } from './perms';
import { debeziumProperties, workerProperties } from './private/debezium-properties';
import { acknowledgePatternGrant } from './private/nag';
import { DebeziumConnectorBase } from './connector-metrics';
import { IAgentStreamingCluster } from './refs';

/** The default MSK Connect runtime: Kafka Connect 3.7.x runs Java 17, which Debezium 3.x requires (msk-connect-plugins.html). */
export const KAFKA_CONNECT_VERSION = KafkaConnectVersion.V3_7_X.version;

/** Worker capacity of the connector. */
export class ConnectorCapacity {
  /**
   * A fixed number of workers.
   * @param workerCount @default 1
   * @param mcuCount MSK Connect units per worker (1, 2, 4 or 8) @default 1
   */
  public static provisioned(options: { workerCount?: number; mcuCount?: number } = {}): ConnectorCapacity {
    return new ConnectorCapacity({ provisionedCapacity: { workerCount: options.workerCount ?? 1, mcuCount: options.mcuCount ?? 1 } });
  }
  /** Workers scaled on CPU. Debezium runs one task, so this only adds cost; refused for MySQL. */
  public static autoScaling(options: { minWorkers: number; maxWorkers: number; mcuCount?: number; scaleInCpuPercent?: number; scaleOutCpuPercent?: number }): ConnectorCapacity {
    return new ConnectorCapacity({
      autoScaling: {
        minWorkerCount: options.minWorkers,
        maxWorkerCount: options.maxWorkers,
        mcuCount: options.mcuCount ?? 1,
        scaleInPolicy: { cpuUtilizationPercentage: options.scaleInCpuPercent ?? 20 },
        scaleOutPolicy: { cpuUtilizationPercentage: options.scaleOutCpuPercent ?? 80 },
      },
    });
  }
  private constructor(public readonly config: kafkaconnect.CfnConnector.CapacityProperty) {}
  public get isAutoScaling(): boolean {
    return this.config.autoScaling !== undefined;
  }
}

const SNAPSHOT_MODES: Record<CdcEngine, string[]> = {
  postgres: ['initial', 'initial_only', 'no_data', 'when_needed', 'always', 'never', 'recovery', 'configuration_based', 'custom'],
  mysql: ['initial', 'initial_only', 'no_data', 'when_needed', 'always', 'never', 'recovery', 'schema_only_recovery', 'configuration_based', 'custom'],
};
const DECIMAL_MODES = ['precise', 'double', 'string'];
const PG_TABLE = /^[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*$/;
const MYSQL_TABLE = /^([A-Za-z0-9_$]+\.)?[A-Za-z0-9_$]+$/;
const TOPIC_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export interface DebeziumConnectorProps {
  readonly cluster: IAgentStreamingCluster;
  /** The database to capture (the source layer's CdcSourceDatabase adapts to this). */
  readonly source: ICdcSource;
  /** Plugin with the Debezium connector for the same engine. */
  readonly plugin: DebeziumPlugin;
  /** `topic.prefix`: topics are `<prefix>.<schema|database>.<table>`. Letters, digits, `_`, `-`, dots between segments. */
  readonly topicPrefix: string;
  /**
   * Base connector name; the plugin fingerprint is appended because a new plugin replaces the connector.
   * @default - a name derived from the construct path
   */
  readonly connectorName?: string;
  /**
   * `snapshot.mode`. `when_needed` snapshots when the connector has no offsets (first start, new connector name) and
   * also when its stored position is no longer available: a dropped or invalidated replication slot (PostgreSQL) or a
   * purged binlog (MySQL). The connector then rebuilds every view by a snapshot instead of failing with "no longer
   * available on the server". `initial` snapshots only without offsets.
   * @default 'when_needed'
   */
  readonly snapshotMode?: string;
  /**
   * `heartbeat.interval.ms`: keeps the PostgreSQL slot advancing on idle tables and feeds freshness checks.
   * @default Duration.seconds(10)
   */
  readonly heartbeatInterval?: Duration;
  /**
   * Embed the Connect schema in every JSON key and value (`*.converter.schemas.enable`).
   * @default false (plain JSON payloads, which Flink's `debezium-json` format reads by default)
   */
  readonly schemasEnable?: boolean;
  /**
   * `decimal.handling.mode`.
   * @default 'string' (exact values in JSON; 'precise' emits base64 bytes, 'double' loses precision)
   */
  readonly decimalHandlingMode?: 'precise' | 'double' | 'string';
  /**
   * Emit a tombstone after each delete so compacted topics and key-based stores drop the key.
   * @default true
   */
  readonly tombstonesOnDelete?: boolean;
  /**
   * Partitions of each CDC topic (row order is kept per key).
   * @default 3
   */
  readonly topicPartitions?: number;
  /**
   * Replication factor of the CDC topics and of Kafka Connect's internal config, offset and status topics
   * (`*.storage.replication.factor` in the worker configuration); at most the cluster's broker count.
   * @default - the cluster's default (3 with 3 brokers, 2 with 2) for an AgentStreamingCluster, else 3
   */
  readonly topicReplicationFactor?: number;
  /**
   * Retention of the CDC topics.
   * @default Duration.days(7)
   */
  readonly topicRetention?: Duration;
  /**
   * Declare the CDC, heartbeat and (MySQL) schema-history topics through the cluster's `addTopic` (AWS::MSK::Topic,
   * provisioned clusters only; serverless clusters always use Debezium's `topic.creation.*`).
   * @default true for provisioned clusters
   */
  readonly createTopics?: boolean;
  /**
   * The MSK Connect Kafka Connect runtime. It must run the plugin's Java: Debezium 3.x needs 3.7.x (Java 17);
   * Debezium 2.7.x runs on 3.7.x or 2.7.1 (Java 11).
   * @default KafkaConnectVersion.V3_7_X
   */
  readonly kafkaConnectVersion?: KafkaConnectVersion;
  /**
   * Worker capacity. MySQL requires provisioned capacity with one worker.
   * @default ConnectorCapacity.provisioned() (1 worker, 1 MCU)
   */
  readonly capacity?: ConnectorCapacity;
  /**
   * `producer.linger.ms` in the worker configuration: how long the producer waits to batch; small for freshness.
   * @default Duration.millis(5)
   */
  readonly producerLinger?: Duration;
  /**
   * `producer.compression.type` in the worker configuration.
   * @default 'lz4'
   */
  readonly producerCompression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /**
   * MySQL `database.server.id` (unique among the database's replicas and binlog clients).
   * @default - a stable number in 5400000-5499999 derived from the construct path
   */
  readonly mysqlServerId?: number;
  /**
   * Extra Debezium / Kafka Connect properties, applied last (escape hatch). `database.password` cannot be set here.
   * @default - none
   */
  readonly extraProperties?: Record<string, string>;
  /**
   * Subnets the connector's workers run in.
   * @default - the cluster VPC's private subnets with egress (NAT reaches Secrets Manager); else its isolated subnets plus a Secrets Manager interface endpoint
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * TLS of the database connection. `DatabaseTls.verifyServer(...)` verifies the server certificate against a CA the
   * workers copy from S3 (PostgreSQL `verify-full`, MySQL `verify_identity`); see docs/streaming.md.
   * @default DatabaseTls.encryptedUnverified() (`sslmode=require` / `ssl.mode=required`: encrypted, certificate not verified)
   */
  readonly databaseTls?: DatabaseTls;
  /**
   * Retention of the connector's worker log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Debezium on Amazon MSK Connect, writing one topic per captured table. */
export class DebeziumConnector extends DebeziumConnectorBase implements ec2.IConnectable {
  public readonly connectorArn: string;
  public readonly connectorName: string;
  public readonly role: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly connections: ec2.Connections;
  public readonly logGroup: logs.LogGroup;
  public readonly topicPrefix: string;
  /** Topic per captured table, in `source.tables` order. */
  public readonly tableTopics: string[];
  /** Debezium heartbeat topic (`__debezium-heartbeat.<prefix>`). */
  public readonly heartbeatTopic: string;
  /** MySQL schema-history topic. */
  public readonly schemaHistoryTopic?: string;
  /** Pattern matching every table topic (`<prefix>.*`), for consumer grants. */
  public readonly topicPattern: string;
  /** The connector configuration as deployed (the password is a config-provider reference). */
  public readonly connectorConfiguration: Record<string, string>;
  public readonly workerConfiguration: kafkaconnect.CfnWorkerConfiguration;
  public readonly topics: msk.CfnTopic[] = [];
  public readonly resource: kafkaconnect.CfnConnector;
  /** The cluster the connector writes to. */
  public readonly cluster: IAgentStreamingCluster;

  constructor(scope: Construct, id: string, props: DebeziumConnectorProps) {
    super(scope, id);
    const { cluster, source, plugin } = props;
    this.cluster = cluster;
    const engine = source.engine;
    const snapshotMode = props.snapshotMode ?? 'when_needed';
    const decimalHandlingMode = props.decimalHandlingMode ?? 'string';
    const capacity = props.capacity ?? ConnectorCapacity.provisioned();
    const partitions = props.topicPartitions ?? 3;
    const replication = props.topicReplicationFactor
      ?? (cluster instanceof AgentStreamingCluster ? cluster.defaultReplicationFactor : 3);
    const retention = props.topicRetention ?? Duration.days(7);
    const heartbeat = props.heartbeatInterval ?? Duration.seconds(10);
    validate(props, engine, snapshotMode, decimalHandlingMode, capacity, partitions, replication, heartbeat);
    if (capacity.isAutoScaling) {
      Annotations.of(this).addWarningV2('cdk-agent-data-stack:debezium-autoscaling',
        'DebeziumConnector: Debezium PostgreSQL runs a single task, so autoscaling adds workers that stay idle; prefer ConnectorCapacity.provisioned().');
    }

    const qualifiedTables = source.tables.map(t => (engine === 'mysql' && !t.includes('.') ? `${source.databaseName}.${t}` : t));
    this.topicPrefix = props.topicPrefix;
    this.tableTopics = qualifiedTables.map(t => `${props.topicPrefix}.${t}`);
    this.heartbeatTopic = `__debezium-heartbeat.${props.topicPrefix}`;
    this.topicPattern = `${props.topicPrefix}.*`;
    this.schemaHistoryTopic = engine === 'mysql' ? `__debezium-schema-history.${props.topicPrefix}` : undefined;
    const baseName = props.connectorName ?? Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    // A new plugin replaces the connector (Plugins is a replacement property), and names must stay unique meanwhile.
    this.connectorName = `${baseName}-${plugin.fingerprint.slice(0, 8)}`;

    // Network: workers in the cluster VPC, allowed to the brokers, the database and HTTPS (Secrets Manager).
    const vpc = cluster.vpc;
    const hasEgress = vpc.privateSubnets.length > 0;
    const subnets = vpc.selectSubnets(props.vpcSubnets ?? { subnetType: hasEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED });
    this.securityGroup = restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `Debezium connector ${this.node.path}: to MSK (IAM), the source database and Secrets Manager`,
    });
    this.connections = this.securityGroup.connections;
    cluster.connections.allowFrom(this.securityGroup, ec2.Port.tcp(cluster.iamPort), 'Debezium connector to MSK (IAM)');
    source.connections.allowFrom(this.securityGroup, ec2.Port.tcp(source.endpointPort), 'Debezium connector to the source database');
    if (!hasEgress && !props.vpcSubnets) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc, service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, subnets, privateDnsEnabled: true, open: false,
        securityGroups: [restrictedSecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', { vpc, description: `Secrets Manager endpoint of ${this.node.path}` })],
      });
      endpoint.connections.allowFrom(this.securityGroup, ec2.Port.tcp(443), 'Debezium config provider to Secrets Manager');
    } else {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Config provider to the Secrets Manager endpoint (through NAT)');
    }

    // Service execution role: trusted only by MSK Connect for this account and this connector name.
    const stack = Stack.of(this);
    const connectorArnPattern = stack.formatArn({
      service: 'kafkaconnect', resource: 'connector', resourceName: `${this.connectorName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.role = new iam.Role(this, 'ServiceExecutionRole', {
      description: `MSK Connect service execution role of Debezium connector ${this.connectorName}`.slice(0, 1000),
      assumedBy: new iam.ServicePrincipal('kafkaconnect.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': connectorArnPattern },
        },
      }),
    });
    this.grantConnectorPermissions(props, engine);

    const tls = props.databaseTls ?? DatabaseTls.encryptedUnverified();
    const trust = tls.verify ? tls.trust! : undefined;
    if (trust) {
      iam.Grant.addToPrincipal({ grantee: this.role, actions: ['s3:GetObject'], resourceArns: [trust.bucket.arnForObjects(trust.key)] });
      trust.bucket.encryptionKey?.grantDecrypt(this.role);
      trust.truststorePassword?.grantRead(this.role);
    } else {
      Annotations.of(this).addInfo(`DebeziumConnector: the ${engine} connection is encrypted but the server certificate is not verified (${engine === 'postgres' ? 'sslmode=require' : 'ssl.mode=required'}); use databaseTls: DatabaseTls.verifyServer(...) to verify it against the RDS CA.`);
    }
    // The password never leaves Secrets Manager: workers resolve it through the config provider at runtime.
    const passwordReference = `\${secretsmanager:${encodeColons(source.replicationSecret.secretArn)}:password}`;
    this.connectorConfiguration = debeziumProperties({
      engine,
      hostname: source.endpointAddress,
      port: Token.isUnresolved(source.endpointPort) ? Token.asString(source.endpointPort) : String(source.endpointPort),
      databaseName: source.databaseName,
      username: source.replicationUsername,
      passwordReference,
      topicPrefix: props.topicPrefix,
      qualifiedTables,
      publicationName: source.publicationName,
      slotName: source.slotName,
      snapshotMode,
      heartbeatIntervalMs: heartbeat.toMilliseconds(),
      heartbeatActionQuery: source.heartbeatActionQuery,
      schemasEnable: props.schemasEnable ?? false,
      decimalHandlingMode,
      tombstonesOnDelete: props.tombstonesOnDelete ?? true,
      topicReplicationFactor: replication,
      topicPartitions: partitions,
      topicRetentionMs: retention.toMilliseconds(),
      mysqlServerId: engine === 'mysql' ? (props.mysqlServerId ?? defaultServerId(this.node.path)) : undefined,
      bootstrapServers: cluster.bootstrapBrokersSaslIam,
      schemaHistoryTopic: this.schemaHistoryTopic ?? '',
      schemaHistoryGroup: this.schemaHistoryTopic ?? '',
      tls: trust ? {
        trustReference: `\${s3import:${stack.region}:${trust.bucket.bucketName}/${trust.key}}`,
        truststorePasswordReference: trust.truststorePassword
          ? `\${secretsmanager:${encodeColons(trust.truststorePassword.secretArn)}:password}` : undefined,
      } : undefined,
      columns: source.columns && Object.keys(source.columns).length > 0
        ? { policies: qualifyPolicies(source.columns, engine, source.databaseName), hashSalt: source.columnHashSalt }
        : undefined,
      extra: props.extraProperties ?? {},
    });

    const workerProps = workerProperties({
      region: stack.region,
      schemasEnable: props.schemasEnable ?? false,
      producerLingerMs: (props.producerLinger ?? Duration.millis(5)).toMilliseconds(),
      producerCompression: props.producerCompression ?? 'lz4',
      internalTopicReplicationFactor: replication,
      s3Import: trust !== undefined,
    });
    this.workerConfiguration = new kafkaconnect.CfnWorkerConfiguration(this, 'WorkerConfiguration', {
      // Hash the resolved form: a token's printed name depends on how many tokens the process created before it.
      name: `${baseName}-workers-${createHash('sha256').update(JSON.stringify(stack.resolve(workerProps))).digest('hex').slice(0, 8)}`,
      description: 'JSON converters, producer tuning, internal-topic replication and the Secrets Manager config provider for Debezium',
      propertiesFileContent: Fn.base64(workerProps),
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.resource = new kafkaconnect.CfnConnector(this, 'Resource', {
      connectorName: this.connectorName,
      connectorDescription: `Debezium ${engine} CDC of ${source.databaseName} to ${props.topicPrefix}.*`,
      kafkaConnectVersion: (props.kafkaConnectVersion ?? KafkaConnectVersion.V3_7_X).version,
      capacity: capacity.config,
      connectorConfiguration: this.connectorConfiguration,
      kafkaCluster: {
        apacheKafkaCluster: {
          bootstrapServers: cluster.bootstrapBrokersSaslIam,
          vpc: { securityGroups: [this.securityGroup.securityGroupId], subnets: subnets.subnetIds },
        },
      },
      kafkaClusterClientAuthentication: { authenticationType: 'IAM' },
      kafkaClusterEncryptionInTransit: { encryptionType: 'TLS' },
      plugins: [{ customPlugin: { customPluginArn: plugin.customPluginArn, revision: plugin.customPluginRevision } }],
      serviceExecutionRoleArn: this.role.roleArn,
      workerConfiguration: { workerConfigurationArn: this.workerConfiguration.attrWorkerConfigurationArn, revision: this.workerConfiguration.attrRevision },
      logDelivery: { workerLogDelivery: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } } },
    });
    this.connectorArn = this.resource.attrConnectorArn;

    // Ordering: after the replication bootstrap (publication/slot), the plugin, the role's policy and the topics.
    this.resource.node.addDependency(source.dependable);
    this.resource.node.addDependency(plugin);
    this.resource.node.addDependency(this.role);
    if (!cluster.serverless && (props.createTopics ?? true)) {
      this.createTopics(cluster, partitions, replication, retention);
    }
  }

  /** Lets a consumer read every table topic of this connector (`<prefix>.*`) as consumer group(s) matching `groupPattern`. */
  public grantReadChanges(grantee: iam.IGrantable, groupPattern: string): iam.Grant {
    return this.cluster.grantRead(grantee, this.topicPattern, groupPattern);
  }

  /** Whether `topic` is one this connector writes: a captured table's topic, the heartbeat or the schema history. */
  public writesTopic(topic: string): boolean {
    return this.tableTopics.includes(topic) || topic === this.heartbeatTopic || topic === this.schemaHistoryTopic;
  }

  private grantConnectorPermissions(props: DebeziumConnectorProps, engine: CdcEngine): void {
    const { cluster, source, plugin } = props;
    // Exactly the captured tables' topics, never `<prefix>.*`: the role cannot write a Flink output topic or any other
    // topic that happens to share the prefix.
    for (const topic of this.tableTopics) {
      cluster.grantWrite(this.role, topic);
      cluster.grantCreateTopic(this.role, topic);
    }
    cluster.grantWrite(this.role, this.heartbeatTopic);
    cluster.grantCreateTopic(this.role, this.heartbeatTopic);
    // Kafka Connect's internal topics and groups on MSK Connect. The service execution role page names them
    // `__amazon_msk_connect_*`; the newer state-management page names them `__msk_connect_*`: both are granted.
    const internalTopics = [cluster.topicArn('__amazon_msk_connect_*'), cluster.topicArn('__msk_connect_*')];
    const internalGroups = [cluster.groupArn('__amazon_msk_connect_*'), cluster.groupArn('__msk_connect_*'), cluster.groupArn('connect-*')];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [...new Set([...TOPIC_CREATE_ACTIONS, ...TOPIC_WRITE_ACTIONS, ...TOPIC_READ_ACTIONS])],
      resources: internalTopics,
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: GROUP_ACTIONS, resources: internalGroups }));
    acknowledgePatternGrant(this.role, this, [...internalTopics, ...internalGroups],
      'MSK Connect names its internal offset/config/status topics and worker groups with these prefixes (AWS MSK Connect service execution role documentation).');
    if (engine === 'mysql' && this.schemaHistoryTopic) {
      cluster.grantCreateTopic(this.role, this.schemaHistoryTopic);
      cluster.grantWrite(this.role, this.schemaHistoryTopic);
      cluster.grantRead(this.role, this.schemaHistoryTopic, this.schemaHistoryTopic);
    }
    source.replicationSecret.grantRead(this.role);
    plugin.grantRead(this.role);
  }

  /** The one way topics are made: the cluster's `addTopic`, with ids named by topic so lists can change without replacements. */
  private createTopics(cluster: IAgentStreamingCluster, partitions: number, replication: number, retention: Duration): void {
    if (!(cluster instanceof AgentStreamingClusterBase)) {
      throw new Error('DebeziumConnector: createTopics needs a cluster that can declare topics (an AgentStreamingCluster or AgentStreamingCluster.fromClusterAttributes); set createTopics: false to let Debezium create them (topic.creation.*).');
    }
    const add = (topicName: string, options: { partitions: number; retainForever?: boolean }) => {
      const topic = cluster.addTopic(`Topic-${topicName}`, {
        topicName, partitions: options.partitions, replicationFactor: replication, retention, retainForever: options.retainForever,
      });
      this.resource.node.addDependency(topic);
      this.topics.push(topic);
    };
    this.tableTopics.forEach(topicName => add(topicName, { partitions }));
    add(this.heartbeatTopic, { partitions: 1 });
    // Debezium requires one partition and infinite retention for the schema history.
    if (this.schemaHistoryTopic) add(this.schemaHistoryTopic, { partitions: 1, retainForever: true });
  }
}

/** Column policies keyed by the table names Debezium matches (MySQL: `database.table`). */
function qualifyPolicies(columns: Record<string, CdcColumnPolicy>, engine: CdcEngine, databaseName: string): Record<string, CdcColumnPolicy> {
  return Object.fromEntries(Object.entries(columns).map(([t, p]) => [engine === 'mysql' && !t.includes('.') ? `${databaseName}.${t}` : t, p]));
}

/** Kafka's config-provider syntax splits on ':', so the secret ARN's colons are URL-encoded (msk-config-providers decodes them). */
function encodeColons(arn: string): string {
  if (!Token.isUnresolved(arn)) return arn.replace(/:/g, '%3A');
  return Fn.join('%3A', Fn.split(':', arn));
}

function defaultServerId(path: string): number {
  return 5_400_000 + (parseInt(createHash('sha256').update(path).digest('hex').slice(0, 8), 16) % 100_000);
}

function validate(props: DebeziumConnectorProps, engine: CdcEngine, snapshotMode: string, decimalMode: string, capacity: ConnectorCapacity,
  partitions: number, replication: number, heartbeat: Duration): void {
  const { source, plugin } = props;
  if (engine !== 'postgres' && engine !== 'mysql') {
    throw new Error(`DebeziumConnector: source engine '${engine}' is not supported; use a 'postgres' or 'mysql' source.`);
  }
  if (plugin.engine !== engine) {
    throw new Error(`DebeziumConnector: plugin holds the Debezium ${plugin.engine} connector but the source engine is '${engine}'; create the DebeziumPlugin with engine '${engine}'.`);
  }
  const connect = props.kafkaConnectVersion ?? KafkaConnectVersion.V3_7_X;
  if (!Token.isUnresolved(plugin.version.version) && !plugin.version.kafkaConnectVersions.includes(connect)) {
    throw new Error(`DebeziumConnector: Debezium ${plugin.version.version} needs Java ${plugin.version.javaVersion}, but kafkaConnectVersion ${connect.version} runs Java ${connect.javaVersion} on MSK Connect; use KafkaConnectVersion.V3_7_X, or DebeziumVersion.V2_7_4 on Kafka Connect ${connect.version}.`);
  }
  if (!TOPIC_PREFIX.test(props.topicPrefix) || props.topicPrefix.length > 200) {
    throw new Error(`DebeziumConnector: topicPrefix '${props.topicPrefix}' is invalid; use letters, digits, '_' and '-', with single dots between segments (e.g. 'shop.cdc').`);
  }
  if (source.tables.length === 0) {
    throw new Error('DebeziumConnector: the source has no tables; list at least one table to capture.');
  }
  for (const table of source.tables) {
    if (Token.isUnresolved(table)) throw new Error('DebeziumConnector: table names must be literals (they name topics at synth).');
    if (engine === 'postgres' && !PG_TABLE.test(table)) {
      throw new Error(`DebeziumConnector: table '${table}' is not in PostgreSQL 'schema.table' form (e.g. 'public.orders').`);
    }
    if (engine === 'mysql') {
      if (!MYSQL_TABLE.test(table)) throw new Error(`DebeziumConnector: table '${table}' is not in MySQL 'table' or 'database.table' form.`);
      if (table.includes('.') && !Token.isUnresolved(source.databaseName) && table.split('.')[0] !== source.databaseName) {
        throw new Error(`DebeziumConnector: table '${table}' is outside database '${source.databaseName}'; the connector captures one database.`);
      }
    }
  }
  if (engine === 'postgres' && (!source.publicationName || !source.slotName)) {
    throw new Error('DebeziumConnector: a PostgreSQL source needs publicationName and slotName (created by the replication bootstrap, since publication.autocreate.mode is disabled).');
  }
  if (!SNAPSHOT_MODES[engine].includes(snapshotMode)) {
    throw new Error(`DebeziumConnector: snapshotMode '${snapshotMode}' is not a Debezium ${engine} snapshot mode; use one of ${SNAPSHOT_MODES[engine].join(', ')}.`);
  }
  if (!DECIMAL_MODES.includes(decimalMode)) {
    throw new Error(`DebeziumConnector: decimalHandlingMode '${decimalMode}' is invalid; use precise, double or string.`);
  }
  if (engine === 'mysql') {
    const provisioned = capacity.config.provisionedCapacity as kafkaconnect.CfnConnector.ProvisionedCapacityProperty | undefined;
    if (capacity.isAutoScaling || !provisioned || provisioned.workerCount !== 1) {
      throw new Error('DebeziumConnector: the Debezium MySQL connector runs a single task; use capacity ConnectorCapacity.provisioned({ workerCount: 1 }) (autoscaling or more workers is refused).');
    }
  }
  if (props.mysqlServerId !== undefined && (!Number.isInteger(props.mysqlServerId) || props.mysqlServerId < 1 || props.mysqlServerId > 4294967295)) {
    throw new Error(`DebeziumConnector: mysqlServerId ${props.mysqlServerId} is invalid; use an integer from 1 to 4294967295 unique among the database's replicas.`);
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`DebeziumConnector: topicPartitions ${partitions} is invalid; use 1 or more.`);
  }
  if (!Number.isInteger(replication) || replication < 1 || (props.cluster.serverless && replication !== 3)) {
    throw new Error(`DebeziumConnector: topicReplicationFactor ${replication} is invalid; use 1-3 (MSK Serverless requires 3).`);
  }
  const brokers = props.cluster instanceof AgentStreamingCluster ? props.cluster.brokerCount : undefined;
  if (brokers !== undefined && !Token.isUnresolved(brokers) && replication > brokers) {
    throw new Error(`DebeziumConnector: topicReplicationFactor ${replication} exceeds the ${brokers} broker(s) of the cluster, so the CDC topics and Kafka Connect's internal config/offset/status topics could not be created. Leave topicReplicationFactor unset (it follows the cluster: ${Math.min(3, brokers)}) or set it to ${brokers} or less, or give the cluster 3 brokers (a 3-AZ VPC).`);
  }
  if (heartbeat.toMilliseconds() < 1000) {
    throw new Error(`DebeziumConnector: heartbeatInterval ${heartbeat.toHumanString()} is below 1 second; use Duration.seconds(1) or more.`);
  }
  const trust = props.databaseTls?.trust;
  if (trust) {
    if (!Token.isUnresolved(trust.key) && !/^[A-Za-z0-9!_.*'()/-]+$/.test(trust.key)) {
      throw new Error(`DebeziumConnector: databaseTls key '${trust.key}' cannot be used in a config-provider reference; use letters, digits and / . _ - ! * ' ( ) only (no ':' or '}').`);
    }
    if (engine === 'mysql' && !trust.truststorePassword) {
      throw new Error('DebeziumConnector: databaseTls.verifyServer for MySQL needs truststorePassword (a secret whose JSON key "password" opens the JKS/PKCS12 truststore at key); MySQL Connector/J does not read PEM bundles.');
    }
    if (engine === 'postgres' && trust.truststorePassword) {
      throw new Error('DebeziumConnector: databaseTls.truststorePassword is for MySQL truststores; PostgreSQL reads the PEM bundle at key directly. Remove truststorePassword.');
    }
    if (!props.vpcSubnets && props.cluster.vpc.privateSubnets.length === 0) {
      throw new Error('DebeziumConnector: databaseTls.verifyServer makes the workers copy the CA from S3, but they run in isolated subnets reached only through a Secrets Manager endpoint; give vpcSubnets with NAT egress (the S3 gateway endpoint alone is not opened to them).');
    }
  }
  const policies = source.columns ?? {};
  for (const key of Object.keys(props.extraProperties ?? {})) {
    if (key === 'database.password') {
      throw new Error('DebeziumConnector: extraProperties sets database.password; the password comes from the source\'s replication secret through the config provider and cannot be overridden.');
    }
    if (Object.keys(policies).length > 0 && /^column\.(exclude\.list|include\.list|mask\.)/.test(key)) {
      throw new Error(`DebeziumConnector: extraProperties sets ${key}, but the source declares column policies (columns), which set Debezium's column properties; `
        + 'declare exclusions, hashes and masks in the source\'s columns instead.');
    }
  }
  for (const [table, policy] of Object.entries(policies)) {
    if (!source.tables.includes(table)) {
      throw new Error(`DebeziumConnector: the source declares columns for '${table}', which is not a captured table; declare column policies for captured tables only.`);
    }
    if ((policy.hash ?? []).length > 0 && !source.columnHashSalt) {
      throw new Error(`DebeziumConnector: the source hashes columns of '${table}' but gives no columnHashSalt; set one (16-128 letters, digits, _ or -).`);
    }
  }
}
