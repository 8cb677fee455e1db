// Warehouse options of a view (ViewStore.WAREHOUSE): partitioning, change history, agent SQL, and their synth-time validation.
import type { ViewFieldConfig, WarehousePartitionTransform, WarehouseViewConfig } from '../../contract/view-config';

/** How the current-state Iceberg table of a warehouse view is partitioned (an Iceberg partition transform). */
export class WarehousePartition {
  /** One partition per day of a TIMESTAMP field (Iceberg `day`). */
  public static day(field: string): WarehousePartition {
    return new WarehousePartition(field, 'day');
  }
  /** One partition per month of a TIMESTAMP field (Iceberg `month`). */
  public static month(field: string): WarehousePartition {
    return new WarehousePartition(field, 'month');
  }
  /** One partition per year of a TIMESTAMP field (Iceberg `year`). */
  public static year(field: string): WarehousePartition {
    return new WarehousePartition(field, 'year');
  }
  /** One partition per hour of a TIMESTAMP field (Iceberg `hour`). */
  public static hour(field: string): WarehousePartition {
    return new WarehousePartition(field, 'hour');
  }
  /** One partition per value of a low-cardinality KEYWORD, STRING, INTEGER or BOOLEAN field (Iceberg `identity`). */
  public static identity(field: string): WarehousePartition {
    return new WarehousePartition(field, 'identity');
  }

  private constructor(public readonly field: string, public readonly transform: WarehousePartitionTransform) {}
}

export interface ViewWarehouseOptions {
  /**
   * Partitioning of the current-state table. The writer upserts by the view's key, and Iceberg's Flink sink in
   * upsert mode requires every partition source column to be part of that key, so the field must be a key column.
   * @default - unpartitioned (the history table, when kept, is always partitioned by day of `_commit_ts`)
   */
  readonly partitionBy?: WarehousePartition;
  /**
   * Keep every change as a row of an append-only `<view>_history` table (`_op`, `_commit_ts` and the fields; deletes
   * carry the last values). Only for views read from a captured table (Debezium events carry the before-image).
   * @default false
   */
  readonly history?: boolean;
  /**
   * A TIMESTAMP field the structured query mode filters by time range and buckets time series by.
   * @default - the `partitionBy` field when it is a TIMESTAMP, else `_commit_ts` (when the row last changed)
   */
  readonly timeField?: string;
  /**
   * Let agents send their own single `SELECT` over this view's tables (parsed; anything else is refused).
   * @default false (structured requests only: group-by fields, metrics, time range, filters)
   */
  readonly allowSql?: boolean;
  /**
   * Rows an answer holds at most (more are cut off and the answer says so).
   * @default 1000
   */
  readonly maxRows?: number;
}

/** Largest answer a tool returns; bigger answers do not fit an agent's context anyway. */
export const WAREHOUSE_MAX_ROWS_LIMIT = 10_000;
export const DEFAULT_WAREHOUSE_MAX_ROWS = 1000;
const TIMESTAMP_TRANSFORMS: readonly WarehousePartitionTransform[] = ['year', 'month', 'day', 'hour'];
const IDENTITY_TYPES: readonly ViewFieldConfig['type'][] = ['keyword', 'string', 'integer', 'boolean'];

/** Throws, naming the prop and the fix, when warehouse options do not fit the view. */
export function validateWarehouseOptions(where: string, o: ViewWarehouseOptions, fields: readonly ViewFieldConfig[], key: readonly string[], format: string): void {
  const fieldOf = (name: string) => fields.find(f => f.name === name);
  if (o.partitionBy) {
    const { field, transform } = o.partitionBy;
    const f = fieldOf(field);
    if (!f) throw new Error(`${where}: warehouse.partitionBy field '${field}' is not among fields [${fields.map(x => x.name).join(', ')}]. Partition by a declared field.`);
    if (TIMESTAMP_TRANSFORMS.includes(transform) && f.type !== 'timestamp') {
      throw new Error(`${where}: warehouse.partitionBy is ${transform}('${field}') but '${field}' has type ${f.type}; ${transform} partitions need a TIMESTAMP field. Use WarehousePartition.identity('${field}') or a TIMESTAMP field.`);
    }
    if (transform === 'identity' && !IDENTITY_TYPES.includes(f.type)) {
      throw new Error(`${where}: warehouse.partitionBy is identity('${field}') of type ${f.type}; identity partitions need a KEYWORD, STRING, INTEGER or BOOLEAN field (a TIMESTAMP takes WarehousePartition.day).`);
    }
    if (!key.includes(field)) {
      throw new Error(`${where}: warehouse.partitionBy uses '${field}', which is not in key [${key.join(', ')}]. The writer upserts by key and Iceberg's Flink sink `
        + `requires partition source columns among the key columns in upsert mode. Add '${field}' to key (it must not change for a row), or drop partitionBy (history tables are partitioned by day anyway).`);
    }
  }
  if (o.timeField !== undefined) {
    const f = fieldOf(o.timeField);
    if (!f || f.type !== 'timestamp') {
      throw new Error(`${where}: warehouse.timeField '${o.timeField}' must be one of fields with type ViewFieldType.TIMESTAMP. Add it as a TIMESTAMP or omit it (the commit time is used).`);
    }
  }
  if (o.history && format !== 'debezium') {
    throw new Error(`${where}: warehouse.history is set on a view read from a transform output (${format}); only Debezium change events carry the before-image a history row of a delete needs. Read the view from a captured table, or drop history.`);
  }
  if (o.maxRows !== undefined && (!Number.isInteger(o.maxRows) || o.maxRows < 1 || o.maxRows > WAREHOUSE_MAX_ROWS_LIMIT)) {
    throw new Error(`${where}: warehouse.maxRows is ${o.maxRows}; give a whole number from 1 to ${WAREHOUSE_MAX_ROWS_LIMIT} (default ${DEFAULT_WAREHOUSE_MAX_ROWS}).`);
  }
  for (const f of fields) {
    if (f.name.startsWith('_')) {
      throw new Error(`${where}: field '${f.name}' starts with '_', which warehouse tables reserve for their own columns (_commit_ts, _op). Rename it in the view (the source column name must match, so use a transform to rename it).`);
    }
    if (f.name !== f.name.toLowerCase()) {
      throw new Error(`${where}: field '${f.name}' has upper-case letters; Athena and the Glue catalog fold column names to lower case, so a warehouse view needs lower-case fields. Rename the column or read it through a transform.`);
    }
  }
}

/** The runtime form of a view's warehouse options. */
export function warehouseConfig(name: string, o: ViewWarehouseOptions, fields: readonly ViewFieldConfig[]): WarehouseViewConfig {
  const partition = o.partitionBy ? { field: o.partitionBy.field, transform: o.partitionBy.transform } : undefined;
  const partitionTime = partition && partition.transform !== 'identity' ? partition.field : undefined;
  const timeField = o.timeField ?? partitionTime ?? (fields.some(f => f.name === '_commit_ts') ? undefined : '_commit_ts');
  return {
    table: name,
    ...(o.history ? { historyTable: `${name}_history` } : {}),
    ...(partition ? { partition } : {}),
    ...(timeField ? { timeField } : {}),
    allowSql: o.allowSql ?? false,
    maxRows: o.maxRows ?? DEFAULT_WAREHOUSE_MAX_ROWS,
  };
}
