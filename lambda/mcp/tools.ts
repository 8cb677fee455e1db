// The tool set generated from the declared views: lookups, search, aggregations, the catalog, lineage and the decision audit.
import { z } from 'zod';
import type { LineageCatalog, LineageNode, LineageViewEntry } from '../../contract/lineage';
import { traceView } from '../../contract/lineage-graph';
import type { SearchVectorConfig, ViewConfig } from '../../contract/view-config';
import { describeIssues } from './arguments';
import type { CallerIdentity } from './caller';
import type { McpServerDeps, QueryEmbedder, ServedPosition } from './context';
import { ToolInputError, withTimeout } from './errors';
import {
  AggregationArgs, aggregationSchema, buildAggregateBody, buildFreshnessBody, buildSearchBody, buildSimilarBody, criteriaShape, Criteria,
  MAX_HISTOGRAM_BUCKETS, MAX_SIMILAR_K, SearchArgs, searchInputShape, similarInputShape,
} from './search-query';
import {
  answerFreshness, answerFreshnessSchema, freshness, freshnessSchema, keySchema, LIMITS, provenanceInputSchema, provenanceSchema, rowSchema,
  servedRowSchema, staleWarning, toolName, type Freshness,
} from './schemas';
import { viewToolNames } from '../../contract/tool-names';
import { warehouseTools } from './warehouse-tool';
import { positionOf, readCacheRecord, readSearchRecord, servedRow, splitDocument, timeoutOf } from './stores';

/** What a tool returns before the server wraps it into a CallToolResult. */
export interface ToolAnswer {
  readonly structured: Record<string, unknown>;
  readonly count: number;
  readonly positions: readonly ServedPosition[];
}

export interface ToolSpec {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly outputSchema: z.ZodObject;
  readonly readOnly: boolean;
  run(args: any, deps: McpServerDeps, catalog: () => Promise<LineageCatalog | undefined>, caller: CallerIdentity): Promise<ToolAnswer>;
}

const keyValueSchema = z.union([z.string().max(LIMITS.maxValueLength), z.number(), z.boolean()]);
/** A key given for a view chosen at call time: checked against that view's key schema when the call runs. */
const anyKeySchema = z.record(z.string().max(128), keyValueSchema)
  .refine(k => Object.keys(k).length >= 1 && Object.keys(k).length <= 16, 'a key has 1 to 16 columns');

function describeKey(view: ViewConfig): string {
  return view.key.join(', ');
}

/** A key given for a view chosen at call time (`get_lineage`, `record_decision`), checked against that view's key columns. */
function viewKey(view: ViewConfig, key: unknown, argument = 'key'): Record<string, unknown> {
  const schema = keySchema(view);
  const parsed = schema.safeParse(key);
  if (!parsed.success) {
    const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    const problems = describeIssues(parsed.error.issues, json, key).map(m => m.replace(/argument '([^']*)'/g, `argument '${argument}.$1'`));
    throw new ToolInputError(`The ${argument} does not fit view '${view.name}', whose key columns are: ${describeKey(view)}. ${problems.join('; ')}.`);
  }
  return parsed.data as Record<string, unknown>;
}

/** One sentence when a single served row is stale. */
function rowWarning(f: Freshness | null): string | null {
  return f?.stale ? staleWarning(1, 1, f, f.maxStalenessMs!) : null;
}

const warningSchema = z.string().nullable().describe("Set when the data is older than the view's maxStaleness: how stale, so you can decide");

function viewsEnum(views: readonly ViewConfig[]) {
  return z.enum(views.map(v => v.name) as [string, ...string[]]);
}

async function readRecord(deps: McpServerDeps, view: ViewConfig, key: Record<string, unknown>) {
  return view.store === 'cache' ? readCacheRecord(deps, view, key) : readSearchRecord(deps, view, key);
}

