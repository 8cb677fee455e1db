// Builds OpenSearch request bodies from validated tool arguments: only declared fields, no agent-supplied DSL or query syntax.
import * as z from 'zod';
import type { SearchVectorConfig, ViewConfig, ViewFieldConfig } from '../../contract/view-config';
import { MAX_CURSOR_LENGTH } from './cursor';
import { EXACT_TYPES, fieldValueSchema, LIMITS, NUMERIC_TYPES, RANGE_TYPES, TEXT_TYPES } from './schemas';

const PROVENANCE_FIELD = '_provenance';
const COMMIT_TIME_FIELD = `${PROVENANCE_FIELD}.commitTimeMs`;

function fieldsOf(view: ViewConfig, types: readonly string[]): ViewFieldConfig[] {
  return view.fields.filter(f => types.includes(f.type));
}

/** Fields free text is matched against: `text`, and `string` (indexed as text with a `.keyword` sub-field). */
export function textFields(view: ViewConfig): string[] {
  return fieldsOf(view, [...TEXT_TYPES, 'string']).map(f => f.name);
}

/** The indexed path exact matching, sorting and terms aggregations use: `string` fields match on their `.keyword` sub-field. */
export function exactPath(view: ViewConfig, field: string): string {
  return view.fields.find(f => f.name === field)?.type === 'string' ? `${field}.keyword` : field;
}
export function exactFields(view: ViewConfig): ViewFieldConfig[] {
  return fieldsOf(view, EXACT_TYPES);
}
export function rangeFields(view: ViewConfig): ViewFieldConfig[] {
  return fieldsOf(view, RANGE_TYPES);
}
export function timestampFields(view: ViewConfig): string[] {
  return fieldsOf(view, ['timestamp']).map(f => f.name);
}
export function numericFields(view: ViewConfig): string[] {
  return fieldsOf(view, NUMERIC_TYPES).map(f => f.name);
}
/** Fields a terms aggregation may group by: exact fields, except free-form numbers. */
export function termsFields(view: ViewConfig): string[] {
  return fieldsOf(view, ['keyword', 'string', 'integer', 'boolean']).map(f => f.name);
}

function nonEmptyEnum(values: string[]): z.ZodEnum | undefined {
  return values.length > 0 ? z.enum(values as [string, ...string[]]) : undefined;
}

/** The query-shaping arguments shared by `_search` and `_aggregate`. */
export function criteriaShape(view: ViewConfig): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  const text = textFields(view);
  if (text.length > 0) {
    shape.text = z.string().min(1).max(LIMITS.maxQueryLength).optional()
      .describe(`Free text matched (as plain words, no query syntax) against: ${text.join(', ')}`);
  }
  const exact = exactFields(view);
  if (exact.length > 0) {
    const filters: Record<string, z.ZodType> = {};
    for (const f of exact) {
      const v = fieldValueSchema(f.type);
      filters[f.name] = z.union([v, z.array(v).min(1).max(LIMITS.maxFilterValues)]).optional()
        .describe(`${f.type}${f.description ? `: ${f.description}` : ''}. One value, or a list matching any of them`);
    }
    shape.filters = z.strictObject(filters).optional().describe('Exact-match filters on declared fields (all must hold)');
  }
  const ranged = rangeFields(view);
  if (ranged.length > 0) {
    const ranges: Record<string, z.ZodType> = {};
    for (const f of ranged) {
      const v = fieldValueSchema(f.type);
      ranges[f.name] = z.strictObject({ gte: v.optional(), gt: v.optional(), lte: v.optional(), lt: v.optional() })
        .refine(r => Object.values(r).some(x => x !== undefined), 'give at least one of gte, gt, lte, lt')
        .optional();
    }
    shape.ranges = z.strictObject(ranges).optional().describe('Range filters on numeric and time fields');
  }
  if (view.search?.timeField) {
    const t = fieldValueSchema('timestamp');
    shape.timeRange = z.strictObject({ from: t.optional(), to: t.optional() }).optional()
      .describe(`Rows whose ${view.search.timeField} is within [from, to] (ISO-8601 or epoch ms)`);
  }
  return shape;
}

