// Table declarations the application writes for you: a Debezium CDC source read from its Kafka topic, and an upsert-kafka output keyed by the primary key.
import { Duration, Token } from 'aws-cdk-lib';
import { sqlString } from './flink-sql';

/** A physical column: name and Flink SQL type (`BIGINT`, `STRING`, `DECIMAL(10, 2)`, `TIMESTAMP(3)`...). */
export interface FlinkColumn {
  readonly name: string;
  readonly type: string;
}

/** Names of the metadata columns a CDC source table carries for lineage. */
export interface CdcMetadataColumns {
  /** Source database commit time (`value.source.timestamp`, TIMESTAMP_LTZ(3)). @default 'cdc_commit_ts' */
  readonly commitTimestamp?: string;
  /** Source table name (`value.source.table`, STRING). @default 'cdc_source_table' */
  readonly sourceTable?: string;
  /** Kafka offset of the change event (`offset`, BIGINT). @default 'cdc_kafka_offset' */
  readonly kafkaOffset?: string;
}

export interface DebeziumSourceTableOptions {
  /** Flink table name (an identifier: letters, digits, `_`). */
  readonly name: string;
  /** Kafka topic Debezium writes the table's changes to. */
  readonly topic: string;
  /** Columns of the source table that the job uses. */
  readonly columns: FlinkColumn[];
  /** Primary key columns (Flink needs them to turn change events into an updating table). */
  readonly primaryKey: string[];
  /**
   * Whether events carry the JSON schema envelope (`value.converter.schemas.enable=true` on the connector).
   * @default false
   */
  readonly schemaInclude?: boolean;
  /** @default - cdc_commit_ts, cdc_source_table, cdc_kafka_offset */
  readonly metadataColumns?: CdcMetadataColumns;
  /**
   * Where the first start reads from (restarts resume from the checkpointed offsets regardless).
   * @default 'earliest-offset' (a CDC topic starts with the snapshot of the table)
   */
  readonly startupMode?: 'earliest-offset' | 'latest-offset' | 'group-offsets';
}

export interface UpsertKafkaSinkTableOptions {
  readonly name: string;
  /** Output topic (compacted topics suit upsert streams). */
  readonly topic: string;
  readonly columns: FlinkColumn[];
  /** Kafka message key: updates and deletes of one key land in one partition, in order, so stores converge. */
  readonly primaryKey: string[];
  /** Key and value format. @default 'json' */
  readonly format?: 'json' | 'avro' | 'csv' | 'raw';
  /**
   * How long the sink keeps a key's changes to write only the last one (upsert-kafka's `sink.buffer-flush.interval`).
   * A regular join emits an update of a joined row as a DELETE then an INSERT; without merging, the DELETE reaches the
   * topic as a tombstone and a reader between the two records sees the row missing. The pair is emitted back to back,
   * so a short window usually merges it (a timer flush between the two halves still splits it); the cost is up to this long of added latency per change. `Duration.millis(0)` turns
   * merging off (every change, tombstones included, is written as it comes).
   * @default Duration.millis(20)
   */
  readonly mergeWindow?: Duration;
  /**
   * The most keys held in the merge buffer before it is written early (upsert-kafka's `sink.buffer-flush.max-rows`).
   * @default 1000
   */
  readonly mergeMaxRows?: number;
}

/** Default merge window of `upsertKafkaSink`: long enough for a join's DELETE/INSERT pair, short beside the other stages. */
export const DEFAULT_UPSERT_MERGE_WINDOW_MS = 20;
/** Default merge buffer size of `upsertKafkaSink`. */
export const DEFAULT_UPSERT_MERGE_MAX_ROWS = 1000;

/** A table declared by the application rather than in the SQL text. */
export class FlinkTable {
  /** A CDC source: `kafka` connector, `debezium-json` format, metadata columns for commit time, source table and offset. */
  public static debeziumSource(options: DebeziumSourceTableOptions): FlinkTable {
    checkShape('FlinkTable.debeziumSource', options.name, options.topic, options.columns, options.primaryKey);
    const meta = {
      commitTimestamp: options.metadataColumns?.commitTimestamp ?? 'cdc_commit_ts',
      sourceTable: options.metadataColumns?.sourceTable ?? 'cdc_source_table',
      kafkaOffset: options.metadataColumns?.kafkaOffset ?? 'cdc_kafka_offset',
    };
    for (const m of Object.values(meta)) {
      checkIdentifier('FlinkTable.debeziumSource', 'metadataColumns', m);
      if (options.columns.some(c => c.name.toLowerCase() === m.toLowerCase())) {
        throw new Error(`FlinkTable.debeziumSource(${options.name}): metadata column '${m}' collides with a column of the same name; rename it through metadataColumns.`);
      }
    }
    const lines = [
      ...options.columns.map(c => `  ${ident(c.name)} ${c.type}`),
      `  ${ident(meta.commitTimestamp)} TIMESTAMP_LTZ(3) METADATA FROM 'value.source.timestamp' VIRTUAL`,
      `  ${ident(meta.sourceTable)} STRING METADATA FROM 'value.source.table' VIRTUAL`,
      `  ${ident(meta.kafkaOffset)} BIGINT METADATA FROM 'offset' VIRTUAL`,
      `  PRIMARY KEY (${options.primaryKey.map(ident).join(', ')}) NOT ENFORCED`,
    ];
    const withOptions: Record<string, string> = {
      'connector': 'kafka',
      'topic': options.topic,
      'format': 'debezium-json',
      'debezium-json.schema-include': String(options.schemaInclude ?? false),
      'scan.startup.mode': options.startupMode ?? 'earliest-offset',
    };
    return new FlinkTable(options.name, options.topic, 'cdc-source', render(options.name, lines, withOptions));
  }

