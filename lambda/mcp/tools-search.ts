// Search view tools: `<view>_search` (paged by cursor), `<view>_aggregate` (bounded buckets) and `<view>_similar` (cached query
// embeddings), each under the caller's row scope.
import * as z from 'zod';
import { viewToolKinds, viewToolName } from '../../contract/tool-names';
import type { SearchVectorConfig, ViewConfig } from '../../contract/view-config';
import type { McpServerDeps, QueryEmbedder } from './context';
import { decodeCursor, encodeCursor } from './cursor';
import { EmbeddingCache } from './embedding-cache';
import { ToolInputError, ToolRefusal, withTimeout } from './errors';
import { inScope, rowScopeOf, scopeClause } from './row-scope';
import { answerFreshness, answerFreshnessSchema, LIMITS } from './schemas';
import {
  AggregationArgs, aggregationSchema, buildAggregateBody, buildSearchBody, buildSimilarBody, criteriaShape, Criteria, finestFittingInterval,
  buildFieldSpanBody, histogramEstimate, spanEstimate, MAX_COUNTED_HISTOGRAM_BUCKETS, MAX_HISTOGRAM_BUCKETS, MAX_SIMILAR_K, SearchArgs, searchInputShape, similarInputShape,
} from './search-query';
import { positionOf, timeoutOf } from './stores';
import { withinBudget } from './byte-budget';
import { maxResultBytes, truncationSchema } from './tools-cache';
import { freshnessRange, freshnessRangeSchema, hitSchema, hitsOf, runSearch, totalOf, type ToolSpec } from './tool-spec';
import type { CallerIdentity } from './caller';

export const TOO_MANY_BUCKETS = 'too_many_buckets';

function scopeFor(view: ViewConfig, caller: CallerIdentity) {
  const scope = rowScopeOf(view, caller);
  return { scope, clause: scope ? scopeClause(view, scope) : undefined };
}

function embedderFor(deps: McpServerDeps, vector: SearchVectorConfig): QueryEmbedder {
  const e = deps.embeddings;
  if (!e) throw new ToolInputError('Similarity search is not configured on this server.');
  return typeof e === 'function' ? e(vector) : e;
}

const embeddingCaches = new WeakMap<McpServerDeps, EmbeddingCache>();

/** The per-container query embedding cache of a server (one per deps, which the Lambda shell builds once). */
export function embeddingCacheOf(deps: McpServerDeps): EmbeddingCache {
  let c = embeddingCaches.get(deps);
  if (!c) {
    c = new EmbeddingCache({ maxEntries: deps.bounds?.embeddingCacheEntries, ttlMs: deps.bounds?.embeddingCacheTtlMs }, () => deps.now());
    embeddingCaches.set(deps, c);
  }
  return c;
}

function similarTool(view: ViewConfig, scopeNote: string): ToolSpec {
  const vector = view.search!.vector!;
  return {
    name: viewToolName(view.name, 'similar'),
    title: `Find ${view.name} rows similar in meaning`,
    description: `${view.description} Finds the rows whose ${vector.sourceFields.join(' and ')} are closest in meaning to the given text (semantic search), optionally restricted by exact filters, ranges${view.search?.timeField ? ' and a time range' : ''}; at most ${MAX_SIMILAR_K} rows, each with its similarity score, provenance and age.${scopeNote}`,
    inputSchema: z.strictObject(similarInputShape(view)),
    outputSchema: z.object({
      view: z.string(),
      model: z.string().describe('Embedding model the text and the rows were embedded with'),
      timedOut: z.boolean(),
      hits: z.array(hitSchema(view)).describe('Most similar first; score is the k-NN similarity (higher is closer)'),
      freshness: answerFreshnessSchema,
      truncated: z.boolean().describe('true when fewer than the k nearest rows fit in one answer: ask again with a smaller k'),
    }),
    readOnly: true,
    async run(args: Criteria & { text: string; k: number }, deps, _catalog, caller) {
      const { text, k, ...criteria } = args;
      const { scope, clause } = scopeFor(view, caller);
      const embedder = embedderFor(deps, vector);
      const embedding = await embeddingCacheOf(deps).get(vector, text, async () => {
        const [e] = await withTimeout('embedding model', timeoutOf(deps, 'embeddingsMs'), () => embedder.embed([text]));
        if (!Array.isArray(e) || e.length !== vector.dimension) {
          throw new Error(`embedding dimension ${Array.isArray(e) ? e.length : 'none'} does not match the view's ${vector.dimension}`);
        }
        return e;
      });
      const res = await runSearch(deps, view, buildSimilarBody(view, vector, embedding, k, criteria, timeoutOf(deps, 'searchMs'), clause));
      const all = hitsOf(view, res, deps.now()).filter(h => inScope(scope, h.row));
      const hits = withinBudget(all, maxResultBytes(deps));
      return {
        structured: {
          view: view.name, model: vector.modelId, timedOut: res.timed_out === true, hits, freshness: answerFreshness(hits.map(h => h.freshness), view),
          truncated: hits.length < all.length,
        },
        count: hits.length,
        positions: hits.flatMap(h => positionOf(view.name, h.provenance)),
      };
    },
  };
}