function cacheTools(view: ViewConfig): ToolSpec[] {
  const key = keySchema(view);
  const served = servedRowSchema(view);
  const lookup: ToolSpec = {
    name: toolName(view.name, 'lookup'),
    title: `Look up one ${view.name} row`,
    description: `${view.description} Returns the current row for one key (${describeKey(view)}) from the cache the pipeline keeps up to date, with its provenance and age. found=false with deleted=true means the source deleted it.`,
    inputSchema: key,
    outputSchema: served.extend({ view: z.string(), warning: warningSchema }),
    readOnly: true,
    async run(args, deps) {
      const record = await readCacheRecord(deps, view, args);
      const answer = servedRow(view, args, record, deps.now());
      return {
        structured: { view: view.name, ...answer, warning: rowWarning(answer.freshness) },
        count: answer.found ? 1 : 0,
        positions: positionOf(view.name, record?.provenance),
      };
    },
  };
  const many: ToolSpec = {
    name: toolName(view.name, 'lookup_many'),
    title: `Look up several ${view.name} rows`,
    description: `${view.description} Returns the current rows for up to ${LIMITS.maxLookupKeys} keys (${describeKey(view)}) in the order given, each with provenance and age.`,
    inputSchema: z.strictObject({ keys: z.array(key).min(1).max(LIMITS.maxLookupKeys).describe(`1 to ${LIMITS.maxLookupKeys} keys`) }),
    outputSchema: z.object({ view: z.string(), found: z.number().int(), missing: z.number().int(), results: z.array(served), freshness: answerFreshnessSchema }),
    readOnly: true,
    async run(args: { keys: Record<string, unknown>[] }, deps) {
      // One command per key: a cluster-mode cache spreads keys over slots, so no multi-key command applies.
      const records = await Promise.all(args.keys.map(k => readCacheRecord(deps, view, k)));
      const now = deps.now();
      const results = args.keys.map((k, i) => servedRow(view, k, records[i], now));
      const found = results.filter(r => r.found).length;
      return {
        structured: { view: view.name, found, missing: results.length - found, results, freshness: answerFreshness(results.map(r => r.freshness), view) },
        count: found,
        positions: records.flatMap(r => positionOf(view.name, r?.provenance)),
      };
    },
  };
  return [lookup, many];
}

const hitSchema = (view: ViewConfig) => z.object({
  id: z.string(),
  score: z.number().nullable(),
  row: rowSchema(view),
  provenance: provenanceSchema.nullable(),
  freshness: freshnessSchema.nullable(),
});

interface SearchResponseBody {
  hits?: { total?: number | { value: number; relation: string }; hits?: { _id: string; _score: number | null; _source?: Record<string, unknown> }[] };
  aggregations?: Record<string, any>;
  timed_out?: boolean;
}

async function runSearch(deps: McpServerDeps, view: ViewConfig, body: Record<string, unknown>): Promise<SearchResponseBody> {
  const search = deps.search;
  if (!search || !view.search) throw new ToolInputError(`View '${view.name}' has no search index configured on this server.`);
  const ms = timeoutOf(deps, 'searchMs');
  const index = view.search.index;
  const res = await withTimeout('search domain', ms, () => search.search({ index, body }, { requestTimeout: ms, maxRetries: 0 }));
  return res.body as SearchResponseBody;
}

/** Newest and oldest source commit among matching rows (the aggregation carries times, not positions). */
function freshnessRange(view: ViewConfig, aggs: Record<string, any> | undefined, nowMs: number) {
  const newest = aggs?.newest?.value;
  const oldest = aggs?.oldest?.value;
  if (typeof newest !== 'number' || typeof oldest !== 'number') return null;
  const o = freshness(oldest, nowMs, view);
  return { newest: freshness(newest, nowMs, view), oldest: o, warning: o.stale ? staleWarning(1, 1, o, o.maxStalenessMs!).replace(/^The data is/, 'The oldest matching row is') : null };
}

const freshnessRangeSchema = z.object({
  newest: freshnessSchema.describe('The most recently committed matching row'),
  oldest: freshnessSchema.describe('The least recently committed matching row'),
  warning: warningSchema,
}).nullable();

function hitsOf(view: ViewConfig, res: SearchResponseBody, nowMs: number) {
  return (res.hits?.hits ?? []).map(h => {
    const { row, provenance } = splitDocument(h._source ?? {});
    return {
      id: h._id, score: h._score ?? null, row, provenance,
      freshness: provenance ? freshness(provenance.commitTimeMs, nowMs, view, provenance.position) : null,
    };
  });
}

