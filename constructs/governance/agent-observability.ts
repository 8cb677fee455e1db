// AgentObservability: one dashboard in data-flow order (source -> CDC -> Kafka -> Flink -> sinks -> stores -> MCP -> decisions) and the alarms that say agents are about to see stale data.
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ICdcSourceDatabase } from '../source/cdc-source-database';
import { SourceEngineFamily } from '../source/engine';
import type { CacheMetricOptions, IAgentCache } from '../stores/refs';
import {
  AGENT_DIMENSIONS, AGENT_SERVICES, AWS_DIMENSIONS, AWS_NAMESPACES, DEFAULT_AGENT_METRICS_NAMESPACE, MCP_METRICS, SINK_METRICS,
} from './metric-names';
import { denyNonServiceGrants } from '../common/nag';
import { headroomAlarmMetric, headroomWidget, ObservedHeadroom, validateHeadroom } from './headroom';

/** The Debezium connector on MSK Connect. */
export interface ObservedConnector {
  /** Connector name (dimension `ConnectorName` in `AWS/KafkaConnect`). */
  readonly connectorName: string;
  /**
   * The connector's heartbeat topic (`DebeziumConnector.heartbeatTopic`, `__debezium-heartbeat.<topicPrefix>`): the sinks
   * publish `CdcLag` with dimension `Topic` = this topic when they map it (`AgentSink` `heartbeatTopic`).
   * @default - no `CdcLag` widget or alarm
   */
  readonly heartbeatTopic?: string;
}

export interface ObservedConsumerGroup {
  readonly group: string;
  /** Topics the group reads; MSK publishes consumer lag per (cluster, group, topic). */
  readonly topics: string[];
  /** Who the group is, for labels. */
  readonly role: 'flink' | 'sink';
}

/** The Amazon MSK cluster and the consumer groups whose lag matters. */
export interface ObservedKafka {
  /** Cluster name (dimension `Cluster Name`). */
  readonly clusterName: string;
  /** @default - no consumer-lag widgets or alarms */
  readonly consumerGroups?: ObservedConsumerGroup[];
}

/** A Managed Service for Apache Flink application. */
export interface ObservedFlinkApplication {
  /** Application name (dimension `Application`). */
  readonly applicationName: string;
  /** The runtime decides which metric names exist: 2.2 removed `fullRestarts` and deprecates `downtime`. */
  readonly runtime: 'FLINK-2_2' | 'FLINK-1_20';
}

/** Shared by the agent's own metric sections (sinks, MCP, decisions). */
export interface AgentMetricsLocation {
  /** CloudWatch namespace the function publishes to. @default 'AgentDataStack' */
  readonly namespace?: string;
  /**
   * Dimensions every metric of this section carries besides its own (`View`, `Topic`, `Tool`).
   * Powertools Metrics adds `service` (the `POWERTOOLS_SERVICE_NAME`) to every metric it publishes.
   * @default - { service: 'agent-data-stack-sink' } for sinks, { service: 'agent-data-stack-mcp' } for the MCP server and decisions
   */
  readonly dimensions?: Record<string, string>;
}

/** A sink Lambda and the views it writes. */
export interface ObservedSink extends AgentMetricsLocation {
  /** Lambda function name (dimension `FunctionName`; `OffsetLag` of its Kafka event source mapping). */
  readonly functionName: string;
  /** Views the sink writes (dimension `View` of its counters and `FreshnessLag`). */
  readonly views: string[];
}

/** The OpenSearch Service domain. */
export interface ObservedSearch {
  readonly domainName: string;
  /** Account of the domain (dimension `ClientId`). @default - the stack's account */
  readonly accountId?: string;
}

/** The MCP server function. */
export interface ObservedMcp extends AgentMetricsLocation {
  readonly functionName: string;
  /** Tool names (dimension `Tool`). */
  readonly tools: string[];
}

/** Where decisions are counted. */
export interface ObservedDecisions extends AgentMetricsLocation {
  /** Alarm when no decision is recorded for `thresholds.decisionSilence`. Turn off for agents that legitimately go idle. @default true */
  readonly alarmOnSilence?: boolean;
}

/** The freshness objective: what fraction of records may be how stale, for how long, before someone is paged. */
export interface FreshnessSlo {
  /** @default Duration.seconds(5) */
  readonly threshold?: Duration;
  /** @default 99 */
  readonly percentile?: number;
  /** How long the percentile may stay above the threshold. @default Duration.minutes(5) */
  readonly window?: Duration;
}

