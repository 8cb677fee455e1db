// AgentStreamingCluster: Amazon MSK (provisioned or serverless) with IAM auth, TLS, encryption, logs, CDC defaults and least-privilege grants.
import { Annotations, Arn, ArnFormat, Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { allowAwsApiEgress, restrictedSecurityGroup } from '../common/security-group';
import { IAgentStreamingCluster } from './refs';
import { acknowledgeDeployTimeFunctions, acknowledgeLogGroup, acknowledgeLogGroups } from '../common/nag';
import { privateSubnetsWithEgressElseIsolated } from '../common/subnets';

import { AgentStreamingClusterAttributes, AgentStreamingClusterBase, KafkaVersion, MSK_IAM_PORT } from './cluster-base';

import { addStorageAutoScaling, BrokerStorageAutoScaling, validateStorageAutoScaling } from './private/storage-scaling';

export type { ConsumerLagMetricOptions } from './refs';
export * from './cluster-base';

export interface AgentStreamingClusterProps {
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the brokers, one per Availability Zone.
   * @default - the VPC's private subnets with egress, else its isolated subnets (one per AZ)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * MSK Serverless instead of provisioned brokers (IAM auth and TLS are then the service's only mode; no broker settings apply).
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * Cluster name (1-64 letters, digits, hyphens).
   * @default - a name derived from the construct path
   */
  readonly clusterName?: string;
  /**
   * Apache Kafka version (provisioned).
   * @default KafkaVersion.V3_9_X_KRAFT (KRaft metadata mode; Kafka 3.6+ also enables AWS::MSK::Topic)
   */
  readonly kafkaVersion?: KafkaVersion;
  /**
   * Broker instance type (provisioned).
   * @default 'kafka.m7g.large' (Graviton; kafka.t3.small cannot run KRaft)
   */
  readonly instanceType?: string;
  /**
   * Number of brokers (a multiple of the number of broker subnets).
   * @default - one per broker subnet (3 in a 3-AZ VPC)
   */
  readonly brokerCount?: number;
  /**
   * EBS storage per broker in GiB (provisioned).
   * @default 100
   */
  readonly volumeSizeGiB?: number;
  /**
   * Grow each broker's volume automatically (Application Auto Scaling on `KafkaBrokerStorageUtilization`), up to a declared
   * maximum (provisioned). Storage never shrinks: the maximum is the cost ceiling.
   * @default - no auto scaling: the volume stays at `volumeSizeGiB`
   */
  readonly storageAutoScaling?: BrokerStorageAutoScaling;
  /**
   * Customer managed key for encryption at rest (provisioned).
   * @default - the AWS managed key for MSK
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long brokers keep records (`log.retention.ms`): long enough to replay a store rebuild.
   * @default Duration.days(7)
   */
  readonly retention?: Duration;
  /**
   * Retention of the broker log group (provisioned).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly brokerLogRetention?: logs.RetentionDays;
  /**
   * What happens to the cluster when it leaves the stack.
   * @default RemovalPolicy.RETAIN (topics hold the change history)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Amazon MSK for the CDC stream: private, IAM-authenticated, TLS everywhere, encrypted, monitored per partition. */
export class AgentStreamingCluster extends AgentStreamingClusterBase {
  /** Wraps a cluster that already exists (bring your own). */
  public static fromClusterAttributes(scope: Construct, id: string, attrs: AgentStreamingClusterAttributes): IAgentStreamingCluster {
    let clusterName = attrs.clusterName;
    if (clusterName === undefined) {
      if (Token.isUnresolved(attrs.clusterArn)) {
        throw new Error('AgentStreamingCluster.fromClusterAttributes: clusterArn is a token, so clusterName cannot be parsed from it; pass clusterName as well.');
      }
      const parsed = Arn.split(attrs.clusterArn, ArnFormat.SLASH_RESOURCE_NAME);
      if (parsed.service !== 'kafka' || parsed.resource !== 'cluster' || !parsed.resourceName?.includes('/')) {
        throw new Error(`AgentStreamingCluster.fromClusterAttributes: clusterArn '${attrs.clusterArn}' is not an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>).`);
      }
      clusterName = parsed.resourceName.split('/')[0];
    }
    const name = clusterName;
    class Imported extends AgentStreamingClusterBase {
      public readonly clusterArn = attrs.clusterArn;
      public readonly clusterName = name;
      public readonly serverless = attrs.serverless ?? false;
      public readonly vpc = attrs.vpc;
      public readonly bootstrapBrokersSaslIam = attrs.bootstrapBrokersSaslIam;
      public readonly connections = new ec2.Connections({ securityGroups: [attrs.securityGroup], defaultPort: ec2.Port.tcp(MSK_IAM_PORT) });
    }
    return new Imported(scope, id, { environmentFromArn: Token.isUnresolved(attrs.clusterArn) ? undefined : attrs.clusterArn });
  }

  public readonly clusterArn: string;
  public readonly clusterName: string;
  public readonly serverless: boolean;
  public readonly vpc: ec2.IVpc;
  public readonly bootstrapBrokersSaslIam: string;
  public readonly connections: ec2.Connections;
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Broker log group (provisioned only). */
  public readonly brokerLogGroup?: logs.ILogGroup;
  /** The cluster configuration (provisioned only). */
  public readonly configuration?: msk.CfnConfiguration;
  /** Replication factor used for topics in this cluster. */
  public readonly defaultReplicationFactor: number;
  /** Number of brokers (provisioned only; MSK Serverless has no brokers to count). */
  public readonly brokerCount?: number;
  /** Storage auto scaling of the brokers, when `storageAutoScaling` is set. */
  public readonly storageScaling?: appscaling.CfnScalableTarget;

  protected topicReplicationFactor(): number {
    return this.defaultReplicationFactor;
  }
  /** Retention applied by the cluster configuration. */
  public readonly retention: Duration;

  constructor(scope: Construct, id: string, props: AgentStreamingClusterProps) {
    super(scope, id);
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { ...privateSubnetsWithEgressElseIsolated(props.vpc), onePerAz: true });
    const serverless = props.serverless ?? false;
    const brokerCount = props.brokerCount ?? subnets.subnetIds.length;
    const retention = props.retention ?? Duration.days(7);
    validateProps(props, subnets.subnetIds.length, brokerCount, serverless, retention);
    if (props.storageAutoScaling) validateStorageAutoScaling(props.storageAutoScaling, props.volumeSizeGiB ?? 100, serverless);

    this.serverless = serverless;
    this.vpc = props.vpc;
    this.retention = retention;
    this.clusterName = props.clusterName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.securityGroup = restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `MSK brokers of ${this.node.path}: clients reach TCP ${MSK_IAM_PORT} (IAM) only`,
    });
    // Lambda's MSK event pollers run in this group: they reach the brokers through it (a self rule) and Lambda, STS and
    // the on-failure destination over HTTPS (docs/streaming.md, "Network egress").
    allowAwsApiEgress(this.securityGroup, 'Event source pollers to Lambda, STS and the on-failure destination (HTTPS)');
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup], defaultPort: ec2.Port.tcp(MSK_IAM_PORT) });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    if (serverless) {
      this.securityGroup.connections.allowInternally(ec2.Port.tcp(MSK_IAM_PORT), 'Event source pollers to the cluster (IAM)');
      this.defaultReplicationFactor = 3;
      const cluster = new msk.CfnServerlessCluster(this, 'Resource', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: subnets.subnetIds, securityGroups: [this.securityGroup.securityGroupId] }],
      });
      cluster.applyRemovalPolicy(removalPolicy);
      this.clusterArn = cluster.attrArn;
    } else {
      // In-cluster replication and the KRaft controllers talk over the same security group.
      this.securityGroup.connections.allowInternally(ec2.Port.allTcp(), 'Broker-to-broker replication');
      this.brokerCount = brokerCount;
      this.defaultReplicationFactor = Math.min(3, brokerCount);
      const minInsync = this.defaultReplicationFactor >= 3 ? 2 : 1;
      if (this.defaultReplicationFactor < 3) {
        // Info, not a warning: the gate fails on warnings and 2-AZ development networks are a supported choice.
        Annotations.of(this).addInfo(
          `AgentStreamingCluster: ${brokerCount} broker(s) give replication factor ${this.defaultReplicationFactor} and min.insync.replicas ${minInsync}; a broker loss can stop writes or lose data. Use a 3-AZ VPC for production.`);
      }
      const kafkaVersion = (props.kafkaVersion ?? KafkaVersion.V3_9_X_KRAFT).version;
      this.configuration = new msk.CfnConfiguration(this, 'Configuration', {
        name: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
        // No KafkaVersionsList: the configuration then applies to any version, so a version upgrade needs no new configuration.
        description: 'cdk-agent-data-stack CDC defaults',
        serverProperties: [
          'auto.create.topics.enable=false',
          `default.replication.factor=${this.defaultReplicationFactor}`,
          `min.insync.replicas=${minInsync}`,
          'num.partitions=3',
          `log.retention.ms=${retention.toMilliseconds()}`,
          'unclean.leader.election.enable=false',
        ].join('\n'),
      });
      const logGroup = new logs.LogGroup(this, 'BrokerLogs', {
        retention: props.brokerLogRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.brokerLogGroup = logGroup;
      acknowledgeLogGroup(logGroup);
      const cluster = new msk.CfnCluster(this, 'Resource', {
        clusterName: this.clusterName,
        kafkaVersion,
        numberOfBrokerNodes: brokerCount,
        brokerNodeGroupInfo: {
          instanceType: props.instanceType ?? 'kafka.m7g.large',
          clientSubnets: subnets.subnetIds,
          securityGroups: [this.securityGroup.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: props.volumeSizeGiB ?? 100 } },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: {
          encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
          ...(props.encryptionKey ? { encryptionAtRest: { dataVolumeKmsKeyId: props.encryptionKey.keyArn } } : {}),
        },
        enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
        loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: logGroup.logGroupName } } },
        configurationInfo: { arn: this.configuration.attrArn, revision: this.configuration.attrLatestRevisionRevision },
      });
      cluster.applyRemovalPolicy(removalPolicy);
      this.clusterArn = cluster.attrArn;
      if (props.storageAutoScaling) this.storageScaling = addStorageAutoScaling(this, this.clusterArn, props.volumeSizeGiB ?? 100, props.storageAutoScaling);
    }

    this.bootstrapBrokersSaslIam = this.fetchBootstrapBrokers();
  }

  /** CloudFormation does not return the IAM bootstrap string: one `kafka:GetBootstrapBrokers` call, scoped to this cluster. */
  private fetchBootstrapBrokers(): string {
    const call: cr.AwsSdkCall = {
      service: 'Kafka',
      action: 'getBootstrapBrokers',
      parameters: { ClusterArn: this.clusterArn },
      physicalResourceId: cr.PhysicalResourceId.of(this.clusterArn),
      outputPaths: ['BootstrapBrokerStringSaslIam'],
    };
    const lookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onCreate: call,
      onUpdate: call,
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.clusterArn] }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'BootstrapBrokersLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
    });
    acknowledgeAwsCustomResourceSingleton(this);
    acknowledgeLogGroups(this.node.findChild('BootstrapBrokersLogs'));
    return lookup.getResponseField('BootstrapBrokerStringSaslIam');
  }
}

