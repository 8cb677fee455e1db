// What the tools need from the outside world: store clients, the decision store, the catalog, a clock and the call observer.
import type { DecisionStore } from '../../contract/decision-store';
import type { LineageCatalog } from '../../contract/lineage';
import type { SourcePosition } from '../../contract/stored-record';
import type { SearchVectorConfig, ViewConfig } from '../../contract/view-config';
import type { WarehouseReader } from './warehouse-athena';

/** The one Redis command the MCP server uses; an ioredis `Redis` or `Cluster` satisfies it. */
export interface CacheReader {
  hgetall(key: string): Promise<Record<string, string>>;
}

/** The two OpenSearch calls the MCP server makes; an `@opensearch-project/opensearch` `Client` satisfies it. */
export interface SearchReader {
  search(params: { index: string; body: Record<string, unknown> }, options?: SearchCallOptions): Promise<{ body: unknown }>;
  get(params: { index: string; id: string; _source_includes?: string[] }, options?: SearchCallOptions): Promise<{ body: unknown }>;
}

export interface SearchCallOptions {
  requestTimeout?: number;
  maxRetries?: number;
  ignore?: number[];
}

/** Same shape as `lambda/shared/embeddings.ts` `EmbeddingProvider`. */
export interface QueryEmbedder {
  readonly dimension: number;
  embed(texts: string[]): Promise<number[][]>;
}

/** One source position an answer served: the read side of the audit trail. */
export interface ServedPosition {
  readonly view: string;
  readonly key: Record<string, unknown>;
  readonly version: string;
  readonly position: SourcePosition;
  readonly commitTimeMs: number;
}

export interface ToolCallEvent {
  readonly tool: string;
  readonly correlationId: string;
  readonly outcome: 'ok' | 'error';
  readonly latencyMs: number;
  /** Bytes of the JSON answer. */
  readonly resultBytes: number;
  /** Rows, hits, buckets or sources in the answer. */
  readonly resultCount: number;
  readonly positions: readonly ServedPosition[];
  /** For errors: the class of error (never shown with its message to the agent). */
  readonly errorKind?: string;
  /** For errors: the internal message, for the log only. */
  readonly errorDetail?: string;
}

export interface ToolCallObserver {
  onToolCall(event: ToolCallEvent): void;
}

export interface StoreTimeouts {
  /** @default 2000 */
  readonly cacheMs?: number;
  /** @default 5000 */
  readonly searchMs?: number;
  /** @default 5000 */
  readonly decisionsMs?: number;
  /** @default 5000 */
  readonly embeddingsMs?: number;
}

/** Bounds on the work one call may do, beyond the input limits of the tool schemas (see docs/mcp.md, Bounded work). */
export interface McpBounds {
  /** Bytes of row JSON one answer carries before it is cut with `truncated: true` and a `nextCursor`. @default 524288 */
  readonly maxResultBytes?: number;
  /** `<view>_similar` query embeddings kept per container. @default 256 */
  readonly embeddingCacheEntries?: number;
  /** Milliseconds a query embedding is reused. @default 300000 */
  readonly embeddingCacheTtlMs?: number;
}

export interface McpServerDeps {
  readonly views: readonly ViewConfig[];
  /** Required when a cache view is declared. */
  readonly redis?: CacheReader;
  /** Required when a search view is declared. */
  readonly search?: SearchReader;
  /** Required when a warehouse view is declared (Athena in the Lambda shell). */
  readonly warehouse?: WarehouseReader;
  /** The decision audit; without it `record_decision` / `get_decision` are not offered. */
  readonly decisions?: DecisionStore;
  /** The lineage catalog, or a loader for it (called at most once per server). */
  readonly catalog?: LineageCatalog | (() => Promise<LineageCatalog | undefined>);
  /** Epoch milliseconds; ages are computed against it. */
  readonly now: () => number;
  /**
   * Embeds `<view>_similar` query text exactly as the sink embedded the documents: one provider, or one per
   * vector config (views may use different models). Without it no `_similar` tool is offered.
   */
  readonly embeddings?: QueryEmbedder | ((vector: SearchVectorConfig) => QueryEmbedder);
  readonly timeouts?: StoreTimeouts;
  readonly bounds?: McpBounds;
  readonly observer?: ToolCallObserver;
  /** @default 'cdk-agent-data-stack' */
  readonly serverName?: string;
}
