// Builds every layer of the agent data stack under a scope (a stack or a construct) from one declaration.
import { createHash } from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { AgentNetwork } from '../constructs/common/agent-network';
import { acknowledgeLogGroups } from '../constructs/common/nag';
import { AgentObservability } from '../constructs/governance/agent-observability';
import { DecisionAuditLog } from '../constructs/governance/decision-audit-log';
import { AgentLineageCatalog } from '../constructs/governance/lineage-catalog';
import { AgentMcpServer } from '../constructs/mcp/agent-mcp-server';
import { FlinkSqlApplication } from '../constructs/processing/flink-sql-application';
import { SourceEngineFamily } from '../constructs/source/engine';
import { AgentCache } from '../constructs/stores/agent-cache';
import { AgentSearch } from '../constructs/stores/agent-search';
import { AgentSink } from '../constructs/stores/agent-sink';
import { AgentWarehouse } from '../constructs/stores/agent-warehouse';
import { CONSUMER_GROUP_PREFIX, MAX_CONSUMER_GROUP_PREFIX_LENGTH } from '../constructs/stores/private/sink-validation';
import { ViewStore } from '../constructs/stores/view';
import { AgentStreamingCluster, AgentStreamingClusterBase } from '../constructs/streaming/cluster';
import type { AgentDataPlatformProps, IAgentDataResources } from './agent-data-props';
import { addOperationsManifestOutput } from './operations-manifest';
import { addOutputs } from './outputs';
import { clusterPropsWith, DeploymentProfile, profileDefaults } from './profiles';
import { capacityHeadroom } from './scaling';
import { buildConnectors, buildSourceDatabases, cdcTopicOf, planSources } from './sources';
import { addWarehouseTables, resolveViews, TransformOutput } from './views';

const TRANSFORM_NAME = /^[A-Za-z][A-Za-z0-9-]{0,39}$/;

/**
 * The sinks' consumer group prefix, `<stack>.sink` (or `<stack>.<platform id>.sink`), kept as it is whenever it is a valid
 * prefix: Lambda sets a mapping's group only on create, so a new prefix replaces every mapping and starts new groups. A
 * platform id with other characters than letters, digits, '.', '_' and '-', or a prefix over 150 characters (which synth
 * refused), gets those characters replaced by '-' and is cut, with a hash of the whole name so that it stays unique.
 */
export function sinkConsumerGroupPrefix(namePrefix: string): string {
  const prefix = `${namePrefix}.sink`;
  if (CONSUMER_GROUP_PREFIX.test(prefix)) return prefix;
  const hash = createHash('sha256').update(namePrefix).digest('hex').slice(0, 8);
  const safe = namePrefix.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, MAX_CONSUMER_GROUP_PREFIX_LENGTH - '-.sink'.length - hash.length);
  return `${safe}-${hash}.sink`;
}

/** Builds every layer under `scope` (a stack or a construct) from the declaration. */
export function composeAgentData(scope: Construct, props: AgentDataPlatformProps): IAgentDataResources {
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

  addWarehouseTables(props.views, planned, transformTables);

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
  const outputTopics = new Map<string, TransformOutput>();
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
  r.views = resolveViews(props.views, planned, outputTopics);
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
    consumerGroupPrefix: Token.isUnresolved(namePrefix) ? undefined : sinkConsumerGroupPrefix(namePrefix),
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
    flink: [...Object.values(r.transforms), ...Object.values(r.warehouse?.writers ?? {})].map(app => ({
      applicationName: app.applicationName, runtime: app.runtime.name,
      checkpointInterval: app.checkpointInterval, consumerGroups: app.consumedTopics().map(t => t.group),
    })),
    views: r.views, sinkNamespace: r.sink.metricsNamespace, freshnessSlo: props.observabilityOptions?.freshnessSlo?.threshold,
  });
  // Every log group of the composition keeps the profile's retention without a customer-managed key: say so per group.
  acknowledgeLogGroups(scope);
  return r;
}

function validateDeclaration(props: AgentDataPlatformProps): void {
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
