// Decoding of MSK event records (Debezium change events and Flink upsert-kafka records) into StoredRecords with provenance and a total-order version.
import type { ViewConfig } from '../../contract/view-config';
import { canonicalIntegerDigits, type Provenance, type SinkInvocation, type SourcePosition, type StoredRecord } from '../../contract/stored-record';
import { isDebeziumUnavailableValue } from '../../contract/debezium';
import { normalizeTimestamp } from '../../contract/timestamps';
import { quoteUnsafeIntegers } from './lossless-json';
import { projectRow } from './schema-policy';

export { coerce } from './coerce';
export { SchemaChangeError } from './schema-policy';
export { quoteUnsafeIntegers } from './lossless-json';

/** One record as the Lambda MSK event source delivers it (key and value are base64; either may be absent). */
export interface MskEventRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | string;
  readonly timestamp?: number;
  readonly timestampType?: string;
  readonly key?: string | null;
  readonly value?: string | null;
  readonly headers?: unknown[];
}

/** The Lambda MSK event: records grouped by `<topic>-<partition>`. */
export interface MskEvent {
  readonly eventSource?: string;
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly records: Record<string, MskEventRecord[]>;
}

/** A record that cannot be turned into a store write: it goes to the dead-letter destination. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export type DecodeOutcome =
  | { readonly kind: 'write'; readonly record: StoredRecord }
  /** Nothing to write: a Debezium tombstone (the delete event before it carried the position), or a heartbeat. */
  | { readonly kind: 'skip'; readonly reason: 'tombstone' | 'heartbeat' | 'schema-change'; readonly sourceTsMs?: number };

const MAX_VERSION = (1n << 63n) - 1n;
// MySQL positions pack into 63 bits as file number (19 bits) | position in file (32 bits) | row in event (12 bits).
const MYSQL_FILE_BITS = 19n;
const MYSQL_POS_BITS = 32n;
const MYSQL_ROW_BITS = 12n;

/** Flattens the MSK event into records in the order Lambda delivered them (per partition, ascending offset). */
export function eventRecords(event: MskEvent): MskEventRecord[] {
  const out: MskEventRecord[] = [];
  for (const partition of Object.values(event.records ?? {})) {
    for (const r of partition) out.push(r);
  }
  return out;
}

/** Values up to this size are decoded into one reused buffer; a larger one gets its own, so the scratch never pins megabytes. */
const SCRATCH_LIMIT = 64 * 1024;
let scratch = Buffer.allocUnsafe(4096);

/**
 * Base64 to UTF-8 text through one reused buffer: the same decoder as `Buffer.from(b64, 'base64')` (it writes with
 * the same base64 writer), without allocating a buffer per key and value.
 */
function decodeBase64(b64: string | null | undefined): string | null {
  if (b64 === undefined || b64 === null) return null;
  // Base64 carries 3 bytes in 4 characters; the decoder never writes more than that.
  const max = Math.ceil(b64.length / 4) * 3;
  if (max > SCRATCH_LIMIT) return Buffer.from(b64, 'base64').toString('utf8');
  if (max > scratch.length) scratch = Buffer.allocUnsafe(SCRATCH_LIMIT);
  const n = scratch.write(b64, 0, 'base64');
  return scratch.toString('utf8', 0, n);
}

/**
 * Parses a record's JSON. `lossless`: integer literals beyond 2^53 become digit strings (JSON.parse would round them, and
 * two BIGINT keys 9007199254740992 and 9007199254740993 would name one row); the sink parses so only for a record in which
 * the plain parse met such an integer (`LOSSY`).
 */
function parseJson(text: string, what: string, lossless = false): unknown {
  try {
    return JSON.parse(lossless ? quoteUnsafeIntegers(text) : text);
  } catch (e) {
    throw new DecodeError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

/** A number JSON.parse rounded: an integer beyond 2^53 (`Number.isSafeInteger` is false for non-integers too). */
const isRoundedInteger = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v);

/** Returned by the decoders when the plain parse rounded a key or a stored integer: decode again with the lossless parse. */
const LOSSY = Symbol('lossy');

/** Strips the Kafka Connect JSON converter's `{schema, payload}` wrapper when schemas are on. */
function unwrapSchema(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v) && 'payload' in v && 'schema' in v) {
    return (v as { payload: unknown }).payload;
  }
  return v;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Debezium's PostgreSQL `lsn` is the change's WAL position, a 64-bit unsigned integer (number or string). */
