// Catalog tools: list_sources, describe_source and get_lineage (the last two under the caller's row scope of the view they read).
import * as z from 'zod';
import type { LineageCatalog, LineageNode, LineageViewEntry } from '../../contract/lineage';
import { traceView } from '../../contract/lineage-graph';
import { DESCRIBE_SOURCE_TOOL, GET_LINEAGE_TOOL, LIST_SOURCES_TOOL, viewToolNames } from '../../contract/tool-names';
import { VIEW_STORE_NAMES, type ViewConfig } from '../../contract/view-config';
import { ToolInputError } from './errors';
import { inScope, rowScopeOf, scopeClause } from './row-scope';
import { freshnessSchema, provenanceSchema } from './schemas';
import { buildFreshnessBody } from './search-query';
import { positionOf, servedRow, timeoutOf } from './stores';
import {
  anyKeySchema, freshnessRange, freshnessRangeSchema, readRecord, rowWarning, runSearch, type ToolSpec, viewKey, viewsEnum, warningSchema,
} from './tool-spec';

const sourceSchema = z.object({
  view: z.string(),
  description: z.string(),
  store: z.enum(VIEW_STORE_NAMES),
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
  rowScope: z.object({ field: z.string() }).nullable()
    .describe("Set when each caller reads only the rows whose field matches the caller's identity (resolved by the server, not an argument)"),
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
    rowScope: view.rowScope ? { field: view.rowScope.field } : null,
  };
}

const nodeSchema = z.object({ kind: z.string(), id: z.string(), name: z.string(), details: z.record(z.string(), z.string()).optional() });

/** Catalog nodes upstream of the view's store, source first: the catalog's own trace (contract/lineage-graph.ts), which follows a shared sink back through this view's topic only. */
function upstreamNodes(catalog: LineageCatalog | undefined, view: string): LineageNode[] {
  return (catalog && traceView(catalog, view)?.upstream) || [];
}

export function catalogTools(views: readonly ViewConfig[], withEmbeddings: boolean): ToolSpec[] {
  const names = viewsEnum(views);
  const entryOf = (c: LineageCatalog | undefined, v: string) => c?.views.find(e => e.view === v);
  const byName = (name: string) => {
    const v = views.find(x => x.name === name);
    if (!v) throw new ToolInputError(`Unknown view '${name}'. Call ${LIST_SOURCES_TOOL} for the views this server offers.`);
    return v;
  };
  return [
    {
      name: LIST_SOURCES_TOOL,
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
      name: DESCRIBE_SOURCE_TOOL,
      title: 'Describe one data source',
      description: 'Describes one view in detail: its schema, key, lineage path from the source tables, and for search views the newest and oldest source commit among its rows.',
      inputSchema: z.strictObject({ view: names }),
      outputSchema: sourceSchema.extend({ upstream: z.array(nodeSchema), storeFreshness: freshnessRangeSchema, documents: z.number().int().nullable() }),
      readOnly: true,
      async run(args: { view: string }, deps, catalog, caller) {
        const view = byName(args.view);
        const c = await catalog();
        let storeFreshness = null;
        let documents: number | null = null;
        if (view.store === 'search') {
          // Counts and commit times of a scoped view cover the caller's rows only.
          const scope = rowScopeOf(view, caller);
          const res = await runSearch(deps, view, buildFreshnessBody(timeoutOf(deps, 'searchMs'), scope && scopeClause(view, scope)));
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
      name: GET_LINEAGE_TOOL,
      title: 'Trace one row to its source',
      description: 'For a cache or search view and a key: the source table, source position (LSN or binlog coordinates), commit time, Kafka record and pipeline that produced the row currently served, and its age. '
        + 'Warehouse views keep no per-row provenance: use describe_source for their pipeline and <view>_query for a row\'s _commit_ts and the Iceberg snapshot.',
      inputSchema: z.strictObject({ view: names, key: anyKeySchema.describe(`The row key as { column: value }; ${LIST_SOURCES_TOOL} shows each view's key columns`) }),
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
      async run(args: { view: string; key: Record<string, unknown> }, deps, catalog, caller) {
        const view = byName(args.view);
        if (view.store === 'warehouse') {
          // The Iceberg table keeps the row and its _commit_ts, not the source position or Kafka record a lineage answer is made of.
          throw new ToolInputError(`View '${view.name}' is a warehouse view: its rows keep no per-row provenance (source position, Kafka record), so ${GET_LINEAGE_TOOL} cannot trace them. `
            + `Call ${DESCRIBE_SOURCE_TOOL} for its pipeline and upstream lineage, and ${viewToolNames(view, false).join(', ')} with a filter on its key for the row's _commit_ts and the Iceberg snapshot it was read from.`);
        }
        const key = viewKey(view, args.key);
        const scope = rowScopeOf(view, caller);
        const [stored, c] = await Promise.all([readRecord(deps, view, key), catalog()]);
        // A row outside the caller's scope (or a tombstone, which carries no scope value) traces as not found.
        const record = stored && !inScope(scope, stored.row) ? undefined : stored;
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
