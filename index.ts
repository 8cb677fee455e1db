// Public API of cdk-agent-data-stack: the constructs, their props, enum-like classes and the types users need, by layer.
// Helpers the constructs share (security groups, handler paths, metric and permission constants, SQL rewriting) stay
// internal. The cdk-nag validation gate is the `cdk-agent-data-stack/gate` entry; this root never loads cdk-nag.

// The composition.
export { AgentDataPlatform, AgentDataStack, ViewSource } from './lib/agent-data-stack';
export type {
  AgentDataPlatformProps, AgentDataStackProps, AgentSourceDeclaration, AgentTransformDeclaration, AgentViewDeclaration, IAgentDataResources,
} from './lib/agent-data-stack';
export { DeploymentProfile } from './lib/profiles';
export type { AgentAdditionalSourceDeclaration, AgentSourceResources } from './lib/sources';

// Building blocks shared by the layers.
export { AgentFunction } from './constructs/common/agent-function';
export type { AgentFunctionProps } from './constructs/common/agent-function';
export { AgentNetwork } from './constructs/common/agent-network';
export type { AgentNetworkProps } from './constructs/common/agent-network';
export { AgentProvider } from './constructs/common/agent-provider';
export type { AgentProviderProps } from './constructs/common/agent-provider';
export { ArtifactBucket, DeployTimeArtifact } from './constructs/common/deploy-time-artifact';
export type { ArtifactBucketProps, ArtifactInlineFile, ArtifactSource, DeployTimeArtifactProps } from './constructs/common/deploy-time-artifact';

// Source.
export { CdcSourceDatabase, DEFAULT_MAX_SLOT_WAL_KEEP_SIZE } from './constructs/source/cdc-source-database';
export type { CdcSourceDatabaseProps, ICdcSourceDatabase } from './constructs/source/cdc-source-database';
export { SourceEngine, SourceEngineFamily } from './constructs/source/engine';
export { SourceSchema } from './constructs/source/schema';
export type { SourceColumnPolicy } from './constructs/source/columns';

// Streaming.
export type { ConsumerLagMetricOptions, IAgentStreamingCluster } from './constructs/streaming/refs';
export type { CdcColumnPolicy, CdcEngine, ICdcSource } from './constructs/streaming/cdc-source';
export type { CdcSignalChannel } from './constructs/streaming/cdc-source';
export { AgentStreamingCluster } from './constructs/streaming/cluster';
export type { AgentStreamingClusterProps } from './constructs/streaming/cluster';
export type { BrokerStorageAutoScaling } from './constructs/streaming/private/storage-scaling';
export { AgentStreamingClusterBase, KafkaVersion } from './constructs/streaming/cluster-base';
export type { AgentStreamingClusterAttributes, AgentTopicOptions } from './constructs/streaming/cluster-base';
export { DatabaseTls } from './constructs/streaming/database-tls';
export type { DatabaseTlsTrustOptions } from './constructs/streaming/database-tls';
export { DEFAULT_CONFIG_PROVIDER, DebeziumPlugin, DebeziumPluginSource, DebeziumVersion, KafkaConnectVersion } from './constructs/streaming/debezium-plugin';
export type { BoundPluginSource, ConfigProviderSource, DebeziumPluginProps, MavenCentralPluginOptions } from './constructs/streaming/debezium-plugin';
export { ConnectorCapacity, DebeziumConnector } from './constructs/streaming/debezium-connector';
export type { DebeziumConnectorProps } from './constructs/streaming/debezium-connector';
export { DebeziumConnectorBase } from './constructs/streaming/connector-metrics';
export type { IDebeziumConnector } from './constructs/streaming/connector-metrics';