export interface Criteria {
  text?: string;
  filters?: Record<string, unknown>;
  ranges?: Record<string, Record<string, unknown> | undefined>;
  timeRange?: { from?: unknown; to?: unknown };
}

/**
 * A bool query from validated criteria; field names are checked again against the view as a second line of defence. `scope`
 * (the caller's row scope clause) is one more filter: filters are ANDed, so no criterion can widen it.
 */
export function buildQuery(view: ViewConfig, c: Criteria, scope?: Record<string, unknown>): Record<string, unknown> {
  const declared = new Set(view.fields.map(f => f.name));
  const must: unknown[] = [];
  const filter: unknown[] = scope ? [scope] : [];
  const text = textFields(view);
  if (c.text !== undefined && text.length > 0) {
    // multi_match analyses the text as words: operators, wildcards and field syntax have no meaning here.
    must.push({ multi_match: { query: c.text, fields: text, type: 'best_fields', operator: 'or', lenient: true } });
  }
  for (const [field, value] of Object.entries(c.filters ?? {})) {
    if (value === undefined) continue;
    assertDeclared(declared, field);
    const p = exactPath(view, field);
    filter.push(Array.isArray(value) ? { terms: { [p]: value } } : { term: { [p]: value } });
  }
  for (const [field, range] of Object.entries(c.ranges ?? {})) {
    if (!range) continue;
    assertDeclared(declared, field);
    filter.push({ range: { [field]: pickDefined(range, ['gte', 'gt', 'lte', 'lt']) } });
  }
  const tf = view.search?.timeField;
  if (c.timeRange && tf && (c.timeRange.from !== undefined || c.timeRange.to !== undefined)) {
    filter.push({ range: { [tf]: pickDefined({ gte: c.timeRange.from, lte: c.timeRange.to }, ['gte', 'lte']) } });
  }
  if (must.length === 0 && filter.length === 0) return { match_all: {} };
  return { bool: { ...(must.length ? { must } : {}), ...(filter.length ? { filter } : {}) } };
}

function assertDeclared(declared: Set<string>, field: string): void {
  if (!declared.has(field)) throw new Error(`field '${field}' is not declared`);
}

