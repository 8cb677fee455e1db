// Dashboard rows and alarms of the pipeline: source database, CDC connector, Kafka consumer lag, Flink applications.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { FLINK_METRIC_NAMES } from '../../../contract/metric-names';
import { consumerLagLimitSeconds } from '../../../contract/operations-manifest';
import type { IFlinkApplication } from '../../processing/refs';
import type { ICdcSourceDatabase } from '../../source/cdc-source-database';
import { SourceEngineFamily } from '../../source/engine';
import type { IDebeziumConnector } from '../../streaming/connector-metrics';
import type { IAgentStreamingCluster } from '../../streaming/refs';
import type { IAgentSink } from '../../stores/refs';
import { DashboardContext, idFragment } from './dashboard-context';

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/** `name`: a further source database (multi-source stacks); its alarm ids and section title carry the name. */
export function addSource(ctx: DashboardContext, source: ICdcSourceDatabase, name?: string): void {
  const sfx = name === undefined ? '' : idFragment(name, '');
  const max = (label: string) => ({ statistic: cloudwatch.Stats.MAXIMUM, period: FIVE_MINUTES, label });
  const widgets: cloudwatch.IWidget[] = [];
  let logDisk: cloudwatch.Metric;
  if (source.engine.family === SourceEngineFamily.POSTGRESQL) {
    const slotLag = source.metricOldestReplicationSlotLag(max('Replication slot lag (bytes)'));
    logDisk = source.metricTransactionLogsDiskUsage(max('WAL disk usage (bytes)'));
    // On Aurora the slot lag is the writer's TransactionLogsDiskUsage itself: draw it once.
    const lines = [slotLag, source.metricReplicationSlotDiskUsage(max('Replication slot disk (bytes)')), logDisk]
      .filter((m, i, all) => all.findIndex(o => o.metricName === m.metricName) === i);
    widgets.push(new cloudwatch.GraphWidget({ title: 'Source: replication slot lag and WAL disk', width: 12, left: lines }));
    ctx.alarm(`ReplicationSlotLag${sfx}`, slotLag, ctx.thresholds.replicationSlotLagBytes, 3,
      'Debezium has not confirmed WAL for 15 minutes: the connector is stalled or too slow, and the database keeps the WAL (disk fills).');
  } else {
    logDisk = source.metricBinLogDiskUsage(max('Binlog size (bytes)'));
    widgets.push(new cloudwatch.GraphWidget({ title: 'Source: binlog disk', width: 12, left: [logDisk] }));
  }
  widgets.push(new cloudwatch.GraphWidget({
    title: 'Source: CPU and connections', width: 12,
    left: [source.metricCPUUtilization({ statistic: cloudwatch.Stats.AVERAGE, period: FIVE_MINUTES, label: 'CPU %' })],
    right: [source.metricDatabaseConnections({ statistic: cloudwatch.Stats.AVERAGE, period: FIVE_MINUTES, label: 'Connections' })],
  }));
  ctx.alarm(`LogDiskUsage${sfx}`, logDisk, ctx.thresholds.logDiskUsageBytes, 3,
    'Change-log disk usage on the source keeps growing: a replication slot or binlog consumer is holding logs; storage may fill.');
  ctx.section(name === undefined ? '1. Source database' : `1. Source database ${name}`, widgets);
}

