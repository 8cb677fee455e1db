// A warehouse view as Iceberg tables (schema, identifier fields, partition spec) and as the Flink SQL program that writes them from Kafka.
import type { ViewConfig, ViewFieldType } from '../../contract/view-config';
import { WAREHOUSE_COMMIT_TS_COLUMN, WAREHOUSE_OP_COLUMN } from '../../contract/warehouse-env';

/** One Iceberg column as `AWS::Glue::Table` `IcebergStructField` declares it. */
export interface IcebergColumn {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly doc?: string;
}

/** An Iceberg table of a warehouse view: schema, identifier (key) fields, partition spec, table properties. */
export interface IcebergTableShape {
  readonly name: string;
  readonly columns: IcebergColumn[];
  readonly identifierFieldIds: number[];
  readonly partition?: { readonly sourceId: number; readonly transform: string; readonly name: string };
  readonly properties: Record<string, string>;
}

/** Variable the runner fills with the table bucket's `s3://` location (a deploy-time value). */
export const WAREHOUSE_LOCATION_VARIABLE = 'warehouse.location';

const ICEBERG_TYPES: Record<ViewFieldType, string> = {
  string: 'string', text: 'string', keyword: 'string', json: 'string',
  integer: 'long', number: 'double', boolean: 'boolean', timestamp: 'timestamptz',
};
const FLINK_TYPES: Record<ViewFieldType, string> = {
  string: 'STRING', text: 'STRING', keyword: 'STRING', json: 'STRING',
  integer: 'BIGINT', number: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP_LTZ(6)',
};

/**
 * Table properties of every warehouse table: format v2 (row-level deletes), merge-on-read deletes (equality deletes
 * from the streaming writer, folded in by compaction), Parquet with zstd.
 */
export const WAREHOUSE_TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  'format-version': '2',
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'zstd',
  'write.delete.mode': 'merge-on-read',
  'write.update.mode': 'merge-on-read',
  'write.merge.mode': 'merge-on-read',
  // One commit per checkpoint writes one metadata file; keep the newest 100 instead of every one ever written.
  'write.metadata.delete-after-commit.enabled': 'true',
  'write.metadata.previous-versions-max': '100',
};

/** The current-state table: the view's fields plus `_commit_ts`, identifier fields = the view's key. */
export function currentTableShape(view: ViewConfig): IcebergTableShape {
  const w = view.warehouse!;
  const columns = tableColumns(view, false);
  const idOf = (name: string) => columns.find(c => c.name === name)!.id;
  return {
    name: w.table,
    columns,
    identifierFieldIds: view.key.map(idOf),
    ...(w.partition ? {
      partition: {
        sourceId: idOf(w.partition.field), transform: w.partition.transform,
        name: w.partition.transform === 'identity' ? w.partition.field : `${w.partition.field}_${w.partition.transform}`,
      },
    } : {}),
    properties: { ...WAREHOUSE_TABLE_PROPERTIES, 'write.upsert.enabled': 'true', ...FRESHNESS_TABLE_PROPERTIES },
  };
}

/**
 * The current-state table is what the freshness probe and the tool's provenance date by its newest snapshot. Iceberg's
 * Flink committer skips a checkpoint without files and commits an empty snapshot only every
 * `flink.max-continuous-empty-commits` checkpoints (default 10: IcebergFilesCommitter, flink/v1.20, reads it from the
 * table properties), so on a quiet source a healthy writer's newest snapshot aged to 10 commit intervals, past a
 * maxStaleness under that. With 1 the writer commits at every checkpoint, so the snapshot's age says the writer is alive.
 */
export const FRESHNESS_TABLE_PROPERTIES: Readonly<Record<string, string>> = { 'flink.max-continuous-empty-commits': '1' };

/** The history table: `_op`, `_commit_ts` and the fields (all optional), partitioned by day of `_commit_ts`. */
export function historyTableShape(view: ViewConfig): IcebergTableShape | undefined {
  const w = view.warehouse!;
  if (!w.historyTable) return undefined;
  const columns = tableColumns(view, true);
  const commit = columns.find(c => c.name === WAREHOUSE_COMMIT_TS_COLUMN)!;
  return {
    name: w.historyTable,
    columns,
    identifierFieldIds: [],
    partition: { sourceId: commit.id, transform: 'day', name: `${WAREHOUSE_COMMIT_TS_COLUMN}_day` },
    properties: { ...WAREHOUSE_TABLE_PROPERTIES },
  };
}

function tableColumns(view: ViewConfig, history: boolean): IcebergColumn[] {
  const fields = view.fields.map(f => ({
    name: f.name, type: ICEBERG_TYPES[f.type], required: !history && view.key.includes(f.name), ...(f.description ? { doc: f.description } : {}),
  }));
  const meta = [
    ...(history ? [{ name: WAREHOUSE_OP_COLUMN, type: 'string', required: true, doc: 'Change kind: c insert, r snapshot read, u update, d delete (Debezium op)' }] : []),
    { name: WAREHOUSE_COMMIT_TS_COLUMN, type: 'timestamptz', required: false, doc: 'Source commit time of the change' },
  ];
  return [...fields, ...meta].map((c, i) => ({ id: i + 1, ...c }));
}

export interface WarehouseWriterSqlOptions {
  /** Glue database of the tables. */
  readonly database: string;
  /**
   * Iceberg catalog options of the sink tables. @default - the AWS Glue catalog with S3FileIO and the
   * `${warehouse.location}` variable as warehouse
   */
  readonly catalog?: Record<string, string>;
  /** Extra options of the Kafka source tables. @default - none (the application adds bootstrap servers and IAM) */
  readonly kafka?: Record<string, string>;
}

