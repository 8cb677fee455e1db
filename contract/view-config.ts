// The runtime description of a view, shared by the constructs that declare it, the sinks that write it and the MCP server that reads it.

/** Column types a view may declare. Sinks coerce values to them; MCP tool schemas are generated from them. */
export type ViewFieldType = 'string' | 'text' | 'keyword' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'json';

export interface ViewFieldConfig {
  readonly name: string;
  readonly type: ViewFieldType;
  /** Shown to agents in tool schemas. */
  readonly description?: string;
}

/** How the topic feeding a view encodes its records. */
export type ViewTopicFormat = 'debezium' | 'upsert-kafka';

export interface CacheViewConfig {
  /** Every key of this view starts with it; it must end with ':'. */
  readonly keyPrefix: string;
  /** Seconds a live row is kept; absent means no expiry. */
  readonly ttlSeconds?: number;
  /** Seconds a delete tombstone is kept, so a late older update cannot resurrect the row. */
  readonly tombstoneTtlSeconds: number;
}

/** Distance the k-NN index uses; it must match what the embedding model was trained for. */
export type VectorSpaceType = 'cosinesimil' | 'innerproduct' | 'l2';

/** A vector field of a search view: the sink embeds `sourceFields` into `field`; `<view>_similar` searches it. */
export interface SearchVectorConfig {
  /** Document field holding the vector (not one of the view's fields). A new model needs a new field name. */
  readonly field: string;
  /** Text columns (view fields) concatenated, one per line, into the embedded text. */
  readonly sourceFields: string[];
  /** Vector length the model returns (Titan Text Embeddings v2: 256, 512 or 1024). */
  readonly dimension: number;
  /** Bedrock model id, e.g. `amazon.titan-embed-text-v2:0`. */
  readonly modelId: string;
  readonly spaceType: VectorSpaceType;
}

export interface SearchViewConfig {
  /** The OpenSearch index (or alias) holding this view's documents. */
  readonly index: string;
  /** Field holding the row's time, used for time-range filters and date histograms. */
  readonly timeField?: string;
  /** Semantic retrieval: a `knn_vector` field embedded from text columns. Absent means no vectors. */
  readonly vector?: SearchVectorConfig;
}

/** An IAM principal (SigV4 caller) and the row scope value it reads. */
export interface RowScopePrincipalConfig {
  /** An IAM role ARN (matches every session of the role) or the exact caller ARN the function URL reports. */
  readonly arn: string;
  /** The value of the scope field this principal's rows carry. */
  readonly value: string;
}

/**
 * Which rows of a view a caller may read: those whose `field` equals the caller's scope value, taken from what the
 * endpoint authenticated (a JWT claim, or the IAM principal), never from tool arguments.
 */
export interface RowScopeConfig {
  /** The view field holding each row's scope value (e.g. a tenant id). */
  readonly field: string;
  /** JWT callers: the claim holding the caller's scope value (e.g. `custom:tenant`). Absent: JWT callers have no scope value. */
  readonly claim?: string;
  /** SigV4 callers: each principal's scope value. Absent or unlisted: IAM callers have no scope value. */
  readonly iamPrincipals?: readonly RowScopePrincipalConfig[];
}

/**
 * What the sink does when a change event no longer matches the view's declared fields (an upstream `ALTER TABLE`).
 * Columns added upstream are always ignored until a field declares them.
 */
export interface ViewSchemaPolicy {
  /**
   * A declared field absent from the row image (the column was dropped, or renamed without a declared rename):
   * `dead-letter` sends the record to the dead-letter destination with the reason; `null` stores null.
   */
  readonly onMissingField: 'dead-letter' | 'null';
  /** A declared field whose value is not of its declared type (the column's type changed): `dead-letter`, or `keep` the value as sent. */
  readonly onTypeMismatch: 'dead-letter' | 'keep';
  /** Upstream column name to the declared field it fills (a column renamed upstream keeps feeding its field). */
  readonly renames?: Record<string, string>;
}

/** Iceberg partition transform of a warehouse view's current-state table. */
export type WarehousePartitionTransform = 'identity' | 'year' | 'month' | 'day' | 'hour';

/** A warehouse view: an Apache Iceberg table (and optionally its change history) queried through Athena. */
export interface WarehouseViewConfig {
  /** Iceberg table holding the current state, one row per key (in the stack's Glue database). */
  readonly table: string;
  /** Append-only Iceberg table with one row per change (`_op`, `_commit_ts`); absent means no history is kept. */
  readonly historyTable?: string;
  /** Partitioning of the current-state table. */
  readonly partition?: { readonly field: string; readonly transform: WarehousePartitionTransform };
  /** TIMESTAMP field structured queries filter by time range (and bucket by for time series). */
  readonly timeField?: string;
  /** Whether the agent may send its own single SELECT over this view's tables. */
  readonly allowSql: boolean;
  /** Rows an answer holds at most. */
  readonly maxRows: number;
}

/** The stores a view can live in: the one list, which the constructs' `ViewStore` class is typed by. */
export const VIEW_STORE_NAMES = ['cache', 'search', 'warehouse'] as const;
export type ViewStoreName = typeof VIEW_STORE_NAMES[number];

export interface ViewConfig {
  /** snake_case; tool names are derived from it (`<name>_lookup`). */
  readonly name: string;
  readonly description: string;
  readonly store: ViewStoreName;
  /** Kafka topic that feeds the view. */
  readonly topic: string;
  readonly format: ViewTopicFormat;
  /** Primary key columns, in order. */
  readonly key: string[];
  /** Columns kept in the store (key columns included). */
  readonly fields: ViewFieldConfig[];
  /** Source table (`schema.table` / `database.table`) or Flink output table the rows come from. */
  readonly sourceTable: string;
  /**
   * upsert-kafka views: a TIMESTAMP field holding the source commit time of the row (e.g. carried through Flink), used
   * for provenance and freshness instead of the Kafka record timestamp (when Flink produced it).
   */
  readonly commitTimeField?: string;
  readonly cache?: CacheViewConfig;
  readonly search?: SearchViewConfig;
  readonly warehouse?: WarehouseViewConfig;
  /**
   * Age (now minus the source commit time) beyond which the MCP tools mark this view's answers stale. They still
   * answer, with how stale. Absent means no bound: answers state their age only.
   */
  readonly maxStalenessMs?: number;
  /** Rows each caller may read; absent means every caller reads every row. */
  readonly rowScope?: RowScopeConfig;
  /** Debezium views: the schema change policy. Absent (configurations older than the policy): missing fields are stored as null and mismatched values as sent. */
  readonly schemaPolicy?: ViewSchemaPolicy;
}

/** Environment variable carrying `JSON.stringify(ViewConfig[])` to the sink and MCP functions. */
export const VIEWS_ENV = 'AGENT_VIEWS';

/** Prefix of an environment value written gzip+base64 (a large JSON value); plain JSON starts with `[` or `{`. */
export const GZIP_VALUE_PREFIX = 'gzip:';

export function parseViewsEnv(raw: string | undefined): ViewConfig[] {
  if (!raw) throw new Error(`${VIEWS_ENV} is not set: the function was deployed without its view configuration`);
  const parsed = JSON.parse(raw);
  if (!Array.isArray(parsed)) throw new Error(`${VIEWS_ENV} must be a JSON array of views`);
  return parsed as ViewConfig[];
}
