// A local warehouse on real Iceberg files: PyIceberg writes the tables the construct declares (SQL catalog in a temp
// dir) and DuckDB runs the query tool's SQL at the pinned snapshot. `dev --engines` serves it (extension.ts).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ViewConfig } from '../../../../contract/view-config';
import { currentTableShape, historyTableShape, IcebergTableShape } from '../../../../constructs/stores/warehouse-schema';
import { convert, type SnapshotInfo, type WarehouseReader } from '../../../../lambda/mcp/warehouse-athena';
import { cachedVenv } from '../flink';
import { engineAsset } from '../maven';
import type { LocalCatalog } from './writer';

/** The virtualenv's python with requirements.txt (PyIceberg, DuckDB) installed; built once per requirements hash. */
export function warehousePython(): string {
  const requirements = engineAsset('warehouse', 'requirements.txt');
  const python = process.env.WAREHOUSE_PYTHON ?? 'python3';
  const version = spawnSync(python, ['-c', 'import sys; print("%d%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`The warehouse engine needs Python 3.10+ with venv and pip ('${python}' did not run); set WAREHOUSE_PYTHON.`);
  return cachedVenv(python, requirements, `warehouse-py${version.stdout.trim()}`, 20 * 60_000);
}

/** One row change of a commit: `c`/`r`/`u` upsert the row by key, `d` deletes it. */
export interface WarehouseChange {
  readonly op: 'c' | 'r' | 'u' | 'd';
  readonly row: Record<string, unknown>;
}

export interface LocalWarehouse {
  readonly dir: string;
  readonly database: string;
  /** The catalog as Iceberg's JdbcCatalog reaches it (the Flink writer commits there; same sqlite file as PyIceberg's SqlCatalog). */
  readonly catalog: LocalCatalog;
  /** What the `<view>_query` tool runs on (McpServerDeps.warehouse). */
  readonly reader: WarehouseReader;
  /** Commits the changes to a view's current-state table as one snapshot (the writer's checkpoint commit). */
  commit(view: string, changes: readonly WarehouseChange[]): SnapshotInfo;
  close(): void;
}

/** Creates every warehouse view's tables, with the schema the construct declares, in a fresh temp dir. */
export function startLocalWarehouse(views: readonly ViewConfig[], database = 'agent_warehouse'): LocalWarehouse {
  const python = warehousePython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-warehouse-'));
  const call = (request: Record<string, unknown>): any => {
    const r = spawnSync(python, [engineAsset('warehouse', 'iceberg_engine.py')], {
      input: JSON.stringify({ dir, database, ...request }), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`iceberg_engine.py ${String(request.action)} failed: ${r.stderr || r.error?.message}`);
    return JSON.parse(r.stdout);
  };
  const warehouseViews = views.filter(v => v.store === 'warehouse');
  const tables: IcebergTableShape[] = warehouseViews.flatMap(v => [currentTableShape(v), historyTableShape(v)].filter((s): s is IcebergTableShape => !!s));
  call({ action: 'create', tables });
  const reader: WarehouseReader = {
    database,
    async run(sql, parameters, maxRows) {
      const out = call({ action: 'query', sql, parameters });
      const columns = (out.columns as Array<{ name: string; type: string }>).map(c => ({ name: c.name, type: athenaType(c.type) }));
      const all = out.rows as Array<Array<string | null>>;
      const rows = all.slice(0, maxRows).map(r => Object.fromEntries(columns.map((c, i) => [c.name, convert(r[i] ?? undefined, c.type)])));
      return { queryExecutionId: 'local', columns, rows, truncated: all.length > maxRows, scannedBytes: null, engineMs: null };
    },
    async latestSnapshot(table) {
      return call({ action: 'snapshot', table }) ?? undefined;
    },
  };
  return {
    dir, database, reader,
    // WAL and a busy timeout: the writer's two committers and the reader share the sqlite file (SQLITE_BUSY otherwise).
    catalog: { name: 'local', uri: `jdbc:sqlite:${path.join(dir, 'catalog.db')}?journal_mode=WAL&busy_timeout=60000`, warehouse: `file://${dir}` },
    commit(view, changes) {
      const config = warehouseViews.find(v => v.name === view);
      if (!config) throw new Error(`no warehouse view '${view}'`);
      return call({ action: 'apply', table: config.warehouse!.table, changes });
    },
    close() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** DuckDB's type names as the Athena type names the tool converts by. */
function athenaType(duck: string): string {
  if (/^(bigint|hugeint|integer|smallint|tinyint|ubigint)$/.test(duck)) return 'bigint';
  if (/^(double|float|real)$/.test(duck) || duck.startsWith('decimal')) return 'double';
  if (duck === 'boolean') return 'boolean';
  return 'varchar';
}
