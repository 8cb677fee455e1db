// Builds the lineage catalog from plain declarations (source tables, connector, Flink statements, views), traces a view to its sources, and
// exports OpenLineage documents. Pure: used at synth and at run time.
import type { DecisionDataReference, DecisionRecord } from './decision-store';
import type { LineageCatalog, LineageEdge, LineageNode, LineageNodeKind, LineageViewEntry } from './lineage';
import type { ViewStoreName } from './view-config';

export interface LineageSourceDeclaration {
  /** Source engine, used for dataset namespaces (`postgres://...`, `mysql://...`). */
  readonly engine: 'postgres' | 'mysql';
  /** Captured tables, `schema.table` (PostgreSQL) or `database.table` (MySQL). */
  readonly tables: string[];
  readonly connectorName: string;
  /** Debezium `topic.prefix`: the topic of table `s.t` is `<prefix>.s.t`. */
  readonly topicPrefix: string;
  /** Database name (PostgreSQL), for OpenLineage dataset names `<database>.<schema>.<table>`. @default - none */
  readonly database?: string;
  /** Personal data handled at the source, per table: columns excluded, hashed or masked before Kafka. @default - none */
  readonly columns?: Record<string, { readonly exclude?: string[]; readonly hash?: string[]; readonly mask?: string[] }>;
}

/**
 * Details of a source-table node saying which columns never leave the database and which arrive hashed or masked, so
 * `describe_source` and `get_lineage` tell an agent that `email` is a pseudonym, not an address.
 */
export function columnPolicyDetails(policy: { readonly exclude?: string[]; readonly hash?: string[]; readonly mask?: string[] } | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const list = (xs?: string[]) => [...(xs ?? [])].sort().join(',');
  if (policy?.exclude?.length) out.excludedColumns = list(policy.exclude);
  if (policy?.hash?.length) out.hashedColumns = list(policy.hash);
  if (policy?.mask?.length) out.maskedColumns = list(policy.mask);
  const said: string[] = [];
  if (out.excludedColumns) said.push(`${out.excludedColumns.replace(/,/g, ', ')} excluded at the source (never in Kafka or any store)`);
  if (out.hashedColumns) said.push(`${out.hashedColumns.replace(/,/g, ', ')} hashed at the source (hex SHA-256 of a salt and the value: compare hashes, not values)`);
  if (out.maskedColumns) said.push(`${out.maskedColumns.replace(/,/g, ', ')} masked at the source (asterisks only)`);
  if (said.length) out.personalData = said.join('; ');
  return out;
}

/** One INSERT statement of a Flink SQL application, as parsed from its SQL. */
export interface FlinkLineageDeclaration {
  readonly application: string;
  /** Position of the statement in the application's SQL (0-based). */
  readonly statementIndex: number;
  /** Kafka topics the statement reads (through its source tables). */
  readonly sourceTopics: string[];
  /** Flink table names of the sources, for display. @default - none */
  readonly sourceTables?: string[];
  /** Kafka topic the statement writes. */
  readonly sinkTopic: string;
  /** Flink table name of the sink, for display. @default - none */
  readonly sinkTable?: string;
}

export interface ViewLineageDeclaration {
  readonly name: string;
  readonly store: ViewStoreName;
  /** Topic the sink reads for this view. */
  readonly topic: string;
  /** MCP tools serving the view. */
  readonly tools: string[];
  /** Cache key prefix, search index or warehouse table (`database.table`). @default - the view name */
  readonly location?: string;
  /** Name of the sink function (a warehouse view: its writer job). @default - `<store>-sink` */
  readonly sink?: string;
}

export interface LineageDeclaration {
  /** Stack or application the catalog describes. */
  readonly namespace: string;
  readonly sources: LineageSourceDeclaration[];
  /** @default - no Flink transforms: views read CDC topics directly */
  readonly flink?: FlinkLineageDeclaration[];
  readonly views: ViewLineageDeclaration[];
}

export const nodeId = {
  table: (t: string) => `source-table:${t}`,
  connector: (c: string) => `connector:${c}`,
  topic: (t: string) => `topic:${t}`,
  statement: (app: string, i: number) => `flink-statement:${app}#${i}`,
  sink: (s: string) => `sink:${s}`,
  store: (store: string, location: string) => `store:${store}:${location}`,
  tool: (t: string) => `mcp-tool:${t}`,
};

