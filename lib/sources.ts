// The source databases of one declaration: the primary `source` and any `additionalSources` (PostgreSQL and MySQL mixed),
// each with its own CdcSourceDatabase, Debezium connector and topic prefix. Composition only: details live in constructs/.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { CdcSourceDatabase, CdcSourceDatabaseProps } from '../constructs/source/cdc-source-database';
import { SourceEngine, SourceEngineFamily } from '../constructs/source/engine';
import type { IAgentStreamingCluster } from '../constructs/streaming/refs';
import { DebeziumConnector, DebeziumConnectorProps } from '../constructs/streaming/debezium-connector';
import { DebeziumPlugin } from '../constructs/streaming/debezium-plugin';
import { DeploymentProfile, profileDefaults } from './profiles';

/**
 * The source database: engine and captured tables, plus any CdcSourceDatabase option (including bring-your-own).
 * `fullRowImageTables` adds to the tables the stack gives full row images itself (those transforms and warehouse views read):
 * list a table whose views hold large columns (PostgreSQL sends a TOASTed column an UPDATE left unchanged only with
 * REPLICA IDENTITY FULL, and the sink dead-letters a row without it).
 */
export type AgentSourceDeclaration = Omit<CdcSourceDatabaseProps, 'vpc'>;

/** A further source database beside `source`, with its own connector and topics. */
export interface AgentAdditionalSourceDeclaration extends AgentSourceDeclaration {
  /**
   * Short name (a letter, then letters, digits or '-', at most 40): the construct ids (`Source-<name>`, `Cdc-<name>`), the
   * label in lineage, the dashboard and `status --doctor`, and `ViewSource.table(table, name)`.
   */
  readonly name: string;
  /** Debezium `topic.prefix` of this source's topics; must not equal, or start with `<prefix>.`, another source's. @default - the name */
  readonly topicPrefix?: string;
  /** Any other DebeziumConnector option for this source's connector. @default - the profile's connector defaults */
  readonly connectorOptions?: Omit<DebeziumConnectorProps, 'cluster' | 'source' | 'plugin' | 'topicPrefix'>;
}

/** One source database of the stack, as built. */
export interface AgentSourceResources {
  /** 'Source' for the primary `source`, else the declared name. */
  readonly name: string;
  readonly primary: boolean;
  readonly topicPrefix: string;
  readonly tables: string[];
  readonly engine: SourceEngine;
  readonly source: CdcSourceDatabase;
  readonly connector: DebeziumConnector;
  /** The capacity the connector was given (for the headroom row). */
  readonly connectorOptions: Partial<DebeziumConnectorProps>;
}

/** The primary source's label. */
export const PRIMARY_SOURCE_NAME = 'Source';
const SOURCE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,39}$/;
/** Characters Kafka allows in topic names (Debezium replaces others, which would break the derived names). */
const TOPIC_PREFIX = /^[A-Za-z0-9._-]{1,200}$/;

/** A declared source before it is built: where its topics go. */
export interface PlannedSource {
  readonly name: string;
  readonly primary: boolean;
  readonly topicPrefix: string;
  readonly declaration: AgentSourceDeclaration;
  readonly connectorOptions?: Omit<DebeziumConnectorProps, 'cluster' | 'source' | 'plugin' | 'topicPrefix'>;
  readonly engine: SourceEngine;
}

/** Every source of the declaration, validated: unique names, prefixes that cannot write each other's topics. */
export function planSources(
  primary: AgentSourceDeclaration, primaryTopicPrefix: string, primaryConnectorOptions: PlannedSource['connectorOptions'],
  additional: AgentAdditionalSourceDeclaration[] = [],
): PlannedSource[] {
  const planned: PlannedSource[] = [{
    name: PRIMARY_SOURCE_NAME, primary: true, topicPrefix: primaryTopicPrefix, declaration: primary,
    connectorOptions: primaryConnectorOptions, engine: primary.engine ?? SourceEngine.postgres(),
  }];
  for (const a of additional) {
    const { name, topicPrefix, connectorOptions, ...declaration } = a;
    if (!SOURCE_NAME.test(name) || name === PRIMARY_SOURCE_NAME) {
      throw new Error(`AgentDataStack: additionalSources name '${name}' must start with a letter and use letters, digits or '-' (at most 40), and not be '${PRIMARY_SOURCE_NAME}'. It becomes a construct id.`);
    }
    if (planned.some(p => p.name === name)) throw new Error(`AgentDataStack: additionalSources name '${name}' is declared twice. Give each source a unique name.`);
    planned.push({ name, primary: false, topicPrefix: topicPrefix ?? name, declaration, connectorOptions, engine: declaration.engine ?? SourceEngine.postgres() });
  }
  for (const p of planned) {
    if (!TOPIC_PREFIX.test(p.topicPrefix)) {
      throw new Error(`AgentDataStack: source '${p.name}' has topic prefix '${p.topicPrefix}'; use letters, digits, '.', '_' or '-' (Kafka topic characters).`);
    }
  }
  // Topic prefixes must not collide: equal prefixes write the same topics, and `a` vs `a.b` lets table `b.t` of one and
  // table `t` of the other share `a.b.t` (and the connectors' IAM grants are per prefix).
  for (const p of planned) {
    for (const q of planned) {
      if (p !== q && (p.topicPrefix === q.topicPrefix || q.topicPrefix.startsWith(`${p.topicPrefix}.`))) {
        throw new Error(`AgentDataStack: sources '${p.name}' and '${q.name}' have colliding topic prefixes '${p.topicPrefix}' and '${q.topicPrefix}': `
          + 'their connectors would write the same topics. Give each source a topicPrefix that is not equal to, or a dotted extension of, another\'s.');
      }
    }
  }
  return planned;
}

