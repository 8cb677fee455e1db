// DebeziumConnector: Debezium on MSK Connect with the password resolved at runtime, least-privilege role, network path and CDC topics.
import { createHash } from 'crypto';
import { Annotations, ArnFormat, CustomResource, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kafkaconnect from 'aws-cdk-lib/aws-kafkaconnect';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import type { SnapshotSignalProperties } from '../../contract/replication-bootstrap';
import { restrictedSecurityGroup } from '../common/security-group';
import { CdcColumnPolicy, CdcEngine } from './cdc-source';
import { AgentStreamingCluster, AgentStreamingClusterBase } from './cluster';
import { ConnectorCapacity } from './connector-capacity';
import { DatabaseTls } from './database-tls';
import type { DebeziumConnectorProps } from './debezium-connector-props';
import { KafkaConnectVersion } from './debezium-plugin';
import { GROUP_ACTIONS, TOPIC_CREATE_ACTIONS, TOPIC_READ_ACTIONS, TOPIC_WRITE_ACTIONS } from './perms';
import { debeziumProperties, workerProperties } from './private/debezium-properties';
import { validateConnectorProps } from './private/connector-validation';
import { acknowledgeLogGroup } from '../common/nag';
import { acknowledgePatternGrant } from './private/nag';
import { DebeziumConnectorBase } from './connector-metrics';
import { IAgentStreamingCluster } from './refs';

/** The default MSK Connect runtime: Kafka Connect 3.7.x runs Java 17, which Debezium 3.x requires (msk-connect-plugins.html). */
export const KAFKA_CONNECT_VERSION = KafkaConnectVersion.V3_7_X.version;

/**
 * Default `poll.interval.ms`: at low traffic a change waits at most this long in Debezium before it is produced (Debezium's own
 * default is 500 ms). Part of the deployed freshness budget in docs/PERFORMANCE.md ("Latency defaults").
 */
export const DEFAULT_POLL_INTERVAL = Duration.millis(100);
/** Default `max.batch.size` (Debezium's own): events per poll when a backlog drains; below `max.queue.size` (8192). */
export const DEFAULT_MAX_BATCH_SIZE = 2048;

export { ConnectorCapacity } from './connector-capacity';
export type { DebeziumConnectorProps } from './debezium-connector-props';

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
  /** Sends an incremental snapshot of the tables added to the source on each deploy (only with a source signaling table). */
  public readonly snapshotSignal?: CustomResource;

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
    const maxBatchSize = props.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    validateConnectorProps(props, engine, snapshotMode, decimalHandlingMode, capacity, partitions, replication, heartbeat, maxBatchSize);
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

    // Network: workers in the cluster VPC, allowed to the brokers, the database and HTTPS (Secrets Manager).
    const vpc = cluster.vpc;
    const hasEgress = vpc.privateSubnets.length > 0;
    const subnets = vpc.selectSubnets(props.vpcSubnets ?? { subnetType: hasEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED });
    this.securityGroup = restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `Debezium connector ${this.node.path}: to MSK (IAM), the source database and Secrets Manager`,
    });
    this.connections = this.securityGroup.connections;
    // Opened from the connector's side: a cluster or database security group in another stack gets its ingress rule in
    // this stack, instead of a reference back to this one (the two stacks would depend on each other).
    this.connections.allowTo(cluster, ec2.Port.tcp(cluster.iamPort), 'Debezium connector to MSK (IAM)');
    this.connections.allowTo(source, ec2.Port.tcp(source.endpointPort), 'Debezium connector to the source database');
    if (!hasEgress && !props.vpcSubnets) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc, service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, subnets, privateDnsEnabled: true, open: false,
        securityGroups: [restrictedSecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', { vpc, description: `Secrets Manager endpoint of ${this.node.path}` })],
      });
      endpoint.connections.allowFrom(this.securityGroup, ec2.Port.tcp(443), 'Debezium config provider to Secrets Manager');
    } else {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Config provider to the Secrets Manager endpoint (through NAT)');
    }

    const stack = Stack.of(this);
    const tls = props.databaseTls ?? DatabaseTls.encryptedUnverified();
    const trust = tls.verify ? tls.trust! : undefined;
    const workerProps = workerProperties({
      region: stack.region,
      schemasEnable: props.schemasEnable ?? false,
      producerLingerMs: (props.producerLinger ?? Duration.millis(5)).toMilliseconds(),
      producerCompression: props.producerCompression ?? 'lz4',
      internalTopicReplicationFactor: replication,
      s3Import: trust !== undefined,
    });
    const kafkaConnectVersion = (props.kafkaConnectVersion ?? KafkaConnectVersion.V3_7_X).version;
    const description = `Debezium ${engine} CDC of ${source.databaseName} to ${props.topicPrefix}.*`;
    // Every property CloudFormation replaces the connector for is create-only (AWS::KafkaConnect::Connector schema:
    // ConnectorDescription, KafkaCluster, KafkaConnectVersion, Plugins, WorkerConfiguration, ...), and a replacement
    // creates the new connector before deleting the old one, which CloudFormation refuses for a custom name that stays the
    // same ("cannot update a stack when a custom-named resource requires replacing"). So the name carries a hash of those
    // inputs: the plugin, the worker properties, the runtime, the description, the brokers and the subnets (the role, the
    // security group and the log group are this construct's own and keep their physical ids). Hashed in resolved form: a
    // token's printed name depends on how many tokens the process created before it. A change CloudFormation applies in
    // place (the connector configuration, the capacity) keeps the name and so the offsets.
    const replacementInputs = stack.resolve({
      plugin: plugin.pluginName, worker: workerProps, kafkaConnectVersion, description,
      bootstrapServers: cluster.bootstrapBrokersSaslIam, subnets: subnets.subnetIds,
    });
    this.connectorName = `${baseName}-${createHash('sha256').update(JSON.stringify(replacementInputs)).digest('hex').slice(0, 8)}`;

    // Service execution role: trusted only by MSK Connect for this account and this connector name.
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
      pollIntervalMs: (props.pollInterval ?? DEFAULT_POLL_INTERVAL).toMilliseconds(),
      maxBatchSize,
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
      signal: source.signal ? {
        dataCollection: source.signal.dataCollection, topic: `${props.topicPrefix}.${source.signal.dataCollection}`,
        chunkSize: props.incrementalSnapshotChunkSize ?? 1024,
      } : undefined,
      extra: props.extraProperties ?? {},
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
    acknowledgeLogGroup(this.logGroup);

    this.resource = new kafkaconnect.CfnConnector(this, 'Resource', {
      connectorName: this.connectorName,
      connectorDescription: description,
      kafkaConnectVersion,
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
    if (source.signal) {
      // After the connector: on an Update that added tables, CloudFormation has already given the connector its new
      // table.include.list, so the signal for the added tables is read by the connector that captures them.
      this.snapshotSignal = new CustomResource(this, 'SnapshotSignal', {
        serviceToken: source.signal.serviceToken,
        resourceType: 'Custom::CdcSnapshotSignal',
        properties: { Tables: qualifiedTables, ConnectorName: this.connectorName } satisfies SnapshotSignalProperties,
      });
      this.snapshotSignal.node.addDependency(this.resource);
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
    acknowledgePatternGrant(this.role, [...internalTopics, ...internalGroups],
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