/** Builds the catalog; throws when a view or statement reads a topic nothing produces, or statements form a cycle. */
export function buildLineageCatalog(decl: LineageDeclaration): LineageCatalog {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const addNode = (kind: LineageNodeKind, id: string, name: string, details?: Record<string, string>) => {
    if (!nodes.has(id)) nodes.set(id, details ? { kind, id, name, details } : { kind, id, name });
  };
  const addEdge = (from: string, to: string) => edges.set(`${from}\u0000${to}`, { from, to });

  /** topic -> the node producing it, and for CDC topics the table. */
  const producers = new Map<string, { kind: 'cdc'; table: string } | { kind: 'flink'; statement: FlinkLineageDeclaration }>();
  for (const src of decl.sources) {
    addNode('connector', nodeId.connector(src.connectorName), src.connectorName, { engine: src.engine });
    for (const table of src.tables) {
      const topic = `${src.topicPrefix}.${table}`;
      addNode('source-table', nodeId.table(table), table, {
        engine: src.engine, ...(src.database ? { database: src.database } : {}), ...columnPolicyDetails(src.columns?.[table]),
      });
      addNode('topic', nodeId.topic(topic), topic);
      addEdge(nodeId.table(table), nodeId.connector(src.connectorName));
      addEdge(nodeId.connector(src.connectorName), nodeId.topic(topic));
      producers.set(topic, { kind: 'cdc', table });
    }
  }
  const statements = [...(decl.flink ?? [])].sort((a, b) => a.application.localeCompare(b.application) || a.statementIndex - b.statementIndex);
  for (const st of statements) {
    const prev = producers.get(st.sinkTopic);
    if (prev) {
      const by = prev.kind === 'cdc' ? `the CDC connector (table ${prev.table})` : `${prev.statement.application}#${prev.statement.statementIndex}`;
      throw new Error(`lineage: topic '${st.sinkTopic}' is written by both ${st.application}#${st.statementIndex} and ${by}. Give each statement its own output topic.`);
    }
    producers.set(st.sinkTopic, { kind: 'flink', statement: st });
  }
  for (const st of statements) {
    const id = nodeId.statement(st.application, st.statementIndex);
    const details: Record<string, string> = { application: st.application, statementIndex: String(st.statementIndex) };
    if (st.sinkTable) details.sinkTable = st.sinkTable;
    if (st.sourceTables?.length) details.sourceTables = st.sourceTables.join(',');
    addNode('flink-statement', id, `${st.application}#${st.statementIndex}`, details);
    for (const topic of st.sourceTopics) {
      if (!producers.has(topic)) {
        throw new Error(`lineage: ${st.application}#${st.statementIndex} reads topic '${topic}', which no captured table or Flink statement produces. Capture the table or declare the statement that writes it.`);
      }
      addNode('topic', nodeId.topic(topic), topic);
      addEdge(nodeId.topic(topic), id);
    }
    addNode('topic', nodeId.topic(st.sinkTopic), st.sinkTopic);
    addEdge(id, nodeId.topic(st.sinkTopic));
  }

  const views: LineageViewEntry[] = [];
  for (const view of [...decl.views].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!producers.has(view.topic)) {
      throw new Error(`lineage: view '${view.name}' reads topic '${view.topic}', which no captured table or Flink statement produces. Fix the view's topic or declare its producer.`);
    }
    const sink = view.sink ?? `${view.store}-sink`;
    const location = view.location ?? view.name;
    const storeId = nodeId.store(view.store, location);
    addNode('sink', nodeId.sink(sink), sink);
    addNode('store', storeId, location, { store: view.store, view: view.name });
    addEdge(nodeId.topic(view.topic), nodeId.sink(sink));
    addEdge(nodeId.sink(sink), storeId);
    for (const tool of view.tools) {
      addNode('mcp-tool', nodeId.tool(tool), tool);
      addEdge(storeId, nodeId.tool(tool));
    }
    const { tables, pipeline } = traceTopic(view.topic, producers, []);
    views.push({
      view: view.name, store: view.store, topic: view.topic,
      sourceTables: [...tables].sort(), pipeline, tools: [...view.tools].sort(),
    });
  }

  return {
    version: 1,
    namespace: decl.namespace,
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    views,
  };
}

