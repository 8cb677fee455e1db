// The props of AgentObservability: the constructs it observes, the freshness objective and the alarm thresholds.
import type { ObservedHeadroom } from './headroom';
import { Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IAgentMcpServer } from '../mcp/refs';
import type { IFlinkApplication } from '../processing/refs';
import type { ICdcSourceDatabase } from '../source/cdc-source-database';
import type { IDebeziumConnector } from '../streaming/connector-metrics';
import type { IAgentStreamingCluster } from '../streaming/refs';
import type { IAgentCache, IAgentSearch, IAgentSink } from '../stores/refs';

/** Where decisions are counted: the MCP server's `record_decision` tool. */
export interface ObservedDecisions {
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
  /**
   * PostgreSQL `TransactionLogsDiskUsage` / MySQL binary log size (RDS `BinLogDiskUsage`, Aurora `SumBinaryLogSize`), bytes.
   * @default 10 GiB, or three quarters of the source's `maxSlotWalKeepSizeBytes` if lower
   */
  readonly logDiskUsageBytes?: number;
  /**
   * MSK `EstimatedMaxTimeLag` of any watched group and topic. A Flink application's groups alarm above its
   * `checkpointInterval` plus this: they commit offsets only on completed checkpoints. @default Duration.seconds(30)
   */
  readonly consumerLag?: Duration;
  /** Failed Flink checkpoints in 15 minutes before alarming. @default 1 */
  readonly failedCheckpoints?: number;
  /** Percentage of failed calls of one MCP tool over 5 minutes (only with at least 10 calls). @default 5 */
  readonly mcpErrorRatePercent?: number;
  /** Window with no recorded decision that raises the decision-rate alarm. @default Duration.hours(1) */
  readonly decisionSilence?: Duration;
}

/**
 * Every section takes the construct itself: its widgets and alarms come from the construct's own `metric*()` methods,
 * which know the metric names and dimensions AWS (or the function) publishes for it.
 */
export interface AgentObservabilityProps {
  /** @default - a CloudFormation-generated name */
  readonly dashboardName?: string;
  /** Topic the alarms notify. @default - a new topic encrypted with a new KMS key, TLS-only */
  readonly alarmTopic?: sns.ITopic;
  /** The source database (RDS or Aurora, PostgreSQL or MySQL). @default - no source widgets or alarms */
  readonly source?: ICdcSourceDatabase;
  /** The Debezium connector. @default - no connector widgets or alarms */
  readonly connector?: IDebeziumConnector;
  /**
   * Further source databases and their connectors, each drawn and alarmed like `source` and `connector` (alarm ids and
   * section titles carry the name). @default - none
   */
  readonly additionalSources?: { readonly name: string; readonly source: ICdcSourceDatabase; readonly connector: IDebeziumConnector }[];
  /**
   * The Kafka cluster: consumer lag of every Flink application's and sink's consumer group, per topic.
   * @default - no Kafka widgets or alarms
   */
  readonly kafka?: IAgentStreamingCluster;
  /** @default - no Flink widgets or alarms */
  readonly flink?: IFlinkApplication[];
  /**
   * The sinks: records, freshness and dead letters per view, and `CdcLag` (in the connector's section) for each sink
   * that maps the connector's heartbeat topic.
   * @default - no sink widgets or alarms
   */
  readonly sinks?: IAgentSink[];
  /** The cache (serverless per cache, node-based per node cluster). @default - no cache widgets */
  readonly cache?: IAgentCache;
  /** @default - no search widgets or alarms */
  readonly search?: IAgentSearch;
  /** @default - no MCP widgets or alarms */
  readonly mcp?: IAgentMcpServer;
  /** Decisions recorded by `mcp` (needs an MCP server with a decision audit log). @default - no decision-rate widget or alarm */
  readonly decisions?: ObservedDecisions;
  /** Declared capacity bounds and their use, drawn as one row after the summary (alarms before each bound). @default - no headroom row */
  readonly headroom?: ObservedHeadroom[];
  /** @default - p99 above 5 seconds for 5 minutes */
  readonly freshnessSlo?: FreshnessSlo;
  /** @default - see each field */
  readonly thresholds?: AgentAlarmThresholds;
}
