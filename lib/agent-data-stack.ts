// AgentDataStack: the whole agent data stack from one declaration. Composition only: resource details live in constructs/.
import { CfnOutput, Fn, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LINEAGE_CATALOG_ENV } from '../contract/lineage';
import { AgentNetwork, AgentNetworkProps } from '../constructs/common/agent-network';
import { AgentLineageCatalog } from '../constructs/governance/lineage-catalog';
import { AgentObservability, AgentObservabilityProps } from '../constructs/governance/agent-observability';
import { DecisionAuditLog, DecisionAuditLogProps, IDecisionAuditLog } from '../constructs/governance/decision-audit-log';
import { AgentMcpServer, AgentMcpServerProps } from '../constructs/mcp/agent-mcp-server';
import { FlinkSqlApplication, FlinkSqlApplicationProps } from '../constructs/processing/flink-sql-application';
import { FlinkTable } from '../constructs/processing/flink-tables';
import { CdcSourceDatabase } from '../constructs/source/cdc-source-database';
import { SourceEngineFamily } from '../constructs/source/engine';
import { AgentCache, AgentCacheProps } from '../constructs/stores/agent-cache';
import { AgentSearch, AgentSearchProps } from '../constructs/stores/agent-search';
import { AgentSink, AgentSinkProps } from '../constructs/stores/agent-sink';
import { AgentWarehouse, AgentWarehouseProps } from '../constructs/stores/agent-warehouse';
import { IAgentCache, IAgentSearch } from '../constructs/stores/refs';
import { AgentView, AgentViewProps, ViewStore, ViewTopicFormat } from '../constructs/stores/view';
import { AgentStreamingCluster, AgentStreamingClusterBase, AgentStreamingClusterProps } from '../constructs/streaming/cluster';
import { DebeziumConnector, DebeziumConnectorProps } from '../constructs/streaming/debezium-connector';
import { IAgentStreamingCluster } from '../constructs/streaming/refs';
import { addOperationsManifestOutput } from './operations-manifest';
import { clusterPropsWith, DeploymentProfile, profileDefaults } from './profiles';
import { capacityHeadroom } from './scaling';
import { acknowledgeLogGroups } from '../constructs/common/nag';
import {
  AgentAdditionalSourceDeclaration, AgentSourceDeclaration, AgentSourceResources, buildConnectors, buildSourceDatabases, cdcTopicOf, planSources,
  sourceOfTable,
} from './sources';

export type { AgentAdditionalSourceDeclaration, AgentSourceDeclaration, AgentSourceResources } from './sources';

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

/** Where a view's rows come from. */
export class ViewSource {
  /**
   * A captured table (`schema.table` / `database.table`): the view reads its Debezium topic. With `additionalSources`,
   * `source` names the source when more than one captures a table of that name.
   * @param source the source's name ('Source' for the primary `source`) @default - the one source capturing the table
   */
  public static table(table: string, source?: string): ViewSource {
    return new ViewSource('table', table, undefined, source);
  }

  /** An `upsert-kafka` output table of a transform: the view reads that table's topic. */
  public static transform(transform: string, table: string): ViewSource {
    return new ViewSource('transform', table, transform);
  }

  private constructor(
    public readonly kind: 'table' | 'transform', public readonly table: string, public readonly transform?: string, public readonly source?: string,
  ) {}
}