function embedderFor(deps: McpServerDeps, vector: SearchVectorConfig): QueryEmbedder {
  const e = deps.embeddings;
  if (!e) throw new ToolInputError('Similarity search is not configured on this server.');
  return typeof e === 'function' ? e(vector) : e;
}

function similarTool(view: ViewConfig): ToolSpec {
  const vector = view.search!.vector!;
  return {
    name: toolName(view.name, 'similar'),
    title: `Find ${view.name} rows similar in meaning`,
    description: `${view.description} Finds the rows whose ${vector.sourceFields.join(' and ')} are closest in meaning to the given text (semantic search), optionally restricted by exact filters, ranges${view.search?.timeField ? ' and a time range' : ''}; at most ${MAX_SIMILAR_K} rows, each with its similarity score, provenance and age.`,
    inputSchema: z.strictObject(similarInputShape(view)),
    outputSchema: z.object({
      view: z.string(),
      model: z.string().describe('Embedding model the text and the rows were embedded with'),
      timedOut: z.boolean(),
      hits: z.array(hitSchema(view)).describe('Most similar first; score is the k-NN similarity (higher is closer)'),
      freshness: answerFreshnessSchema,
    }),
    readOnly: true,
    async run(args: Criteria & { text: string; k: number }, deps) {
      const { text, k, ...criteria } = args;
      const embedder = embedderFor(deps, vector);
      const [embedding] = await withTimeout('embedding model', timeoutOf(deps, 'embeddingsMs'), () => embedder.embed([text]));
      if (!Array.isArray(embedding) || embedding.length !== vector.dimension) {
        throw new Error(`embedding dimension ${Array.isArray(embedding) ? embedding.length : 'none'} does not match the view's ${vector.dimension}`);
      }
      const res = await runSearch(deps, view, buildSimilarBody(view, vector, embedding, k, criteria, timeoutOf(deps, 'searchMs')));
      const hits = hitsOf(view, res, deps.now());
      return {
        structured: { view: view.name, model: vector.modelId, timedOut: res.timed_out === true, hits, freshness: answerFreshness(hits.map(h => h.freshness), view) },
        count: hits.length,
        positions: hits.flatMap(h => positionOf(view.name, h.provenance)),
      };
    },
  };
}

