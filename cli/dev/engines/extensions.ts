// The extension point of `dev --engines` for stores beyond the cache and search: an extension starts its engine beside the others
// and hands the MCP server its views and the dependencies its tools need. The warehouse view (Iceberg) registers here.
import type { CacheConnection } from '../../../lambda/shared/cache-client';
import type { McpServerDeps } from '../../../lambda/mcp/context';
import type { ViewConfig } from '../../../contract/view-config';
import type { EnginePipeline, SourceDatabase } from './pipeline';
import type { CfnTemplate } from './template';
import { warehouseExtension } from './warehouse/extension';

/** What is running when extensions start: the source, Kafka and Connect (connector RUNNING), OpenSearch, Redis. */
export interface EngineContext {
  /** The synthesized example (development profile). */
  readonly template: CfnTemplate;
  readonly source: SourceDatabase;
  /** `pipeline.kafka.bootstrapServers` carries the CDC topics and the Flink job's output. */
  readonly pipeline: EnginePipeline;
  readonly openSearchUrl: string;
  readonly redis: CacheConnection;
  /** This run's Redis key prefix (keys under it are removed on stop). */
  readonly keyPrefix: string;
  readonly log: (line: string) => void;
}

export interface StartedExtension {
  /** Views this extension serves (their `store` is then no longer reported as unavailable). */
  readonly views?: readonly ViewConfig[];
  /** Merged into the MCP server's dependencies (for example a reader for the extension's store). */
  readonly mcpDeps?: Partial<McpServerDeps>;
  /** Stops what `start` started (called on Ctrl-C, newest first, before Kafka and the source stop). */
  stop(): Promise<void>;
}

export interface EngineExtension {
  /** Shown in the start-up progress with its timing. */
  readonly name: string;
  start(context: EngineContext): Promise<StartedExtension>;
}

/**
 * The extensions `dev --engines` runs by default, in order: the warehouse views (local Iceberg catalog, the writer job, the
 * `<view>_query` reader). Tests and benches can pass their own in `EngineStackOptions.extensions`.
 */
export const ENGINE_EXTENSIONS: EngineExtension[] = [warehouseExtension()];
