// Scheduled probe of warehouse freshness: the age of each warehouse view's newest committed Iceberg snapshot, published as `WarehouseSnapshotAge`.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AGENT_METRIC_DIMENSIONS, WAREHOUSE_METRIC_NAMES } from '../../contract/metric-names';
import { VIEWS_ENV, type ViewConfig } from '../../contract/view-config';
import { readViewsEnv } from '../shared/views-env';
import { WAREHOUSE_DATABASE_ENV, WAREHOUSE_QUERY_TIMEOUT_ENV, WAREHOUSE_WORKGROUP_ENV } from '../../contract/warehouse-env';
import type { WarehouseReader } from '../mcp/warehouse-athena';

export interface ViewFreshness {
  readonly view: string;
  readonly table: string;
  /** Milliseconds since the newest snapshot; absent when the table has none yet. */
  readonly ageMs?: number;
  readonly snapshotId?: string;
  /** Why the snapshot could not be read (the view publishes nothing this run). */
  readonly error?: string;
}

/**
 * One reading per warehouse view, the views' lookups in parallel. A table without a snapshot, or whose lookup failed,
 * publishes nothing (the alarm treats missing data as breaching, so a writer that never committed is reported like one
 * that stopped); one view's failure no longer costs the other views their readings, and N views take one query's
 * time, not N inside the probe's 2 minutes.
 */
export async function measureFreshness(views: readonly ViewConfig[], reader: Pick<WarehouseReader, 'latestSnapshot'>, now: () => number): Promise<ViewFreshness[]> {
  return Promise.all(views.filter(v => v.store === 'warehouse' && v.warehouse).map(async (view): Promise<ViewFreshness> => {
    const table = view.warehouse!.table;
    try {
      const snapshot = await reader.latestSnapshot(table);
      return snapshot ? { view: view.name, table, ageMs: Math.max(0, now() - snapshot.committedAtMs), snapshotId: snapshot.snapshotId } : { view: view.name, table };
    } catch (e) {
      return { view: view.name, table, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
  }));
}

/** Publishes the readings with Powertools Metrics (EMF), one document per view. */
export function publishFreshness(readings: readonly ViewFreshness[], metrics: Metrics, logger: Logger): void {
  for (const r of readings) {
    if (r.error !== undefined) {
      logger.error('warehouse snapshot lookup failed; no reading for this view', { view: r.view, table: r.table, error: r.error });
      continue;
    }
    if (r.ageMs === undefined) {
      logger.warn('warehouse table has no committed snapshot yet', { view: r.view, table: r.table });
      continue;
    }
    logger.info('warehouse freshness', { ...r });
    metrics.addDimension(AGENT_METRIC_DIMENSIONS.view, r.view);
    metrics.addMetric(WAREHOUSE_METRIC_NAMES.snapshotAge, MetricUnit.Milliseconds, r.ageMs);
    metrics.publishStoredMetrics();
  }
}

const logger = new Logger();
const metrics = new Metrics();

export async function handler(): Promise<ViewFreshness[]> {
  const { athenaWarehouseReader, AthenaClient } = await import('../mcp/warehouse-athena');
  const reader = athenaWarehouseReader(new AthenaClient({}), {
    workgroup: process.env[WAREHOUSE_WORKGROUP_ENV]!, database: process.env[WAREHOUSE_DATABASE_ENV]!,
    timeoutMs: Number(process.env[WAREHOUSE_QUERY_TIMEOUT_ENV] ?? 30000),
  });
  const readings = await measureFreshness(readViewsEnv(process.env[VIEWS_ENV]), reader, Date.now);
  publishFreshness(readings, metrics, logger);
  return readings;
}
