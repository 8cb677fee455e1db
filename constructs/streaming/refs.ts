// Reference interface of the Kafka (Amazon MSK) cluster, so the connector, Flink apps and sinks can be wired to any cluster, created or imported.
import { IResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';

export interface IAgentStreamingCluster extends IResource, ec2.IConnectable {
  readonly clusterArn: string;
  readonly clusterName: string;
  /** True for MSK Serverless. */
  readonly serverless: boolean;
  readonly vpc: ec2.IVpc;
  /** Comma-separated `host:port` list for IAM (SASL/SCRAM-free, TLS 9098) clients; a deploy-time token. */
  readonly bootstrapBrokersSaslIam: string;
  /** Port IAM-authenticated clients connect to (9098). */
  readonly iamPort: number;
  /** ARN of a topic or topic pattern (`orders.*`) in this cluster. */
  topicArn(topicPattern: string): string;
  /** ARN of a consumer group or group pattern in this cluster. */
  groupArn(groupPattern: string): string;
  /** `kafka-cluster:Connect` and `DescribeCluster`. */
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  /** Read topics matching `topicPattern` as consumer group(s) matching `groupPattern` (includes connect). */
  grantRead(grantee: iam.IGrantable, topicPattern: string, groupPattern: string): iam.Grant;
  /** Write (and describe) topics matching `topicPattern` (includes connect). */
  grantWrite(grantee: iam.IGrantable, topicPattern: string): iam.Grant;
  /** Create topics matching `topicPattern`. */
  grantCreateTopic(grantee: iam.IGrantable, topicPattern: string): iam.Grant;
  /** Largest offset lag of a consumer group on a topic, across partitions. @default - Maximum over 1 minute */
  metricMaxOffsetLag(options: ConsumerLagMetricOptions): cloudwatch.Metric;
  /** Total offset lag of a consumer group on a topic. @default - Maximum over 1 minute */
  metricSumOffsetLag(options: ConsumerLagMetricOptions): cloudwatch.Metric;
  /** Estimated seconds for the group to drain the topic's lag. @default - Maximum over 1 minute */
  metricEstimatedMaxTimeLag(options: ConsumerLagMetricOptions): cloudwatch.Metric;
}

/** Metric options for consumer-lag metrics (`AWS/Kafka`, per cluster, consumer group and topic). */
export interface ConsumerLagMetricOptions extends cloudwatch.MetricOptions {
  /** Consumer group. */
  readonly consumerGroup: string;
  /** Topic. */
  readonly topic: string;
}