export function addConnector(ctx: DashboardContext, connector: IDebeziumConnector, sinks: IAgentSink[], name?: string): void {
  const sfx = name === undefined ? '' : idFragment(name, '');
  const o = (statistic: string, label: string) => ({ statistic, period: ONE_MINUTE, label });
  const errored = connector.metricErroredTaskCount(o(cloudwatch.Stats.MAXIMUM, 'Errored tasks'));
  const widgets: cloudwatch.IWidget[] = [
    new cloudwatch.GraphWidget({
      title: 'Connector: tasks', width: 8,
      left: [connector.metricRunningTaskCount(o(cloudwatch.Stats.MINIMUM, 'Running tasks')), errored],
    }),
    new cloudwatch.GraphWidget({
      title: 'Connector: throughput (records/s)', width: 8,
      left: [
        connector.metricSourceRecordPollRate(o(cloudwatch.Stats.AVERAGE, 'Polled')),
        connector.metricSourceRecordWriteRate(o(cloudwatch.Stats.AVERAGE, 'Written')),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Connector: CPU and memory (%)', width: 8,
      left: [
        connector.metricCpuUtilization(o(cloudwatch.Stats.AVERAGE, 'CPU')),
        connector.metricMemoryUtilization(o(cloudwatch.Stats.AVERAGE, 'Memory')),
      ],
    }),
  ];
  ctx.alarm(`ConnectorErroredTasks${sfx}`, errored, 0, 5, 'A connector task has been in error for 5 minutes: no changes reach Kafka.');
  // MSK Connect does not export Debezium's MilliSecondsBehindSource; the sinks that map this connector's heartbeat topic
  // derive the same lag from heartbeats. Sinks publishing under the same namespace and service write one metric: read it once.
  const cdc: cloudwatch.Metric[] = [];
  const seen = new Set<string>();
  for (const sink of sinks.filter(s => s.heartbeatTopics.includes(connector.heartbeatTopic))) {
    const metric = sink.metricCdcLag({
      statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE, label: `CDC lag seen by ${sink.function.functionName}`,
    }, connector.heartbeatTopic);
    const identity = JSON.stringify([metric.namespace, metric.dimensions]);
    if (seen.has(identity)) continue;
    seen.add(identity);
    cdc.push(metric);
  }
  if (cdc.length > 0) {
    widgets.push(new cloudwatch.GraphWidget({
      title: 'CDC lag: source commit to sink (ms, from heartbeats)', width: 24, left: cdc,
      leftAnnotations: [{ value: ctx.slo.threshold.toMilliseconds(), label: 'SLO', color: cloudwatch.Color.RED }],
    }));
    // Heartbeats flow even when no table changes, so a missing CdcLag means the path is broken: treat it as breaching.
    cdc.forEach((metric, i) => ctx.alarm(`CdcLag${sfx}${i}`, metric, ctx.slo.threshold.toMilliseconds(), ctx.windowPeriods(),
      `Source-to-sink lag above ${ctx.slo.threshold.toSeconds()} s for ${ctx.slo.window.toMinutes()} minutes, or no heartbeat arrives: agents will see stale data.`,
      cloudwatch.TreatMissingData.BREACHING));
  }
  ctx.section(name === undefined ? '2. CDC connector (Debezium on MSK Connect)' : `2. CDC connector of ${name} (Debezium on MSK Connect)`, widgets);
}

/** A consumer group whose lag is watched, with who owns it (for labels and alarm ids). */
export interface WatchedGroup {
  readonly group: string;
  readonly topics: string[];
  readonly role: 'flink' | 'sink';
  /** Construct id of the owner: alarm ids are keyed by owner and topic, never by list position. */
  readonly ownerId: string;
  /** Flink groups: the application's checkpoint interval, on which its Kafka source commits the group's offsets. */
  readonly checkpointInterval?: Duration;
}

/**
 * The `EstimatedMaxTimeLag` (s) above which a group's alarm fires. MSK computes consumer lag from committed offsets
 * (https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html), and Flink's Kafka source commits offsets only
 * when a checkpoint completes ("Consumer Offset Committing",
 * https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/datastream/kafka/#consumer-offset-committing).
 * So under steady traffic the committed lag of a Flink group saws from near zero up to about the checkpoint interval even
 * when the job keeps up, and a Flink group alarms above checkpoint interval + `thresholds.consumerLag`: past that, the
 * job is more than `consumerLag` behind (less the checkpoint's own duration), or its checkpoints stopped completing.
 * A Minimum over a window of at least the interval was the other option and was not taken: it removes the sawtooth only
 * if the window surely holds a sample taken just after a commit, and MSK does not document when it samples the lag (with
 * 60 s samples and a 60 s interval, every sample can land at the same phase), so the window would have to span several
 * intervals and delay the alarm by as much. Sink groups keep the plain `consumerLag` threshold.
 */
export function consumerLagThresholdSeconds(ctx: DashboardContext, cg: WatchedGroup): number {
  return consumerLagLimitSeconds(ctx.thresholds.consumerLag.toSeconds({ integral: false }), cg.checkpointInterval?.toSeconds({ integral: false }));
}

export function addKafka(ctx: DashboardContext, kafka: IAgentStreamingCluster, groups: WatchedGroup[]): void {
  const widgets: cloudwatch.IWidget[] = [];
  const usedIds = new Set<string>();
  groups.forEach((cg, g) => {
    const lag = (metric: typeof kafka.metricMaxOffsetLag, topic: string, label = topic) =>
      metric.call(kafka, { consumerGroup: cg.group, topic, statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE, label });
    const time = cg.topics.map(topic => lag(kafka.metricEstimatedMaxTimeLag, topic));
    widgets.push(new cloudwatch.GraphWidget({
      title: `Consumer lag ${cg.group} (${cg.role})`, width: 12,
      left: time,
      right: cg.topics.flatMap(topic => [
        lag(kafka.metricMaxOffsetLag, topic, `${topic} max offsets`),
        lag(kafka.metricSumOffsetLag, topic, `${topic} sum offsets`),
      ]),
      leftYAxis: { label: 'seconds', showUnits: false },
      rightYAxis: { label: 'offsets', showUnits: false },
    }));
    const threshold = consumerLagThresholdSeconds(ctx, cg);
    const allowed = ctx.thresholds.consumerLag.toSeconds({ integral: false });
    time.forEach((metric, i) => {
      // An owner reading one topic through two groups (a warehouse writer's state and history tables) gets the group in the id.
      const base = `ConsumerLag${idFragment(cg.ownerId, `${g}`)}${idFragment(cg.topics[i], `Topic${i}`)}`;
      const id = usedIds.has(base) ? `${base}${idFragment(cg.group, `${g}`)}` : base;
      usedIds.add(id);
      ctx.alarm(id, metric, threshold, 3, cg.checkpointInterval
        ? `Consumer group ${cg.group} (Flink) is more than ${threshold} s behind on ${cg.topics[i]} for 3 minutes. Flink commits offsets only when a checkpoint completes (every ${cg.checkpointInterval.toSeconds({ integral: false })} s), so its committed lag normally saws up to that interval; past it plus ${allowed} s the job is falling behind or its checkpoints stopped completing.`
        : `Consumer group ${cg.group} is more than ${threshold} s behind on ${cg.topics[i]} for 3 minutes.`);
    });
  });
  if (widgets.length > 0) ctx.section(`3. Kafka (${kafka.clusterName})`, widgets);
}

/** Labels of the runtime-specific Flink metrics, by the name the application's metric method chose. */
const FLINK_LABELS: Record<string, string> = {
  [FLINK_METRIC_NAMES.runningTime]: 'Running time (ms)',
  [FLINK_METRIC_NAMES.uptime]: 'Uptime (ms)',
  [FLINK_METRIC_NAMES.restartingTime]: 'Restarting time (ms)',
  [FLINK_METRIC_NAMES.downtime]: 'Downtime (ms)',
};

export function addFlink(ctx: DashboardContext, app: IFlinkApplication): void {
  const o = (label: string, period = ONE_MINUTE) => ({ statistic: cloudwatch.Stats.MAXIMUM, period, label });
  const name = app.applicationName;
  const upName = app.metricUptime().metricName;
  const outageName = app.metricDowntime().metricName;
  const up = app.metricUptime(o(FLINK_LABELS[upName] ?? `${upName} (ms)`));
  const outage = app.metricDowntime(o(FLINK_LABELS[outageName] ?? `${outageName} (ms)`));
  const restarts = app.metricRestarts(o('Restarts (total)', FIVE_MINUTES));
  const failed = app.metricFailedCheckpoints(o('Failed checkpoints (total)', Duration.minutes(15)));
  const id = idFragment(app.node.id, app.node.addr);
  ctx.section(`4. Flink ${name} (${app.runtime.name})`, [
    new cloudwatch.GraphWidget({ title: `${name}: running and outage time`, width: 8, left: [up], right: [outage] }),
    new cloudwatch.GraphWidget({ title: `${name}: restarts and failed checkpoints`, width: 8, left: [restarts, failed] }),
    new cloudwatch.GraphWidget({
      title: `${name}: Kafka records lag`, width: 8,
      left: [app.metricRecordsLag(o(FLINK_METRIC_NAMES.recordsLagMax))],
    }),
  ]);
  ctx.alarm(`FlinkOutage${id}`, outage, 0, 3,
    `${name} has been failing or restarting for 3 minutes: transformed views are not updated.`);
  // Restart and failed-checkpoint counters are cumulative: alarm on their increase.
  ctx.alarm(`FlinkRestarts${id}`, new cloudwatch.MathExpression({
    expression: 'RATE(m) * PERIOD(m)', usingMetrics: { m: restarts }, period: FIVE_MINUTES, label: 'New restarts',
  }), 0, 1, `${name} restarted in the last 5 minutes (${restarts.metricName} increased).`);
  ctx.alarm(`FlinkCheckpoints${id}`, new cloudwatch.MathExpression({
    expression: 'RATE(m) * PERIOD(m)', usingMetrics: { m: failed }, period: Duration.minutes(15), label: 'New failed checkpoints',
  }), ctx.thresholds.failedCheckpoints - 1, 1,
  `${name} failed ${ctx.thresholds.failedCheckpoints} or more checkpoints in 15 minutes: exactly-once output waits for checkpoints, so views go stale.`,
  undefined, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
}
