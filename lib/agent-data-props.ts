// The declaration AgentDataStack and AgentDataPlatform take (sources, transforms, views, bring-your-own resources,
// per-construct options) and what they expose once built.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AgentNetworkProps } from '../constructs/common/agent-network';
import { AgentObservability, AgentObservabilityProps } from '../constructs/governance/agent-observability';
import { DecisionAuditLogProps, IDecisionAuditLog } from '../constructs/governance/decision-audit-log';
import { AgentLineageCatalog } from '../constructs/governance/lineage-catalog';
import { AgentMcpServer, AgentMcpServerProps } from '../constructs/mcp/agent-mcp-server';
import { FlinkSqlApplication, FlinkSqlApplicationProps } from '../constructs/processing/flink-sql-application';
import { FlinkTable } from '../constructs/processing/flink-tables';
import { CdcSourceDatabase } from '../constructs/source/cdc-source-database';
import { AgentCacheProps } from '../constructs/stores/agent-cache';
import { AgentSearchProps } from '../constructs/stores/agent-search';
import { AgentSink, AgentSinkProps } from '../constructs/stores/agent-sink';
import { AgentWarehouse, AgentWarehouseProps } from '../constructs/stores/agent-warehouse';
import { IAgentCache, IAgentSearch } from '../constructs/stores/refs';
import { AgentView } from '../constructs/stores/view';
import { AgentStreamingClusterProps } from '../constructs/streaming/cluster';
import { DebeziumConnector, DebeziumConnectorProps } from '../constructs/streaming/debezium-connector';
import { IAgentStreamingCluster } from '../constructs/streaming/refs';
import { DeploymentProfile } from './profiles';
import type { AgentAdditionalSourceDeclaration, AgentSourceDeclaration, AgentSourceResources } from './sources';
import type { AgentViewDeclaration } from './views';

/** A Flink SQL transform. Its CDC source tables must read topics of captured tables. */
export interface AgentTransformDeclaration {
  /** Short name (letters, digits, '-'): the construct id and the base of the application name. */
  readonly name: string;
  /** The SQL (or `sqlFile`). */
  readonly sql?: string;
  /** Path to a `.sql` file. @default - `sql` is used */
  readonly sqlFile?: string;
  /** Tables declared with `FlinkTable.debeziumSource` / `FlinkTable.upsertKafkaSink`. @default - none: the SQL declares them */
  readonly tables?: FlinkTable[];
  /** Any other FlinkSqlApplication option. @default - the profile's defaults */
  readonly options?: Omit<FlinkSqlApplicationProps, 'cluster' | 'sql' | 'sqlFile' | 'tables'>;
}

/** The declaration both AgentDataPlatform (a construct for your own stack) and AgentDataStack (a stack) take. */
export interface AgentDataPlatformProps {
  /** @default DeploymentProfile.PRODUCTION */
  readonly profile?: DeploymentProfile;
  readonly source: AgentSourceDeclaration;
  /**
   * More source databases (PostgreSQL and MySQL mixed), each with its own connector and topic prefix; views and transforms
   * read any of them. @default - the one `source`
   */
  readonly additionalSources?: AgentAdditionalSourceDeclaration[];
  /** @default - no transforms: views read CDC topics directly */
  readonly transforms?: AgentTransformDeclaration[];
  readonly views: AgentViewDeclaration[];
  /** Debezium `topic.prefix`. @default 'agentdata' */
  readonly topicPrefix?: string;

  /** Bring your own VPC. @default - a new AgentNetwork shaped by the profile */
  readonly vpc?: ec2.IVpc;
  /** Bring your own MSK cluster. @default - a new AgentStreamingCluster shaped by the profile */
  readonly existingCluster?: IAgentStreamingCluster;
  /** Bring your own cache (needed only with cache views). @default - a new AgentCache when a cache view exists */
  readonly existingCache?: IAgentCache;
  /**
   * Bring your own search domain. Its owner creates each search view's index (alias named after the view) and maps
   * the sink and MCP roles in fine-grained access control. @default - a new AgentSearch, with indexes, when a search view exists
   */
  readonly existingSearch?: IAgentSearch;
  /** Bring your own decision audit table. @default - a new DecisionAuditLog */
  readonly existingDecisionAuditLog?: IDecisionAuditLog;
  /** Topic alarms notify. @default - a new encrypted topic */
  readonly alarmTopic?: sns.ITopic;

  /** Per-construct overrides, applied over the profile. @default - the profile's defaults */
  readonly networkOptions?: AgentNetworkProps;
  /** @default - the profile's defaults */
  readonly clusterOptions?: Omit<AgentStreamingClusterProps, 'vpc'>;
  /** @default - the connector's defaults */
  readonly connectorOptions?: Omit<DebeziumConnectorProps, 'cluster' | 'source' | 'plugin' | 'topicPrefix'>;
  /** @default - the profile's defaults */
  readonly cacheOptions?: Omit<AgentCacheProps, 'vpc'>;
  /** @default - the profile's defaults */
  readonly searchOptions?: Omit<AgentSearchProps, 'vpc'>;
  /** Warehouse options (only with warehouse views). @default - the AgentWarehouse defaults */
  readonly warehouseOptions?: Omit<AgentWarehouseProps, 'cluster' | 'views'>;
  /** @default - the sink's defaults */
  readonly sinkOptions?: Omit<AgentSinkProps, 'cluster' | 'views' | 'cache' | 'search' | 'heartbeatTopic'>;
  /** @default - IAM-authenticated function URL */
  readonly mcpOptions?: Omit<AgentMcpServerProps, 'views' | 'vpc' | 'cache' | 'search' | 'decisionAuditLog' | 'lineageCatalog'>;
  /** @default - the profile's defaults */
  readonly decisionAuditLogOptions?: DecisionAuditLogProps;
  /** @default - the observability defaults (freshness SLO p99 5 s over 5 minutes) */
  readonly observabilityOptions?: Pick<AgentObservabilityProps, 'freshnessSlo' | 'thresholds' | 'dashboardName'>;
}

/** Everything the platform creates or wires, as properties of AgentDataPlatform and AgentDataStack. */
export interface IAgentDataResources {
  readonly profile: DeploymentProfile;
  readonly vpc: ec2.IVpc;
  readonly source: CdcSourceDatabase;
  readonly cluster: IAgentStreamingCluster;
  readonly connector: DebeziumConnector;
  /** Every source with its connector, the primary first. */
  readonly sources: AgentSourceResources[];
  readonly transforms: Record<string, FlinkSqlApplication>;
  readonly views: AgentView[];
  readonly cache?: IAgentCache;
  readonly search?: IAgentSearch;
  /** The Iceberg warehouse, when a view has store: ViewStore.WAREHOUSE. */
  readonly warehouse?: AgentWarehouse;
  readonly sink: AgentSink;
  readonly decisionAuditLog: IDecisionAuditLog;
  readonly lineage: AgentLineageCatalog;
  readonly mcp: AgentMcpServer;
  readonly observability: AgentObservability;
}