/** Glue catalog options of the Iceberg Flink connector (AWS's Managed Flink Iceberg samples use the same catalog). */
export function glueCatalogOptions(): Record<string, string> {
  return {
    'catalog-name': 'glue',
    'catalog-impl': 'org.apache.iceberg.aws.glue.GlueCatalog',
    'io-impl': 'org.apache.iceberg.aws.s3.S3FileIO',
    'warehouse': `\${${WAREHOUSE_LOCATION_VARIABLE}}`,
  };
}

/**
 * The Flink SQL program writing one warehouse view: the view's topic read as a changelog (Debezium or upsert-kafka,
 * de-duplicated by key) upserted into the current-state table, and, with history, the raw change events appended.
 */
export function warehouseWriterSql(view: ViewConfig, options: WarehouseWriterSqlOptions): string {
  const w = view.warehouse!;
  const catalog = options.catalog ?? glueCatalogOptions();
  const src = `src_${view.name}`;
  const cols = view.fields.map(f => `  ${q(f.name)} ${FLINK_TYPES[f.type]}`);
  const key = `  PRIMARY KEY (${view.key.map(q).join(', ')}) NOT ENFORCED`;
  const statements: string[] = ["SET 'table.exec.source.cdc-events-duplicate' = 'true';"];
  if (view.format === 'debezium') {
    statements.push(table(src, [...cols, `  ${q(WAREHOUSE_COMMIT_TS_COLUMN)} TIMESTAMP_LTZ(3) METADATA FROM 'value.source.timestamp' VIRTUAL`, key], {
      'connector': 'kafka', 'topic': view.topic, 'format': 'debezium-json', 'debezium-json.schema-include': 'false',
      'debezium-json.timestamp-format.standard': 'ISO-8601', 'scan.startup.mode': 'earliest-offset', ...options.kafka,
    }));
  } else {
    // upsert-kafka outputs of this library's transforms: JSON key and value, ISO-8601 timestamps, null value = delete.
    const commit = view.commitTimeField ? [] : [`  ${q(WAREHOUSE_COMMIT_TS_COLUMN)} TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL`];
    statements.push(table(src, [...cols, ...commit, key], {
      'connector': 'upsert-kafka', 'topic': view.topic, 'key.format': 'json', 'value.format': 'json',
      'key.json.timestamp-format.standard': 'ISO-8601', 'value.json.timestamp-format.standard': 'ISO-8601', ...options.kafka,
    }));
  }
  const sink = `wh_${w.table}`;
  const commitExpr = view.format === 'upsert-kafka' && view.commitTimeField ? q(view.commitTimeField) : q(WAREHOUSE_COMMIT_TS_COLUMN);
  statements.push(table(sink, [...cols.map((c, i) => (view.key.includes(view.fields[i].name) ? `${c} NOT NULL` : c)),
    `  ${q(WAREHOUSE_COMMIT_TS_COLUMN)} TIMESTAMP_LTZ(6)`, key], {
    'connector': 'iceberg', ...catalog, 'catalog-database': options.database, 'catalog-table': w.table, 'upsert-enabled': 'true',
  }));
  statements.push(`INSERT INTO ${q(sink)}\nSELECT ${[...view.fields.map(f => q(f.name)), `CAST(${commitExpr} AS TIMESTAMP_LTZ(6)) AS ${q(WAREHOUSE_COMMIT_TS_COLUMN)}`].join(', ')}\nFROM ${q(src)};`);

  if (w.historyTable && view.format === 'debezium') {
    const changes = `src_${view.name}_changes`;
    const row = `ROW<${view.fields.map(f => `${q(f.name)} ${FLINK_TYPES[f.type]}`).join(', ')}>`;
    statements.push(table(changes, [`  ${q('before')} ${row}`, `  ${q('after')} ${row}`, `  ${q('op')} STRING`, `  ${q('source')} ROW<${q('ts_ms')} BIGINT>`], {
      'connector': 'kafka', 'topic': view.topic, 'format': 'json', 'json.timestamp-format.standard': 'ISO-8601',
      'scan.startup.mode': 'earliest-offset', ...options.kafka,
    }));
    const hist = `wh_${w.historyTable}`;
    statements.push(table(hist, [...cols, `  ${q(WAREHOUSE_OP_COLUMN)} STRING NOT NULL`, `  ${q(WAREHOUSE_COMMIT_TS_COLUMN)} TIMESTAMP_LTZ(6)`], {
      'connector': 'iceberg', ...catalog, 'catalog-database': options.database, 'catalog-table': w.historyTable,
    }));
    // A delete carries the row's last values (the before-image); tombstones (null values) are skipped by the json format.
    const values = view.fields.map(f => `COALESCE(${q('after')}.${q(f.name)}, ${q('before')}.${q(f.name)}) AS ${q(f.name)}`);
    statements.push(`INSERT INTO ${q(hist)}\nSELECT ${[...values, `${q('op')} AS ${q(WAREHOUSE_OP_COLUMN)}`,
      `CAST(TO_TIMESTAMP_LTZ(${q('source')}.${q('ts_ms')}, 3) AS TIMESTAMP_LTZ(6)) AS ${q(WAREHOUSE_COMMIT_TS_COLUMN)}`].join(', ')}\nFROM ${q(changes)}\nWHERE ${q('op')} IS NOT NULL;`);
  }
  return `${statements.join('\n\n')}\n`;
}

function table(name: string, lines: string[], options: Record<string, string>): string {
  const withLines = Object.entries(options).map(([k, v]) => `  ${lit(k)} = ${lit(v)}`);
  return `CREATE TABLE ${q(name)} (\n${lines.join(',\n')}\n) WITH (\n${withLines.join(',\n')}\n);`;
}

function q(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function lit(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