/** A view as declared on the stack: everything an AgentView needs except what the stack derives (topic, format, source table). */
export interface AgentViewDeclaration extends Omit<AgentViewProps, 'topic' | 'format' | 'sourceTable'> {
  readonly from: ViewSource;
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

const TRANSFORM_NAME = /^[A-Za-z][A-Za-z0-9-]{0,39}$/;

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

/**
 * The real-time agent data stack as a construct, for an existing stack: bring-your-own resources imported into
 * the same stack can have their security groups opened without cross-stack cycles.
 */
export class AgentDataPlatform extends Construct implements IAgentDataResources {
  public readonly profile!: DeploymentProfile;
  public readonly vpc!: ec2.IVpc;
  public readonly source!: CdcSourceDatabase;
  public readonly cluster!: IAgentStreamingCluster;
  public readonly connector!: DebeziumConnector;
  public readonly sources!: AgentSourceResources[];
  public readonly transforms!: Record<string, FlinkSqlApplication>;
  public readonly views!: AgentView[];
  public readonly cache?: IAgentCache;
  public readonly search?: IAgentSearch;
  public readonly warehouse?: AgentWarehouse;
  public readonly sink!: AgentSink;
  public readonly decisionAuditLog!: IDecisionAuditLog;
  public readonly lineage!: AgentLineageCatalog;
  public readonly mcp!: AgentMcpServer;
  public readonly observability!: AgentObservability;

  constructor(scope: Construct, id: string, props: AgentDataPlatformProps) {
    super(scope, id);
    Object.assign(this, composeAgentData(this, props));
  }
}

export interface AgentDataStackProps extends AgentDataPlatformProps, StackProps {}

/**
 * The real-time agent data stack: CDC-ready source, Debezium on MSK Connect, MSK, Flink SQL transforms, cache and
 * search stores fed by idempotent sinks, an MCP server, dashboards, alarms, lineage and a decision audit: all
 * derived from one declaration of source tables, transforms and views.
 */
export class AgentDataStack extends Stack implements IAgentDataResources {
  public readonly profile!: DeploymentProfile;
  public readonly vpc!: ec2.IVpc;
  public readonly source!: CdcSourceDatabase;
  public readonly cluster!: IAgentStreamingCluster;
  public readonly connector!: DebeziumConnector;
  public readonly sources!: AgentSourceResources[];
  public readonly transforms!: Record<string, FlinkSqlApplication>;
  public readonly views!: AgentView[];
  public readonly cache?: IAgentCache;
  public readonly search?: IAgentSearch;
  public readonly warehouse?: AgentWarehouse;
  public readonly sink!: AgentSink;
  public readonly decisionAuditLog!: IDecisionAuditLog;
  public readonly lineage!: AgentLineageCatalog;
  public readonly mcp!: AgentMcpServer;
  public readonly observability!: AgentObservability;

  constructor(scope: Construct, id: string, props: AgentDataStackProps) {
    super(scope, id, props);
    Object.assign(this, composeAgentData(this, props));
  }