export function postgresVersion(lsn: unknown): bigint {
  let v: bigint;
  if (typeof lsn === 'number' && Number.isSafeInteger(lsn) && lsn >= 0) v = BigInt(lsn);
  else if (typeof lsn === 'string' && /^\d+$/.test(lsn)) v = BigInt(lsn);
  else if (typeof lsn === 'string' && /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(lsn)) {
    const [hi, lo] = lsn.split('/');
    v = (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
  } else throw new DecodeError(`source.lsn '${String(lsn)}' is not a PostgreSQL LSN`);
  if (v > MAX_VERSION) throw new DecodeError(`source.lsn ${v} exceeds 2^63-1`);
  return v;
}

/** `["<digits>"|null,"<digits>"|null]` with no spaces or escapes, as Debezium writes `source.sequence`; anything else is parsed as JSON. */
const PLAIN_SEQUENCE = /^\[(?:null|"(\d+)"),(?:null|"(\d+)")\]$/;

/** Debezium PostgreSQL's `source.sequence` (a JSON array string of two LSN strings, either may be null), or undefined. */
export function postgresSequence(v: unknown): { lastCommit: bigint; lsn?: bigint } | undefined {
  if (typeof v !== 'string') return undefined;
  // Every streamed PostgreSQL event carries one, always in this form: read it without JSON.parse and an array per record.
  const m = PLAIN_SEQUENCE.exec(v);
  let pair: unknown[];
  if (m) {
    pair = [m[1], m[2]];
  } else {
    try {
      pair = JSON.parse(v) as unknown[];
    } catch {
      return undefined;
    }
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
  }
  const num = (x: unknown) => (typeof x === 'string' && /^\d+$/.test(x) ? BigInt(x) : undefined);
  const lastCommit = num(pair[0]);
  if (lastCommit === undefined || lastCommit > MAX_VERSION) return undefined;
  const lsn = num(pair[1]);
  return { lastCommit, ...(lsn !== undefined && lsn <= MAX_VERSION ? { lsn } : {}) };
}

/** Binlog file number, position and row packed so that later changes have larger versions. */
export function mysqlVersion(file: unknown, pos: unknown, row: unknown): bigint {
  const m = typeof file === 'string' ? /\.(\d+)$/.exec(file) : null;
  if (!m) throw new DecodeError(`source.file '${String(file)}' is not a binlog file name (<base>.<number>)`);
  const fileNo = BigInt(m[1]);
  const p = toBigInt(pos, 'source.pos');
  const r = toBigInt(row ?? 0, 'source.row');
  if (fileNo >= 1n << MYSQL_FILE_BITS) throw new DecodeError(`binlog file number ${fileNo} exceeds ${(1n << MYSQL_FILE_BITS) - 1n}`);
  if (p >= 1n << MYSQL_POS_BITS) throw new DecodeError(`binlog position ${p} exceeds 2^32-1`);
  if (r >= 1n << MYSQL_ROW_BITS) throw new DecodeError(`binlog row ${r} exceeds ${(1n << MYSQL_ROW_BITS) - 1n}`);
  return (fileNo << (MYSQL_POS_BITS + MYSQL_ROW_BITS)) | (p << MYSQL_ROW_BITS) | r;
}

/** upsert-kafka: a key always lands in the same partition, so the partition offset orders its changes. */
export function kafkaVersion(offset: number | string): bigint {
  const v = toBigInt(offset, 'offset');
  if (v > MAX_VERSION) throw new DecodeError(`offset ${v} exceeds 2^63-1`);
  return v;
}

function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  throw new DecodeError(`${what} '${String(v)}' is not a non-negative integer`);
}

const integerKeyColumnsCache = new WeakMap<ViewConfig, ReadonlySet<string>>();

/** The view's key columns declared `integer`. */
function integerKeyColumns(view: ViewConfig): ReadonlySet<string> {
  let cols = integerKeyColumnsCache.get(view);
  if (!cols) integerKeyColumnsCache.set(view, cols = new Set(view.key.filter(k => view.fields.find(f => f.name === k)?.type === 'integer')));
  return cols;
}