/** Alarm thresholds. Each default is explained in docs/governance.md. */
export interface AgentAlarmThresholds {
  /** PostgreSQL slot lag, `metricOldestReplicationSlotLag()` of the source (bytes of WAL the slots hold). @default 1 GiB, or half the source's `maxSlotWalKeepSizeBytes` if lower */
  readonly replicationSlotLagBytes?: number;
  /** PostgreSQL `TransactionLogsDiskUsage` / MySQL binary log size (RDS `BinLogDiskUsage`, Aurora `SumBinaryLogSize`), bytes. @default 10 GiB, or three quarters of the source's `maxSlotWalKeepSizeBytes` if lower */
  readonly logDiskUsageBytes?: number;
  /** MSK `EstimatedMaxTimeLag` of any watched group and topic. @default Duration.seconds(30) */
  readonly consumerLag?: Duration;
  /** Failed Flink checkpoints in 15 minutes before alarming. @default 1 */
  readonly failedCheckpoints?: number;
  /** Percentage of failed calls of one MCP tool over 5 minutes (only with at least 10 calls). @default 5 */
  readonly mcpErrorRatePercent?: number;
  /** Window with no recorded decision that raises the decision-rate alarm. @default Duration.hours(1) */
  readonly decisionSilence?: Duration;
}

export interface AgentObservabilityProps {
  /** @default - a CloudFormation-generated name */
  readonly dashboardName?: string;
  /** Topic the alarms notify. @default - a new topic encrypted with a new KMS key, TLS-only */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The source database: its widgets and alarms come from its own `metric*()` methods, which know the metric names and
   * dimensions AWS publishes for its engine (RDS or Aurora, PostgreSQL or MySQL).
   * @default - no source widgets or alarms
   */
  readonly source?: ICdcSourceDatabase;
  /** @default - no connector widgets or alarms, and no `CdcLag` (it is keyed by the connector's heartbeat topic) */
  readonly connector?: ObservedConnector;
  /**
   * Further source databases and their connectors, each drawn and alarmed like `source` and `connector` (alarm ids and
   * section titles carry the name). @default - none
   */
  readonly additionalSources?: { readonly name: string; readonly source: ICdcSourceDatabase; readonly connector: ObservedConnector }[];
  /** @default - no Kafka widgets or alarms */
  readonly kafka?: ObservedKafka;
  /** @default - no Flink widgets or alarms */
  readonly flink?: ObservedFlinkApplication[];
  /** @default - no sink widgets or alarms */
  readonly sinks?: ObservedSink[];
  /**
   * The cache: its widgets come from its own `metric*()` methods (serverless per cache, node-based per node cluster).
   * @default - no cache widgets
   */
  readonly cache?: IAgentCache;
  /** @default - no search widgets or alarms */
  readonly search?: ObservedSearch;
  /** @default - no MCP widgets or alarms */
  readonly mcp?: ObservedMcp;
  /** @default - no decision-rate widget or alarm */
  readonly decisions?: ObservedDecisions;
  /** Declared capacity bounds and their use, drawn as one row after the summary (alarms before each bound). @default - no headroom row */
  readonly headroom?: ObservedHeadroom[];
  /** @default - p99 above 5 seconds for 5 minutes */
  readonly freshnessSlo?: FreshnessSlo;
  /** @default - see each field */
  readonly thresholds?: AgentAlarmThresholds;
}

const GIB = 1024 ** 3;
const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);
const DEFAULT_SINK_DIMENSIONS = { [AGENT_DIMENSIONS.service]: AGENT_SERVICES.sink };
const DEFAULT_MCP_DIMENSIONS = { [AGENT_DIMENSIONS.service]: AGENT_SERVICES.mcp };

/**
 * The end-to-end view of the stack. Reads only metrics the services publish (and the ones the sinks and
 * MCP server emit); takes plain names so it works with created and imported resources alike.
 */
