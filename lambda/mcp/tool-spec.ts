// What every generated tool is (ToolSpec) and the helpers the tool modules share: key checks, store reads, hits and freshness ranges.
import * as z from 'zod';
import type { LineageCatalog } from '../../contract/lineage';
import type { ViewConfig } from '../../contract/view-config';
import { describeIssues } from './arguments';
import type { CallerIdentity } from './caller';
import type { McpServerDeps, ServedPosition } from './context';
import { ToolInputError, withTimeout } from './errors';
import {
  freshness, freshnessSchema, keySchema, LIMITS, provenanceSchema, rowSchema, staleWarning, type Freshness,
} from './schemas';
import { readCacheRecord, readSearchRecord, splitDocument, timeoutOf } from './stores';

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
export const anyKeySchema = z.record(z.string().max(128), keyValueSchema)
  .refine(k => Object.keys(k).length >= 1 && Object.keys(k).length <= 16, 'a key has 1 to 16 columns');

export function describeKey(view: ViewConfig): string {
  return view.key.join(', ');
}

/** A key given for a view chosen at call time (`get_lineage`, `record_decision`), checked against that view's key columns. */
export function viewKey(view: ViewConfig, key: unknown, argument = 'key'): Record<string, unknown> {
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
export function rowWarning(f: Freshness | null): string | null {
  return f?.stale ? staleWarning(1, 1, f, f.maxStalenessMs!) : null;
}

export const warningSchema = z.string().nullable().describe("Set when the data is older than the view's maxStaleness: how stale, so you can decide");

export function viewsEnum(views: readonly ViewConfig[]) {
  return z.enum(views.map(v => v.name) as [string, ...string[]]);
}

/** The stored record of a cache or search view; a warehouse view has no per-key record with provenance to read. */
export async function readRecord(deps: McpServerDeps, view: ViewConfig, key: Record<string, unknown>) {
  switch (view.store) {
    case 'cache': return readCacheRecord(deps, view, key);
    case 'search': return readSearchRecord(deps, view, key);
    default: throw new ToolInputError(`View '${view.name}' is a ${view.store} view: it keeps no per-row provenance record to read.`);
  }
}

export const hitSchema = (view: ViewConfig) => z.object({
  id: z.string(),
  score: z.number().nullable(),
  row: rowSchema(view),
  provenance: provenanceSchema.nullable(),
  freshness: freshnessSchema.nullable(),
});

export interface SearchResponseBody {
  hits?: { total?: number | { value: number; relation: string }; hits?: { _id: string; _score: number | null; _source?: Record<string, unknown> }[] };
  aggregations?: Record<string, any>;
  timed_out?: boolean;
}

export async function runSearch(deps: McpServerDeps, view: ViewConfig, body: Record<string, unknown>): Promise<SearchResponseBody> {
  const search = deps.search;
  if (!search || !view.search) throw new ToolInputError(`View '${view.name}' has no search index configured on this server.`);
  const ms = timeoutOf(deps, 'searchMs');
  const index = view.search.index;
  const res = await withTimeout('search domain', ms, () => search.search({ index, body }, { requestTimeout: ms, maxRetries: 0 }));
  return res.body as SearchResponseBody;
}

/** The total hit count of a search response (a number, or `{ value, relation }`). */
export function totalOf(res: SearchResponseBody, fallback: number): number {
  const total = res.hits?.total;
  return typeof total === 'number' ? total : total?.value ?? fallback;
}

/** Newest and oldest source commit among matching rows (the aggregation carries times, not positions). */
export function freshnessRange(view: ViewConfig, aggs: Record<string, any> | undefined, nowMs: number) {
  const newest = aggs?.newest?.value;
  const oldest = aggs?.oldest?.value;
  if (typeof newest !== 'number' || typeof oldest !== 'number') return null;
  const o = freshness(oldest, nowMs, view);
  return { newest: freshness(newest, nowMs, view), oldest: o, warning: o.stale ? staleWarning(1, 1, o, o.maxStalenessMs!).replace(/^The data is/, 'The oldest matching row is') : null };
}

export const freshnessRangeSchema = z.object({
  newest: freshnessSchema.describe('The most recently committed matching row'),
  oldest: freshnessSchema.describe('The least recently committed matching row'),
  warning: warningSchema,
}).nullable();

export function hitsOf(view: ViewConfig, res: SearchResponseBody, nowMs: number) {
  return (res.hits?.hits ?? []).map(h => {
    const { row, provenance } = splitDocument(h._source ?? {});
    return {
      id: h._id, score: h._score ?? null, row, provenance,
      freshness: provenance ? freshness(provenance.commitTimeMs, nowMs, view, provenance.position) : null,
    };
  });
}
