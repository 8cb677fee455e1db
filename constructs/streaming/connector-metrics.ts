// What dashboards and alarms read of a Debezium connector: its MSK Connect metrics (AWS/KafkaConnect, dimension ConnectorName).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, KAFKA_CONNECT_METRIC_NAMES } from '../../contract/metric-names';

/** A Debezium connector as observability sees it: its name, heartbeat topic and MSK Connect metrics. */
export interface IDebeziumConnector extends IConstruct {
  readonly connectorName: string;
  /** Debezium heartbeat topic (`__debezium-heartbeat.<prefix>`): sinks that map it publish `CdcLag` for it. */
  readonly heartbeatTopic: string;
  /** A metric of this connector in `AWS/KafkaConnect`. @default - Average over 1 minute */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Tasks running. @default - Minimum over 1 minute */
  metricRunningTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Tasks in error: no changes reach Kafka while above zero. @default - Maximum over 1 minute */
  metricErroredTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Records polled from the source per second. @default - Average over 1 minute */
  metricSourceRecordPollRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Records written to Kafka per second. @default - Average over 1 minute */
  metricSourceRecordWriteRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Worker CPU, percent. @default - Average over 1 minute */
  metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Worker memory, percent. @default - Average over 1 minute */
  metricMemoryUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** The metric methods of a Debezium connector, for `DebeziumConnector` and connectors imported or stood in for. */
export abstract class DebeziumConnectorBase extends Construct implements IDebeziumConnector {
  public abstract readonly connectorName: string;
  public abstract readonly heartbeatTopic: string;

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.kafkaConnect,
      metricName,
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.connectorName]: this.connectorName },
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.minutes(1),
      ...props,
    });
  }

  public metricRunningTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(KAFKA_CONNECT_METRIC_NAMES.runningTaskCount, { statistic: cloudwatch.Stats.MINIMUM, ...props });
  }

  public metricErroredTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(KAFKA_CONNECT_METRIC_NAMES.erroredTaskCount, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  public metricSourceRecordPollRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(KAFKA_CONNECT_METRIC_NAMES.sourceRecordPollRate, props);
  }

  public metricSourceRecordWriteRate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(KAFKA_CONNECT_METRIC_NAMES.sourceRecordWriteRate, props);
  }

  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(KAFKA_CONNECT_METRIC_NAMES.cpuUtilization, props);
  }

  public metricMemoryUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(KAFKA_CONNECT_METRIC_NAMES.memoryUtilization, props);
  }
}
