// The declaration of a view: its props and the enum-like classes they use. Names of stores, formats and field types come
// from the serialized contract (contract/view-config.ts), so the class constants and the JSON the functions read cannot drift.
import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { ViewConfig, ViewFieldConfig, ViewStoreName } from '../../contract/view-config';
import type { SchemaChangePolicy } from './view-schema';
import type { ViewWarehouseOptions } from './warehouse-view';

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

  private constructor(public readonly name: ViewStoreName) {}
}

/** How the topic feeding a view encodes its records. */
export class ViewTopicFormat {
  /** Debezium change events (JSON converter, with or without schemas). */
  public static readonly DEBEZIUM = new ViewTopicFormat('debezium');
  /** Flink `upsert-kafka`: JSON key and value, null value = delete. */
  public static readonly UPSERT_KAFKA = new ViewTopicFormat('upsert-kafka');

  private constructor(public readonly name: ViewConfig['format']) {}
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
  /** Bedrock embedding model id: Titan Text Embeddings V2, the model whose request the sink and the MCP server send (another is refused at synth). @default 'amazon.titan-embed-text-v2:0' */
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
  /** snake_case, 1-48 characters (MAX_VIEW_NAME_LENGTH); MCP tool names derive from it (`<name>_lookup`). */
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
