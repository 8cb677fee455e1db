// Reference interface of a Flink application as other constructs see it: its name, runtime, consumer groups and metrics.
import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';
import type { FlinkRuntime } from './flink-runtime';

/** A Kafka consumer group of a Flink application and the topics it reads. */
export interface FlinkConsumedTopics {
  readonly group: string;
  readonly topics: string[];
}

/** A Managed Service for Apache Flink application: what dashboards, alarms and lineage read of it. */
export interface IFlinkApplication extends IConstruct {
  /** Application name (dimension `Application` in `AWS/KinesisAnalytics`). */
  readonly applicationName: string;
  /** The runtime decides which metric names exist: Flink 2.x removed `fullRestarts` and deprecates `downtime`. */
  readonly runtime: FlinkRuntime;
  /** The consumer group of each Kafka source table and the topics it reads. */
  consumedTopics(): FlinkConsumedTopics[];
  /**
   * How often the application checkpoints. Its Kafka source commits the groups' offsets only when a checkpoint completes,
   * so the committed lag MSK publishes saws up to this interval: the consumer-lag alarms of its groups add it to their threshold.
   */
  readonly checkpointInterval: Duration;
  /** A metric of this application in `AWS/KinesisAnalytics`. @default - Average over 1 minute */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Job restarts (cumulative): `numRestarts` on Flink 2.x, `fullRestarts` on 1.x. @default - Maximum over 1 minute */
  metricRestarts(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Time spent restarting (ms): `restartingTime` on Flink 2.x, `downtime` on 1.x. @default - Maximum over 1 minute */
  metricDowntime(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Time running without interruption (ms): `runningTime` on 2.x, `uptime` on 1.x. @default - Minimum over 1 minute */
  metricUptime(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Failed checkpoints (cumulative). @default - Maximum over 1 minute */
  metricFailedCheckpoints(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Kafka source lag in records (`records_lag_max`). @default - Maximum over 1 minute */
  metricRecordsLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}