function searchTool(view: ViewConfig, scopeNote: string): ToolSpec {
  const name = viewToolName(view.name, 'search');
  return {
    name,
    title: `Search ${view.name}`,
    description: `${view.description} Finds rows by free text, exact filters on declared fields, ranges${view.search?.timeField ? ` and a time range on ${view.search.timeField}` : ''}; sorted by relevance or by fields; at most ${LIMITS.maxSearchSize} rows per page and ${LIMITS.maxSearchWindow} rows over all pages (truncated=true with a nextCursor when more match). Each row has its provenance and age.${scopeNote}`,
    inputSchema: z.strictObject(searchInputShape(view)),
    outputSchema: z.object({
      view: z.string(),
      total: z.number().int().describe(`Matching rows (counted up to ${LIMITS.maxSearchWindow})`),
      totalIsLowerBound: z.boolean(),
      timedOut: z.boolean().describe('true when the domain stopped early: the hits may be partial'),
      hits: z.array(hitSchema(view)),
      freshness: answerFreshnessSchema,
      ...truncationSchema,
      limitNote: z.string().nullable().describe('Set when more rows match than paging can reach: narrow the criteria'),
    }),
    readOnly: true,
    async run(args: SearchArgs, deps, _catalog, caller) {
      const { scope, clause } = scopeFor(view, caller);
      const { cursor, from: requestedFrom, size, ...query } = args;
      const binding = { ...query, scope: scope?.value };
      if (cursor !== undefined && requestedFrom !== 0) {
        throw new ToolRefusal('cursor_conflict', "give either 'cursor' (the next page of a previous answer) or 'from', not both.");
      }
      const from = cursor !== undefined ? decodeCursor(name, cursor, binding, LIMITS.maxSearchWindow - 1) : requestedFrom;
      const res = await runSearch(deps, view, buildSearchBody(view, { ...query, size, from }, timeoutOf(deps, 'searchMs'), clause));
      const all = hitsOf(view, res, deps.now()).filter(h => inScope(scope, h.row));
      const hits = withinBudget(all, maxResultBytes(deps));
      const total = totalOf(res, from + all.length);
      const totalIsLowerBound = typeof res.hits?.total === 'object' && res.hits.total?.relation === 'gte';
      const next = from + hits.length;
      const more = hits.length < all.length || next < total;
      const reachable = more && next < LIMITS.maxSearchWindow;
      return {
        structured: {
          view: view.name, total, totalIsLowerBound, timedOut: res.timed_out === true, hits,
          freshness: answerFreshness(hits.map(h => h.freshness), view),
          truncated: more,
          nextCursor: reachable ? encodeCursor(name, next, binding) : null,
          limitNote: more && !reachable
            ? `More rows match than the ${LIMITS.maxSearchWindow} a search can page through; narrow the filters, ranges or time range.`
            : null,
        },
        count: hits.length,
        positions: hits.flatMap(h => positionOf(view.name, h.provenance)),
      };
    },
  };
}

type Bucket = { key: string | number | boolean; keyAsString?: string; count: number };

