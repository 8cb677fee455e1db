// The CloudWatch namespaces, metric names and dimension names the governance layer reads; one place so dashboard, alarms, CLI and docs agree.

/** Namespaces AWS services publish to (see docs/governance.md for the documentation each comes from). */
export const AWS_NAMESPACES = {
  rds: 'AWS/RDS',
  kafkaConnect: 'AWS/KafkaConnect',
  kafka: 'AWS/Kafka',
  flink: 'AWS/KinesisAnalytics',
  lambda: 'AWS/Lambda',
  elastiCache: 'AWS/ElastiCache',
  openSearch: 'AWS/ES',
} as const;

/** The namespace the sink and MCP functions publish their EMF metrics to unless told otherwise. */
export const DEFAULT_AGENT_METRICS_NAMESPACE = 'AgentDataStack';

/** Metric names the sink Lambdas publish (EMF, Powertools Metrics). */
export const SINK_METRICS = {
  recordsReceived: 'RecordsReceived',
  recordsWritten: 'RecordsWritten',
  recordsStale: 'RecordsStale',
  recordsDeadLettered: 'RecordsDeadLettered',
  /** Milliseconds from the source commit to the store write, per view. */
  freshnessLag: 'FreshnessLag',
  /** Milliseconds from the source commit to the sink, derived from the connector's heartbeat events. */
  cdcLag: 'CdcLag',
} as const;

/** Metric names the MCP server publishes. */
export const MCP_METRICS = {
  toolCalls: 'ToolCalls',
  toolErrors: 'ToolErrors',
  /** Milliseconds per tool call. */
  toolLatency: 'ToolLatency',
  decisionsRecorded: 'DecisionsRecorded',
} as const;

/** Dimension names of the agent metrics. Powertools Metrics adds `service` to every metric. */
export const AGENT_DIMENSIONS = {
  service: 'service',
  view: 'View',
  connector: 'Connector',
  tool: 'Tool',
} as const;

/** Dimension names AWS services use for the metrics read here. */
export const AWS_DIMENSIONS = {
  rdsInstance: 'DBInstanceIdentifier',
  rdsCluster: 'DBClusterIdentifier',
  connectorName: 'ConnectorName',
  kafkaCluster: 'Cluster Name',
  kafkaConsumerGroup: 'Consumer Group',
  kafkaTopic: 'Topic',
  flinkApplication: 'Application',
  lambdaFunction: 'FunctionName',
  serverlessCache: 'clusterId',
  cacheCluster: 'CacheClusterId',
  domainName: 'DomainName',
  clientId: 'ClientId',
} as const;
