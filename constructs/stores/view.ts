// AgentView: the one construct-side model of a view (which topic feeds a store, its key, fields and per-store options),
// validated once when created and rendered as the ViewConfig the functions read. Every construct that serves views takes it.
import { Duration } from 'aws-cdk-lib';
import { viewToolNames } from '../../contract/tool-names';
import type { ViewConfig, ViewFieldConfig } from '../../contract/view-config';
import { rowScopeConfig } from './private/row-scope';
import { checkUniqueViewNames, validateSearchMapping, validateViewProps } from './private/view-validation';
import { AgentViewProps, DEFAULT_EMBEDDING_MODEL, ViewField, ViewStore, ViewTopicFormat } from './view-props';
import { SchemaChangePolicy, schemaPolicyConfig } from './view-schema';
import { warehouseConfig } from './warehouse-view';

export * from './view-props';
export { SchemaChangePolicy } from './view-schema';

/** Default tombstone lifetime, the same as the cache writer's. */
export const DEFAULT_TOMBSTONE_TTL = Duration.days(7);

/**
 * A view: what one store holds for agents. Plain declaration (not a construct), validated when created;
 * `toConfig()` renders the runtime form the sink and MCP functions read from `AGENT_VIEWS`.
 */
export class AgentView {
  public readonly name: string;
  public readonly store: ViewStore;
  public readonly topic: string;
  public readonly format: ViewTopicFormat;
  public readonly key: readonly string[];
  public readonly fields: readonly ViewField[];
  private readonly props: AgentViewProps;

  constructor(props: AgentViewProps) {
    validateViewProps(props);
    this.props = props;
    this.name = props.name;
    this.store = props.store;
    this.topic = props.topic;
    this.format = props.format ?? ViewTopicFormat.DEBEZIUM;
    this.key = [...props.key];
    this.fields = [...props.fields];
    if (this.store === ViewStore.SEARCH) validateSearchMapping(this.toConfig());
  }

  /** The MCP tools serving this view: the one derivation (contract/tool-names.ts), which the server also uses at run time. */
  public toolNames(): string[] {
    return viewToolNames(this.toConfig());
  }

  /** The cache key prefix (cache views). */
  public get keyPrefix(): string | undefined {
    return this.store === ViewStore.CACHE ? (this.props.cache?.keyPrefix ?? `${this.name}:`) : undefined;
  }

  /** The OpenSearch index (search views). */
  public get index(): string | undefined {
    return this.store === ViewStore.SEARCH ? (this.props.search?.index ?? this.name.replace(/_/g, '-')) : undefined;
  }

  private fieldConfigs(): ViewFieldConfig[] {
    return this.fields.map(f => ({ name: f.name, type: f.type.name }));
  }

  public toConfig(): ViewConfig {
    const p = this.props;
    return {
      name: p.name,
      description: p.description,
      store: p.store.name,
      topic: p.topic,
      format: this.format.name,
      key: [...p.key],
      fields: p.fields.map(f => ({ name: f.name, type: f.type.name, ...(f.description ? { description: f.description } : {}) })),
      sourceTable: p.sourceTable,
      ...(p.commitTimeField ? { commitTimeField: p.commitTimeField } : {}),
      ...(p.maxStaleness ? { maxStalenessMs: p.maxStaleness.toMilliseconds() } : {}),
      ...(p.rowScope ? { rowScope: rowScopeConfig(p.rowScope) } : {}),
      ...(this.format === ViewTopicFormat.DEBEZIUM ? { schemaPolicy: schemaPolicyConfig(p.schemaChanges ?? SchemaChangePolicy.DEAD_LETTER, p.renames) } : {}),
      ...(p.store === ViewStore.WAREHOUSE ? { warehouse: warehouseConfig(p.name, p.warehouse ?? {}, this.fieldConfigs()) } : p.store === ViewStore.CACHE ? {
        cache: {
          keyPrefix: this.keyPrefix!,
          ...(p.cache?.ttl ? { ttlSeconds: p.cache.ttl.toSeconds() } : {}),
          tombstoneTtlSeconds: (p.cache?.tombstoneTtl ?? DEFAULT_TOMBSTONE_TTL).toSeconds(),
        },
      } : {
        search: {
          index: this.index!,
          ...(p.search?.timeField ? { timeField: p.search.timeField } : {}),
          ...(p.search?.vector ? {
            vector: {
              field: p.search.vector.field ?? 'embedding',
              sourceFields: [...p.search.vector.sourceFields],
              dimension: p.search.vector.dimension ?? 1024,
              modelId: p.search.vector.modelId ?? DEFAULT_EMBEDDING_MODEL,
              spaceType: p.search.vector.spaceType ?? 'cosinesimil',
            },
          } : {}),
        },
      }),
    };
  }
}

/** Renders views for the `AGENT_VIEWS` environment variable, refusing two views with one name. */
export function viewsEnvironment(views: readonly AgentView[]): string {
  checkUniqueViewNames('views', views);
  return JSON.stringify(views.map(v => v.toConfig()));
}