export class AgentObservability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** Topic every alarm notifies (on ALARM and on OK). */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm created, in data-flow order. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly slo: Required<FreshnessSlo>;
  private readonly t: Required<AgentAlarmThresholds>;

  constructor(scope: Construct, id: string, props: AgentObservabilityProps) {
    super(scope, id);
    validate(props);
    this.slo = {
      threshold: props.freshnessSlo?.threshold ?? Duration.seconds(5),
      percentile: props.freshnessSlo?.percentile ?? 99,
      window: props.freshnessSlo?.window ?? FIVE_MINUTES,
    };
    // Both source alarms must fire before PostgreSQL invalidates the slot at max_slot_wal_keep_size.
    const keep = props.source?.maxSlotWalKeepSizeBytes;
    this.t = {
      replicationSlotLagBytes: props.thresholds?.replicationSlotLagBytes ?? (keep ? Math.min(GIB, Math.floor(keep / 2)) : GIB),
      logDiskUsageBytes: props.thresholds?.logDiskUsageBytes ?? (keep ? Math.min(10 * GIB, Math.floor(keep * 0.75)) : 10 * GIB),
      consumerLag: props.thresholds?.consumerLag ?? Duration.seconds(30),
      failedCheckpoints: props.thresholds?.failedCheckpoints ?? 1,
      mcpErrorRatePercent: props.thresholds?.mcpErrorRatePercent ?? 5,
      decisionSilence: props.thresholds?.decisionSilence ?? Duration.hours(1),
    };

    this.alarmTopic = props.alarmTopic ?? this.createTopic();
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });

    this.addSummary(props);
    if (props.headroom?.length) this.addHeadroom(props.headroom);
    if (props.source) this.addSource(props.source);
    if (props.connector) this.addConnector(props.connector, props.sinks ?? []);
    for (const extra of props.additionalSources ?? []) {
      this.addSource(extra.source, extra.name);
      this.addConnector(extra.connector, props.sinks ?? [], extra.name);
    }
    if (props.kafka) this.addKafka(props.kafka);
    (props.flink ?? []).forEach((app, i) => this.addFlink(app, i));
    if (props.sinks?.length) this.addSinks(props.sinks);
    if (props.cache) this.addCache(props.cache);
    if (props.search) this.addSearch(props.search);
    if (props.mcp) this.addMcp(props.mcp);
    if (props.decisions) this.addDecisions(props.decisions);
  }

  // ---- metrics (public so callers can build their own widgets with the same definitions) ----

  /** Freshness lag of one view (milliseconds, source commit to store write). Default statistic: the SLO percentile over 1 minute. */
  public metricFreshnessLag(sink: ObservedSink, view: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return agentMetric(sink, DEFAULT_SINK_DIMENSIONS, SINK_METRICS.freshnessLag, { [AGENT_DIMENSIONS.view]: view }, {
      statistic: cloudwatch.Stats.percentile(this.slo.percentile), period: ONE_MINUTE, label: `${view} p${this.slo.percentile}`, ...options,
    });
  }

  // ---- sections ----

  private addSummary(props: AgentObservabilityProps): void {
    const freshness: cloudwatch.IMetric[] = [];
    for (const sink of props.sinks ?? []) {
      for (const view of sink.views) freshness.push(this.metricFreshnessLag(sink, view));
    }
    const widgets: cloudwatch.IWidget[] = [new cloudwatch.TextWidget({
      markdown: `# How stale is what agents see?\nFreshness objective: p${this.slo.percentile} below ${this.slo.threshold.toSeconds()} s. `
        + 'Rows below follow the data: source database, CDC connector, Kafka, Flink, sinks, stores, MCP server, decisions.',
      width: 24, height: 2,
    })];
    if (freshness.length > 0) {
      widgets.push(new cloudwatch.GraphWidget({
        title: `Freshness lag per view (ms, p${this.slo.percentile})`, left: freshness, width: 24, height: 6,
        leftAnnotations: [{ value: this.slo.threshold.toMilliseconds(), label: 'SLO', color: cloudwatch.Color.RED }],
      }));
    }
    this.dashboard.addWidgets(...widgets);
  }

  private addHeadroom(headroom: ObservedHeadroom[]): void {
    validateHeadroom(headroom);
    this.section('Headroom: use against the declared bounds', headroom.map(headroomWidget));
    for (const h of headroom.filter(x => x.alarmAbove !== undefined)) this.alarm(`Headroom${h.id}`, headroomAlarmMetric(h), h.alarmAbove!, 3, h.alarmDescription!);
  }

  private addSource(source: ICdcSourceDatabase, name?: string): void {
    const sfx = name === undefined ? '' : sanitize(name);
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
      this.alarm(`ReplicationSlotLag${sfx}`, slotLag, this.t.replicationSlotLagBytes, 3,
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
    this.alarm(`LogDiskUsage${sfx}`, logDisk, this.t.logDiskUsageBytes, 3,
      'Change-log disk usage on the source keeps growing: a replication slot or binlog consumer is holding logs; storage may fill.');
    this.section(name === undefined ? '1. Source database' : `1. Source database ${name}`, widgets);
  }

  private addConnector(connector: ObservedConnector, sinks: ObservedSink[], name?: string): void {
    const sfx = name === undefined ? '' : sanitize(name);
    const dims = { [AWS_DIMENSIONS.connectorName]: connector.connectorName };
    const kc = (name: string, statistic: string, label: string) => new cloudwatch.Metric({
      namespace: AWS_NAMESPACES.kafkaConnect, metricName: name, dimensionsMap: dims, statistic, period: ONE_MINUTE, label,
    });
    const errored = kc('ErroredTaskCount', cloudwatch.Stats.MAXIMUM, 'Errored tasks');
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: 'Connector: tasks', width: 8,
        left: [kc('RunningTaskCount', cloudwatch.Stats.MINIMUM, 'Running tasks'), errored],
      }),
      new cloudwatch.GraphWidget({
        title: 'Connector: throughput (records/s)', width: 8,
        left: [kc('SourceRecordPollRate', cloudwatch.Stats.AVERAGE, 'Polled'), kc('SourceRecordWriteRate', cloudwatch.Stats.AVERAGE, 'Written')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Connector: CPU and memory (%)', width: 8,
        left: [kc('CpuUtilization', cloudwatch.Stats.AVERAGE, 'CPU'), kc('MemoryUtilization', cloudwatch.Stats.AVERAGE, 'Memory')],
      }),
    ];
    this.alarm(`ConnectorErroredTasks${sfx}`, errored, 0, 5, 'A connector task has been in error for 5 minutes: no changes reach Kafka.');
    // MSK Connect does not export Debezium's MilliSecondsBehindSource; the sinks derive the same lag from heartbeats,
    // per heartbeat topic. Sinks publishing under the same namespace and service write one metric: read it once.
    const cdc: cloudwatch.Metric[] = [];
    const seen = new Set<string>();
    const heartbeatTopic = connector.heartbeatTopic;
    for (const sink of heartbeatTopic === undefined ? [] : sinks) {
      const metric = agentMetric(sink, DEFAULT_SINK_DIMENSIONS, SINK_METRICS.cdcLag, { [AGENT_DIMENSIONS.topic]: heartbeatTopic! },
        { statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE, label: `CDC lag seen by ${sink.functionName}` });
      const identity = JSON.stringify([metric.namespace, metric.dimensions]);
      if (seen.has(identity)) continue;
      seen.add(identity);
      cdc.push(metric);
    }
    if (cdc.length > 0) {
      widgets.push(new cloudwatch.GraphWidget({
        title: 'CDC lag: source commit to sink (ms, from heartbeats)', width: 24, left: cdc,
        leftAnnotations: [{ value: this.slo.threshold.toMilliseconds(), label: 'SLO', color: cloudwatch.Color.RED }],
      }));
      // Heartbeats flow even when no table changes, so a missing CdcLag means the path is broken: treat it as breaching.
      cdc.forEach((metric, i) => this.alarm(`CdcLag${sfx}${i}`, metric, this.slo.threshold.toMilliseconds(), this.windowPeriods(),
        `Source-to-sink lag above ${this.slo.threshold.toSeconds()} s for ${this.slo.window.toMinutes()} minutes, or no heartbeat arrives: agents will see stale data.`,
        cloudwatch.TreatMissingData.BREACHING));
    }
    this.section(name === undefined ? '2. CDC connector (Debezium on MSK Connect)' : `2. CDC connector of ${name} (Debezium on MSK Connect)`, widgets);
  }

  private addKafka(kafka: ObservedKafka): void {
    const widgets: cloudwatch.IWidget[] = [];
    (kafka.consumerGroups ?? []).forEach((cg, g) => {
      const lag = (name: string, statistic: string, topic: string, label = topic) => new cloudwatch.Metric({
        namespace: AWS_NAMESPACES.kafka, metricName: name, statistic, period: ONE_MINUTE, label,
        dimensionsMap: {
          [AWS_DIMENSIONS.kafkaCluster]: kafka.clusterName,
          [AWS_DIMENSIONS.kafkaConsumerGroup]: cg.group,
          [AWS_DIMENSIONS.kafkaTopic]: topic,
        },
      });
      const time = cg.topics.map(topic => lag('EstimatedMaxTimeLag', cloudwatch.Stats.MAXIMUM, topic));
      widgets.push(new cloudwatch.GraphWidget({
        title: `Consumer lag ${cg.group} (${cg.role})`, width: 12,
        left: time,
        right: cg.topics.flatMap(topic => [
          lag('MaxOffsetLag', cloudwatch.Stats.MAXIMUM, topic, `${topic} max offsets`),
          lag('SumOffsetLag', cloudwatch.Stats.MAXIMUM, topic, `${topic} sum offsets`),
        ]),
        leftYAxis: { label: 'seconds', showUnits: false },
        rightYAxis: { label: 'offsets', showUnits: false },
      }));
      time.forEach((metric, i) => this.alarm(`ConsumerLag${g}Topic${i}`, metric, this.t.consumerLag.toSeconds(), 3,
        `Consumer group ${cg.group} is more than ${this.t.consumerLag.toSeconds()} s behind on ${cg.topics[i]} for 3 minutes.`));
    });
    if (widgets.length > 0) this.section(`3. Kafka (${kafka.clusterName})`, widgets);
  }

  private addFlink(app: ObservedFlinkApplication, index: number): void {
    const f = (name: string, statistic: string, label: string, period = ONE_MINUTE) => new cloudwatch.Metric({
      namespace: AWS_NAMESPACES.flink, metricName: name, statistic, period, label,
      dimensionsMap: { [AWS_DIMENSIONS.flinkApplication]: app.applicationName },
    });
    const v22 = app.runtime === 'FLINK-2_2';
    const restartsName = v22 ? 'numRestarts' : 'fullRestarts';
    const outage = v22 ? f('restartingTime', cloudwatch.Stats.MAXIMUM, 'Restarting time (ms)') : f('downtime', cloudwatch.Stats.MAXIMUM, 'Downtime (ms)');
    const restarts = f(restartsName, cloudwatch.Stats.MAXIMUM, 'Restarts (total)', FIVE_MINUTES);
    const failed = f('numberOfFailedCheckpoints', cloudwatch.Stats.MAXIMUM, 'Failed checkpoints (total)', Duration.minutes(15));
    const up = v22 ? f('runningTime', cloudwatch.Stats.MAXIMUM, 'Running time (ms)') : f('uptime', cloudwatch.Stats.MAXIMUM, 'Uptime (ms)');
    const id = `${index}`;
    this.section(`4. Flink ${app.applicationName} (${app.runtime})`, [
      new cloudwatch.GraphWidget({ title: `${app.applicationName}: running and outage time`, width: 8, left: [up], right: [outage] }),
      new cloudwatch.GraphWidget({ title: `${app.applicationName}: restarts and failed checkpoints`, width: 8, left: [restarts, failed] }),
      new cloudwatch.GraphWidget({
        title: `${app.applicationName}: Kafka records lag`, width: 8,
        left: [f('records_lag_max', cloudwatch.Stats.MAXIMUM, 'records_lag_max')],
      }),
    ]);
    this.alarm(`FlinkOutage${id}`, outage, 0, 3,
      `${app.applicationName} has been failing or restarting for 3 minutes: transformed views are not updated.`);
    // Restart and failed-checkpoint counters are cumulative: alarm on their increase.
    this.alarm(`FlinkRestarts${id}`, new cloudwatch.MathExpression({
      expression: 'RATE(m) * PERIOD(m)', usingMetrics: { m: restarts }, period: FIVE_MINUTES, label: 'New restarts',
    }), 0, 1, `${app.applicationName} restarted in the last 5 minutes (${restartsName} increased).`);
    this.alarm(`FlinkCheckpoints${id}`, new cloudwatch.MathExpression({
      expression: 'RATE(m) * PERIOD(m)', usingMetrics: { m: failed }, period: Duration.minutes(15), label: 'New failed checkpoints',
    }), this.t.failedCheckpoints - 1, 1,
    `${app.applicationName} failed ${this.t.failedCheckpoints} or more checkpoints in 15 minutes: exactly-once output waits for checkpoints, so views go stale.`,
    undefined, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
  }

  private addSinks(sinks: ObservedSink[]): void {
    const widgets: cloudwatch.IWidget[] = [];
    for (const sink of sinks) {
      const fn = { [AWS_DIMENSIONS.lambdaFunction]: sink.functionName };
      widgets.push(new cloudwatch.GraphWidget({
        title: `${sink.functionName}: Kafka offset lag and errors`, width: 8,
        left: [new cloudwatch.Metric({ namespace: AWS_NAMESPACES.lambda, metricName: 'OffsetLag', dimensionsMap: fn, statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE, label: 'OffsetLag' })],
        right: [new cloudwatch.Metric({ namespace: AWS_NAMESPACES.lambda, metricName: 'Errors', dimensionsMap: fn, statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE, label: 'Errors' })],
      }));
      // The sink counts per view only (dimensions {service, View}): CloudWatch does not sum across dimension sets.
      for (const view of sink.views) {
        const count = (metricName: string) => agentMetric(sink, DEFAULT_SINK_DIMENSIONS, metricName, { [AGENT_DIMENSIONS.view]: view },
          { statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE, label: metricName });
        const dead = count(SINK_METRICS.recordsDeadLettered);
        widgets.push(new cloudwatch.GraphWidget({
          title: `${view}: records`, width: 8,
          left: [
            count(SINK_METRICS.recordsReceived), count(SINK_METRICS.recordsWritten), count(SINK_METRICS.recordsStale),
            count(SINK_METRICS.recordsSkipped), dead,
          ],
        }));
        this.alarm(`DeadLettered${sanitize(view)}`, dead.with({ period: FIVE_MINUTES }), 0, 1,
          `${view}: records were dead-lettered; they are missing from the store until replayed.`);
      }
      for (const view of sink.views) {
        this.alarm(`Freshness${sanitize(view)}`, this.metricFreshnessLag(sink, view),
          this.slo.threshold.toMilliseconds(), this.windowPeriods(),
          `${view}: p${this.slo.percentile} freshness above ${this.slo.threshold.toSeconds()} s for ${this.slo.window.toMinutes()} minutes.`);
      }
    }
    this.section('5. Sinks', widgets);
  }

  private addCache(cache: IAgentCache): void {
    const five = (statistic: string, label: string) => ({ statistic, period: FIVE_MINUTES, label });
    if (cache.serverless) {
      this.section(`6. Cache ${cache.cacheName} (serverless)`, [
        new cloudwatch.GraphWidget({
          title: 'Cache: ECPUs and throttling', width: 8,
          left: [cache.metricCpu(five(cloudwatch.Stats.SUM, 'ECPUs'))], right: [cache.metricThrottledCommands(five(cloudwatch.Stats.SUM, 'Throttled'))],
        }),
        new cloudwatch.GraphWidget({
          title: 'Cache: memory and evictions', width: 8,
          left: [cache.metricMemory(five(cloudwatch.Stats.MAXIMUM, 'Bytes used'))], right: [cache.metricEvictions(five(cloudwatch.Stats.SUM, 'Evictions'))],
        }),
        new cloudwatch.GraphWidget({
          title: 'Cache: latency (µs)', width: 8,
          left: [cache.metricReadLatency(five(cloudwatch.Stats.percentile(99), 'Read p99')), cache.metricWriteLatency(five(cloudwatch.Stats.percentile(99), 'Write p99'))],
        }),
      ]);
      return;
    }
    // Node-based caches publish per node cluster: one line per node.
    const per = (metric: (o: CacheMetricOptions) => cloudwatch.Metric, statistic: string, suffix: string) =>
      cache.nodeClusterIds.map(nodeClusterId => metric({ nodeClusterId, ...five(statistic, `${nodeClusterId} ${suffix}`) }));
    this.section(`6. Cache ${cache.cacheName} (node-based)`, [
      new cloudwatch.GraphWidget({ title: 'Cache: engine CPU (%)', width: 8, left: per(o => cache.metricCpu(o), cloudwatch.Stats.MAXIMUM, 'CPU') }),
      new cloudwatch.GraphWidget({
        title: 'Cache: memory (%) and evictions', width: 8,
        left: per(o => cache.metricMemory(o), cloudwatch.Stats.MAXIMUM, 'memory'), right: per(o => cache.metricEvictions(o), cloudwatch.Stats.SUM, 'evictions'),
      }),
      new cloudwatch.GraphWidget({
        title: 'Cache: latency (µs, p99)', width: 8,
        left: [
          ...per(o => cache.metricReadLatency(o), cloudwatch.Stats.percentile(99), 'read'),
          ...per(o => cache.metricWriteLatency(o), cloudwatch.Stats.percentile(99), 'write'),
        ],
      }),
    ]);
  }

  private addSearch(search: ObservedSearch): void {
    const d = { [AWS_DIMENSIONS.domainName]: search.domainName, [AWS_DIMENSIONS.clientId]: search.accountId ?? Stack.of(this).account };
    const es = (name: string, statistic: string, label: string, period = ONE_MINUTE) => new cloudwatch.Metric({
      namespace: AWS_NAMESPACES.openSearch, metricName: name, dimensionsMap: d, statistic, period, label,
    });
    const red = es('ClusterStatus.red', cloudwatch.Stats.MAXIMUM, 'red');
    const blocked = es('ClusterIndexWritesBlocked', cloudwatch.Stats.MAXIMUM, 'Writes blocked', FIVE_MINUTES);
    const jvm = es('JVMMemoryPressure', cloudwatch.Stats.MAXIMUM, 'JVM memory pressure %', FIVE_MINUTES);
    this.section(`7. Search ${search.domainName}`, [
      new cloudwatch.GraphWidget({ title: 'Search: cluster status', width: 8, left: [red, es('ClusterStatus.yellow', cloudwatch.Stats.MAXIMUM, 'yellow'), blocked] }),
      new cloudwatch.GraphWidget({ title: 'Search: JVM memory pressure (%)', width: 8, left: [jvm] }),
      new cloudwatch.GraphWidget({ title: 'Search: latency (ms)', width: 8, left: [es('IndexingLatency', cloudwatch.Stats.AVERAGE, 'Indexing'), es('SearchLatency', cloudwatch.Stats.AVERAGE, 'Search')] }),
    ]);
    this.alarm('SearchRed', red, 0, 1, 'A primary shard is unassigned: some search views return incomplete results.');
    this.alarm('SearchWritesBlocked', blocked, 0, 1, 'The domain blocks writes (storage or memory pressure): search views stop updating.');
    this.alarm('SearchJvmPressure', jvm, 80, 3, 'JVM memory pressure above 80% for 15 minutes: the domain is close to blocking writes.');
  }

  private addMcp(mcp: ObservedMcp): void {
    const fn = { [AWS_DIMENSIONS.lambdaFunction]: mcp.functionName };
    const perTool = (metricName: string, statistic: string, tool: string, period = ONE_MINUTE) => agentMetric(mcp, DEFAULT_MCP_DIMENSIONS, metricName,
      { [AGENT_DIMENSIONS.tool]: tool }, { statistic, period, label: tool });
    this.section('8. MCP server', [
      new cloudwatch.GraphWidget({ title: 'MCP: calls per tool', width: 8, left: mcp.tools.map(t => perTool(MCP_METRICS.toolCalls, cloudwatch.Stats.SUM, t)) }),
      new cloudwatch.GraphWidget({ title: 'MCP: errors per tool', width: 8, left: mcp.tools.map(t => perTool(MCP_METRICS.toolErrors, cloudwatch.Stats.SUM, t)) }),
      new cloudwatch.GraphWidget({ title: 'MCP: latency per tool (ms, p99)', width: 8, left: mcp.tools.map(t => perTool(MCP_METRICS.toolLatency, cloudwatch.Stats.percentile(99), t)) }),
      new cloudwatch.GraphWidget({
        title: 'MCP: Lambda errors and throttles', width: 8,
        left: ['Errors', 'Throttles'].map(name => new cloudwatch.Metric({ namespace: AWS_NAMESPACES.lambda, metricName: name, dimensionsMap: fn, statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE, label: name })),
      }),
    ]);
    for (const tool of mcp.tools) {
      // Each tool gets its own rate: a failing lookup should not hide behind healthy searches, and 10 calls is the least that makes a rate mean something.
      const rate = new cloudwatch.MathExpression({
        expression: 'IF(calls >= 10, 100 * FILL(errors, 0) / calls, 0)',
        usingMetrics: {
          calls: perTool(MCP_METRICS.toolCalls, cloudwatch.Stats.SUM, tool, FIVE_MINUTES),
          errors: perTool(MCP_METRICS.toolErrors, cloudwatch.Stats.SUM, tool, FIVE_MINUTES),
        },
        period: FIVE_MINUTES, label: `${tool} error rate (%)`,
      });
      this.alarm(`McpErrorRate${sanitize(tool)}`, rate, this.t.mcpErrorRatePercent, 1,
        `MCP tool ${tool}: more than ${this.t.mcpErrorRatePercent}% of calls failed in 5 minutes.`);
    }
  }

  private addDecisions(decisions: ObservedDecisions): void {
    const recorded = agentMetric(decisions, DEFAULT_MCP_DIMENSIONS, MCP_METRICS.decisionsRecorded, {},
      { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES, label: 'Decisions recorded' });
    this.section('9. Agent decisions', [new cloudwatch.GraphWidget({ title: 'Decisions recorded', width: 24, left: [recorded] })]);
    if (decisions.alarmOnSilence === false) return;
    this.alarm('DecisionRate', recorded.with({ period: this.t.decisionSilence }), 1, 1,
      `No agent decision recorded in ${this.t.decisionSilence.toHumanString()}: agents are down or cannot reach record_decision.`,
      cloudwatch.TreatMissingData.BREACHING, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD);
  }

  // ---- helpers ----

  private windowPeriods(): number {
    return Math.max(1, Math.round(this.slo.window.toSeconds() / 60));
  }

  private section(title: string, widgets: cloudwatch.IWidget[]): void {
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
    this.dashboard.addWidgets(...widgets);
  }

  private alarm(
    id: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods: number, description: string,
    treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric: withoutLabel(metric), threshold, evaluationPeriods, datapointsToAlarm: evaluationPeriods, comparisonOperator, treatMissingData,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  private createTopic(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      enableKeyRotation: true,
      description: 'Encrypts the agent data stack alarm topic',
    });
    denyNonServiceGrants(key);
    // CloudWatch publishes to an encrypted topic only when the key lets it (the AWS managed SNS key does not).
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    return new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: 'Agent data stack alarms' });
  }
}

