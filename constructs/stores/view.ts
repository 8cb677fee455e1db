// Declarative views: which topic feeds a store, its key, its fields and per-store options, validated at synth and rendered as the ViewConfig the functions read.
import { Duration, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { ViewConfig, ViewFieldConfig } from '../../contract/view-config';
import { rowScopeConfig, validateRowScope } from './private/row-scope';
import { SchemaChangePolicy, schemaPolicyConfig, validateSchemaDeclaration } from './view-schema';

export { SchemaChangePolicy } from './view-schema';
import { validateWarehouseOptions, ViewWarehouseOptions, warehouseConfig } from './warehouse-view';

/** Column types a view may declare; sinks keep them, search mappings and MCP tool schemas derive from them. */
export class ViewFieldType {
  /** A short string: exact match (a `keyword` in search views). */
  public static readonly STRING = new ViewFieldType('string');
  /** Free text, analysed for full-text search. */
  public static readonly TEXT = new ViewFieldType('text');
  /** An identifier or enum value: exact match, aggregations. */
  public static readonly KEYWORD = new ViewFieldType('keyword');
  public static readonly INTEGER = new ViewFieldType('integer');
  public static readonly NUMBER = new ViewFieldType('number');
  public static readonly BOOLEAN = new ViewFieldType('boolean');
  /** A point in time (epoch ms or ISO-8601): range filters, the search time field. */
  public static readonly TIMESTAMP = new ViewFieldType('timestamp');
  /** A nested object, stored as is and not indexed field by field. */
  public static readonly JSON = new ViewFieldType('json');

  private constructor(public readonly name: ViewFieldConfig['type']) {}
}

/** The store a view is materialised in. */
export class ViewStore {
  /** ElastiCache (Valkey): key lookups in sub-millisecond time. */
  public static readonly CACHE = new ViewStore('cache');
  /** OpenSearch: filters, full text and aggregations. */
  public static readonly SEARCH = new ViewStore('search');
  /** Apache Iceberg on S3 (Glue catalog), queried through Athena: trends, comparisons, history. */
  public static readonly WAREHOUSE = new ViewStore('warehouse');

  private constructor(public readonly name: 'cache' | 'search' | 'warehouse') {}
}

/** How the topic feeding a view encodes its records. */
export class ViewTopicFormat {
  /** Debezium change events (JSON converter, with or without schemas). */
  public static readonly DEBEZIUM = new ViewTopicFormat('debezium');
  /** Flink `upsert-kafka`: JSON key and value, null value = delete. */
  public static readonly UPSERT_KAFKA = new ViewTopicFormat('upsert-kafka');

  private constructor(public readonly name: 'debezium' | 'upsert-kafka') {}
}

export interface ViewField {
  /** Column name as it appears in the change events. */
  readonly name: string;
  readonly type: ViewFieldType;
  /** Shown to agents in tool schemas. @default - no description */
  readonly description?: string;
}

export interface ViewCacheOptions {
  /** Every key of the view starts with it; must end with ':'. @default `<view name>:` */
  readonly keyPrefix?: string;
  /** How long a live row is kept after its last write. @default - no expiry: the cache holds the current state */
  readonly ttl?: Duration;
  /**
   * How long a delete tombstone is kept so a late, older update cannot resurrect the row. Keep it longer than
   * the longest redelivery delay (event source retries plus the topic's retention for replays).
   * @default Duration.days(7) (Kafka's default retention)
   */
  readonly tombstoneTtl?: Duration;
}

export interface ViewSearchOptions {
  /** The OpenSearch index holding the view. @default - the view name with '_' replaced by '-' */
  readonly index?: string;
  /** A TIMESTAMP field used for time-range filters. @default - no time field */
  readonly timeField?: string;
  /** Semantic retrieval: embed these text columns into a k-NN vector field (adds the `<view>_similar` MCP tool). @default - no vector field */
  readonly vector?: ViewVectorOptions;
}

/** A vector field computed from a search view's text columns by an embedding model (Amazon Bedrock). */
export interface ViewVectorOptions {
  /** Text columns (STRING or TEXT fields of the view) concatenated, one per line, into the embedded text. */
  readonly sourceFields: string[];
  /** Document field holding the vector; a new model needs a new field. @default 'embedding' */
  readonly field?: string;
  /** Bedrock embedding model id. @default 'amazon.titan-embed-text-v2:0' (Titan Text Embeddings v2) */
  readonly modelId?: string;
  /** Vector length the model returns (Titan v2: 256, 512 or 1024). @default 1024 */
  readonly dimension?: number;
  /** k-NN space; Titan v2 vectors are normalized, so cosine and inner product rank alike. @default 'cosinesimil' */
  readonly spaceType?: 'cosinesimil' | 'innerproduct' | 'l2';
}

/** A role whose sessions (SigV4 callers of the MCP endpoint) read the rows carrying `value`. */
export interface ViewScopeRole {
  /** The role agents assume to call the MCP function URL; every session of it matches. */
  readonly role: iam.IRole;
  /** The scope value its rows carry in the scope field (e.g. the tenant id). */
  readonly value: string;
}

/**
 * Which rows each caller of the MCP server may read: those whose `field` equals the caller's scope value, which the server
 * takes from what the endpoint authenticated (a JWT claim, or the IAM role), never from tool arguments. A caller without a
 * value is refused, never served every row.
 */
export interface ViewRowScope {
  /** The field holding each row's scope value (a STRING, KEYWORD or INTEGER field of the view), e.g. 'tenant_id'. */
  readonly field: string;
  /** JWT callers (`McpAuthorization.jwt`): the claim holding the caller's value, e.g. 'custom:tenant'. @default - JWT callers have no scope value and are refused */
  readonly claim?: string;
  /** SigV4 callers (`McpAuthorization.iam`): the roles and the value each one reads. @default - IAM callers have no scope value and are refused */
  readonly iamRoles?: ViewScopeRole[];
}

/** Default embedding model of vector fields. */
export const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';

export interface AgentViewProps {
  /** snake_case, 1-48 characters; MCP tool names derive from it (`<name>_lookup`). */
  readonly name: string;
  /** What the view holds, in a sentence agents can read. */
  readonly description: string;
  /** The Kafka topic that feeds the view. */
  readonly topic: string;
  /** @default ViewTopicFormat.DEBEZIUM */
  readonly format?: ViewTopicFormat;
  /** Primary key columns, in order; each must be one of `fields`. */
  readonly key: string[];
  /** Columns kept in the store (key columns included). */
  readonly fields: ViewField[];
  /** Source table (`schema.table`) or Flink output table the rows come from (provenance and lineage). */
  readonly sourceTable: string;
  readonly store: ViewStore;
  /**
   * upsert-kafka views: a TIMESTAMP field carrying the source commit time through the transform, so provenance and
   * freshness measure from the source commit rather than from when Flink produced the row.
   * @default - the Kafka record timestamp (Debezium views always use the source block's commit time)
   */
  readonly commitTimeField?: string;
  /** Cache options (only for ViewStore.CACHE). @default - see ViewCacheOptions */
  readonly cache?: ViewCacheOptions;
  /** Search options (only for ViewStore.SEARCH). @default - see ViewSearchOptions */
  readonly search?: ViewSearchOptions;
  /** Warehouse options (only for ViewStore.WAREHOUSE). @default - see ViewWarehouseOptions */
  readonly warehouse?: ViewWarehouseOptions;
  /**
   * Age (now minus the source commit time) beyond which the MCP tools mark this view's answers stale, with how stale;
   * they still answer, so the agent decides. Set it to what the agent's task tolerates (e.g. `Duration.minutes(5)`).
   * @default - no bound: answers state their age, commit time and source position, and are never marked stale
   */
  readonly maxStaleness?: Duration;
  /**
   * Identity-scoped reads: each MCP caller reads only the rows whose scope field matches its identity (lookups of other rows
   * answer not found; search, aggregate and similar filter server-side).
   * @default - every caller of the MCP server reads every row
   */
  readonly rowScope?: ViewRowScope;
  /**
   * Debezium views: what the sink does when the source table stops matching `fields` (docs/OPERATIONS.md, "Schema change").
   * Columns added upstream are ignored until declared.
   * @default SchemaChangePolicy.DEAD_LETTER - a dropped or retyped declared column dead-letters the record with the reason and raises the view's DeadLettered alarm
   */
  readonly schemaChanges?: SchemaChangePolicy;
  /**
   * Debezium views: columns renamed upstream, new name to the declared field they fill, e.g. `{ customer_tier: 'tier' }` after
   * `ALTER TABLE ... RENAME COLUMN tier TO customer_tier`. Events carrying the old name keep filling the field too.
   * @default - none: a renamed declared column is a missing field
   */
  readonly renames?: Record<string, string>;
}

const VIEW_NAME = /^[a-z][a-z0-9_]{0,47}$/;
const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const INDEX_NAME = /^[a-z0-9][a-z0-9_-]{0,254}$/;

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
    validate(props);
    this.props = props;
    this.name = props.name;
    this.store = props.store;
    this.topic = props.topic;
    this.format = props.format ?? ViewTopicFormat.DEBEZIUM;
    this.key = [...props.key];
    this.fields = [...props.fields];
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
  const seen = new Set<string>();
  for (const v of views) {
    if (seen.has(v.name)) throw new Error(`views: '${v.name}' is declared twice. Give each view a unique name.`);
    seen.add(v.name);
  }
  return JSON.stringify(views.map(v => v.toConfig()));
}