/** Source tables and Flink statements (upstream first) behind a topic. */
function traceTopic(
  topic: string,
  producers: Map<string, { kind: 'cdc'; table: string } | { kind: 'flink'; statement: FlinkLineageDeclaration }>,
  stack: string[],
): { tables: Set<string>; pipeline: string[] } {
  if (stack.includes(topic)) throw new Error(`lineage: Flink statements form a cycle through topics ${[...stack, topic].join(' -> ')}. Break the cycle.`);
  const p = producers.get(topic);
  if (!p) return { tables: new Set(), pipeline: [] };
  if (p.kind === 'cdc') return { tables: new Set([p.table]), pipeline: [] };
  const tables = new Set<string>();
  const pipeline: string[] = [];
  for (const src of p.statement.sourceTopics) {
    const up = traceTopic(src, producers, [...stack, topic]);
    up.tables.forEach(t => tables.add(t));
    for (const s of up.pipeline) if (!pipeline.includes(s)) pipeline.push(s);
  }
  pipeline.push(`${p.statement.application}#${p.statement.statementIndex}`);
  return { tables, pipeline };
}

/** The catalog's lineage of one view: its entry and every node upstream of its store, source first. */
export function traceView(catalog: LineageCatalog, view: string): { entry: LineageViewEntry; upstream: LineageNode[] } | undefined {
  const entry = catalog.views.find(v => v.view === view);
  if (!entry) return undefined;
  const byId = new Map(catalog.nodes.map(n => [n.id, n]));
  const incoming = new Map<string, string[]>();
  for (const e of catalog.edges) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e.from]);
  const store = catalog.nodes.find(n => n.kind === 'store' && n.details?.view === view);
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const kind = byId.get(id)?.kind;
    for (const from of incoming.get(id) ?? []) {
      // Sinks and connectors are shared: other views' topics reach the same sink, and every captured table feeds the
      // one connector. Follow a sink back through this view's topic only, and a connector through this view's tables only.
      if (kind === 'sink' && from !== nodeId.topic(entry.topic)) continue;
      if (kind === 'connector' && !entry.sourceTables.some(t => from === nodeId.table(t))) continue;
      visit(from);
    }
    order.push(id);
  };
  if (store) visit(store.id);
  return { entry, upstream: order.map(id => byId.get(id)!).filter(Boolean) };
}

/** What `get_decision` returns beside the decision: for every data reference, the lineage of the view it came from. */
export interface DataReferenceLineage {
  readonly reference: DecisionDataReference;
  /** Absent when the view is not in the catalog (renamed or removed since the decision). */
  readonly lineage?: { readonly entry: LineageViewEntry; readonly upstream: LineageNode[] };
}

export function decisionLineage(record: DecisionRecord, catalog: LineageCatalog): DataReferenceLineage[] {
  return record.dataReferences.map(reference => {
    const lineage = traceView(catalog, reference.view);
    return lineage ? { reference, lineage } : { reference };
  });
}

// ---------------------------------------------------------------- OpenLineage

/** The OpenLineage spec version the documents claim (JobEvent and DatasetEvent are 2-0-x static lineage events). */
export const OPENLINEAGE_SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const PRODUCER = 'https://github.com/cdk-agent-data-stack/cdk-agent-data-stack';

export interface OpenLineageDataset { readonly namespace: string; readonly name: string; readonly facets?: Record<string, unknown> }
export interface OpenLineageJobEvent {
  readonly eventTime: string;
  readonly producer: string;
  readonly schemaURL: string;
  readonly job: { readonly namespace: string; readonly name: string; readonly facets?: Record<string, unknown> };
  readonly inputs: OpenLineageDataset[];
  readonly outputs: OpenLineageDataset[];
}
export interface OpenLineageDatasetEvent {
  readonly eventTime: string;
  readonly producer: string;
  readonly schemaURL: string;
  readonly dataset: OpenLineageDataset;
}

