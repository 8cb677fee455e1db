// The custom CloudWatch metric contract: what the sink and MCP Lambdas publish (EMF via Powertools Metrics) and what AgentSink, AgentMcpServer
// and AgentObservability read. One place, imported by both sides.

/** Namespace the sink and MCP functions publish to unless the construct is given another one. */
export const DEFAULT_AGENT_METRICS_NAMESPACE = 'AgentDataStack';

/** `POWERTOOLS_SERVICE_NAME` of each function; Powertools Metrics adds it to every metric as the `service` dimension. */
export const AGENT_SERVICE_NAMES = {
  sink: 'agent-data-stack-sink',
  mcp: 'agent-data-stack-mcp',
  warehouseFreshness: 'agent-data-stack-warehouse-freshness',
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

/** Metric the warehouse freshness probe publishes every few minutes, with {service, View}. */
export const WAREHOUSE_METRIC_NAMES = {
  /** Milliseconds since the newest committed Iceberg snapshot of the view's current-state table. */
  snapshotAge: 'WarehouseSnapshotAge',
} as const;

/** The tool whose success counts as a recorded decision. */
export const RECORD_DECISION_TOOL = 'record_decision';

// ---- AWS service metrics the constructs read (metric*() methods, AgentObservability). One name per metric. ----
// Each is cited in docs/governance.md, and test/governance/fixtures/published-metrics.ts lists per variant what AWS publishes.

/** Namespaces AWS services publish to. */
export const AWS_METRIC_NAMESPACES = {
  rds: 'AWS/RDS',
  kafkaConnect: 'AWS/KafkaConnect',
  kafka: 'AWS/Kafka',
  flink: 'AWS/KinesisAnalytics',
  lambda: 'AWS/Lambda',
  elastiCache: 'AWS/ElastiCache',
  openSearch: 'AWS/ES',
} as const;

/** Dimension names AWS services publish the metrics read here under. */
export const AWS_METRIC_DIMENSIONS = {
  rdsInstance: 'DBInstanceIdentifier',
  rdsCluster: 'DBClusterIdentifier',
  /** With `DBClusterIdentifier`: an Aurora cluster's instance metrics aggregated by role (`WRITER` or `READER`). */
  rdsRole: 'Role',
  connectorName: 'ConnectorName',
  kafkaCluster: 'Cluster Name',
  kafkaConsumerGroup: 'Consumer Group',
  kafkaTopic: 'Topic',
  /** With `Cluster Name`: one broker's metrics (broker ids count from 1). */
  kafkaBroker: 'Broker ID',
  flinkApplication: 'Application',
  lambdaFunction: 'FunctionName',
  serverlessCache: 'clusterId',
  cacheCluster: 'CacheClusterId',
  domainName: 'DomainName',
  clientId: 'ClientId',
} as const;

/** `Role` value of an Aurora cluster's writer: follows the writer across failovers, unlike one instance's identifier. */
export const AURORA_WRITER_ROLE = 'WRITER';

/** `AWS/RDS` metrics of a CDC source. Which one a variant publishes is decided in constructs/source/private/metrics.ts. */
export const RDS_METRIC_NAMES = {
  cpuUtilization: 'CPUUtilization',
  databaseConnections: 'DatabaseConnections',
  freeStorageSpace: 'FreeStorageSpace',
  /** RDS for PostgreSQL: WAL bytes behind the most lagging replication slot. Aurora PostgreSQL documents no such metric. */
  oldestReplicationSlotLag: 'OldestReplicationSlotLag',
  /** RDS and Aurora PostgreSQL: disk used by replication slot files. */
  replicationSlotDiskUsage: 'ReplicationSlotDiskUsage',
  /** RDS PostgreSQL: WAL on disk. Aurora PostgreSQL (writer): WAL kept for logical replication, published only while it is used. */
  transactionLogsDiskUsage: 'TransactionLogsDiskUsage',
  /** RDS for MySQL and MariaDB: disk used by binary logs. */
  binLogDiskUsage: 'BinLogDiskUsage',
  /** Aurora MySQL: total size of the binary log files. */
  sumBinaryLogSize: 'SumBinaryLogSize',
} as const;

/** `AWS/ElastiCache` metrics of the agent cache: serverless caches and node-based replication groups publish different ones. */
export const ELASTICACHE_METRIC_NAMES = {
  /** Serverless: ECPUs consumed. */
  processingUnits: 'ElastiCacheProcessingUnits',
  /** Node-based: CPU of the engine thread, percent. */
  engineCpuUtilization: 'EngineCPUUtilization',
  /** Serverless: bytes of data stored. */
  bytesUsedForCache: 'BytesUsedForCache',
  /** Serverless: commands throttled for exceeding the cache's ECPU limit. */
  throttledCmds: 'ThrottledCmds',
  /** Node-based: percent of maxmemory in use. */
  databaseMemoryUsagePercentage: 'DatabaseMemoryUsagePercentage',
  evictions: 'Evictions',
  /** Serverless read and write latency, microseconds. */
  successfulReadRequestLatency: 'SuccessfulReadRequestLatency',
  successfulWriteRequestLatency: 'SuccessfulWriteRequestLatency',
  /** Node-based: latency of read commands and of scripts (the sink writes through a script), microseconds. */
  getTypeCmdsLatency: 'GetTypeCmdsLatency',
  evalBasedCmdsLatency: 'EvalBasedCmdsLatency',
} as const;

/** `AWS/KafkaConnect` metrics of the Debezium connector (dimension `ConnectorName`). */
export const KAFKA_CONNECT_METRIC_NAMES = {
  runningTaskCount: 'RunningTaskCount',
  erroredTaskCount: 'ErroredTaskCount',
  sourceRecordPollRate: 'SourceRecordPollRate',
  sourceRecordWriteRate: 'SourceRecordWriteRate',
  cpuUtilization: 'CpuUtilization',
  memoryUtilization: 'MemoryUtilization',
} as const;

/** `AWS/Kafka` metrics: consumer lag (dimensions `Cluster Name`, `Consumer Group`, `Topic`) and broker disk use (`Cluster Name`, `Broker ID`). */
export const KAFKA_METRIC_NAMES = {
  maxOffsetLag: 'MaxOffsetLag',
  sumOffsetLag: 'SumOffsetLag',
  estimatedMaxTimeLag: 'EstimatedMaxTimeLag',
  dataLogsDiskUsed: 'KafkaDataLogsDiskUsed',
} as const;

/**
 * `AWS/KinesisAnalytics` metrics of a Flink application (dimension `Application`). Flink 2.x renamed the restart and
 * availability metrics: `numRestarts`, `restartingTime`, `runningTime` replace 1.x's `fullRestarts`, `downtime`, `uptime`.
 */
export const FLINK_METRIC_NAMES = {
  numRestarts: 'numRestarts',
  fullRestarts: 'fullRestarts',
  restartingTime: 'restartingTime',
  downtime: 'downtime',
  runningTime: 'runningTime',
  uptime: 'uptime',
  numberOfFailedCheckpoints: 'numberOfFailedCheckpoints',
  lastCheckpointDuration: 'lastCheckpointDuration',
  recordsLagMax: 'records_lag_max',
  kpus: 'KPUs',
} as const;

/** `AWS/ES` metrics of the OpenSearch Service domain (dimensions `DomainName`, `ClientId`). */
export const OPENSEARCH_METRIC_NAMES = {
  clusterStatusRed: 'ClusterStatus.red',
  clusterStatusYellow: 'ClusterStatus.yellow',
  clusterIndexWritesBlocked: 'ClusterIndexWritesBlocked',
  jvmMemoryPressure: 'JVMMemoryPressure',
  indexingLatency: 'IndexingLatency',
  searchLatency: 'SearchLatency',
  freeStorageSpace: 'FreeStorageSpace',
} as const;

/** `AWS/Lambda` metrics of the sink and MCP functions (dimension `FunctionName`). */
export const LAMBDA_METRIC_NAMES = {
  offsetLag: 'OffsetLag',
  errors: 'Errors',
  throttles: 'Throttles',
} as const;