  /**
   * An environment-agnostic stack sees two placeholder AZs by default; the production profile spreads over three,
   * so without a region the stack offers the region's first three AZs (every region with MSK has at least three).
   */
  public get availabilityZones(): string[] {
    if (Token.isUnresolved(this.region)) return [0, 1, 2].map(i => Fn.select(i, Fn.getAzs()));
    return super.availabilityZones;
  }
}

/** Builds every layer under `scope` (a stack or a construct) from the declaration. */
function composeAgentData(scope: Construct, props: AgentDataPlatformProps): IAgentDataResources {
  const r: { -readonly [K in keyof IAgentDataResources]: IAgentDataResources[K] } = {} as any;
  const stack = Stack.of(scope);
  const namePrefix = scope === stack ? stack.stackName : `${stack.stackName}.${scope.node.id}`;
  validateDeclaration(props);
  r.profile = props.profile ?? DeploymentProfile.PRODUCTION;
  const planned = planSources(props.source, props.topicPrefix ?? 'agentdata', props.connectorOptions, props.additionalSources);
  const engine = planned[0].engine;
  const isPostgres = engine.family === SourceEngineFamily.POSTGRESQL;
  const capturedTopics = new Map(planned.flatMap(p => p.declaration.tables.map(t => [cdcTopicOf(p, t), { source: p.name, table: t }] as const)));
  if (capturedTopics.size !== planned.reduce((n, p) => n + p.declaration.tables.length, 0)) {
    throw new Error('AgentDataStack: two captured tables map to the same topic. Check source.tables and additionalSources for duplicates.');
  }

  // Transforms read CDC topics (of any source): check each against the captured tables before anything is created.
  const transformTables = new Map<string, string[]>();
  for (const t of props.transforms ?? []) {
    for (const table of (t.tables ?? []).filter(x => x.kind === 'cdc-source')) {
      const captured = capturedTopics.get(table.topic);
      if (!captured) {
        throw new Error(`AgentDataStack: transform '${t.name}' reads topic '${table.topic}' (table ${table.name}), which no captured table produces. `
          + `Captured topics: ${[...capturedTopics.keys()].join(', ')}. Add the table to source.tables (or an additional source's tables) or fix the topic.`);
      }
      transformTables.set(captured.source, [...new Set([...(transformTables.get(captured.source) ?? []), captured.table])]);
    }
  }

  // Network
  const networkDefaults = profileDefaults(r.profile).network;
  r.vpc = props.vpc ?? new AgentNetwork(scope, 'Network', { ...networkDefaults, ...props.networkOptions }).vpc;
  const defaults = profileDefaults(r.profile, {
    aurora: engine.isAurora, mysql: !isPostgres, availabilityZones: r.vpc.availabilityZones.length,
    existingDatabase: Boolean(props.source.existingInstance ?? props.source.existingCluster),
  });

  // Warehouse views read Debezium topics through debezium-json too (updates and deletes need the before-image), so their
  // PostgreSQL tables get REPLICA IDENTITY FULL like the tables a transform reads.
  for (const v of props.views) {
    if (v.store !== ViewStore.WAREHOUSE || v.from.kind !== 'table') continue;
    const src = sourceOfTable(planned, v.name, v.from.table, v.from.source);
    transformTables.set(src.name, [...new Set([...(transformTables.get(src.name) ?? []), v.from.table])]);
  }

  // Sources: each database, then (after the cluster) its connector.
  const build = { scope, profile: r.profile, vpc: r.vpc, planned, transformTables };
  const databases = buildSourceDatabases(build);
  r.source = databases[0];

  // CDC and streaming
  r.cluster = props.existingCluster ?? new AgentStreamingCluster(scope, 'Kafka', { ...clusterPropsWith(defaults.cluster, props.clusterOptions), vpc: r.vpc });
  if ((props.transforms ?? []).length > 0 && (r.cluster.serverless || !(r.cluster instanceof AgentStreamingClusterBase))) {
    throw new Error('AgentDataStack: transforms need a provisioned MSK cluster this library can declare topics on: their output topics are '
      + 'AWS::MSK::Topic resources (MSK Serverless has none, and Flink\'s Kafka sink does not create topics). Use a provisioned cluster '
      + '(clusterOptions.serverless: false, or AgentStreamingCluster.fromClusterAttributes for your own) or create the output topics yourself.');
  }
  r.sources = buildConnectors(build, databases, r.cluster);
  r.connector = r.sources[0].connector;
  const connectors = r.sources.map(s => s.connector);

  // Processing: output topics are declared on the cluster (when it can hold topic resources). Only the applications
  // wait for the topics and the connector: their buckets and roles do not, which keeps the graph acyclic.
  r.transforms = {};
  // The guard above refused transforms on clusters that cannot hold topic resources.
  const topicCluster = r.cluster as AgentStreamingClusterBase;
  const outputTopics = new Map<string, { transform: string; topic: string; connector: string }>();
  const topicResources: Construct[] = connectors.flatMap(c => c.topics);
  for (const t of props.transforms ?? []) {
    const app = new FlinkSqlApplication(scope, `Transform-${t.name}`, {
      ...defaults.flink, ...t.options, cluster: r.cluster, sql: t.sql, sqlFile: t.sqlFile, tables: t.tables,
    });
    app.application.node.addDependency(...connectors.flatMap(c => [c.resource, ...c.topics]));
    for (const entry of app.lineage) {
      for (const topic of entry.sink.topics) {
        // The connector's role may write exactly its own topics; an output topic of the same name would be written by both.
        const writer = connectors.find(c => c.writesTopic(topic));
        if (writer) {
          throw new Error(`AgentDataStack: transform '${t.name}' writes topic '${topic}' (table ${entry.sink.table}), which the CDC connector also writes `
            + `(captured tables: ${writer.tableTopics.join(', ')}). Give the transform's output table another 'topic' in its WITH clause, or change topicPrefix.`);
        }
        outputTopics.set(`${t.name}/${entry.sink.table}`, { transform: t.name, topic, connector: entry.sink.connector ?? 'unknown' });
        const id = `Topic-${topic}`;
        const resource = topicCluster.node.tryFindChild(id) as Construct | undefined
          ?? topicCluster.addTopic(id, { topicName: topic, compacted: entry.sink.connector === 'upsert-kafka' });
        app.application.node.addDependency(resource);
        topicResources.push(resource);
      }
    }
    r.transforms[t.name] = app;
  }

  // Views: topic, format and source table follow from where the rows come from.
  r.views = props.views.map(v => {
    const { from, ...rest } = v;
    if (from.kind === 'table') {
      const src = sourceOfTable(planned, v.name, from.table, from.source);
      const excluded = (src.declaration.columns?.[from.table]?.exclude ?? []).filter(c => v.key.includes(c) || v.fields.some(f => f.name === c));
      if (excluded.length > 0) {
        throw new Error(`AgentDataStack: view '${v.name}' declares ${excluded.map(c => `'${c}'`).join(', ')}, which source.columns['${from.table}'] excludes at the source: `
          + 'the value never reaches Kafka, so the view would only ever hold nulls. Remove the field from the view, or hash or mask the column instead of excluding it.');
      }
      return new AgentView({ ...rest, topic: cdcTopicOf(src, from.table), format: ViewTopicFormat.DEBEZIUM, sourceTable: from.table });
    }
    const out = outputTopics.get(`${from.transform}/${from.table}`);
    if (!out) {
      throw new Error(`AgentDataStack: view '${v.name}' reads '${from.table}' of transform '${from.transform}', which no INSERT of that transform writes. `
        + `Transform outputs: ${[...outputTopics.keys()].join(', ') || 'none'}.`);
    }
    if (out.connector !== 'upsert-kafka') {
      throw new Error(`AgentDataStack: view '${v.name}' reads '${from.table}', a '${out.connector}' table; sinks read upsert-kafka outputs (keyed, null = delete). Declare it with FlinkTable.upsertKafkaSink.`);
    }
    return new AgentView({ ...rest, topic: out.topic, format: ViewTopicFormat.UPSERT_KAFKA, sourceTable: from.table });
  });
  const cacheViews = r.views.filter(v => v.store === ViewStore.CACHE);
  const searchViews = r.views.filter(v => v.store === ViewStore.SEARCH);
  const warehouseViews = r.views.filter(v => v.store === ViewStore.WAREHOUSE);

  // Stores
  if (cacheViews.length > 0) {
    r.cache = props.existingCache ?? new AgentCache(scope, 'Cache', { ...defaults.cache, ...props.cacheOptions, vpc: r.vpc });
  }
  const indexes: Construct[] = [];
  if (searchViews.length > 0) {
    r.search = props.existingSearch ?? new AgentSearch(scope, 'Search', { ...defaults.search, ...props.searchOptions, vpc: r.vpc });
    if (r.search instanceof AgentSearch) {
      for (const v of searchViews) indexes.push(r.search.addView(v, defaults.searchIndex));
    }
  }

  // Warehouse: Iceberg tables written by their own Flink jobs, which start once the connector and the topics exist.
  if (warehouseViews.length > 0) {
    r.warehouse = new AgentWarehouse(scope, 'Warehouse', { ...props.warehouseOptions, cluster: r.cluster, views: warehouseViews });
    for (const writer of Object.values(r.warehouse.writers)) writer.application.node.addDependency(r.connector.resource, ...topicResources);
  }

  // Sinks: one function for all cache and search views; every topic has its own event source mapping and consumer group.
  r.sink = new AgentSink(scope, 'Sink', {
    consumerGroupPrefix: Token.isUnresolved(namePrefix) ? undefined : `${namePrefix}.sink`,
    ...defaults.sink,
    ...props.sinkOptions,
    cluster: r.cluster, views: r.views.filter(v => v.store !== ViewStore.WAREHOUSE), cache: r.cache, search: r.search, heartbeatTopic: r.connector.heartbeatTopic,
    ...(connectors.length > 1 ? { additionalHeartbeatTopics: connectors.slice(1).map(c => c.heartbeatTopic) } : {}),
  });
  // The mappings start only once the topics and the indexes exist (the function and its role need not wait).
  for (const esm of Object.values(r.sink.eventSourceMappings)) esm.node.addDependency(...topicResources, ...indexes);

  // Governance: decision audit and lineage, then the MCP server that serves both.
  r.decisionAuditLog = props.existingDecisionAuditLog
    ?? new DecisionAuditLog(scope, 'Decisions', { ...defaults.decisions, ...props.decisionAuditLogOptions });
  r.lineage = new AgentLineageCatalog(scope, 'Lineage', {
    namespace: namePrefix,
    sources: r.sources.map(s => ({
      engine: s.engine.family === SourceEngineFamily.POSTGRESQL ? 'postgres' as const : 'mysql' as const, tables: s.tables,
      connectorName: s.connector.connectorName, topicPrefix: s.topicPrefix, database: s.source.databaseName,
      ...(Object.keys(s.source.columnPolicies).length > 0 ? { columns: s.source.columnPolicies } : {}),
    })),
    flink: Object.values(r.transforms).flatMap(app => app.lineageDeclarations()),
    views: r.views, warehouse: r.warehouse,
  });
  r.mcp = new AgentMcpServer(scope, 'Mcp', {
    ...defaults.mcp,
    ...props.mcpOptions,
    views: r.views, vpc: r.vpc, cache: r.cache, search: r.search,
    decisionAuditLog: r.decisionAuditLog, lineageCatalog: r.lineage,
  });

  if (r.warehouse) {
    r.warehouse.grantQuery(r.mcp.function);
    for (const [name, value] of Object.entries(r.warehouse.environment())) r.mcp.function.addEnvironment(name, value);
  }

  // Vector views: the sink embeds documents and the MCP server embeds queries through the Bedrock runtime endpoint.
  if (r.search instanceof AgentSearch && r.search.views.some(v => v.search?.vector)) {
    r.search.grantEmbed(r.sink.function);
    r.search.grantEmbed(r.mcp.function);
  }

  // Observability, laid out in the order data flows: every section reads the constructs' own metric*() methods.
  r.observability = new AgentObservability(scope, 'Observability', {
    ...props.observabilityOptions,
    alarmTopic: props.alarmTopic,
    source: r.source,
    connector: r.connector,
    ...(r.sources.length > 1 ? { additionalSources: r.sources.slice(1).map(s => ({ name: s.name, source: s.source, connector: s.connector })) } : {}),
    kafka: r.cluster,
    flink: [...Object.values(r.transforms), ...Object.values(r.warehouse?.writers ?? {})],
    sinks: [r.sink],
    cache: r.cache,
    search: r.search,
    mcp: r.mcp,
    decisions: {},
    headroom: capacityHeadroom({
      cluster: r.cluster, connectors: r.sources.map(s => ({ connector: s.connector, capacity: s.connectorOptions.capacity, label: s.name })),
      transforms: Object.values(r.transforms), flinkMaxKpus: defaults.flinkMaxKpus, sink: r.sink,
      pollers: { ...defaults.sink, ...props.sinkOptions }.provisionedPollers,
    }),
  });

  // Warehouse freshness alarms notify the same topic as the others.
  for (const alarm of Object.values(r.warehouse?.freshnessAlarms ?? {})) {
    alarm.addAlarmAction(new cw_actions.SnsAction(r.observability.alarmTopic));
    alarm.addOkAction(new cw_actions.SnsAction(r.observability.alarmTopic));
  }

  addOutputs(scope, r);
  addOperationsManifestOutput(scope, {
    sources: r.sources.map(s => ({ name: s.name, source: s.source, connectorName: s.connector.connectorName, heartbeatTopic: s.connector.heartbeatTopic })),
    flink: [...Object.values(r.transforms), ...Object.values(r.warehouse?.writers ?? {})].map(app => ({ applicationName: app.applicationName, runtime: app.runtime.name })),
    views: r.views, sinkNamespace: r.sink.metricsNamespace, freshnessSlo: props.observabilityOptions?.freshnessSlo?.threshold,
  });
  // Every log group of the composition keeps the profile's retention without a customer-managed key: say so per group.
  acknowledgeLogGroups(scope);
  return r;
}

function addOutputs(scope: Construct, r: IAgentDataResources): void {
  const out = (id: string, value: string, description: string) => new CfnOutput(scope, id, { value, description });
  out('McpEndpointUrl', r.mcp.url, 'MCP endpoint (Streamable HTTP); IAM-authenticated unless mcpOptions.authorization says otherwise');
  out('DashboardUrl', `https://console.aws.amazon.com/cloudwatch/home?region=${Stack.of(scope).region}#dashboards:name=${r.observability.dashboard.dashboardName}`,
    'End-to-end lag dashboard');
  out('KafkaClusterArn', r.cluster.clusterArn, 'Amazon MSK cluster');
  out('ConnectorArn', r.connector.connectorArn, 'Debezium connector on MSK Connect');
  out('SourceEndpoint', r.source.endpointAddress, 'Source database writer endpoint');
  for (const s of r.sources.slice(1)) {
    const suffix = s.name.replace(/[^A-Za-z0-9]/g, '');
    out(`ConnectorArn${suffix}`, s.connector.connectorArn, `Debezium connector of source ${s.name}`);
    out(`SourceEndpoint${suffix}`, s.source.endpointAddress, `Writer endpoint of source ${s.name}`);
  }
  out('LineageCatalog', r.lineage.environment()[LINEAGE_CATALOG_ENV], 'Lineage catalog location (SSM parameters and digest)');
  out('DecisionAuditTable', r.decisionAuditLog.tableArn, 'Decision audit DynamoDB table');
  for (const [name, app] of Object.entries(r.transforms)) out(`FlinkApplicationArn${name.replace(/[^A-Za-z0-9]/g, '')}`, app.applicationArn, `Flink SQL application ${name}`);
  if (r.cache) {
    out('CacheArn', r.cache.cacheArn, 'ElastiCache (Valkey) cache');
    out('CacheEndpoint', r.cache.endpointAddress, 'Cache endpoint (TLS)');
  }
  if (r.search) {
    out('SearchDomainArn', r.search.domainArn, 'OpenSearch Service domain');
    out('SearchEndpoint', r.search.domainEndpoint, 'Search domain endpoint (HTTPS)');
  }
  out('SinkMetricsNamespace', r.sink.metricsNamespace, 'CloudWatch namespace of the sink metrics');
}

function validateDeclaration(props: AgentDataStackProps): void {
  if (!props.views || props.views.length === 0) {
    throw new Error('AgentDataStack: views is empty. Declare at least one view (which store, key, fields) so agents have something to query.');
  }
  const names = new Set<string>();
  for (const t of props.transforms ?? []) {
    if (!TRANSFORM_NAME.test(t.name)) {
      throw new Error(`AgentDataStack: transform name '${t.name}' must start with a letter and use letters, digits or '-' (at most 40). It becomes a construct id.`);
    }
    if (names.has(t.name)) throw new Error(`AgentDataStack: transform '${t.name}' is declared twice. Give each transform a unique name.`);
    names.add(t.name);
  }
  for (const v of props.views) {
    if (v.from.kind === 'transform' && !names.has(v.from.transform!)) {
      throw new Error(`AgentDataStack: view '${v.name}' reads transform '${v.from.transform}', which is not declared. Declared transforms: ${[...names].join(', ') || 'none'}.`);
    }
  }
}