export interface OpenLineageOptions {
  /** ISO-8601 time stamped on every event. @default - now */
  readonly eventTime?: string;
  /** Dataset namespaces per system, following the OpenLineage naming conventions (`postgres://host:port`, `kafka://broker:port`). @default - `<system>://<catalog namespace>` */
  readonly namespaces?: { readonly postgres?: string; readonly mysql?: string; readonly kafka?: string; readonly cache?: string; readonly search?: string };
  /** @default - the project URL */
  readonly producer?: string;
}

/**
 * The catalog as OpenLineage static lineage: one JobEvent per connector, Flink statement, sink and MCP tool
 * (inputs and outputs as datasets), and one DatasetEvent per dataset (tables, topics, stores).
 */
export function toOpenLineage(catalog: LineageCatalog, options: OpenLineageOptions = {}): { jobs: OpenLineageJobEvent[]; datasets: OpenLineageDatasetEvent[] } {
  const eventTime = options.eventTime ?? new Date().toISOString();
  const producer = options.producer ?? PRODUCER;
  const base = { eventTime, producer, schemaURL: `${OPENLINEAGE_SPEC}#/$defs/JobEvent` };
  const ns = (system: string) => (options.namespaces as Record<string, string | undefined> | undefined)?.[system] ?? `${system}://${catalog.namespace}`;
  const byId = new Map(catalog.nodes.map(n => [n.id, n]));
  const facet = (name: string, extra: Record<string, unknown>) => ({ [name]: { _producer: producer, _schemaURL: facetSchema(name), ...extra } });

  const dataset = (node: LineageNode): OpenLineageDataset | undefined => {
    switch (node.kind) {
      case 'source-table': {
        const engine = node.details?.engine ?? 'postgres';
        const name = node.details?.database ? `${node.details.database}.${node.name}` : node.name;
        return { namespace: ns(engine), name };
      }
      case 'topic': return { namespace: ns('kafka'), name: node.name };
      case 'store': return {
        namespace: ns(node.details?.store === 'search' || node.details?.store === 'warehouse' ? node.details.store : 'cache'), name: node.name,
        facets: facet('documentation', { description: `Agent view ${node.details?.view}` }),
      };
      default: return undefined;
    }
  };
  const datasetsAround = (id: string, dir: 'in' | 'out'): OpenLineageDataset[] => catalog.edges
    .filter(e => (dir === 'in' ? e.to === id : e.from === id))
    .map(e => byId.get(dir === 'in' ? e.from : e.to))
    .map(n => (n ? dataset(n) : undefined))
    .filter((d): d is OpenLineageDataset => d !== undefined);

  const jobs: OpenLineageJobEvent[] = [];
  for (const node of catalog.nodes) {
    if (!['connector', 'flink-statement', 'sink', 'mcp-tool'].includes(node.kind)) continue;
    jobs.push({
      ...base,
      job: {
        namespace: catalog.namespace, name: node.id,
        facets: facet('jobType', { processingType: node.kind === 'mcp-tool' ? 'BATCH' : 'STREAMING', integration: integrationOf(node.kind), jobType: node.kind.toUpperCase() }),
      },
      inputs: datasetsAround(node.id, 'in'),
      outputs: datasetsAround(node.id, 'out'),
    });
  }
  const datasets: OpenLineageDatasetEvent[] = catalog.nodes
    .map(n => dataset(n))
    .filter((d): d is OpenLineageDataset => d !== undefined)
    .map(d => ({ eventTime, producer, schemaURL: `${OPENLINEAGE_SPEC}#/$defs/DatasetEvent`, dataset: d }));
  return { jobs, datasets };
}

function integrationOf(kind: LineageNodeKind): string {
  switch (kind) {
    case 'connector': return 'DEBEZIUM';
    case 'flink-statement': return 'FLINK';
    case 'sink': return 'AWS_LAMBDA';
    default: return 'MCP';
  }
}

function facetSchema(name: string): string {
  const facets: Record<string, string> = {
    documentation: 'https://openlineage.io/spec/facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet',
    jobType: 'https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  };
  return facets[name];
}
