// The stack output `status --doctor` reads: per source, Flink application and view, what to check and against which limit.
// The stack writes it from the constructs' own metric*() definitions (lib/operations-manifest.ts); the CLI parses it here.

/** Name of the CloudFormation output that carries the manifest (JSON). */
export const OPERATIONS_MANIFEST_OUTPUT = 'OperationsManifest';

/** One CloudWatch metric, as a construct's `metric*()` method defines it. */
export interface ManifestMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
}

export interface ManifestSource {
  /** The source's name in the declaration ('Source' for the single `source`). */
  readonly name: string;
  readonly engine: 'postgres' | 'mysql';
  /** MSK Connect connector name. */
  readonly connectorName: string;
  /** Debezium heartbeat topic: the sinks publish `CdcLag` with dimension `Topic` = this. */
  readonly heartbeatTopic: string;
  /** PostgreSQL `max_slot_wal_keep_size` in bytes, when the stack sets it. */
  readonly slotWalKeepBytes?: number;
  /** PostgreSQL: WAL the oldest slot holds (bytes). */
  readonly slotLag?: ManifestMetric;
  /** MySQL: binary log size (bytes). */
  readonly binLogDiskUsage?: ManifestMetric;
  /** Free storage of the database (bytes). */
  readonly freeStorage?: ManifestMetric;
}

export interface ManifestFlink {
  readonly applicationName: string;
  readonly runtime: string;
  /**
   * The application's checkpoint interval in milliseconds. Its Kafka source commits offsets only when a checkpoint
   * completes, so the consumer-lag check (like the `ConsumerLag…` alarm) allows its groups this interval + the limit.
   * Absent in manifests of stacks deployed before it was added.
   */
  readonly checkpointIntervalMs?: number;
  /** The consumer group of each of its Kafka source tables (`flink.<app>.<table>` unless the table sets `properties.group.id`). */
  readonly consumerGroups?: string[];
}

/**
 * The consumer lag, in seconds, past which a consumer group is behind: `limitSeconds` for a group that commits as it
 * consumes (the sinks), the checkpoint interval plus `limitSeconds` for a Flink group, whose Kafka source commits offsets
 * only when a checkpoint completes (docs/governance.md). The one formula the ConsumerLag alarms and `status` both use.
 */
export function consumerLagLimitSeconds(limitSeconds: number, checkpointIntervalSeconds?: number): number {
  return checkpointIntervalSeconds === undefined ? limitSeconds : checkpointIntervalSeconds + limitSeconds;
}

export interface ManifestView {
  readonly name: string;
  /** The view's declared `maxStaleness`, in milliseconds. */
  readonly maxStalenessMs?: number;
}

export interface OperationsManifest {
  readonly version: 1;
  /** Freshness objective (the `FreshnessLag` alarm threshold) for views without `maxStaleness`. */
  readonly freshnessSloMs: number;
  /** Namespace and dimensions (besides `View` / `Topic`) of the sink metrics. */
  readonly sinkMetrics: { readonly namespace: string; readonly dimensions: Record<string, string> };
  readonly sources: ManifestSource[];
  readonly flink: ManifestFlink[];
  readonly views: ManifestView[];
}

/** Parses the output value; undefined for anything that is not a version-1 manifest (an older or foreign stack). */
export function parseOperationsManifest(value: string | undefined): OperationsManifest | undefined {
  if (!value) return undefined;
  try {
    const m = JSON.parse(value) as OperationsManifest;
    return m && m.version === 1 && Array.isArray(m.sources) && Array.isArray(m.views) ? m : undefined;
  } catch {
    return undefined;
  }
}