function validate(p: AgentViewProps): void {
  const where = `AgentView '${p.name}'`;
  if (!VIEW_NAME.test(p.name)) {
    throw new Error(`AgentView: name '${p.name}' is not snake_case (lowercase letters, digits, '_', starting with a letter, at most 48 characters). Rename it, e.g. 'customer_balances'.`);
  }
  if (p.store !== ViewStore.CACHE && p.store !== ViewStore.SEARCH && p.store !== ViewStore.WAREHOUSE) {
    throw new Error(`${where}: store '${(p.store as { name?: string } | undefined)?.name ?? String(p.store)}' is unknown. Use ViewStore.CACHE, ViewStore.SEARCH or ViewStore.WAREHOUSE.`);
  }
  if (p.format !== undefined && p.format !== ViewTopicFormat.DEBEZIUM && p.format !== ViewTopicFormat.UPSERT_KAFKA) {
    throw new Error(`${where}: format '${String((p.format as { name?: string }).name)}' is unknown. Use ViewTopicFormat.DEBEZIUM or ViewTopicFormat.UPSERT_KAFKA.`);
  }
  if (!p.description || !p.description.trim()) throw new Error(`${where}: description is empty. Say what the view holds; agents read it.`);
  if (!Token.isUnresolved(p.topic) && !TOPIC_NAME.test(p.topic)) {
    throw new Error(`${where}: topic '${p.topic}' is not a Kafka topic name (letters, digits, '.', '_', '-', at most 249). Use the topic the connector or Flink job writes.`);
  }
  if (!p.sourceTable || !p.sourceTable.trim()) throw new Error(`${where}: sourceTable is empty. Name the table the rows come from (schema.table).`);
  if (p.fields.length === 0) throw new Error(`${where}: fields is empty. List the columns the store keeps, key columns included.`);
  const names = new Set<string>();
  for (const f of p.fields) {
    if (!COLUMN_NAME.test(f.name)) throw new Error(`${where}: field name '${f.name}' is not a column identifier (letters, digits, '_'). Use the column name from the source.`);
    if (names.has(f.name)) throw new Error(`${where}: field '${f.name}' is named twice in fields. Remove the duplicate.`);
    if (!(f.type instanceof ViewFieldType)) throw new Error(`${where}: field '${f.name}' has an unknown type. Use a ViewFieldType constant.`);
    names.add(f.name);
  }
  if (p.key.length === 0) throw new Error(`${where}: key is empty. Give the primary key column(s), e.g. key: ['id'].`);
  if (new Set(p.key).size !== p.key.length) throw new Error(`${where}: key [${p.key.join(', ')}] names a column twice. Remove the duplicate.`);
  for (const k of p.key) {
    if (!names.has(k)) throw new Error(`${where}: key column '${k}' is not among fields [${[...names].join(', ')}]. Add it to fields.`);
    const type = p.fields.find(f => f.name === k)!.type;
    if (type === ViewFieldType.JSON || type === ViewFieldType.TEXT) {
      throw new Error(`${where}: key column '${k}' has type ${type.name}; keys must be scalar exact values. Use STRING, KEYWORD, INTEGER, NUMBER, BOOLEAN or TIMESTAMP.`);
    }
  }
  if (p.maxStaleness !== undefined && !Token.isUnresolved(p.maxStaleness.toMilliseconds({ integral: false })) && p.maxStaleness.toMilliseconds({ integral: false }) < 1000) {
    throw new Error(`${where}: maxStaleness is ${p.maxStaleness.toHumanString()}; it must be at least 1 second (change events take longer than that to reach the store). E.g. Duration.minutes(5), or omit it for no bound.`);
  }
  if (p.rowScope && p.store === ViewStore.WAREHOUSE) {
    throw new Error(`${where}: rowScope is not enforced by the warehouse query tool (its SQL and structured queries read the whole table). `
      + 'Remove rowScope, or serve the scoped rows from a cache or search view.');
  }
  if (p.rowScope) validateRowScope(where, p.fields, p.rowScope);
  validateSchemaDeclaration(where, names, (p.format ?? ViewTopicFormat.DEBEZIUM) === ViewTopicFormat.DEBEZIUM, p.schemaChanges, p.renames);
  if (p.commitTimeField !== undefined) {
    const f = p.fields.find(x => x.name === p.commitTimeField);
    if (!f || f.type !== ViewFieldType.TIMESTAMP) {
      throw new Error(`${where}: commitTimeField '${p.commitTimeField}' must be one of fields with type ViewFieldType.TIMESTAMP.`);
    }
    if ((p.format ?? ViewTopicFormat.DEBEZIUM) !== ViewTopicFormat.UPSERT_KAFKA) {
      throw new Error(`${where}: commitTimeField is for upsert-kafka views; Debezium views take the commit time from the change event's source block. Remove it.`);
    }
  }
  if (p.store !== ViewStore.WAREHOUSE && p.warehouse) {
    throw new Error(`${where}: warehouse options are set on a ${p.store.name} view. Remove them or use store: ViewStore.WAREHOUSE.`);
  }
  if (p.store === ViewStore.WAREHOUSE) {
    if (p.cache || p.search) throw new Error(`${where}: ${p.cache ? 'cache' : 'search'} options are set on a warehouse view. Remove them or use store: ViewStore.${p.cache ? 'CACHE' : 'SEARCH'}.`);
    validateWarehouseOptions(where, p.warehouse ?? {}, p.fields.map(f => ({ name: f.name, type: f.type.name })), p.key, (p.format ?? ViewTopicFormat.DEBEZIUM).name);
  } else if (p.store === ViewStore.CACHE) {
    if (p.search) throw new Error(`${where}: search options are set on a cache view. Remove them or use store: ViewStore.SEARCH.`);
    const c = p.cache ?? {};
    if (c.keyPrefix !== undefined && !/^[A-Za-z0-9_.\-{}]+:$/.test(c.keyPrefix)) {
      throw new Error(`${where}: cache.keyPrefix '${c.keyPrefix}' must be letters, digits, '_', '.', '-', '{', '}' and end with ':'. E.g. '${p.name}:'.`);
    }
    if (c.ttl && !Token.isUnresolved(c.ttl.toSeconds({ integral: false })) && c.ttl.toSeconds({ integral: false }) < 1) {
      throw new Error(`${where}: cache.ttl is ${c.ttl.toHumanString()}; it must be at least 1 second. Omit it to keep rows until they change.`);
    }
    if (c.tombstoneTtl && c.tombstoneTtl.toSeconds({ integral: false }) < 60) {
      throw new Error(`${where}: cache.tombstoneTtl is ${c.tombstoneTtl.toHumanString()}; under a minute lets late updates resurrect deleted rows. Use at least Duration.minutes(1) (default 7 days).`);
    }
  } else {
    if (p.cache) throw new Error(`${where}: cache options are set on a search view. Remove them or use store: ViewStore.CACHE.`);
    const s = p.search ?? {};
    if (s.index !== undefined && !INDEX_NAME.test(s.index)) {
      throw new Error(`${where}: search.index '${s.index}' is not a valid OpenSearch index name (lowercase letters, digits, '_', '-'). E.g. '${p.name.replace(/_/g, '-')}'.`);
    }
    if (s.timeField !== undefined) {
      const tf = p.fields.find(f => f.name === s.timeField);
      if (!tf) throw new Error(`${where}: search.timeField '${s.timeField}' is not among fields. Add it to fields as a TIMESTAMP.`);
      if (tf.type !== ViewFieldType.TIMESTAMP) throw new Error(`${where}: search.timeField '${s.timeField}' has type ${tf.type.name}; it must be ViewFieldType.TIMESTAMP.`);
    }
    if (s.vector) validateVector(where, p.fields, s.vector);
  }
}

function validateVector(where: string, fields: readonly ViewField[], v: ViewVectorOptions): void {
  if (v.sourceFields.length === 0) {
    throw new Error(`${where}: search.vector.sourceFields is empty; name the text columns to embed, e.g. ['description'].`);
  }
  for (const name of v.sourceFields) {
    const f = fields.find(x => x.name === name);
    if (!f) throw new Error(`${where}: search.vector.sourceFields has '${name}', which is not among fields. Add it to fields or remove it.`);
    if (f.type !== ViewFieldType.TEXT && f.type !== ViewFieldType.STRING) {
      throw new Error(`${where}: search.vector.sourceFields has '${name}' of type ${f.type.name}; only TEXT and STRING columns are embedded.`);
    }
  }
  const field = v.field ?? 'embedding';
  if (!COLUMN_NAME.test(field) || fields.some(f => f.name === field)) {
    throw new Error(`${where}: search.vector.field '${field}' must be a new column name (letters, digits, '_'), not one of the view's fields.`);
  }
  const dimension = v.dimension ?? 1024;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 16000) {
    throw new Error(`${where}: search.vector.dimension is ${dimension}; use the model's vector length (Titan Text Embeddings v2: 256, 512 or 1024).`);
  }
}
