// The CloudWatch namespaces, metric names and dimension names the governance layer reads; one place so dashboard, alarms, CLI and docs agree.
// The agent's own metrics come from lambda/shared/metric-names.ts, which the sink and MCP functions publish with.
import {
  AGENT_METRIC_DIMENSIONS, AGENT_SERVICE_NAMES, DEFAULT_AGENT_METRICS_NAMESPACE as SHARED_DEFAULT_NAMESPACE, MCP_METRIC_NAMES, SINK_METRIC_NAMES,
} from '../../lambda/shared/metric-names';

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

/** The namespace the sink and MCP functions publish their EMF metrics to unless told otherwise (lambda/shared/metric-names.ts). */
export const DEFAULT_AGENT_METRICS_NAMESPACE = SHARED_DEFAULT_NAMESPACE;

/** `POWERTOOLS_SERVICE_NAME` of the sink and MCP functions: the default `service` dimension of each section. */
export const AGENT_SERVICES = AGENT_SERVICE_NAMES;

/** Metric names the sink Lambdas publish (EMF, Powertools Metrics); the emitter uses the same module. */
export const SINK_METRICS = SINK_METRIC_NAMES;

/** Metric names the MCP server publishes; the emitter uses the same module. */
export const MCP_METRICS = MCP_METRIC_NAMES;

/** Dimension names of the agent metrics. Powertools Metrics adds `service` to every metric. */
export const AGENT_DIMENSIONS = AGENT_METRIC_DIMENSIONS;

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
