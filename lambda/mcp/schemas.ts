// Zod schemas the MCP tools are generated from: bounded scalars per view field type, provenance, and the shared output shapes.
import * as z from 'zod';
import { canonicalIntegerDigits, type SourcePosition } from '../../contract/stored-record';
import type { ViewConfig, ViewFieldConfig, ViewFieldType } from '../../contract/view-config';

/** Bounds every tool input respects; they keep a single call cheap for the stores and small for the model's context. */
export const LIMITS = {
  /** Longest string value accepted anywhere (keys, filter values). */
  maxValueLength: 512,
  /** Longest free-text query. */
  maxQueryLength: 512,
  /** Longest text `<view>_similar` embeds. */
  maxSimilarTextLength: 4000,
  /** Keys per `<view>_lookup_many` call. */
  maxLookupKeys: 100,
  /** Rows per `<view>_search` page. */
  maxSearchSize: 100,
  /** Deepest page a search may ask for (`from + size`). */
  maxSearchWindow: 1000,
  /** Values in one `terms` filter. */
  maxFilterValues: 50,
  /** Buckets of a terms aggregation. */
  maxTermsBuckets: 50,
  /** Decision text fields. */
  maxDecisionLength: 4000,
  maxRationaleLength: 16000,
  /** Tool calls and data references one decision may cite. */
  maxDecisionItems: 100,
  /** JSON size of the arguments of one cited tool call. */
  maxToolCallArgumentsBytes: 4096,
} as const;

/** Field types an exact-match filter, a sort or a terms aggregation may use. */
export const EXACT_TYPES: readonly ViewFieldType[] = ['keyword', 'string', 'integer', 'number', 'boolean', 'timestamp'];
/** Field types searched by free text. */
export const TEXT_TYPES: readonly ViewFieldType[] = ['text'];
export const NUMERIC_TYPES: readonly ViewFieldType[] = ['integer', 'number'];
export const RANGE_TYPES: readonly ViewFieldType[] = ['integer', 'number', 'timestamp'];

const boundedString = () => z.string().min(1).max(LIMITS.maxValueLength);
// Digit strings come out canonical ("007" -> "7", "-0" -> "0"), exact beyond 2^53: the sinks key integer columns in this
// form (canonicalIntegerDigits, contract/stored-record.ts), so a key or filter value given with leading zeros still matches its row.
const integerValue = () => z.union([
  z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^-?\d{1,19}$/, 'an integer written as decimal digits'),
]).transform(v => (typeof v === 'string' ? canonicalIntegerDigits(v) : v));
/**
 * What the search mapping's `strict_date_optional_time||epoch_millis` parses, and no more: a date `YYYY-MM-DD` or a
 * date-time `YYYY-MM-DDTHH:mm[:ss[.f{1,9}]]` with an optional `Z` or `±HH:mm` / `±HHmm` offset (a `T`, not a space).
 */
