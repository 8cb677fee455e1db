// What the stores hold for each row, and how a cache key is spelled: the contract between the sinks (writers) and the MCP server (reader).

/** Where in the source's history a change happened. */
export type SourcePosition =
  | { readonly kind: 'postgres'; readonly lsn: string; readonly txId?: number }
  | { readonly kind: 'mysql'; readonly file: string; readonly pos: number; readonly row: number; readonly gtid?: string }
  | { readonly kind: 'kafka'; readonly topic: string; readonly partition: number; readonly offset: string };

export interface Provenance {
  /** Logical source: Debezium `source.db` (and connector name), or the Flink pipeline for derived views. */
  readonly sourceDatabase: string;
  /** `schema.table` or `database.table`; for Flink outputs, the output table. */
  readonly sourceTable: string;
  /** Primary key of the row, as columns. */
  readonly key: Record<string, unknown>;
  /** Source commit time, epoch milliseconds (Debezium `source.ts_ms`, or the Kafka record timestamp). */
  readonly commitTimeMs: number;
  readonly position: SourcePosition;
  /**
   * Total order of changes to this key as a decimal string of a non-negative 63-bit integer.
   * Writes apply only when it is greater than the stored one; OpenSearch uses it as the external version.
   */
  readonly version: string;
  /** Debezium `op` (`c`, `u`, `d`, `r`) or `upsert` / `delete` for upsert-kafka records. */
  readonly op: string;
  /** Kafka coordinates of the record that carried the change. */
  readonly kafka: { readonly topic: string; readonly partition: number; readonly offset: string };
  /** When the sink wrote it, epoch milliseconds. */
  readonly writtenAtMs: number;
  /**
   * The sink invocation that wrote it: its Lambda request id and X-Ray trace id, which every log line of that
   * invocation carries too (`function_request_id`, `xray_trace_id`), so an answer leads to the batch that wrote it.
   * Absent when the writer was not a Lambda invocation (the local dev loop) or wrote before this field existed.
   */
  readonly writer?: SinkInvocation;
}

/** A sink Lambda invocation: `context.awsRequestId` and the Root of `_X_AMZN_TRACE_ID` (when tracing is on). */
export interface SinkInvocation {
  readonly requestId: string;
  readonly traceId?: string;
}

/** A row as stored. `row` is null for a delete tombstone. */
export interface StoredRecord {
  readonly view: string;
  readonly row: Record<string, unknown> | null;
  readonly provenance: Provenance;
}

/**
 * Canonical string for a key: values in the view's key-column order, each JSON-encoded, joined by ':'.
 * JSON encoding keeps ':' inside values unambiguous and makes glob characters inert (keys are never patterns).
 */
export function encodeKey(keyColumns: readonly string[], key: Record<string, unknown>): string {
  // A loop rather than map/join: this runs for every record the sink writes.
  let out = '';
  for (let i = 0; i < keyColumns.length; i++) {
    const col = keyColumns[i];
    const v = key[col];
    if (v === undefined || v === null || !(col in key)) throw new Error(`key column '${col}' is missing`);
    out += i === 0 ? JSON.stringify(normalizeKeyValue(v)) : `:${JSON.stringify(normalizeKeyValue(v))}`;
  }
  return out;
}

/**
 * The one spelling of an integer written as decimal digits: no leading zeros, no `-0`, exact beyond 2^53 ("007" -> "7").
 * The sinks key rows of an `integer` key column by it (a source may send the column as a digit string) and the MCP server
 * reads integer arguments with it, so a key given either way names the same row.
 */
export function canonicalIntegerDigits(digits: string): string {
  return BigInt(digits).toString();
}

/** Numbers and numeric strings of integer columns compare equal whichever the source sent. */
function normalizeKeyValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return typeof v === 'string' || typeof v === 'boolean' ? String(v) : v;
}

/** The Redis key of a row of a cache view. */
export function cacheKey(keyPrefix: string, keyColumns: readonly string[], key: Record<string, unknown>): string {
  return `${keyPrefix}${encodeKey(keyColumns, key)}`;
}

/** The OpenSearch document id of a row of a search view. */
export function documentId(keyColumns: readonly string[], key: Record<string, unknown>): string {
  return encodeKey(keyColumns, key);
}

/**
 * A cache row is a Redis hash with two fields: the zero-padded version (compared as a string in Lua,
 * where numbers are doubles and lose precision past 2^53) and the JSON-encoded StoredRecord.
 */
export const CACHE_FIELDS = { version: 'v', record: 'r' } as const;

/** Pads a version to 20 digits so string order equals numeric order. */
export function paddedVersion(version: string | bigint): string {
  const s = typeof version === 'bigint' ? version.toString() : version;
  if (!/^\d{1,20}$/.test(s)) throw new Error(`version must be a non-negative integer, got '${s}'`);
  return s.padStart(20, '0');
}