/** Topic of a captured table. */
export function cdcTopicOf(source: Pick<PlannedSource, 'topicPrefix'>, table: string): string {
  return `${source.topicPrefix}.${table}`;
}

/** The source a view reads `table` from: the named one, or the one source capturing it. */
export function sourceOfTable(sources: PlannedSource[], view: string, table: string, sourceName?: string): PlannedSource {
  if (sourceName !== undefined) {
    const named = sources.find(s => s.name === sourceName);
    if (!named) throw new Error(`AgentDataStack: view '${view}' reads table '${table}' of source '${sourceName}', which is not declared. Sources: ${sources.map(s => s.name).join(', ')}.`);
    if (!named.declaration.tables.includes(table)) {
      throw new Error(`AgentDataStack: view '${view}' reads table '${table}', which is not in the tables of source '${sourceName}' [${named.declaration.tables.join(', ')}]. Capture it or fix the name.`);
    }
    return named;
  }
  const capturing = sources.filter(s => s.declaration.tables.includes(table));
  if (capturing.length === 0) {
    const where = sources.length === 1 ? 'source.tables' : 'the tables of any source';
    throw new Error(`AgentDataStack: view '${view}' reads table '${table}', which is not in ${where} [${sources.flatMap(s => s.declaration.tables).join(', ')}]. Capture it or fix the name.`);
  }
  if (capturing.length > 1) {
    throw new Error(`AgentDataStack: view '${view}' reads table '${table}', which sources ${capturing.map(s => `'${s.name}'`).join(' and ')} both capture. Name the source: ViewSource.table('${table}', '${capturing[1].name}').`);
  }
  return capturing[0];
}

export interface BuildSourcesInput {
  readonly scope: Construct;
  readonly profile: DeploymentProfile;
  readonly vpc: ec2.IVpc;
  readonly planned: PlannedSource[];
  /** Per source name: the tables transforms read (PostgreSQL sources give them full row images). */
  readonly transformTables: Map<string, string[]>;
}

/** Builds each source database ('Source' for the primary, as always; 'Source-<name>' for another). */
export function buildSourceDatabases(input: BuildSourcesInput): CdcSourceDatabase[] {
  return input.planned.map(p => {
    const isPostgres = p.engine.family === SourceEngineFamily.POSTGRESQL;
    const fullRowImageTables = isPostgres ? [...new Set([...(p.declaration.fullRowImageTables ?? []), ...input.transformTables.get(p.name) ?? []])] : [];
    return new CdcSourceDatabase(input.scope, p.primary ? 'Source' : `Source-${p.name}`, {
      ...sourceDefaults(input, p).source,
      ...p.declaration,
      vpc: input.vpc,
      // Flink's debezium-json needs whole before-images, so tables a transform reads get REPLICA IDENTITY FULL.
      ...(fullRowImageTables.length > 0 ? { fullRowImageTables } : {}),
    });
  });
}

/**
 * Builds each source's connector: the primary keeps 'DebeziumPlugin' and 'Cdc'; another source adds 'Cdc-<name>' and
 * shares the plugin of its engine ('DebeziumPlugin' for the primary's engine, 'DebeziumPlugin-<engine>' for the other).
 */
export function buildConnectors(input: BuildSourcesInput, databases: CdcSourceDatabase[], cluster: IAgentStreamingCluster): AgentSourceResources[] {
  const plugins = new Map<string, DebeziumPlugin>();
  const primaryEngine = pluginEngine(input.planned[0].engine);
  return input.planned.map((p, i) => {
    const engine = pluginEngine(p.engine);
    let plugin = plugins.get(engine);
    if (!plugin) {
      plugin = new DebeziumPlugin(input.scope, engine === primaryEngine ? 'DebeziumPlugin' : `DebeziumPlugin-${engine}`, { engine });
      plugins.set(engine, plugin);
    }
    const connectorOptions = { ...sourceDefaults(input, p).connector, ...p.connectorOptions };
    const connector = new DebeziumConnector(input.scope, p.primary ? 'Cdc' : `Cdc-${p.name}`, {
      ...connectorOptions, cluster, source: databases[i].toCdcSource(), plugin, topicPrefix: p.topicPrefix,
    });
    return {
      name: p.name, primary: p.primary, topicPrefix: p.topicPrefix, tables: [...p.declaration.tables], engine: p.engine,
      source: databases[i], connector, connectorOptions,
    };
  });
}

function sourceDefaults(input: BuildSourcesInput, p: PlannedSource) {
  return profileDefaults(input.profile, {
    aurora: p.engine.isAurora, mysql: p.engine.family !== SourceEngineFamily.POSTGRESQL, availabilityZones: input.vpc.availabilityZones.length,
    existingDatabase: Boolean(p.declaration.existingInstance ?? p.declaration.existingCluster),
  });
}

function pluginEngine(engine: SourceEngine): 'postgres' | 'mysql' {
  return engine.family === SourceEngineFamily.POSTGRESQL ? 'postgres' : 'mysql';
}