function pickKey(view: ViewConfig, source: Record<string, unknown> | null, what: string): Record<string, unknown> {
  if (!source) throw new DecodeError(`${what} is missing, so the row key (${view.key.join(', ')}) is unknown`);
  const key: Record<string, unknown> = {};
  for (const col of view.key) {
    const v = source[col];
    if (v === undefined || v === null) throw new DecodeError(`key column '${col}' is missing from the ${what}`);
    // An integer key column a source sends as digits ("007", or beyond 2^53 after the lossless re-decode) is keyed by its
    // canonical digits, the form the MCP server looks integers up by; a number is keyed by its digits already (encodeKey).
    key[col] = typeof v === 'string' && /^-?\d+$/.test(v) && integerKeyColumns(view).has(col) ? canonicalIntegerDigits(v) : v;
  }
  return key;
}

/** The last join per separator: a topic's records all name one table, so its name is built once, not per record. */
const lastJoins = new Map<string, { readonly a: string; readonly b: string; readonly joined: string }>();

/** `a<sep>b` of the parts that are non-empty strings (Debezium's `schema.table`, `name/db`). */
function joinPresent(a: unknown, b: unknown, sep: string): string {
  const hasA = typeof a === 'string' && a !== '';
  const hasB = typeof b === 'string' && b !== '';
  if (!hasA || !hasB) return hasA ? a : hasB ? b : '';
  const last = lastJoins.get(sep);
  if (last !== undefined && last.a === a && last.b === b) return last.joined;
  const joined = `${a}${sep}${b}`;
  lastJoins.set(sep, { a, b, joined });
  return joined;
}

function kafkaCoordinates(rec: MskEventRecord) {
  return { topic: rec.topic, partition: rec.partition, offset: String(rec.offset) };
}

export interface DecodeOptions {
  /** Epoch ms stamped as `writtenAtMs`. */
  readonly nowMs: number;
  /** The sink invocation stamped as `writer`. @default - none */
  readonly writer?: SinkInvocation;
}

/**
 * Decodes one record for a view. Throws DecodeError when the record cannot be understood (it is
 * dead-lettered); returns `skip` for records that correctly carry nothing to write.
 */
export function decodeRecord(view: ViewConfig, rec: MskEventRecord, options: DecodeOptions): DecodeOutcome {
  const valueText = decodeBase64(rec.value);
  const outcome = decodeAs(view, rec, valueText, options, false);
  return outcome === LOSSY ? decodeAs(view, rec, valueText, options, true) as DecodeOutcome : outcome;
}

/** One decode of the record in the view's format (a function, not a closure made per record). */
function decodeAs(view: ViewConfig, rec: MskEventRecord, valueText: string | null, options: DecodeOptions, lossless: boolean): DecodeOutcome | typeof LOSSY {
  return view.format === 'upsert-kafka'
    ? decodeUpsert(view, rec, recordKey(rec, lossless), valueText, options, lossless)
    : decodeDebezium(view, rec, valueText, options, lossless);
}

/** The Kafka record key as JSON (the converter's schema wrapper removed), or null when the record has none. */
function recordKey(rec: MskEventRecord, lossless = false): unknown {
  const keyText = decodeBase64(rec.key);
  return keyText === null || keyText === '' ? null : unwrapSchema(parseJson(keyText, 'record key', lossless));
}

/**
 * One pass over the key and the projected row. LOSSY when the plain parse rounded the key or an integer the row stores (the
 * record is then decoded again losslessly; TIMESTAMP fields are ISO strings by then, so nanosecond epochs, rounded harmlessly
 * to the millisecond, do not count). With `placeholderTable` (Debezium records), a DecodeError for a field holding Debezium's
 * placeholder for an unchanged TOASTed value: storing it would replace the real value, and the record cannot supply it (a
 * replay decodes the same placeholder), so the table needs full row images.
 */
function checkRow(
  view: ViewConfig, key: Record<string, unknown>, row: Record<string, unknown> | null, lossless: boolean, placeholderTable?: string,
): typeof LOSSY | undefined {
  if (!lossless) for (const k in key) if (isRoundedInteger(key[k])) return LOSSY;
  if (row) {
    for (const field in row) {
      const v = row[field];
      if (typeof v === 'number') {
        if (!lossless && isRoundedInteger(v)) return LOSSY;
      } else if (placeholderTable !== undefined && isDebeziumUnavailableValue(v)) {
        throw new DecodeError(`field '${field}' holds Debezium's placeholder for an unchanged TOASTed value: PostgreSQL sends a large `
          + `column an UPDATE left unchanged only when the table's replica identity is FULL, so the row's value is not in this record `
          + `and a replay cannot recover it. List ${placeholderTable} in the source's fullRowImageTables (the replication bootstrap sets `
          + `REPLICA IDENTITY FULL), deploy, then re-snapshot the view (agent-data-stack resnapshot --view ${view.name}).`);
      }
    }
  }
  return undefined;
}