function pickDefined(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

export function searchInputShape(view: ViewConfig): Record<string, z.ZodType> {
  const shape = criteriaShape(view);
  const sortable = nonEmptyEnum(exactFields(view).map(f => f.name));
  if (sortable) {
    shape.sort = z.array(z.strictObject({
      field: sortable,
      order: z.enum(['asc', 'desc']).default('desc'),
    })).min(1).max(3).optional().describe('Sort keys, in order; without it the best text matches come first');
  }
  shape.size = z.number().int().min(1).max(LIMITS.maxSearchSize).default(10).describe(`Rows to return (1-${LIMITS.maxSearchSize})`);
  shape.from = z.number().int().min(0).max(LIMITS.maxSearchWindow - 1).default(0).describe('Rows to skip, for paging');
  shape.cursor = z.string().min(1).max(MAX_CURSOR_LENGTH).optional()
    .describe('The nextCursor of the previous answer, to get the next page (same other arguments; leave from out)');
  return shape;
}

export interface SearchArgs extends Criteria {
  sort?: { field: string; order: 'asc' | 'desc' }[];
  size: number;
  from: number;
  cursor?: string;
}

export function buildSearchBody(view: ViewConfig, args: SearchArgs, timeoutMs: number, scope?: Record<string, unknown>): Record<string, unknown> {
  const size = Math.min(Math.max(1, args.size), LIMITS.maxSearchSize, LIMITS.maxSearchWindow - args.from);
  const body: Record<string, unknown> = {
    query: buildQuery(view, args, scope),
    size,
    from: args.from,
    timeout: `${timeoutMs}ms`,
    track_total_hits: LIMITS.maxSearchWindow,
    _source: { includes: [...view.fields.map(f => f.name), PROVENANCE_FIELD] },
  };
  if (args.sort?.length) {
    const declared = new Set(exactFields(view).map(f => f.name));
    for (const s of args.sort) assertDeclared(declared, s.field);
    body.sort = args.sort.map(s => ({ [exactPath(view, s.field)]: { order: s.order } }));
  }
  return body;
}

export const DATE_INTERVALS = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'] as const;

/** The aggregation choice, or undefined when the view has no field any aggregation applies to. */
export function aggregationSchema(view: ViewConfig): z.ZodType | undefined {
  const options: z.ZodObject[] = [];
  const terms = nonEmptyEnum(termsFields(view));
  if (terms) {
    options.push(z.strictObject({
      type: z.literal('terms'),
      field: terms,
      size: z.number().int().min(1).max(LIMITS.maxTermsBuckets).default(10).describe(`Top values to return (1-${LIMITS.maxTermsBuckets})`),
    }).describe('Counts of the most frequent values of a field'));
  }
  const dates = nonEmptyEnum(timestampFields(view));
  if (dates) {
    options.push(z.strictObject({
      type: z.literal('date_histogram'),
      field: dates,
      interval: z.enum(DATE_INTERVALS),
    }).describe('Row counts per calendar interval of a time field'));
  }
  const numbers = nonEmptyEnum(numericFields(view));
  if (numbers) {
    options.push(z.strictObject({ type: z.literal('stats'), field: numbers }).describe('count, min, max, avg and sum of a numeric field'));
  }
  if (options.length === 0) return undefined;
  return options.length === 1 ? options[0] : z.discriminatedUnion('type', options as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
}

export type AggregationArgs =
  | { type: 'terms'; field: string; size: number }
  | { type: 'date_histogram'; field: string; interval: (typeof DATE_INTERVALS)[number] }
  | { type: 'stats'; field: string };

/** At most this many date-histogram buckets are returned; the answer says when more existed. */
export const MAX_HISTOGRAM_BUCKETS = 500;

/**
 * Buckets of an open-range date histogram the domain is let count before `bucket_sort` keeps the first 501: OpenSearch builds
 * every bucket of the matching rows' span first and fails past `search.max_buckets` (65,535 by default; a domain can set it
 * lower) with too_many_buckets_exception (HTTP 503). Ten thousand is the safe side of that; a longer span is refused.
 */
export const MAX_COUNTED_HISTOGRAM_BUCKETS = 10_000;

export function buildAggregateBody(
  view: ViewConfig, criteria: Criteria, agg: AggregationArgs, timeoutMs: number, scope?: Record<string, unknown>,
): Record<string, unknown> {
  let result: Record<string, unknown>;
  switch (agg.type) {
    case 'terms':
      assertDeclared(new Set(termsFields(view)), agg.field);
      result = { terms: { field: exactPath(view, agg.field), size: Math.min(agg.size, LIMITS.maxTermsBuckets) } };
      break;
    case 'date_histogram':
      assertDeclared(new Set(timestampFields(view)), agg.field);
      // bucket_sort without a sort keeps the first buckets in key order: the domain returns at most one more than is served,
      // which is how the answer knows it was cut. Empty buckets are never created (min_doc_count 1).
      result = {
        date_histogram: { field: agg.field, calendar_interval: agg.interval, min_doc_count: 1 },
        aggs: { bounded: { bucket_sort: { size: MAX_HISTOGRAM_BUCKETS + 1 } } },
      };
      break;
    case 'stats':
      assertDeclared(new Set(numericFields(view)), agg.field);
      result = { stats: { field: agg.field } };
      break;
  }
  return {
    query: buildQuery(view, criteria, scope),
    size: 0,
    timeout: `${timeoutMs}ms`,
    track_total_hits: true,
    aggs: {
      result,
      newest: { max: { field: COMMIT_TIME_FIELD } },
      oldest: { min: { field: COMMIT_TIME_FIELD } },
    },
  };
}

/** Milliseconds of each calendar interval (months, quarters and years at their shortest, so estimates err high). */
const INTERVAL_MS: Record<(typeof DATE_INTERVALS)[number], number> = {
  minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 28 * 86_400_000, quarter: 89 * 86_400_000, year: 365 * 86_400_000,
};

function epochMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * How many buckets a date histogram can produce when the criteria bound its field on both sides (the time range for the view's
 * time field, else a range on the field); undefined when unbounded. With it a call is refused before it reaches the domain.
 */
export function histogramEstimate(view: ViewConfig, criteria: Criteria, field: string, interval: (typeof DATE_INTERVALS)[number]): number | undefined {
  const r = criteria.ranges?.[field];
  const t = field === view.search?.timeField ? criteria.timeRange : undefined;
  const from = epochMs(t?.from ?? r?.gte ?? r?.gt);
  const to = epochMs(t?.to ?? r?.lte ?? r?.lt);
  if (from === undefined || to === undefined || to < from) return undefined;
  return spanEstimate(from, to, interval);
}

/**
 * The first and last value of a date field among the rows the criteria match (a min/max aggregation, no hits): bounds a
 * date histogram whose range is open on one side or both before it is asked for, so an open range on dense data gets the
 * same bucket pre-check as a closed one instead of the domain's too_many_buckets_exception (HTTP 503).
 */
export function buildFieldSpanBody(view: ViewConfig, criteria: Criteria, field: string, timeoutMs: number, scope?: Record<string, unknown>): Record<string, unknown> {
  assertDeclared(new Set(timestampFields(view)), field);
  return {
    query: buildQuery(view, criteria, scope),
    size: 0,
    timeout: `${timeoutMs}ms`,
    track_total_hits: false,
    aggs: { first: { min: { field } }, last: { max: { field } } },
  };
}

/** Buckets of a date histogram over [fromMs, toMs] (each interval at its shortest, so the estimate errs high). */
export function spanEstimate(fromMs: number, toMs: number, interval: (typeof DATE_INTERVALS)[number]): number {
  return Math.floor((Math.max(toMs, fromMs) - fromMs) / INTERVAL_MS[interval]) + 1;
}

/** The finest interval whose histogram over the same span fits within the bucket cap. */
export function finestFittingInterval(spanBuckets: number, interval: (typeof DATE_INTERVALS)[number]): (typeof DATE_INTERVALS)[number] | undefined {
  const spanMs = (spanBuckets - 1) * INTERVAL_MS[interval];
  return DATE_INTERVALS.find(i => Math.floor(spanMs / INTERVAL_MS[i]) + 1 <= MAX_HISTOGRAM_BUCKETS);
}

/** Newest and oldest source commit among documents of a view (describe_source). */
export function buildFreshnessBody(timeoutMs: number, scope?: Record<string, unknown>): Record<string, unknown> {
  return {
    query: scope ? { bool: { filter: [scope] } } : { match_all: {} },
    size: 0,
    timeout: `${timeoutMs}ms`,
    track_total_hits: true,
    aggs: { newest: { max: { field: COMMIT_TIME_FIELD } }, oldest: { min: { field: COMMIT_TIME_FIELD } } },
  };
}

/** Neighbours `<view>_similar` may return per call. */
export const MAX_SIMILAR_K = 50;

/** The criteria of `<view>_similar`: the query text is embedded, so the free-text criterion is left out. */
export function similarInputShape(view: ViewConfig): Record<string, z.ZodType> {
  const { text: _text, ...criteria } = criteriaShape(view);
  const vector = view.search!.vector!;
  return {
    text: z.string().min(1).max(LIMITS.maxSimilarTextLength)
      .describe(`Text to find rows similar in meaning to (compared with the embedding of: ${vector.sourceFields.join(', ')})`),
    k: z.number().int().min(1).max(MAX_SIMILAR_K).default(10).describe(`Nearest rows to return (1-${MAX_SIMILAR_K})`),
    ...criteria,
  };
}

/**
 * A k-NN query with the structured criteria as an efficient filter (the filter is applied during the graph search,
 * so `k` results come back whenever `k` matching rows exist). Only a vector the server computed enters the body.
 */
export function buildSimilarBody(
  view: ViewConfig, vector: SearchVectorConfig, embedding: number[], k: number, criteria: Criteria, timeoutMs: number, scope?: Record<string, unknown>,
): Record<string, unknown> {
  const bounded = Math.min(Math.max(1, k), MAX_SIMILAR_K);
  const filter = buildQuery(view, { ...criteria, text: undefined }, scope);
  const knn: Record<string, unknown> = { vector: embedding, k: bounded };
  if (!('match_all' in filter)) knn.filter = filter;
  return {
    size: bounded,
    timeout: `${timeoutMs}ms`,
    _source: { includes: [...view.fields.map(f => f.name), PROVENANCE_FIELD] },
    query: { knn: { [vector.field]: knn } },
  };
}
