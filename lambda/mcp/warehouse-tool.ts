// `<view>_query`: a bounded analytical query of a warehouse view through Athena, structured by default, one SELECT where the view allows it; answers carry the Iceberg snapshot they read.
import * as z from 'zod';
import { viewToolName } from '../../contract/tool-names';
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps } from './context';
import { ToolInputError } from './errors';
import { humanMs } from './schemas';
import type { ToolSpec } from './tool-spec';
import { withinBudget } from './byte-budget';
import { DEFAULT_MAX_RESULT_BYTES, maxResultBytes } from './tools-cache';
import type { SnapshotInfo, WarehouseReader } from './warehouse-athena';
import { compileStructured, SNAPSHOT_PLACEHOLDER, StructuredRequest, warehouseInputShape } from './warehouse-query';
import { guardAgentSql } from './warehouse-sql-guard';

const snapshotSchema = z.object({
  table: z.string(),
  snapshotId: z.string().describe('Iceberg snapshot the answer read (the query is pinned to it)'),
  committedAt: z.string().describe('When that snapshot was committed: the data is current as of this time'),
  ageMs: z.number(),
});

export const warehouseOutputSchema = z.object({
  view: z.string(),
  mode: z.enum(['structured', 'sql']),
  sql: z.string().describe('The SQL that ran (values as parameters in structured mode)'),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.record(z.string(), z.unknown())),
  rowCount: z.number().int(),
  truncated: z.boolean().describe('true when more rows existed than the row cap or than fit in one answer\'s bytes (see limitNote); narrow the query or aggregate'),
  limitNote: z.string().nullable().describe('Set when rows were left out because the answer reached its byte budget'),
  provenance: z.array(snapshotSchema).describe('One entry per table read; empty when a table has no committed snapshot yet'),
  stale: z.boolean(),
  maxStalenessMs: z.number().nullable(),
  warning: z.string().nullable(),
  scannedBytes: z.number().nullable(),
});

type QueryArgs = StructuredRequest & { sql?: string };

/** The reader the tool runs on; the Lambda shell builds an Athena one. */
export interface WarehouseDeps {
  readonly warehouse?: WarehouseReader;
}

/** Every table name of every warehouse view (a WITH query may not shadow one). */
function databaseTables(views: readonly ViewConfig[]): string[] {
  return views.filter(v => v.warehouse).flatMap(v => [v.warehouse!.table, v.warehouse!.historyTable].filter((t): t is string => !!t));
}

export function warehouseTools(view: ViewConfig, allViews: readonly ViewConfig[]): ToolSpec[] {
  const w = view.warehouse!;
  const tables = [w.table, w.historyTable].filter((t): t is string => !!t);
  const tool: ToolSpec = {
    name: viewToolName(view.name, 'query'),
    title: `Analyse ${view.name}`,
    description: `${view.description} Analytical questions over the warehouse copy (Apache Iceberg, via Athena): group by fields, a time bucket `
      + `(${w.timeField ?? '_commit_ts'}), metrics (count, count_distinct, sum, avg, min, max), a time range and filters; `
      + `${w.historyTable ? `'history' holds one row per change (_op, _commit_ts). ` : ''}`
      + `${w.allowSql ? `Or send 'sql': one SELECT over ${tables.join(' / ')}. ` : ''}`
      + `At most ${w.maxRows} rows and about ${Math.round(DEFAULT_MAX_RESULT_BYTES / 1024)} KB of rows per answer; the answer names the Iceberg snapshot it read and when it was committed.`,
    inputSchema: z.strictObject(warehouseInputShape(view)),
    outputSchema: warehouseOutputSchema,
    readOnly: true,
    async run(args: QueryArgs, deps: McpServerDeps & WarehouseDeps) {
      const reader = deps.warehouse;
      if (!reader) throw new ToolInputError(`The warehouse of view '${view.name}' is not configured on this server.`);
      const budget = maxResultBytes(deps);
      const structuredKeys = Object.keys(args).filter(k => k !== 'sql' && (args as Record<string, unknown>)[k] !== undefined);
      if (args.sql !== undefined) {
        if (!w.allowSql) throw new ToolInputError(`View '${view.name}' does not accept SQL; use the structured request.`);
        if (structuredKeys.length > 0) throw new ToolInputError(`Give either sql or the structured fields (${structuredKeys.join(', ')}), not both.`);
        const guarded = guardAgentSql(args.sql, { database: reader.database, tables, databaseTables: databaseTables(allViews) });
        const snapshots = await snapshotsOf(reader, guarded.tables);
        if (snapshots.length < guarded.tables.length) return empty(view, 'sql', args.sql, snapshots, deps.now());
        const sql = guarded.render(Object.fromEntries(snapshots.map(s => [s.table, s.snapshotId])));
        return answer(view, 'sql', sql, await reader.run(sql, [], w.maxRows, budget), budget, snapshots, deps.now());
      }
      const compiled = compileStructured(view, reader.database, args);
      const snapshots = await snapshotsOf(reader, [compiled.table]);
      if (snapshots.length === 0) return empty(view, 'structured', compiled.template, snapshots, deps.now());
      const sql = compiled.template.replace(SNAPSHOT_PLACEHOLDER, snapshots[0].snapshotId);
      return answer(view, 'structured', sql, await reader.run(sql, compiled.parameters, compiled.limit, budget), budget, snapshots, deps.now());
    },
  };
  return [tool];
}