function decodeUpsert(
  view: ViewConfig, rec: MskEventRecord, keyJson: unknown, valueText: string | null, options: DecodeOptions, lossless: boolean,
): DecodeOutcome | typeof LOSSY {
  const value = valueText === null ? null : asObject(parseJson(valueText, 'record value', lossless), 'record value');
  // Flink's upsert-kafka writes the key columns in the key; the value usually repeats them.
  const keySource = keyJson !== null ? asObject(keyJson, 'record key') : value;
  const key = pickKey(view, keySource, 'record key');
  const version = kafkaVersion(rec.offset);
  // The record timestamp is when Flink produced the row; a view can name the field carrying the source commit time.
  const carried = view.commitTimeField && value ? Date.parse(String(normalizeTimestamp(value[view.commitTimeField]))) : NaN;
  const commitTimeMs = Number.isFinite(carried) ? carried : (typeof rec.timestamp === 'number' ? rec.timestamp : options.nowMs);
  const kafka = kafkaCoordinates(rec);
  const position: SourcePosition = { kind: 'kafka', topic: kafka.topic, partition: kafka.partition, offset: kafka.offset };
  const provenance: Provenance = {
    sourceDatabase: 'flink',
    sourceTable: view.sourceTable,
    key,
    commitTimeMs,
    position,
    version: version.toString(),
    op: value === null ? 'delete' : 'upsert',
    kafka,
    writtenAtMs: options.nowMs,
    writer: options.writer,
  };
  const row = value === null ? null : projectRow(view, { ...value, ...key });
  if (checkRow(view, key, row, lossless) === LOSSY) return LOSSY;
  return { kind: 'write', record: { view: view.name, row, provenance } };
}

