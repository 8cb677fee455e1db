// Runs warehouse queries on Athena: start in the view's workgroup, poll until done or the deadline (then stop), read at most the row cap, and look up the newest Iceberg snapshot.
import {
  AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand,
  type GetQueryResultsCommandOutput,
} from '@aws-sdk/client-athena';
import { WAREHOUSE_CATALOG } from '../../contract/warehouse-env';
import { JsonByteBudget } from './byte-budget';
import { StoreTimeoutError, ToolInputError } from './errors';

export { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand };

export interface WarehouseColumn {
  readonly name: string;
  readonly type: string;
}

export interface WarehouseResult {
  readonly queryExecutionId: string;
  readonly columns: WarehouseColumn[];
  readonly rows: Array<Record<string, unknown>>;
  /** More rows existed than `maxRows`, or than fit in `maxBytes`. */
  readonly truncated: boolean;
  /** Set when the rows stopped at `maxBytes` rather than `maxRows`. */
  readonly cutAtBytes?: boolean;
  readonly scannedBytes: number | null;
  readonly engineMs: number | null;
}

/** The newest committed snapshot of an Iceberg table. */
export interface SnapshotInfo {
  readonly snapshotId: string;
  readonly committedAtMs: number;
}

/** What the `<view>_query` tool needs from the warehouse; tests substitute it. */
export interface WarehouseReader {
  readonly database: string;
  /** At most `maxRows` rows, and rows only until their JSON passes `maxBytes` (at least one row is kept). */
  run(sql: string, parameters: string[], maxRows: number, maxBytes?: number): Promise<WarehouseResult>;
  latestSnapshot(table: string): Promise<SnapshotInfo | undefined>;
}

export interface AthenaReaderOptions {
  readonly workgroup: string;
  readonly database: string;
  /** The call gives up (and stops the query) after this. */
  readonly timeoutMs: number;
  /** First poll delay; doubles up to 1 s. @default 100 */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** Athena's reason when the workgroup's per-query data limit stopped a query (Athena user guide, workgroups-setting-control-limits-cloudwatch). */
const SCAN_LIMIT = /bytes scanned limit was exceeded/i;

export function athenaWarehouseReader(client: Pick<AthenaClient, 'send'>, o: AthenaReaderOptions): WarehouseReader {
  const sleep = o.sleep ?? (ms => new Promise(r => setTimeout(r, ms)));
  const now = o.now ?? Date.now;

  async function run(sql: string, parameters: string[], maxRows: number, maxBytes = Infinity): Promise<WarehouseResult> {
    const deadline = now() + o.timeoutMs;
    const started = await client.send(new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: o.workgroup,
      QueryExecutionContext: { Catalog: WAREHOUSE_CATALOG, Database: o.database },
      ...(parameters.length > 0 ? { ExecutionParameters: parameters } : {}),
    }));
    const id = started.QueryExecutionId;
    if (!id) throw new Error('Athena returned no QueryExecutionId');
    let delay = o.pollMs ?? 100;
    for (;;) {
      const { QueryExecution: q } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = q?.Status?.State;
      if (state === 'SUCCEEDED') {
        const read = await readRows(id, maxRows, maxBytes);
        return {
          queryExecutionId: id, ...read,
          scannedBytes: q?.Statistics?.DataScannedInBytes ?? null, engineMs: q?.Statistics?.EngineExecutionTimeInMillis ?? null,
        };
      }
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = q?.Status?.StateChangeReason ?? '';
        if (SCAN_LIMIT.test(reason)) {
          throw new ToolInputError('The query would scan more data than this warehouse allows per query; narrow the time range, filter on the partition field, or group by fewer fields.');
        }
        const category = q?.Status?.AthenaError?.ErrorCategory;
        // Category 2 is a user error (syntax, unknown column, type mismatch): the agent can fix its request.
        if (category === 2) throw new ToolInputError(`Athena refused the query: ${reason.slice(0, 300)}`);
        throw Object.assign(new Error(`Athena query ${id} ${state}: ${reason}`), { name: 'AthenaQueryFailed' });
      }
      if (now() + delay > deadline) {
        await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
        throw new StoreTimeoutError('warehouse', o.timeoutMs);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
  }

  async function readRows(id: string, maxRows: number, maxBytes: number): Promise<{ columns: WarehouseColumn[]; rows: Array<Record<string, unknown>>; truncated: boolean; cutAtBytes: boolean }> {
    const rows: Array<Record<string, unknown>> = [];
    const budget = new JsonByteBudget(maxBytes);
    let columns: WarehouseColumn[] = [];
    let token: string | undefined;
    let header = true;
    let truncated = false;
    let cutAtBytes = false;
    do {
      const page: GetQueryResultsCommandOutput = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: token }));
      if (columns.length === 0) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map(c => ({ name: c.Name ?? c.Label ?? '', type: c.Type ?? 'varchar' }));
      for (const row of page.ResultSet?.Rows ?? []) {
        // A SELECT's first row holds the column labels (Athena user guide, querying-athena-tables / GetQueryResults).
        if (header) {
          header = false;
          continue;
        }
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        const values = row.Data ?? [];
        const converted = Object.fromEntries(columns.map((c, i) => [c.name, convert(values[i]?.VarCharValue, c.type)]));
        // Rows stop at the answer's byte budget (the rule the answer applies, so it cuts nothing more), and no later
        // page is read for nothing.
        if (!budget.admit(converted)) {
          truncated = true;
          cutAtBytes = true;
          break;
        }
        rows.push(converted);
      }
      token = page.NextToken;
    } while (token && !truncated);
    return { columns, rows, truncated, cutAtBytes };
  }

  return {
    database: o.database,
    run,
    async latestSnapshot(table) {
      const sql = `SELECT CAST(snapshot_id AS varchar) AS snapshot_id, to_unixtime(committed_at) * 1000 AS committed_ms FROM "${WAREHOUSE_CATALOG.toLowerCase()}"."${o.database}"."${table}$snapshots" ORDER BY committed_at DESC LIMIT 1`;
      const result = await run(sql, [], 1);
      const row = result.rows[0];
      if (!row || typeof row.snapshot_id !== 'string') return undefined;
      return { snapshotId: row.snapshot_id, committedAtMs: Math.round(Number(row.committed_ms)) };
    },
  };
}

/** Athena returns every value as text; numbers and booleans become JSON values (big integers stay strings). */
export function convert(value: string | undefined, type: string): unknown {
  if (value === undefined) return null;
  switch (type) {
    case 'tinyint': case 'smallint': case 'integer': case 'bigint': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'double': case 'float': case 'real': case 'decimal': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean': return value === 'true';
    default: return value;
  }
}
