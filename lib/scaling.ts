// The headroom row of the stack's dashboard: each declared capacity bound beside its use, from the constructs' metric*() methods.
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES } from '../contract/metric-names';
import type { ObservedHeadroom } from '../constructs/governance/headroom';
import type { FlinkSqlApplication } from '../constructs/processing/flink-sql-application';
import type { AgentSink, ProvisionedPollers } from '../constructs/stores/agent-sink';
import { AgentStreamingCluster } from '../constructs/streaming/cluster';
import type { ConnectorCapacity, DebeziumConnector } from '../constructs/streaming/debezium-connector';
import type { IAgentStreamingCluster } from '../constructs/streaming/refs';

/** Each Kafka event poller handles up to 5 concurrent invocations (Lambda, "Apache Kafka event poller scaling modes"). */
export const INVOCATIONS_PER_POLLER = 5;
/** Broker disk use that alarms: past the auto scaling target, auto scaling is at its maximum or slower than the growth. */
export const BROKER_DISK_ALARM_PERCENT = 85;
/** Worker CPU that alarms: a connector at capacity falls behind the source (slot lag grows). */
export const CONNECTOR_CPU_ALARM_PERCENT = 80;
/** Managed Flink runs (and bills, and counts in `KPUs`) one orchestration KPU per application beside its own KPUs. */
export const ORCHESTRATION_KPUS = 1;

export interface HeadroomInput {
  readonly cluster: IAgentStreamingCluster;
  /** Per connector: the connector and the capacity it was given. */
  readonly connectors: { connector: DebeziumConnector; capacity?: ConnectorCapacity; label: string }[];
  readonly transforms: FlinkSqlApplication[];
  readonly flinkMaxKpus: number;
  readonly sink: AgentSink;
  readonly pollers?: ProvisionedPollers;
}

export function capacityHeadroom(input: HeadroomInput): ObservedHeadroom[] {
  const out: ObservedHeadroom[] = [];
  const cluster = input.cluster;
  if (cluster instanceof AgentStreamingCluster && cluster.brokerCount) {
    const scaling = cluster.storageScaling;
    const brokers = Array.from({ length: cluster.brokerCount }, (_, i) => i + 1);
    out.push({
      id: 'BrokerStorage',
      title: scaling ? 'Kafka broker disk (%): grows by itself to its maximum' : 'Kafka broker disk (%): fixed volume',
      metrics: brokers.map(b => cluster.metricDataLogsDiskUsed(b, { label: `broker ${b}` })),
      bound: 100, boundLabel: 'volume full',
      alarmAbove: BROKER_DISK_ALARM_PERCENT,
      alarmDescription: scaling
        ? `A broker's disk is above ${BROKER_DISK_ALARM_PERCENT}% although storage auto scaling grows it at its target: it reached storageAutoScaling.maxVolumeSizeGiB, or grows faster than one step per 6 hours. Raise the maximum or shorten retention (docs/OPERATIONS.md#when-the-workload-grows).`
        : `A broker's disk is above ${BROKER_DISK_ALARM_PERCENT}%: a full disk stops the cluster. Raise volumeSizeGiB, set storageAutoScaling, or shorten retention (docs/OPERATIONS.md#when-the-workload-grows).`,
    });
  }
  input.connectors.forEach(({ connector, capacity, label }, i) => {
    const p = capacity?.config.provisionedCapacity as { workerCount?: number; mcuCount?: number } | undefined;
    const a = capacity?.config.autoScaling as { maxWorkerCount?: number; mcuCount?: number } | undefined;
    const bound = p ? `${p.workerCount} worker x ${p.mcuCount} MCU` : a ? `up to ${a.maxWorkerCount} workers x ${a.mcuCount} MCU` : '1 worker x 1 MCU';
    // AWS/KafkaConnect CpuUtilization per connector (the connector construct has no metric method of its own yet).
    const cpu = new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.kafkaConnect, metricName: 'CpuUtilization',
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.connectorName]: connector.connectorName }, statistic: 'Maximum', label: 'CPU %',
    });
    out.push({
      id: `Connector${i}`, title: `Connector ${label} CPU (%), ${bound}`, metrics: [cpu], bound: 100, boundLabel: bound,
      alarmAbove: CONNECTOR_CPU_ALARM_PERCENT,
      alarmDescription: `Connector ${label} workers above ${CONNECTOR_CPU_ALARM_PERCENT}% CPU for 15 minutes (${bound}): it falls behind the source. Raise mcuCount in connectorOptions.capacity (docs/OPERATIONS.md#when-the-workload-grows).`,
    });
  });
  // `KPUs` gets one sample per billing period (one hour) and "the KPU count includes the orchestration KPU"
  // (https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html). So the metric is read as the hourly
  // Maximum (metricKpus) and the alarm decides on that one sample (1 of 1 periods: 3 one-minute periods never held data).
  // The comparison is reading > budget + 1, i.e. the application's own KPUs (reading - 1) went above the budget: an
  // application at its budget reads budget + 1 and stays OK. Reading >= budget + 1 would alarm on every application that
  // merely sits at its budget (a 1-KPU development application reads 2 all the time); reading > budget alarmed there too.
  const kpuAlarm = input.flinkMaxKpus + ORCHESTRATION_KPUS;
  input.transforms.forEach((app, i) => {
    out.push({
      id: `Flink${i}`, title: `Flink ${app.applicationName} KPUs incl. orchestration (budget ${input.flinkMaxKpus} + ${ORCHESTRATION_KPUS})`,
      metrics: [app.metricKpus({ label: 'KPUs (hourly max)' })], bound: kpuAlarm,
      boundLabel: `budget ${input.flinkMaxKpus} KPUs + ${ORCHESTRATION_KPUS} orchestration`,
      alarmAbove: kpuAlarm, alarmEvaluationPeriods: 1,
      alarmDescription: `${app.applicationName} used more than its KPU budget (${input.flinkMaxKpus}) in the last hour: the hourly KPUs sample, which counts the orchestration KPU, is above ${kpuAlarm}. Auto scaling grew it (Managed Flink has no per-application maximum). Raise the budget or turn autoScaling off (docs/OPERATIONS.md#when-the-workload-grows).`,
    });
  });
  if (input.pollers) {
    const mappings = Object.keys(input.sink.eventSourceMappings).length;
    const max = (input.pollers.maximum ?? 10) * INVOCATIONS_PER_POLLER * mappings;
    out.push({
      id: 'SinkPollers',
      title: `Sink concurrency vs ${mappings} mapping(s) x ${input.pollers.maximum ?? 10} pollers x ${INVOCATIONS_PER_POLLER}`,
      metrics: [input.sink.function.metric('ConcurrentExecutions', { statistic: 'Maximum', label: 'Concurrent executions' })],
      bound: max, boundLabel: `pollers at maximum (${max})`,
      alarmAbove: Math.floor(max * 0.8),
      alarmDescription: `The sink runs above 80% of what its provisioned pollers can drive (${max} concurrent invocations): offset lag grows next. Raise sinkOptions.provisionedPollers.maximum (docs/OPERATIONS.md#when-the-workload-grows).`,
    });
  }
  return out;
}
