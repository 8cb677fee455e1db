// The custom CloudWatch metric contract: what the sink and MCP Lambdas publish (EMF via Powertools Metrics) and what AgentSink, AgentMcpServer and AgentObservability read. One place, imported by both sides.

/** Namespace the sink and MCP functions publish to unless the construct is given another one. */
export const DEFAULT_AGENT_METRICS_NAMESPACE = 'AgentDataStack';

/** `POWERTOOLS_SERVICE_NAME` of each function; Powertools Metrics adds it to every metric as the `service` dimension. */
export const AGENT_SERVICE_NAMES = {
  sink: 'agent-data-stack-sink',
  mcp: 'agent-data-stack-mcp',
} as const;

/** Dimension names of the agent metrics. */
export const AGENT_METRIC_DIMENSIONS = {
  /** Added by Powertools Metrics to every metric: the function's `POWERTOOLS_SERVICE_NAME`. */
  service: 'service',
  /** Sink: the view a count or freshness lag is about. */
  view: 'View',
  /** Sink: the Debezium heartbeat topic a `CdcLag` value was measured on. */
  topic: 'Topic',
  /** MCP: the tool a call metric is about. */
  tool: 'Tool',
} as const;

/** Metric names the sink publishes. Counts and `FreshnessLag` carry {service, View}; `CdcLag` carries {service, Topic}. */
export const SINK_METRIC_NAMES = {
  recordsReceived: 'RecordsReceived',
  recordsWritten: 'RecordsWritten',
  /** Records the store already held at an equal or newer version (replays, reordering). */
  recordsStale: 'RecordsStale',
  /** Records with nothing to store: Debezium tombstones (the delete before carried the position) and schema-change events. */
  recordsSkipped: 'RecordsSkipped',
  recordsDeadLettered: 'RecordsDeadLettered',
  /** Milliseconds from the source commit to the store write: the batch's worst, per view. */
  freshnessLag: 'FreshnessLag',
  /** Milliseconds from the source commit of the latest Debezium heartbeat to the sink, per heartbeat topic. */
  cdcLag: 'CdcLag',
} as const;

/** The per-view counters, in the order the sink reports them. */
export const SINK_COUNT_METRICS = [
  SINK_METRIC_NAMES.recordsReceived, SINK_METRIC_NAMES.recordsWritten, SINK_METRIC_NAMES.recordsStale,
  SINK_METRIC_NAMES.recordsSkipped, SINK_METRIC_NAMES.recordsDeadLettered,
] as const;

export type SinkCountMetric = typeof SINK_COUNT_METRICS[number];

/** Metric names the MCP server publishes. Tool metrics carry {service, Tool}; `DecisionsRecorded` carries {service}. */
export const MCP_METRIC_NAMES = {
  toolCalls: 'ToolCalls',
  toolErrors: 'ToolErrors',
  /** Milliseconds per tool call, measured inside the handler. */
  toolLatency: 'ToolLatency',
  /** One per successful `record_decision` call. */
  decisionsRecorded: 'DecisionsRecorded',
} as const;

/** The tool whose success counts as a recorded decision. */
export const RECORD_DECISION_TOOL = 'record_decision';