  /** An `upsert-kafka` output keyed by the primary key. */
  public static upsertKafkaSink(options: UpsertKafkaSinkTableOptions): FlinkTable {
    checkShape('FlinkTable.upsertKafkaSink', options.name, options.topic, options.columns, options.primaryKey);
    const format = options.format ?? 'json';
    const lines = [
      ...options.columns.map(c => `  ${ident(c.name)} ${c.type}`),
      `  PRIMARY KEY (${options.primaryKey.map(ident).join(', ')}) NOT ENFORCED`,
    ];
    const withOptions: Record<string, string> = { 'connector': 'upsert-kafka', 'topic': options.topic, 'key.format': format, 'value.format': format };
    const merge = mergeOptions(options);
    if (merge) {
      // Both must be above zero for the sink to buffer; it keeps the last change per key and writes on either bound
      // (and on every checkpoint), so a DELETE followed by an INSERT of the same key becomes the INSERT alone.
      withOptions['sink.buffer-flush.max-rows'] = String(merge.maxRows);
      withOptions['sink.buffer-flush.interval'] = `${merge.windowMs} ms`;
    }
    if (format === 'json') {
      // Flink's JSON default ('SQL') writes timestamps as '2020-12-30 12:13:14.123Z', which OpenSearch date fields and
      // the sink's timestamp coercion reject; ISO-8601 is what both read.
      withOptions['key.json.timestamp-format.standard'] = 'ISO-8601';
      withOptions['value.json.timestamp-format.standard'] = 'ISO-8601';
    }
    return new FlinkTable(options.name, options.topic, 'upsert-sink', render(options.name, lines, withOptions));
  }

  private constructor(
    public readonly name: string,
    public readonly topic: string,
    public readonly kind: 'cdc-source' | 'upsert-sink',
    /** The CREATE TABLE statement (without the Kafka connection options the application adds). */
    public readonly ddl: string,
  ) {}
}

function mergeOptions(options: UpsertKafkaSinkTableOptions): { windowMs: number; maxRows: number } | undefined {
  const where = `FlinkTable.upsertKafkaSink(${options.name})`;
  const window = options.mergeWindow;
  if (window && Token.isUnresolved(window.toMilliseconds({ integral: false }))) {
    throw new Error(`${where}: mergeWindow must be a literal Duration (it is written into the table's DDL).`);
  }
  const windowMs = window ? window.toMilliseconds({ integral: false }) : DEFAULT_UPSERT_MERGE_WINDOW_MS;
  if (!Number.isInteger(windowMs) || windowMs < 0 || windowMs > 60_000) {
    throw new Error(`${where}: mergeWindow ${window?.toHumanString()} is invalid; use whole milliseconds from Duration.millis(0) (no merging) to Duration.seconds(60).`);
  }
  const maxRows = options.mergeMaxRows ?? DEFAULT_UPSERT_MERGE_MAX_ROWS;
  if (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > 1_000_000) {
    throw new Error(`${where}: mergeMaxRows ${maxRows} is invalid; use a whole number from 1 to 1000000.`);
  }
  if (options.mergeMaxRows !== undefined && windowMs === 0) {
    throw new Error(`${where}: mergeMaxRows is set but mergeWindow is 0 (merging off); remove mergeMaxRows or give a mergeWindow above 0.`);
  }
  return windowMs === 0 ? undefined : { windowMs, maxRows };
}

function render(name: string, lines: string[], options: Record<string, string>): string {
  const withLines = Object.entries(options).map(([k, v]) => `  ${sqlString(k)} = ${sqlString(v)}`);
  return `CREATE TABLE ${ident(name)} (\n${lines.join(',\n')}\n) WITH (\n${withLines.join(',\n')}\n);`;
}

function ident(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function checkIdentifier(where: string, what: string, value: string): void {
  if (Token.isUnresolved(value) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new Error(`${where}: ${what} '${value}' is not a plain identifier; use letters, digits and '_' (not starting with a digit).`);
  }
}

function checkShape(where: string, name: string, topic: string, columns: FlinkColumn[], primaryKey: string[]): void {
  checkIdentifier(where, 'name', name);
  if (Token.isUnresolved(topic) || !/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new Error(`${where}(${name}): topic '${topic}' is not a literal Kafka topic name; use 1-249 characters from [A-Za-z0-9._-].`);
  }
  if (columns.length === 0) throw new Error(`${where}(${name}): columns is empty; list the columns the job uses.`);
  for (const c of columns) {
    checkIdentifier(`${where}(${name})`, 'column', c.name);
    if (!c.type.trim() || /[;'`]/.test(c.type)) throw new Error(`${where}(${name}): column '${c.name}' has type '${c.type}'; give a Flink SQL type such as BIGINT or STRING.`);
  }
  if (primaryKey.length === 0) throw new Error(`${where}(${name}): primaryKey is empty; give the key columns.`);
  const names = new Set(columns.map(c => c.name));
  for (const k of primaryKey) {
    if (!names.has(k)) throw new Error(`${where}(${name}): primary key column '${k}' is not one of the columns (${[...names].join(', ')}).`);
  }
}