// The group keeps the advertised pattern from starting with `^\d`, which the argument errors read as a digit string.
const ISO_TIMESTAMP = /^(?:\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** The same, capturing year, month, day, hour, minute, second, offset hours and minutes. */
const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/;
/** Largest epoch millisecond a JavaScript Date (and the answer's ISO rendering) can hold. */
export const MAX_EPOCH_MS = 8.64e15;

/** The fields of an ISO_TIMESTAMP match are in range (month 1-12, a day of that month, 00:00:00-23:59:59, offset ≤ 18:59) and Date.parse reads it. */
export function validIsoTimestamp(s: string): boolean {
  const m = ISO_PARTS.exec(s);
  if (!m) return false;
  const [y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0] = m.slice(1).map(x => (x === undefined ? undefined : Number(x))) as number[];
  const day = new Date(Date.UTC(2000, mo - 1, d));
  day.setUTCFullYear(y);
  if (mo < 1 || mo > 12 || d < 1 || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return false;
  if (h > 23 || mi > 59 || sec > 59 || oh > 18 || om > 59) return false;
  // Date.parse reads `±HH:mm` offsets only.
  return !Number.isNaN(Date.parse(s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')));
}

const timestampValue = () => z.union([
  z.string().regex(ISO_TIMESTAMP, { error: 'an ISO-8601 date YYYY-MM-DD or date-time YYYY-MM-DDTHH:mm[:ss[.fff]] with optional Z or ±HH:mm', abort: true })
    .refine(validIsoTimestamp, 'not a real date or time (month 01-12, a day of that month, hour 00-23, minute and second 00-59, offset up to ±18:59)'),
  z.number().int().min(0).max(MAX_EPOCH_MS).describe('epoch milliseconds'),
]);

/** The input schema of one value of a field (a key column, a filter value, a range bound). */
export function fieldValueSchema(type: ViewFieldType): z.ZodType {
  switch (type) {
    case 'integer': return integerValue();
    case 'number': return z.number().finite();
    case 'boolean': return z.boolean();
    case 'timestamp': return timestampValue();
    case 'json': throw new Error('json fields cannot be compared');
    default: return boundedString();
  }
}

function describeField(f: ViewFieldConfig): string {
  return `${f.type}${f.description ? `: ${f.description}` : ''}`;
}

/** Output schema of a field value as stored: typed where the type is certain, permissive where sinks may vary. */
function fieldOutputSchema(f: ViewFieldConfig): z.ZodType {
  switch (f.type) {
    case 'string': case 'text': case 'keyword': return z.string().nullable().optional().describe(describeField(f));
    case 'boolean': return z.boolean().nullable().optional().describe(describeField(f));
    case 'integer': case 'number': return z.union([z.number(), z.string()]).nullable().optional().describe(describeField(f));
    case 'timestamp': return z.union([z.string(), z.number()]).nullable().optional().describe(describeField(f));
    default: return z.unknown().optional().describe(describeField(f));
  }
}

export function fieldOf(view: ViewConfig, name: string): ViewFieldConfig {
  const f = view.fields.find(x => x.name === name);
  if (!f) throw new Error(`view '${view.name}': key column '${name}' is not among its fields`);
  return f;
}

/** `{ <keyColumn>: value, ... }`: strict, every key column required. */
export function keySchema(view: ViewConfig): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const col of view.key) {
    const f = fieldOf(view, col);
    shape[col] = fieldValueSchema(f.type === 'json' ? 'string' : f.type).describe(`Key column ${col} (${describeField(f)})`);
  }
  return z.strictObject(shape);
}

/** A row as returned: the declared fields (extra columns pass through untyped). */
export function rowSchema(view: ViewConfig): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const f of view.fields) shape[f.name] = fieldOutputSchema(f);
  return z.looseObject(shape);
}

export const sourcePositionSchema = z.union([
  z.object({ kind: z.literal('postgres'), lsn: z.string(), txId: z.number().optional() }),
  z.object({ kind: z.literal('mysql'), file: z.string(), pos: z.number(), row: z.number(), gtid: z.string().optional() }),
  z.object({ kind: z.literal('kafka'), topic: z.string(), partition: z.number(), offset: z.string() }),
]);

const kafkaCoordinates = z.object({ topic: z.string(), partition: z.number(), offset: z.string() });

/** Provenance as the sinks store it (see contract/stored-record.ts). */
export const provenanceSchema = z.object({
  sourceDatabase: z.string(),
  sourceTable: z.string(),
  key: z.record(z.string(), z.unknown()),
  commitTimeMs: z.number(),
  position: sourcePositionSchema,
  version: z.string(),
  op: z.string(),
  kafka: kafkaCoordinates,
  writtenAtMs: z.number(),
  // The sink invocation that wrote the row: its log lines carry the same function_request_id and xray_trace_id.
  writer: z.object({ requestId: z.string(), traceId: z.string().optional() }).optional()
    .describe('The sink Lambda invocation that wrote this row (request id, X-Ray trace id), to find its logs and trace'),
});

/** The same shape accepted as input (record_decision data references): strict and bounded. */
export const provenanceInputSchema = z.strictObject({
  sourceDatabase: z.string().max(256),
  sourceTable: z.string().max(256),
  key: z.record(z.string().max(128), z.union([z.string().max(LIMITS.maxValueLength), z.number(), z.boolean()])),
  commitTimeMs: z.number().int().nonnegative(),
  position: z.union([
    z.strictObject({ kind: z.literal('postgres'), lsn: z.string().max(64), txId: z.number().int().optional() }),
    z.strictObject({ kind: z.literal('mysql'), file: z.string().max(256), pos: z.number().int(), row: z.number().int(), gtid: z.string().max(256).optional() }),
    z.strictObject({ kind: z.literal('kafka'), topic: z.string().max(256), partition: z.number().int(), offset: z.string().max(32) }),
  ]),
  version: z.string().regex(/^\d{1,20}$/),
  op: z.string().max(16),
  kafka: z.strictObject({ topic: z.string().max(256), partition: z.number().int(), offset: z.string().max(32) }),
  writtenAtMs: z.number().int().nonnegative(),
  writer: z.strictObject({ requestId: z.string().max(128), traceId: z.string().max(128).optional() }).optional(),
});

