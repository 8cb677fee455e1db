// Grants, topic ARNs, topics and consumer-lag metrics shared by created and imported MSK clusters (AgentStreamingClusterBase), and the topic options.
import { ArnFormat, Duration, Fn, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as msk from 'aws-cdk-lib/aws-msk';
import {
  CLUSTER_CONNECT_ACTIONS, CLUSTER_IDEMPOTENT_WRITE_ACTIONS, GROUP_ACTIONS, TOPIC_CREATE_ACTIONS, TOPIC_READ_ACTIONS, TOPIC_WRITE_ACTIONS,
} from './perms';
import { acknowledgePatternGrant } from './private/nag';
import { ConsumerLagMetricOptions, IAgentStreamingCluster } from './refs';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, KAFKA_METRIC_NAMES } from '../../contract/metric-names';

/** Port IAM-authenticated clients use (TLS + SASL/IAM). */
export const MSK_IAM_PORT = 9098;

/** An Amazon MSK Apache Kafka version string. */
export class KafkaVersion {
  /** 3.9.x in KRaft metadata mode (no ZooKeeper). */
  public static readonly V3_9_X_KRAFT = new KafkaVersion('3.9.x.kraft');
  /** 3.8.x in KRaft metadata mode. */
  public static readonly V3_8_X_KRAFT = new KafkaVersion('3.8.x.kraft');
  /** 3.8.x with ZooKeeper (MSK's "recommended" version at the time of writing). */
  public static readonly V3_8_X = new KafkaVersion('3.8.x');
  /** 4.0.x (KRaft only). */
  public static readonly V4_0_X_KRAFT = new KafkaVersion('4.0.x.kraft');
  /** Any version string MSK accepts. */
  public static of(version: string): KafkaVersion {
    return new KafkaVersion(version);
  }
  private constructor(public readonly version: string) {}
}

/** A topic declared on the cluster with `addTopic`. */
export interface AgentTopicOptions {
  readonly topicName: string;
  /** @default 3 */
  readonly partitions?: number;
  /** @default - 3, or the cluster's broker-count-derived default for an AgentStreamingCluster */
  readonly replicationFactor?: number;
  /** How long records are kept (long enough to rebuild a store by replaying). @default Duration.days(7) */
  readonly retention?: Duration;
  /** Keep the latest record per key indefinitely (`cleanup.policy=compact`) instead of deleting by age: for upsert topics a store can be rebuilt from. @default false */
  readonly compacted?: boolean;
  /** Never delete records by age or size (`retention.ms=-1`, `retention.bytes=-1`), e.g. Debezium's MySQL schema history. @default false */
  readonly retainForever?: boolean;
}

/**
 * The `Configs` value of an `AWS::MSK::Topic`: base64 of a JSON object whose values are strings
 * (`{"cleanup.policy":"compact"}`), the encoding the MSK CreateTopic/DescribeTopic API round-trips (see docs/streaming.md
 * for the evidence). Encoded at synth so the template holds the exact bytes the service receives.
 */
export function encodeTopicConfigs(configs: Record<string, string>): string {
  return Buffer.from(JSON.stringify(configs), 'utf8').toString('base64');
}

/** The topic-level settings `addTopic` declares for these options. */
export function topicConfigs(options: Pick<AgentTopicOptions, 'retention' | 'compacted' | 'retainForever'>): Record<string, string> {
  if (options.compacted && options.retainForever) {
    throw new Error('AgentStreamingCluster.addTopic: compacted and retainForever are both set; a compacted topic already keeps the latest record per key, so set only one.');
  }
  if (options.compacted) return { 'cleanup.policy': 'compact' };
  if (options.retainForever) return { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };
  return { 'cleanup.policy': 'delete', 'retention.ms': String((options.retention ?? Duration.days(7)).toMilliseconds()) };
}

/** Attributes of an MSK cluster that already exists. */
export interface AgentStreamingClusterAttributes {
  readonly clusterArn: string;
  /** @default - parsed from `clusterArn` (must then be a literal ARN) */
  readonly clusterName?: string;
  /** Security group attached to the brokers; clients are allowed in through it. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Comma-separated IAM bootstrap brokers (`host:9098,...`). */
  readonly bootstrapBrokersSaslIam: string;
  readonly vpc: ec2.IVpc;
  /** @default false */
  readonly serverless?: boolean;
}

/** Grants, ARNs and metrics shared by created and imported clusters. */
export abstract class AgentStreamingClusterBase extends Resource implements IAgentStreamingCluster {
  public abstract readonly clusterArn: string;
  public abstract readonly clusterName: string;
  public abstract readonly serverless: boolean;
  public abstract readonly vpc: ec2.IVpc;
  public abstract readonly bootstrapBrokersSaslIam: string;
  public abstract readonly connections: ec2.Connections;
  public readonly iamPort: number = MSK_IAM_PORT;

  /** The cluster UUID: the last segment of the cluster ARN (`cluster/<name>/<uuid>`). */
  protected get clusterUuid(): string {
    if (!Token.isUnresolved(this.clusterArn)) return this.clusterArn.split('/')[2];
    return Fn.select(2, Fn.split('/', this.clusterArn));
  }

  public topicArn(topicPattern: string): string {
    return this.childArn('topic', topicPattern);
  }