function aggregateTool(view: ViewConfig, aggregation: z.ZodType, scopeNote: string): ToolSpec {
  return {
    name: viewToolName(view.name, 'aggregate'),
    title: `Aggregate ${view.name}`,
    description: `${view.description} Counts by value (terms, top ${LIMITS.maxTermsBuckets} at most), counts over time (date_histogram, at most ${MAX_HISTOGRAM_BUCKETS} buckets) or statistics of a numeric field (stats), over the rows matching the same criteria as ${viewToolName(view.name, 'search')}. Declared fields only.${scopeNote}`,
    inputSchema: z.strictObject({ ...criteriaShape(view), aggregation }),
    outputSchema: z.object({
      view: z.string(),
      aggregation: z.object({ type: z.string(), field: z.string() }),
      matched: z.number().int(),
      buckets: z.array(z.object({ key: z.union([z.string(), z.number(), z.boolean()]), keyAsString: z.string().optional(), count: z.number().int() })).nullable(),
      bucketsTruncated: z.boolean(),
      truncated: z.boolean().describe('true when more buckets exist than were returned (see limitNote)'),
      limitNote: z.string().nullable().describe('How to get the buckets left out'),
      stats: z.object({ count: z.number(), min: z.number().nullable(), max: z.number().nullable(), avg: z.number().nullable(), sum: z.number().nullable() }).nullable(),
      freshness: freshnessRangeSchema,
      timedOut: z.boolean(),
    }),
    readOnly: true,
    async run(args: Criteria & { aggregation: AggregationArgs }, deps, _catalog, caller) {
      const { aggregation: agg, ...criteria } = args;
      const { clause } = scopeFor(view, caller);
      if (agg.type === 'date_histogram') {
        let estimate = histogramEstimate(view, criteria, agg.field, agg.interval);
        let over = 'over the range given';
        // A range given on both sides is refused past the cap; an open one is served 500 buckets at a time (the limitNote says
        // where to continue) unless its span is more than the domain should count.
        let cap = MAX_HISTOGRAM_BUCKETS;
        if (estimate === undefined) {
          cap = MAX_COUNTED_HISTOGRAM_BUCKETS;
          // Open on one side or both: the matching rows' first and last value bound it (one cheap min/max request).
          const span = (await runSearch(deps, view, buildFieldSpanBody(view, criteria, agg.field, timeoutOf(deps, 'searchMs'), clause))).aggregations;
          const first = span?.first?.value;
          const last = span?.last?.value;
          if (typeof first === 'number' && typeof last === 'number') {
            estimate = spanEstimate(first, last, agg.interval);
            over = `over the matching rows (${new Date(first).toISOString()} to ${new Date(last).toISOString()})`;
          }
        }
        if (estimate !== undefined && estimate > cap) {
          const finer = finestFittingInterval(estimate, agg.interval);
          throw new ToolRefusal(TOO_MANY_BUCKETS, `a ${agg.interval} histogram of '${agg.field}' ${over} has about ${estimate} buckets; `
            + `${cap === MAX_HISTOGRAM_BUCKETS ? `at most ${MAX_HISTOGRAM_BUCKETS} are served` : `an open range is counted up to ${cap} (${MAX_HISTOGRAM_BUCKETS} served at a time)`}. `
            + `${finer ? `Use interval '${finer}'` : 'Use a coarser interval'} or narrow the range.`);
        }
      }
      const res = await runSearch(deps, view, buildAggregateBody(view, criteria, agg, timeoutOf(deps, 'searchMs'), clause));
      const result = res.aggregations?.result ?? {};
      let buckets: Bucket[] | null = null;
      let stats = null;
      let truncated = false;
      let limitNote: string | null = null;
      if (agg.type === 'stats') {
        stats = { count: result.count ?? 0, min: result.min ?? null, max: result.max ?? null, avg: result.avg ?? null, sum: result.sum ?? null };
      } else {
        const raw: any[] = result.buckets ?? [];
        buckets = raw.slice(0, MAX_HISTOGRAM_BUCKETS).map(b => ({
          key: b.key, ...(typeof b.key_as_string === 'string' ? { keyAsString: b.key_as_string } : {}), count: b.doc_count,
        }));
        if (agg.type === 'terms' && (result.sum_other_doc_count ?? 0) > 0) {
          truncated = true;
          limitNote = `${result.sum_other_doc_count} matching rows have values outside these top ${buckets.length}; raise size (at most ${LIMITS.maxTermsBuckets}) or narrow the filters.`;
        } else if (raw.length > MAX_HISTOGRAM_BUCKETS) {
          truncated = true;
          const last = buckets[buckets.length - 1];
          limitNote = `Only the first ${MAX_HISTOGRAM_BUCKETS} buckets are served; ask again with the time range starting after ${last.keyAsString ?? last.key}, or a coarser interval.`;
        }
      }
      return {
        structured: {
          view: view.name,
          aggregation: { type: agg.type, field: agg.field },
          matched: totalOf(res, 0),
          buckets,
          bucketsTruncated: truncated,
          truncated,
          limitNote,
          stats,
          freshness: freshnessRange(view, res.aggregations, deps.now()),
          timedOut: res.timed_out === true,
        },
        count: buckets ? buckets.length : 1,
        positions: [],
      };
    },
  };
}

export function searchTools(view: ViewConfig, withEmbeddings: boolean): ToolSpec[] {
  const scopeNote = view.rowScope ? ' Only rows your identity may read are searched.' : '';
  // Which tools exist is the contract's answer (the construct names the same tools at synth).
  const kinds = viewToolKinds(view, withEmbeddings);
  const tools: ToolSpec[] = [searchTool(view, scopeNote)];
  if (kinds.includes('aggregate')) {
    const aggregation = aggregationSchema(view);
    if (!aggregation) throw new Error(`${viewToolName(view.name, 'aggregate')}: the view has an aggregatable field type but no aggregation accepts it`);
    tools.push(aggregateTool(view, aggregation, scopeNote));
  }
  if (kinds.includes('similar')) tools.push(similarTool(view, scopeNote));
  return tools;
}