function searchTools(view: ViewConfig, withEmbeddings: boolean): ToolSpec[] {
  const tools: ToolSpec[] = [];
  const search: ToolSpec = {
    name: toolName(view.name, 'search'),
    title: `Search ${view.name}`,
    description: `${view.description} Finds rows by free text, exact filters on declared fields, ranges${view.search?.timeField ? ` and a time range on ${view.search.timeField}` : ''}; sorted by relevance or by fields; at most ${LIMITS.maxSearchSize} rows per call. Each row has its provenance and age.`,
    inputSchema: z.strictObject(searchInputShape(view)),
    outputSchema: z.object({
      view: z.string(),
      total: z.number().int().describe(`Matching rows (counted up to ${LIMITS.maxSearchWindow})`),
      totalIsLowerBound: z.boolean(),
      timedOut: z.boolean().describe('true when the domain stopped early: the hits may be partial'),
      hits: z.array(hitSchema(view)),
      freshness: answerFreshnessSchema,
    }),
    readOnly: true,
    async run(args: SearchArgs, deps) {
      const body = buildSearchBody(view, args, timeoutOf(deps, 'searchMs'));
      const res = await runSearch(deps, view, body);
      const hits = hitsOf(view, res, deps.now());
      const total = res.hits?.total;
      return {
        structured: {
          view: view.name,
          total: typeof total === 'number' ? total : total?.value ?? hits.length,
          totalIsLowerBound: typeof total === 'object' && total?.relation === 'gte',
          timedOut: res.timed_out === true,
          hits,
          freshness: answerFreshness(hits.map(h => h.freshness), view),
        },
        count: hits.length,
        positions: hits.flatMap(h => positionOf(view.name, h.provenance)),
      };
    },
  };
  tools.push(search);

  const aggregation = aggregationSchema(view);
  if (aggregation) {
    tools.push({
      name: toolName(view.name, 'aggregate'),
      title: `Aggregate ${view.name}`,
      description: `${view.description} Counts by value (terms), counts over time (date_histogram) or statistics of a numeric field (stats), over the rows matching the same criteria as ${view.name}_search. Declared fields only.`,
      inputSchema: z.strictObject({ ...criteriaShape(view), aggregation }),
      outputSchema: z.object({
        view: z.string(),
        aggregation: z.object({ type: z.string(), field: z.string() }),
        matched: z.number().int(),
        buckets: z.array(z.object({ key: z.union([z.string(), z.number(), z.boolean()]), keyAsString: z.string().optional(), count: z.number().int() })).nullable(),
        bucketsTruncated: z.boolean(),
        stats: z.object({ count: z.number(), min: z.number().nullable(), max: z.number().nullable(), avg: z.number().nullable(), sum: z.number().nullable() }).nullable(),
        freshness: freshnessRangeSchema,
        timedOut: z.boolean(),
      }),
      readOnly: true,
      async run(args: Criteria & { aggregation: AggregationArgs }, deps) {
        const { aggregation: agg, ...criteria } = args;
        const res = await runSearch(deps, view, buildAggregateBody(view, criteria, agg, timeoutOf(deps, 'searchMs')));
        const result = res.aggregations?.result ?? {};
        let buckets: { key: string | number | boolean; keyAsString?: string; count: number }[] | null = null;
        let stats = null;
        let truncated = false;
        if (agg.type === 'stats') {
          stats = { count: result.count ?? 0, min: result.min ?? null, max: result.max ?? null, avg: result.avg ?? null, sum: result.sum ?? null };
        } else {
          const raw: any[] = result.buckets ?? [];
          truncated = raw.length > MAX_HISTOGRAM_BUCKETS;
          buckets = raw.slice(0, MAX_HISTOGRAM_BUCKETS).map(b => ({
            key: b.key, ...(typeof b.key_as_string === 'string' ? { keyAsString: b.key_as_string } : {}), count: b.doc_count,
          }));
        }
        const total = res.hits?.total;
        return {
          structured: {
            view: view.name,
            aggregation: { type: agg.type, field: agg.field },
            matched: typeof total === 'number' ? total : total?.value ?? 0,
            buckets,
            bucketsTruncated: truncated,
            stats,
            freshness: freshnessRange(view, res.aggregations, deps.now()),
            timedOut: res.timed_out === true,
          },
          count: buckets ? buckets.length : 1,
          positions: [],
        };
      },
    });
  }
  if (view.search?.vector && withEmbeddings) tools.push(similarTool(view));
  return tools;
}


const sourceSchema = z.object({
  view: z.string(),
  description: z.string(),
  store: z.enum(['cache', 'search']),
  key: z.array(z.string()),
  fields: z.array(z.object({ name: z.string(), type: z.string(), description: z.string().optional() })),
  sourceTable: z.string(),
  topic: z.string(),
  tools: z.array(z.string()),
  freshness: z.object({
    reportedPer: z.literal('row').describe('Every answer carries each row\'s source commit time, position and age'),
    maxStalenessMs: z.number().nullable().describe('Age beyond which answers are marked stale (null: no bound declared)'),
    cacheTtlSeconds: z.number().nullable().describe('Cache rows expire after this many seconds without a change (null: never)'),
  }),
  lineage: z.object({ sourceTables: z.array(z.string()), topic: z.string(), pipeline: z.array(z.string()) }).nullable(),
});

function describeView(view: ViewConfig, entry: LineageViewEntry | undefined, withEmbeddings: boolean) {
  return {
    view: view.name,
    description: view.description,
    store: view.store,
    key: view.key,
    fields: view.fields.map(f => ({ name: f.name, type: f.type, ...(f.description ? { description: f.description } : {}) })),
    sourceTable: view.sourceTable,
    topic: view.topic,
    tools: viewToolNames(view, withEmbeddings),
    freshness: { reportedPer: 'row' as const, maxStalenessMs: view.maxStalenessMs ?? null, cacheTtlSeconds: view.cache?.ttlSeconds ?? null },
    lineage: entry ? { sourceTables: entry.sourceTables, topic: entry.topic, pipeline: entry.pipeline } : null,
  };
}

const nodeSchema = z.object({ kind: z.string(), id: z.string(), name: z.string(), details: z.record(z.string(), z.string()).optional() });