  public groupArn(groupPattern: string): string {
    return this.childArn('group', groupPattern);
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: CLUSTER_CONNECT_ACTIONS, resourceArns: [this.clusterArn] });
  }

  public grantRead(grantee: iam.IGrantable, topicPattern: string, groupPattern: string): iam.Grant {
    this.acknowledgePatterns(grantee, [this.topicArn(topicPattern), this.groupArn(groupPattern)], 'read');
    return this.grantConnect(grantee)
      .combine(iam.Grant.addToPrincipal({ grantee, actions: TOPIC_READ_ACTIONS, resourceArns: [this.topicArn(topicPattern)] }))
      .combine(iam.Grant.addToPrincipal({ grantee, actions: GROUP_ACTIONS, resourceArns: [this.groupArn(groupPattern)] }));
  }

  public grantWrite(grantee: iam.IGrantable, topicPattern: string): iam.Grant {
    this.acknowledgePatterns(grantee, [this.topicArn(topicPattern)], 'write');
    return iam.Grant.addToPrincipal({
      grantee, actions: [...CLUSTER_CONNECT_ACTIONS, ...CLUSTER_IDEMPOTENT_WRITE_ACTIONS], resourceArns: [this.clusterArn],
    }).combine(iam.Grant.addToPrincipal({ grantee, actions: TOPIC_WRITE_ACTIONS, resourceArns: [this.topicArn(topicPattern)] }));
  }

  public grantCreateTopic(grantee: iam.IGrantable, topicPattern: string): iam.Grant {
    this.acknowledgePatterns(grantee, [this.topicArn(topicPattern)], 'create');
    return this.grantConnect(grantee)
      .combine(iam.Grant.addToPrincipal({ grantee, actions: TOPIC_CREATE_ACTIONS, resourceArns: [this.topicArn(topicPattern)] }));
  }

  /**
   * Declares a topic on this (provisioned) cluster as an `AWS::MSK::Topic`, e.g. a Flink SQL output topic, so it
   * exists before producers and consumers start. Serverless clusters have no topic resource: producers create topics.
   */
  public addTopic(id: string, options: AgentTopicOptions): msk.CfnTopic {
    if (this.serverless) {
      throw new Error(`AgentStreamingCluster.addTopic('${options.topicName}'): MSK Serverless has no AWS::MSK::Topic; create the topic with the producer's own settings (Debezium topic.creation.*) or the Kafka admin API, or use a provisioned cluster.`);
    }
    if (!Token.isUnresolved(options.topicName) && !/^[A-Za-z0-9._-]{1,249}$/.test(options.topicName)) {
      throw new Error(`AgentStreamingCluster.addTopic: topicName '${options.topicName}' is not a Kafka topic name (1-249 letters, digits, '.', '_', '-').`);
    }
    const partitions = options.partitions ?? 3;
    return new msk.CfnTopic(this, id, {
      clusterArn: this.clusterArn,
      topicName: options.topicName,
      partitionCount: partitions,
      replicationFactor: options.replicationFactor ?? this.topicReplicationFactor(),
      configs: encodeTopicConfigs(topicConfigs(options)),
    });
  }

  /** Replication factor for topics declared through `addTopic`. */
  protected topicReplicationFactor(): number {
    return 3;
  }

  /** Largest offset lag of a consumer group on a topic, across partitions. @default statistic Maximum over 1 minute */
  public metricMaxOffsetLag(options: ConsumerLagMetricOptions): cloudwatch.Metric {
    return this.lagMetric(KAFKA_METRIC_NAMES.maxOffsetLag, cloudwatch.Stats.MAXIMUM, options);
  }

  /** Total offset lag of a consumer group on a topic. @default statistic Maximum over 1 minute */
  public metricSumOffsetLag(options: ConsumerLagMetricOptions): cloudwatch.Metric {
    return this.lagMetric(KAFKA_METRIC_NAMES.sumOffsetLag, cloudwatch.Stats.MAXIMUM, options);
  }

  /**
   * Percent of one broker's data volume in use (`KafkaDataLogsDiskUsed`, DEFAULT monitoring level, dimensions
   * `Cluster Name` and `Broker ID`; broker ids count from 1). @default statistic Maximum over 5 minutes
   */
  public metricDataLogsDiskUsed(brokerId: number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.kafka, metricName: KAFKA_METRIC_NAMES.dataLogsDiskUsed,
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.kafkaCluster]: this.clusterName, [AWS_METRIC_DIMENSIONS.kafkaBroker]: `${brokerId}` },
      statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5), ...props,
    });
  }

  /** Estimated time (seconds) for the group to drain the topic's lag. @default statistic Maximum over 1 minute */
  public metricEstimatedMaxTimeLag(options: ConsumerLagMetricOptions): cloudwatch.Metric {
    return this.lagMetric(KAFKA_METRIC_NAMES.estimatedMaxTimeLag, cloudwatch.Stats.MAXIMUM, options);
  }

  private acknowledgePatterns(grantee: iam.IGrantable, arns: string[], verb: string): void {
    acknowledgePatternGrant(grantee, arns,
      `Amazon MSK IAM access control names topics and consumer groups by pattern; this ${verb} grant is limited to one cluster (name and UUID) and the pattern the caller chose.`);
  }

  private lagMetric(metricName: string, statistic: string, options: ConsumerLagMetricOptions): cloudwatch.Metric {
    const { consumerGroup, topic, ...rest } = options;
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.kafka,
      metricName,
      dimensionsMap: {
        [AWS_METRIC_DIMENSIONS.kafkaCluster]: this.clusterName,
        [AWS_METRIC_DIMENSIONS.kafkaConsumerGroup]: consumerGroup,
        [AWS_METRIC_DIMENSIONS.kafkaTopic]: topic,
      },
      statistic,
      period: Duration.minutes(1),
      ...rest,
    });
  }

  private childArn(resource: 'topic' | 'group', pattern: string): string {
    return Stack.of(this).formatArn({
      service: 'kafka',
      resource,
      resourceName: `${this.clusterName}/${this.clusterUuid}/${pattern}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}