// Processing.
export { FlinkSqlApplication } from './constructs/processing/flink-sql-application';
export { FlinkLogLevel, FlinkMetricsLevel } from './constructs/processing/flink-sql-application-props';
export type {
  FlinkLineageDeclarationShape, FlinkLineageTable, FlinkSqlApplicationProps, FlinkSqlLineage,
} from './constructs/processing/flink-sql-application-props';
export type { FlinkConsumedTopics, IFlinkApplication } from './constructs/processing/refs';
export { DeliveryGuarantee, FlinkJar, FlinkRuntime } from './constructs/processing/flink-runtime';
export type { FlinkJarProps } from './constructs/processing/flink-runtime';
export { FlinkTable } from './constructs/processing/flink-tables';
export type { CdcMetadataColumns, DebeziumSourceTableOptions, FlinkColumn, UpsertKafkaSinkTableOptions } from './constructs/processing/flink-tables';
export { analyzeFlinkSql, validateFlinkSql } from './constructs/processing/flink-sql';
export { DEFAULT_FLINK_CONNECTORS, DEFAULT_FLINK_FORMATS, FlinkSqlError } from './constructs/processing/flink-sql-types';
export type {
  FlinkKnownTable, FlinkSqlAnalysis, FlinkSqlAnalysisOptions, FlinkSqlLineageEntry, FlinkSqlProblem, FlinkSqlStatement, FlinkStatementKind,
  FlinkTableDeclaration,
} from './constructs/processing/flink-sql-types';
export type { FlinkColumnSchema } from './constructs/processing/private/flink-column-scope';
export {
  EXAMPLE_CUSTOMERS_TOPIC, EXAMPLE_ENRICHED_ORDERS_TOPIC, EXAMPLE_ORDER_ENRICHMENT_SQL, EXAMPLE_ORDERS_TOPIC, exampleOrderEnrichmentTables,
} from './constructs/processing/example';

// Stores.
export type {
  CacheMetricOptions, CacheReaderUserOptions, ConsumedTopics, IAgentCache, IAgentSearch, IAgentSink, ICacheUser,
} from './constructs/stores/refs';
export { AgentView, DEFAULT_EMBEDDING_MODEL, DEFAULT_TOMBSTONE_TTL, ViewFieldType, ViewStore, ViewTopicFormat } from './constructs/stores/view';
export type { AgentViewProps, ViewCacheOptions, ViewField, ViewSearchOptions, ViewVectorOptions } from './constructs/stores/view';
export type { ViewRowScope, ViewScopeRole } from './constructs/stores/view';
export { SchemaChangePolicy } from './constructs/stores/view-schema';
export { WarehousePartition } from './constructs/stores/warehouse-view';
export type { ViewWarehouseOptions } from './constructs/stores/warehouse-view';
export { AgentWarehouse } from './constructs/stores/agent-warehouse';
export type { AgentWarehouseProps, WarehouseWriterOptions } from './constructs/stores/agent-warehouse';
export { AgentCache } from './constructs/stores/agent-cache';
export { AgentCacheBase } from './constructs/stores/agent-cache-base';
export { CacheAuthentication } from './constructs/stores/agent-cache-props';
export type { AgentCacheProps, CacheAttributes, NodeBasedCacheOptions, ServerlessCacheLimits } from './constructs/stores/agent-cache-props';
export { AgentSearch } from './constructs/stores/agent-search';
export type { AgentSearchProps, SearchViewIndexOptions } from './constructs/stores/agent-search';
export { AgentSearchBase } from './constructs/stores/agent-search-base';
export type { AgentSearchAttributes } from './constructs/stores/agent-search-base';
export { AgentSink } from './constructs/stores/agent-sink';
export { SinkDeadLetter } from './constructs/stores/agent-sink-props';
export type { AgentSinkProps, ProvisionedPollers } from './constructs/stores/agent-sink-props';

// MCP.
export { AgentMcpServer } from './constructs/mcp/agent-mcp-server';
export type { AgentMcpServerProps, ILineageCatalogSource } from './constructs/mcp/agent-mcp-server';
export { McpAuthorization } from './constructs/mcp/mcp-authorization';
export type { McpCognitoAuthorizationOptions, McpJwtAuthorizationOptions } from './constructs/mcp/mcp-authorization';
export type { IAgentMcpServer } from './constructs/mcp/refs';

// Governance.
export { AgentObservability } from './constructs/governance/agent-observability';
export type { AgentAlarmThresholds, AgentObservabilityProps, FreshnessSlo, ObservedDecisions } from './constructs/governance/observability-props';
export type { ObservedHeadroom } from './constructs/governance/headroom';
export { DecisionAuditLog } from './constructs/governance/decision-audit-log';
export type { DecisionAuditLogAttributes, DecisionAuditLogProps, IDecisionAuditLog } from './constructs/governance/decision-audit-log';
export { AgentLineageCatalog } from './constructs/governance/lineage-catalog';
export type { AgentLineageCatalogProps } from './constructs/governance/lineage-catalog';
export { buildLineageCatalog, toOpenLineage, traceView } from './contract/lineage-graph';
export type {
  FlinkLineageDeclaration, LineageSourceDeclaration, OpenLineageDatasetEvent, OpenLineageJobEvent, OpenLineageOptions, ViewLineageDeclaration,
} from './contract/lineage-graph';