function decodeDebezium(
  view: ViewConfig, rec: MskEventRecord, valueText: string | null, options: DecodeOptions, lossless: boolean,
): DecodeOutcome | typeof LOSSY {
  // Debezium follows each delete with a tombstone for log compaction; the delete already carried the position.
  if (valueText === null || valueText === '') return { kind: 'skip', reason: 'tombstone' };
  const envelope = asObject(unwrapSchema(parseJson(valueText, 'record value', lossless)), 'Debezium payload');
  const op = envelope.op;
  if (typeof op !== 'string') {
    // Schema-change events (`ddl`/`databaseName`) share some topics; they carry no row.
    if ('ddl' in envelope || 'tableChanges' in envelope) return { kind: 'skip', reason: 'schema-change' };
    throw new DecodeError('Debezium payload has no op: not a change event');
  }
  if (op !== 'c' && op !== 'u' && op !== 'd' && op !== 'r') throw new DecodeError(`Debezium op '${op}' is not one of c, u, d, r`);
  const source = asObject(envelope.source, 'Debezium source block');
  const before = (envelope.before ?? null) as Record<string, unknown> | null;
  const after = (envelope.after ?? null) as Record<string, unknown> | null;
  if (op !== 'd' && !after) throw new DecodeError(`Debezium '${op}' event has no after image`);
  // REPLICA IDENTITY DEFAULT deletes have no before image: the key is only in the Kafka record key, which is decoded
  // only then: the row images carry the key columns, and every other record is spared a second base64 and JSON decode.
  const keySource = op === 'd' ? (before ?? (recordKey(rec, lossless) as Record<string, unknown> | null)) : after;
  const key = pickKey(view, keySource ? asObject(keySource, 'row image') : null, op === 'd' ? 'before image and the record key' : 'after image');

  let position: SourcePosition;
  let version: string;
  // A snapshot read carries the position the snapshot was taken at (PostgreSQL: the slot's consistent point; MySQL: the
  // binlog position), which the first change after it shares: rank every snapshot read one below its position.
  // Old connectors mark snapshot events with `source.snapshot` instead of `op: r`.
  const snapshotValue = source.snapshot === undefined || source.snapshot === null ? 'false' : String(source.snapshot);
  const isSnapshotRead = op === 'r' || snapshotValue !== 'false';
  const lsnValue = source.lsn;
  // Debezium PostgreSQL's `sequence` is `["<last commit LSN>", "<LSN>"]`: the commit position of the transaction streamed
  // before this event's, in commit (stream) order. A change's own LSN is where it was written, not when its transaction
  // committed, so a transaction open across a snapshot chunk has LSNs below the chunk's position although it commits after it:
  // ranked by LSN alone, its change would be "older" than the chunk read that did not see it. Ranking by the larger of the two
  // keeps stream order (proof in docs/stores.md) and never lowers a version ranked by LSN before.
  // Read only where it is used: snapshot reads with an LSN rank by that LSN alone.
  let sequence: ReturnType<typeof postgresSequence>;
  if (lsnValue !== undefined && lsnValue !== null) {
    // A JSON-number LSN (what Debezium sends) is ranked as a number: a safe integer prints the same digits as its BigInt.
    const lsn = typeof lsnValue === 'number' && Number.isSafeInteger(lsnValue) && lsnValue >= 0 ? lsnValue : postgresVersion(lsnValue);
    const lsnText = String(lsn);
    if (isSnapshotRead) version = lsn > 0 ? String(typeof lsn === 'number' ? lsn - 1 : lsn - 1n) : lsnText;
    else {
      sequence = postgresSequence(source.sequence);
      version = sequence && sequence.lastCommit > lsn ? String(sequence.lastCommit) : lsnText;
    }
    // Built without a spread of a temporary object per record; the same properties in the same order.
    position = typeof source.txId === 'number' ? { kind: 'postgres', lsn: lsnText, txId: source.txId } : { kind: 'postgres', lsn: lsnText };
  } else if (snapshotValue === 'incremental' && (sequence = postgresSequence(source.sequence))) {
    // An incremental snapshot chunk read has no LSN: it is emitted when the chunk's closing watermark is read, at the stream
    // position `sequence` gives, after every change it saw (or dropped as newer) and before every later one. One below that
    // position: every earlier change ranks lower still, every later transaction's `sequence` is at least that position.
    const at = sequence.lsn !== undefined && sequence.lsn > sequence.lastCommit ? sequence.lsn : sequence.lastCommit;
    version = (at > 0n ? at - 1n : at).toString();
    position = { kind: 'postgres', lsn: at.toString() };
  } else if (source.file !== undefined) {
    const v = mysqlVersion(source.file, source.pos, source.row);
    version = (isSnapshotRead && v > 0n ? v - 1n : v).toString();
    const file = String(source.file), pos = Number(source.pos), row = Number(source.row ?? 0);
    position = typeof source.gtid === 'string' ? { kind: 'mysql', file, pos, row, gtid: source.gtid } : { kind: 'mysql', file, pos, row };
  } else {
    throw new DecodeError(`Debezium source block (connector '${String(source.connector ?? '')}') has neither lsn nor binlog file/pos`);
  }
  const table = joinPresent(source.schema ?? source.db, source.table, '.');
  const commitTimeMs = typeof source.ts_ms === 'number' ? source.ts_ms : (typeof envelope.ts_ms === 'number' ? envelope.ts_ms : options.nowMs);
  const provenance: Provenance = {
    sourceDatabase: joinPresent(source.name, source.db, '/'),
    sourceTable: table || view.sourceTable,
    key,
    commitTimeMs,
    position,
    version,
    op,
    kafka: kafkaCoordinates(rec),
    writtenAtMs: options.nowMs,
    writer: options.writer,
  };
  const row = op === 'd' ? null : projectRow(view, after!);
  if (checkRow(view, key, row, lossless, provenance.sourceTable) === LOSSY) return LOSSY;
  return { kind: 'write', record: { view: view.name, row, provenance } };
}

/**
 * Source time of a Debezium heartbeat record (`__debezium-heartbeat.*` topics carry `{ts_ms}`), or
 * undefined when the value has none.
 */
export function heartbeatSourceTsMs(rec: MskEventRecord): number | undefined {
  const text = decodeBase64(rec.value);
  if (!text) return undefined;
  try {
    const v = unwrapSchema(JSON.parse(text)) as Record<string, unknown> | null;
    const ts = v?.ts_ms ?? (v?.source as Record<string, unknown> | undefined)?.ts_ms;
    return typeof ts === 'number' ? ts : undefined;
  } catch {
    return undefined;
  }
}