/** Catalog nodes upstream of the view's store, source first: the catalog's own trace (contract/lineage-graph.ts), which follows a shared sink back through this view's topic only. */
function upstreamNodes(catalog: LineageCatalog | undefined, view: string): LineageNode[] {
  return (catalog && traceView(catalog, view)?.upstream) || [];
}

function catalogTools(views: readonly ViewConfig[], withEmbeddings: boolean): ToolSpec[] {
  const names = viewsEnum(views);
  const entryOf = (c: LineageCatalog | undefined, v: string) => c?.views.find(e => e.view === v);
  const byName = (name: string) => {
    const v = views.find(x => x.name === name);
    if (!v) throw new ToolInputError(`Unknown view '${name}'. Call list_sources for the views this server offers.`);
    return v;
  };
  return [
    {
      name: 'list_sources',
      title: 'List the data sources',
      description: 'Lists every view this server offers: its store, fields, key, where its rows come from, how freshness is reported and which tools read it. Call this first to discover what data exists.',
      inputSchema: z.strictObject({}),
      outputSchema: z.object({ catalogNamespace: z.string().nullable(), sources: z.array(sourceSchema) }),
      readOnly: true,
      async run(_args, _deps, catalog) {
        const c = await catalog();
        const sources = views.map(v => describeView(v, entryOf(c, v.name), withEmbeddings));
        return { structured: { catalogNamespace: c?.namespace ?? null, sources }, count: sources.length, positions: [] };
      },
    },
    {
      name: 'describe_source',
      title: 'Describe one data source',
      description: 'Describes one view in detail: its schema, key, lineage path from the source tables, and for search views the newest and oldest source commit among its rows.',
      inputSchema: z.strictObject({ view: names }),
      outputSchema: sourceSchema.extend({ upstream: z.array(nodeSchema), storeFreshness: freshnessRangeSchema, documents: z.number().int().nullable() }),
      readOnly: true,
      async run(args: { view: string }, deps, catalog) {
        const view = byName(args.view);
        const c = await catalog();
        let storeFreshness = null;
        let documents: number | null = null;
        if (view.store === 'search') {
          const res = await runSearch(deps, view, buildFreshnessBody(timeoutOf(deps, 'searchMs')));
          storeFreshness = freshnessRange(view, res.aggregations, deps.now());
          const total = res.hits?.total;
          documents = typeof total === 'number' ? total : total?.value ?? null;
        }
        return {
          structured: { ...describeView(view, entryOf(c, view.name), withEmbeddings), upstream: upstreamNodes(c, view.name), storeFreshness, documents },
          count: 1,
          positions: [],
        };
      },
    },
    {
      name: 'get_lineage',
      title: 'Trace one row to its source',
      description: 'For a view and a key: the source table, source position (LSN or binlog coordinates), commit time, Kafka record and pipeline that produced the row currently served, and its age.',
      inputSchema: z.strictObject({ view: names, key: anyKeySchema.describe('The row key as { column: value }; list_sources shows each view\'s key columns') }),
      outputSchema: z.object({
        view: z.string(),
        key: z.record(z.string(), z.unknown()),
        found: z.boolean(),
        deleted: z.boolean(),
        provenance: provenanceSchema.nullable(),
        freshness: freshnessSchema.nullable(),
        warning: warningSchema,
        pipeline: z.object({ sourceTables: z.array(z.string()), topic: z.string(), pipeline: z.array(z.string()) }).nullable(),
        upstream: z.array(nodeSchema),
      }),
      readOnly: true,
      async run(args: { view: string; key: Record<string, unknown> }, deps, catalog) {
        const view = byName(args.view);
        const key = viewKey(view, args.key);
        const [record, c] = await Promise.all([readRecord(deps, view, key), catalog()]);
        const served = servedRow(view, key, record, deps.now());
        const entry = entryOf(c, view.name);
        return {
          structured: {
            view: view.name, key, found: served.found, deleted: served.deleted, provenance: served.provenance, freshness: served.freshness,
            warning: rowWarning(served.freshness),
            pipeline: entry ? { sourceTables: entry.sourceTables, topic: entry.topic, pipeline: entry.pipeline } : null,
            upstream: upstreamNodes(c, view.name),
          },
          count: record ? 1 : 0,
          positions: positionOf(view.name, record?.provenance),
        };
      },
    },
  ];
}