/** The AwsCustomResource singleton function is created by aws-cdk-lib; explain its findings once per stack. */
function acknowledgeAwsCustomResourceSingleton(scope: Construct): void {
  const singleton = Stack.of(scope).node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!singleton) return;
  Validations.of(singleton).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AwsCustomResource singleton function is created by aws-cdk-lib with the AWS-managed basic execution role; it only writes its own logs.',
    },
  );
  acknowledgeDeployTimeFunctions(singleton, 'aws-cdk-lib\'s AwsCustomResource singleton (reads the bootstrap brokers at deploy time)');
}

function validateProps(props: AgentStreamingClusterProps, subnetCount: number, brokerCount: number, serverless: boolean, retention: Duration): void {
  if (props.clusterName !== undefined && !Token.isUnresolved(props.clusterName) && !/^[A-Za-z0-9-]{1,64}$/.test(props.clusterName)) {
    throw new Error(`AgentStreamingCluster: clusterName '${props.clusterName}' is invalid; use 1-64 letters, digits and hyphens.`);
  }
  if (subnetCount < 2 && !Token.isUnresolved(subnetCount)) {
    throw new Error(`AgentStreamingCluster: the broker subnets span ${subnetCount} Availability Zone(s); MSK needs 2 or 3. Give a VPC (or vpcSubnets) with private subnets in at least 2 AZs.`);
  }
  if (!serverless && (brokerCount < subnetCount || brokerCount % subnetCount !== 0)) {
    throw new Error(`AgentStreamingCluster: brokerCount is ${brokerCount} but there are ${subnetCount} broker subnets; use a multiple of ${subnetCount}.`);
  }
  if (retention.toMilliseconds() < Duration.hours(1).toMilliseconds()) {
    throw new Error(`AgentStreamingCluster: retention is ${retention.toHumanString()}; keep at least 1 hour (default 7 days) so consumers can replay.`);
  }
  if (serverless) {
    for (const [prop, value] of [['kafkaVersion', props.kafkaVersion], ['instanceType', props.instanceType], ['brokerCount', props.brokerCount], ['volumeSizeGiB', props.volumeSizeGiB], ['encryptionKey', props.encryptionKey], ['retention', props.retention]] as const) {
      if (value !== undefined) {
        throw new Error(`AgentStreamingCluster: ${prop} applies to provisioned clusters only; remove it or set serverless to false.`);
      }
    }
  }
}