function agentMetric(
  location: AgentMetricsLocation, defaultDims: Record<string, string>, metricName: string, own: Record<string, string>,
  options: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: location.namespace ?? DEFAULT_AGENT_METRICS_NAMESPACE,
    metricName,
    ...options,
    dimensionsMap: { ...(location.dimensions ?? defaultDims), ...own },
  });
}

/** A labelled metric renders as a one-element metric-math alarm; an unlabelled one as the plain form operators read more easily. */
function withoutLabel(metric: cloudwatch.IMetric): cloudwatch.IMetric {
  if (!(metric instanceof cloudwatch.Metric) || metric.label === undefined) return metric;
  return new cloudwatch.Metric({
    namespace: metric.namespace, metricName: metric.metricName, dimensionsMap: metric.dimensions as Record<string, string>,
    statistic: metric.statistic, period: metric.period, unit: metric.unit,
  });
}

function sanitize(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9]/g, '');
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}

function validate(props: AgentObservabilityProps): void {
  const sections = [props.source, props.connector, props.kafka, props.flink?.length, props.sinks?.length, props.cache, props.search, props.mcp, props.decisions];
  if (!sections.some(Boolean)) {
    throw new Error('AgentObservability: no section given (source, connector, kafka, flink, sinks, cache, search, mcp, decisions are all empty). Pass at least one resource to observe.');
  }
  for (const cg of props.kafka?.consumerGroups ?? []) {
    // MSK does not publish consumer-lag metrics for groups with a colon or non-ASCII characters.
    if (!Token.isUnresolved(cg.group) && (/:/.test(cg.group) || /[^\x20-\x7e]/.test(cg.group))) {
      throw new Error(`AgentObservability: kafka.consumerGroups group '${cg.group}' contains ':' or non-ASCII characters; MSK publishes no lag metrics for it. Rename the consumer group.`);
    }
    if (cg.topics.length === 0) {
      throw new Error(`AgentObservability: kafka.consumerGroups group '${cg.group}' has no topics. MSK publishes lag per topic: list the topics the group reads.`);
    }
  }
  for (const app of props.flink ?? []) {
    if (app.runtime !== 'FLINK-2_2' && app.runtime !== 'FLINK-1_20') {
      throw new Error(`AgentObservability: flink runtime '${app.runtime}' of '${app.applicationName}' is not supported. Use 'FLINK-2_2' or 'FLINK-1_20'.`);
    }
  }
  const seenViews = new Set<string>();
  for (const sink of props.sinks ?? []) {
    if (sink.views.length === 0) throw new Error(`AgentObservability: sink '${sink.functionName}' has no views. List the views it writes.`);
    for (const view of sink.views) {
      if (seenViews.has(view)) throw new Error(`AgentObservability: view '${view}' is listed under more than one sink. Each view has one sink; remove the duplicate.`);
      seenViews.add(view);
    }
  }
  if (props.cache && !props.cache.serverless && props.cache.nodeClusterIds.length === 0) {
    throw new Error(`AgentObservability: cache '${props.cache.cacheName}' is node-based but its nodeClusterIds is empty; ElastiCache publishes node metrics per CacheClusterId. Import it with AgentCache.fromCacheAttributes({ nodeClusterIds: ['${props.cache.cacheName}-001', ...] }).`);
  }
  if (props.mcp && props.mcp.tools.length === 0) throw new Error('AgentObservability: mcp.tools is empty. List the tool names the server exposes.');
  const slo = props.freshnessSlo;
  if (slo?.percentile !== undefined && !(slo.percentile > 0 && slo.percentile < 100)) {
    throw new Error(`AgentObservability: freshnessSlo.percentile is ${slo.percentile}. Use a percentile between 0 and 100, e.g. 99.`);
  }
  if (slo?.window !== undefined && (slo.window.toSeconds() < 60 || slo.window.toSeconds() % 60 !== 0)) {
    throw new Error(`AgentObservability: freshnessSlo.window is ${slo.window.toHumanString()}. Use whole minutes, at least 1.`);
  }
  if (slo?.threshold !== undefined && slo.threshold.toMilliseconds() <= 0) {
    throw new Error('AgentObservability: freshnessSlo.threshold must be above zero, e.g. Duration.seconds(5).');
  }
  const failed = props.thresholds?.failedCheckpoints;
  if (failed !== undefined && (!Number.isInteger(failed) || failed < 1)) {
    throw new Error(`AgentObservability: thresholds.failedCheckpoints is ${failed}. Use a whole number of at least 1.`);
  }
}