type TableSnapshot = SnapshotInfo & { table: string };

async function snapshotsOf(reader: WarehouseReader, tables: string[]): Promise<TableSnapshot[]> {
  const found = await Promise.all(tables.map(async table => ({ table, snapshot: await reader.latestSnapshot(table) })));
  return found.filter(f => f.snapshot).map(f => ({ table: f.table, ...f.snapshot! }));
}

function provenance(snapshots: TableSnapshot[], nowMs: number) {
  return snapshots.map(s => ({ table: s.table, snapshotId: s.snapshotId, committedAt: new Date(s.committedAtMs).toISOString(), ageMs: Math.max(0, nowMs - s.committedAtMs) }));
}

function staleness(view: ViewConfig, prov: ReturnType<typeof provenance>) {
  const max = view.maxStalenessMs ?? null;
  const oldest = prov.reduce((m, p) => Math.max(m, p.ageMs), 0);
  const stale = max !== null && prov.length > 0 && oldest > max;
  return {
    stale, maxStalenessMs: max,
    warning: stale ? `The warehouse snapshot is ${humanMs(oldest)} old, beyond this view's maxStaleness of ${humanMs(max!)}: the writer may be behind.` : null,
  };
}

function answer(view: ViewConfig, mode: 'structured' | 'sql', sql: string, result: Awaited<ReturnType<WarehouseReader['run']>>, budget: number, snapshots: TableSnapshot[], nowMs: number) {
  const prov = provenance(snapshots, nowMs);
  // The reader stops at the budget too; this holds the bound for any reader. Rows go out twice (text and
  // structuredContent), so the budget keeps the response far below Lambda's 6 MB synchronous response limit.
  const rows = withinBudget(result.rows, budget);
  const cut = rows.length < result.rows.length || result.cutAtBytes === true;
  return {
    structured: {
      view: view.name, mode, sql, columns: result.columns, rows, rowCount: rows.length, truncated: result.truncated || cut,
      limitNote: cut
        ? `Only the first ${rows.length} rows fit in one answer's byte budget (about ${Math.round(budget / 1024)} KB of rows); aggregate, select fewer columns, or narrow the query for the rest.`
        : null,
      provenance: prov, ...staleness(view, prov), scannedBytes: result.scannedBytes,
    },
    count: rows.length,
    positions: [],
  };
}

function empty(view: ViewConfig, mode: 'structured' | 'sql', sql: string, snapshots: TableSnapshot[], nowMs: number) {
  const prov = provenance(snapshots, nowMs);
  return {
    structured: {
      view: view.name, mode, sql, columns: [], rows: [], rowCount: 0, truncated: false, limitNote: null, provenance: prov, stale: false,
      maxStalenessMs: view.maxStalenessMs ?? null,
      warning: 'A table of this view has no committed snapshot yet: the writer has not committed its first changes. Retry after its commit interval.',
      scannedBytes: null,
    },
    count: 0,
    positions: [],
  };
}