const decisionRecordSchema = z.object({
  decisionId: z.string(),
  recordedAt: z.string(),
  agentId: z.string(),
  decision: z.string(),
  rationale: z.string(),
  toolCalls: z.array(z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) })),
  dataReferences: z.array(z.object({ view: z.string(), key: z.record(z.string(), z.unknown()), provenance: provenanceSchema.optional() })),
  caller: z.object({
    kind: z.string(), principal: z.string(), accountId: z.string().optional(), clientId: z.string().optional(), scopes: z.array(z.string()).optional(),
  }).optional().describe('Who called, as the endpoint authenticated them (IAM principal or token subject); agentId is what the agent claims'),
});

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const DECISION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function decisionTools(views: readonly ViewConfig[]): ToolSpec[] {
  const names = viewsEnum(views);
  return [
    {
      name: 'record_decision',
      title: 'Record a decision',
      description: 'Appends a decision to the audit log: what was decided, why, the tool calls made and the exact data (view, key, provenance as returned by the tools) it relied on. Returns the decision id.',
      inputSchema: z.strictObject({
        agentId: z.string().regex(ID_PATTERN, 'letters, digits and . _ : @ / - (at most 128)').describe('Who decided'),
        decision: z.string().min(1).max(LIMITS.maxDecisionLength),
        rationale: z.string().min(1).max(LIMITS.maxRationaleLength),
        toolCalls: z.array(z.strictObject({
          tool: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
          arguments: z.record(z.string().max(128), z.unknown())
            .refine(a => JSON.stringify(a).length <= LIMITS.maxToolCallArgumentsBytes, `arguments are at most ${LIMITS.maxToolCallArgumentsBytes} bytes of JSON`),
        })).max(LIMITS.maxDecisionItems).default([]),
        dataReferences: z.array(z.strictObject({
          view: names,
          key: anyKeySchema,
          provenance: provenanceInputSchema.optional().describe('The provenance object the reading tool returned'),
        })).max(LIMITS.maxDecisionItems).default([]),
      }),
      outputSchema: decisionRecordSchema,
      readOnly: false,
      async run(args, deps, _catalog, caller) {
        const store = deps.decisions!;
        (args.dataReferences as { view: string; key: unknown }[]).forEach((ref, i) => viewKey(views.find(v => v.name === ref.view)!, ref.key, `dataReferences[${i}].key`));
        // The caller is what the endpoint authenticated, never an argument: the strict input schema refuses a 'caller' key.
        const record = await withTimeout('decision store', timeoutOf(deps, 'decisionsMs'), () => store.record({ ...args, caller }));
        return { structured: { ...record }, count: 1, positions: [] };
      },
    },
    {
      name: 'get_decision',
      title: 'Read a recorded decision',
      description: 'Returns a decision recorded with record_decision, with the data references and provenance it cited.',
      inputSchema: z.strictObject({ decisionId: z.string().regex(DECISION_ID_PATTERN, 'a decision id as returned by record_decision') }),
      outputSchema: z.object({ found: z.boolean(), decision: decisionRecordSchema.nullable() }),
      readOnly: true,
      async run(args: { decisionId: string }, deps) {
        const store = deps.decisions!;
        const record = await withTimeout('decision store', timeoutOf(deps, 'decisionsMs'), () => store.get(args.decisionId));
        return { structured: { found: !!record, decision: record ?? null }, count: record ? 1 : 0, positions: [] };
      },
    },
  ];
}

/** Every tool for the given views and the stores present. */
export function buildToolSpecs(deps: Pick<McpServerDeps, 'views' | 'decisions' | 'embeddings'>): ToolSpec[] {
  const specs: ToolSpec[] = [];
  const withEmbeddings = !!deps.embeddings;
  for (const view of deps.views) {
    specs.push(...(view.store === 'warehouse' ? warehouseTools(view, deps.views) : view.store === 'cache' ? cacheTools(view) : searchTools(view, withEmbeddings)));
  }
  if (deps.views.length > 0) specs.push(...catalogTools(deps.views, withEmbeddings));
  if (deps.decisions && deps.views.length > 0) specs.push(...decisionTools(deps.views));
  return specs;
}