/** How old the data is (now minus the source commit time), where in the source's history it comes from, and whether it is stale. */
export const freshnessSchema = z.object({
  commitTime: z.string().describe('Source commit time (ISO-8601)'),
  position: sourcePositionSchema.nullable().describe('Source position of the change served (LSN or binlog coordinates); null when only the time is known'),
  ageMs: z.number().describe('Milliseconds between the source commit and this answer'),
  stale: z.boolean().describe("true when ageMs exceeds the view's maxStalenessMs: the answer is still given, decide whether it is fresh enough"),
  maxStalenessMs: z.number().nullable().describe('The age beyond which the view declares its data stale (null: no bound declared)'),
  staleByMs: z.number().nullable().describe('How far beyond maxStalenessMs the data is (null when not stale)'),
});

export type Freshness = z.infer<typeof freshnessSchema>;

/** Freshness of data committed at `commitTimeMs` (at `position`), for a view that may declare `maxStalenessMs`. */
export function freshness(
  commitTimeMs: number, nowMs: number, view?: Pick<ViewConfig, 'maxStalenessMs'>, position: SourcePosition | null = null,
): Freshness {
  const ageMs = Math.max(0, nowMs - commitTimeMs);
  const max = view?.maxStalenessMs ?? null;
  const stale = max !== null && ageMs > max;
  return {
    commitTime: new Date(commitTimeMs).toISOString(), position, ageMs, stale, maxStalenessMs: max, staleByMs: stale ? ageMs - max! : null,
  };
}

/** Freshness of a whole answer: the oldest and newest data in it, how many rows are stale, and a sentence when any is. */
export const answerFreshnessSchema = z.object({
  rows: z.number().int().describe('Rows the summary covers (rows with provenance)'),
  oldestCommitTime: z.string().nullable(),
  newestCommitTime: z.string().nullable(),
  maxAgeMs: z.number().nullable().describe('Age of the oldest row'),
  staleRows: z.number().int().describe("Rows older than the view's maxStalenessMs"),
  maxStalenessMs: z.number().nullable(),
  warning: z.string().nullable().describe('Set when some data is stale: how many rows and how stale'),
});

export type AnswerFreshness = z.infer<typeof answerFreshnessSchema>;

export function answerFreshness(items: readonly (Freshness | null)[], view: Pick<ViewConfig, 'maxStalenessMs'>): AnswerFreshness {
  const known = items.filter((f): f is Freshness => f !== null);
  const max = view.maxStalenessMs ?? null;
  if (known.length === 0) {
    return { rows: 0, oldestCommitTime: null, newestCommitTime: null, maxAgeMs: null, staleRows: 0, maxStalenessMs: max, warning: null };
  }
  const byAge = [...known].sort((a, b) => b.ageMs - a.ageMs);
  const stale = known.filter(f => f.stale);
  return {
    rows: known.length,
    oldestCommitTime: byAge[0].commitTime,
    newestCommitTime: byAge[byAge.length - 1].commitTime,
    maxAgeMs: byAge[0].ageMs,
    staleRows: stale.length,
    maxStalenessMs: max,
    warning: stale.length ? staleWarning(stale.length, known.length, byAge[0], max!) : null,
  };
}

export function staleWarning(staleRows: number, rows: number, oldest: Freshness, maxStalenessMs: number): string {
  const what = rows === 1 ? 'The data is' : `${staleRows} of ${rows} rows are`;
  return `${what} older than the view's maxStaleness of ${humanMs(maxStalenessMs)}: ${rows === 1 ? 'it' : 'the oldest'} was committed at ${oldest.commitTime}, ${humanMs(oldest.ageMs)} ago (${humanMs(oldest.staleByMs ?? 0)} beyond the bound). The pipeline may be behind; decide whether this is fresh enough.`;
}

/** `1.5 s`, `1.5 min`, `12 min`, `3.2 h`, `2.0 d`. */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(ms < 600_000 ? 1 : 0)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** A stored row with where it came from and how old it is. */
export function servedRowSchema(view: ViewConfig) {
  return z.object({
    key: z.record(z.string(), z.unknown()),
    found: z.boolean().describe('false when the key was never written or its row was deleted'),
    deleted: z.boolean().describe('true when the source deleted the row (a tombstone is stored)'),
    row: rowSchema(view).nullable(),
    provenance: provenanceSchema.nullable(),
    freshness: freshnessSchema.nullable(),
  });
}
