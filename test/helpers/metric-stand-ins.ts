// Base classes for test stand-ins of the cluster and search interfaces: the metric*() methods the interfaces declare, built the way the real constructs build them.
import { Duration, Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, KAFKA_METRIC_NAMES, OPENSEARCH_METRIC_NAMES } from '../../contract/metric-names';
import { Construct } from 'constructs';
import { DebeziumConnectorBase } from '../../constructs/streaming/connector-metrics';
import type { ConsumerLagMetricOptions } from '../../constructs/streaming/refs';

export abstract class ClusterMetricsStandIn extends Resource {
  public abstract readonly clusterName: string;
  public metricMaxOffsetLag(o: ConsumerLagMetricOptions): cloudwatch.Metric { return this.lag(KAFKA_METRIC_NAMES.maxOffsetLag, o); }
  public metricSumOffsetLag(o: ConsumerLagMetricOptions): cloudwatch.Metric { return this.lag(KAFKA_METRIC_NAMES.sumOffsetLag, o); }
  public metricEstimatedMaxTimeLag(o: ConsumerLagMetricOptions): cloudwatch.Metric { return this.lag(KAFKA_METRIC_NAMES.estimatedMaxTimeLag, o); }
  private lag(metricName: string, { consumerGroup, topic, ...rest }: ConsumerLagMetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.kafka, metricName, statistic: 'Maximum', period: Duration.minutes(1), ...rest,
      dimensionsMap: {
        [AWS_METRIC_DIMENSIONS.kafkaCluster]: this.clusterName, [AWS_METRIC_DIMENSIONS.kafkaConsumerGroup]: consumerGroup, [AWS_METRIC_DIMENSIONS.kafkaTopic]: topic,
      },
    });
  }
}

export abstract class SearchMetricsStandIn extends Resource {
  public readonly domainName: string = 'agent-search';
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.openSearch, metricName, period: Duration.minutes(1), statistic: 'Average', ...props,
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.domainName]: this.domainName, [AWS_METRIC_DIMENSIONS.clientId]: this.env.account },
    });
  }
  public metricClusterStatusRed(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.clusterStatusRed, { statistic: 'Maximum', ...p }); }
  public metricClusterStatusYellow(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.clusterStatusYellow, { statistic: 'Maximum', ...p }); }
  public metricClusterIndexWritesBlocked(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.clusterIndexWritesBlocked, { statistic: 'Maximum', ...p }); }
  public metricJvmMemoryPressure(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.jvmMemoryPressure, { statistic: 'Maximum', ...p }); }
  public metricIndexingLatency(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.indexingLatency, p); }
  public metricSearchLatency(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.searchLatency, p); }
  public metricFreeStorageSpace(p?: cloudwatch.MetricOptions) { return this.metric(OPENSEARCH_METRIC_NAMES.freeStorageSpace, { statistic: 'Minimum', ...p }); }
}

/** A connector known by name and heartbeat topic only: its metric*() methods are DebeziumConnector's own. */
export class ConnectorStandIn extends DebeziumConnectorBase {
  constructor(scope: Construct, id: string, public readonly connectorName: string, public readonly heartbeatTopic: string) {
    super(scope, id);
  }
}
