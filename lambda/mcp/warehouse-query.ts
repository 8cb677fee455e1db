// The structured mode of `<view>_query`: group-by fields, metrics, a time range and filters compiled to one Athena SQL
// query with identifiers from the view's declared fields only and every value as an execution parameter.
import * as z from 'zod';
import type { ViewConfig, ViewFieldConfig } from '../../contract/view-config';
import { WAREHOUSE_COMMIT_TS_COLUMN, WAREHOUSE_OP_COLUMN } from '../../contract/warehouse-env';
import { ToolInputError } from './errors';
import { LIMITS } from './schemas';

export const METRIC_FUNCTIONS = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max'] as const;
export const TIME_BUCKETS = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const;
export const FILTER_OPS = ['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'is_null', 'is_not_null'] as const;
/** Group-by fields and metrics one request may hold. */
export const MAX_GROUP_BY = 4;
export const MAX_METRICS = 8;
export const MAX_FILTERS = 16;

const GROUPABLE: readonly ViewFieldConfig['type'][] = ['string', 'keyword', 'integer', 'boolean', 'timestamp', 'number'];
const NUMERIC: readonly ViewFieldConfig['type'][] = ['integer', 'number'];
const ORDERED: readonly ViewFieldConfig['type'][] = ['integer', 'number', 'timestamp', 'string', 'keyword'];

const scalar = z.union([z.string().max(LIMITS.maxValueLength), z.number().finite(), z.boolean()]);
const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'an ISO-8601 date or date-time');

/** The columns a request on `table` may name: the view's fields, the commit time, and on history tables the change kind. */
export function queryColumns(view: ViewConfig, table: 'current' | 'history'): ViewFieldConfig[] {
  return [
    ...view.fields,
    { name: WAREHOUSE_COMMIT_TS_COLUMN, type: 'timestamp', description: 'Source commit time of the row\'s last change' },
    ...(table === 'history' ? [{ name: WAREHOUSE_OP_COLUMN, type: 'keyword' as const, description: 'Change kind: c, r, u or d' }] : []),
  ];
}

/** The tool's input schema for one view. */
export function warehouseInputShape(view: ViewConfig) {
  const w = view.warehouse!;
  const columns = queryColumns(view, w.historyTable ? 'history' : 'current').map(c => c.name) as [string, ...string[]];
  return {
    ...(w.historyTable ? { table: z.enum(['current', 'history']).optional().describe("'current' (default): one row per key, as it is now; 'history': one row per change") } : {}),
    groupBy: z.array(z.enum(columns)).max(MAX_GROUP_BY).optional().describe('Fields to group by'),
    timeBucket: z.enum(TIME_BUCKETS).optional().describe(`Also group by this unit of the time field (${w.timeField ?? WAREHOUSE_COMMIT_TS_COLUMN}), as column 'bucket'`),
    metrics: z.array(z.strictObject({
      fn: z.enum(METRIC_FUNCTIONS),
      field: z.enum(columns).optional().describe('Required except for count'),
    })).min(1).max(MAX_METRICS).optional().describe('Aggregates; default count when grouping'),
    timeRange: z.strictObject({ from: isoTime.optional(), to: isoTime.optional() }).optional()
      .describe(`Bounds on the time field (${w.timeField ?? WAREHOUSE_COMMIT_TS_COLUMN}): from inclusive, to exclusive`),
    filters: z.array(z.strictObject({
      field: z.enum(columns), op: z.enum(FILTER_OPS), value: scalar.optional(), values: z.array(scalar).max(LIMITS.maxFilterValues).optional(),
    })).max(MAX_FILTERS).optional(),
    orderBy: z.strictObject({ by: z.string().max(128).describe("A group-by field, 'bucket', or a metric column such as 'count' or 'sum_total'"), direction: z.enum(['asc', 'desc']).optional() }).optional(),
    limit: z.number().int().min(1).max(w.maxRows).optional().describe(`Rows to return (at most ${w.maxRows})`),
    ...(w.allowSql ? { sql: z.string().max(8000).optional().describe(`Instead of the fields above: one SELECT over ${[w.table, w.historyTable].filter(Boolean).join(' or ')}`) } : {}),
  };
}

export interface StructuredRequest {
  readonly table?: 'current' | 'history';
  readonly groupBy?: string[];
  readonly timeBucket?: typeof TIME_BUCKETS[number];
  readonly metrics?: Array<{ fn: typeof METRIC_FUNCTIONS[number]; field?: string }>;
  readonly timeRange?: { from?: string; to?: string };
  readonly filters?: Array<{ field: string; op: typeof FILTER_OPS[number]; value?: string | number | boolean; values?: Array<string | number | boolean> }>;
  readonly orderBy?: { by: string; direction?: 'asc' | 'desc' };
  readonly limit?: number;
}

/** A compiled query: SQL with `?` placeholders (the snapshot pinned later) and its execution parameters. */
export interface CompiledQuery {
  readonly table: string;
  /** The SQL with `{{SNAPSHOT}}` where the snapshot id goes. */
  readonly template: string;
  readonly parameters: string[];
  readonly limit: number;
}

export const SNAPSHOT_PLACEHOLDER = '{{SNAPSHOT}}';

/** Compiles a structured request; every identifier comes from the view's declared columns, every value is a parameter. */
export function compileStructured(view: ViewConfig, database: string, req: StructuredRequest): CompiledQuery {
  const w = view.warehouse!;
  const which = req.table ?? 'current';
  if (which === 'history' && !w.historyTable) throw new ToolInputError(`View '${view.name}' keeps no history; query table 'current'.`);
  const table = which === 'history' ? w.historyTable! : w.table;
  const columns = queryColumns(view, which);
  const col = (name: string, what: string): ViewFieldConfig => {
    const c = columns.find(x => x.name === name);
    if (!c) throw new ToolInputError(`${what} '${name}' is not a column of ${table}; columns: ${columns.map(x => x.name).join(', ')}.`);
    return c;
  };
  const params: string[] = [];
  const param = (c: ViewFieldConfig, v: unknown, what: string): string => {
    params.push(literal(c, v, what));
    return c.type === 'timestamp' ? 'from_iso8601_timestamp(?)' : '?';
  };

  const select: string[] = [];
  const groups: string[] = [];
  for (const g of req.groupBy ?? []) {
    const c = col(g, 'groupBy field');
    if (!GROUPABLE.includes(c.type)) throw new ToolInputError(`groupBy field '${g}' has type ${c.type}, which cannot be grouped.`);
    select.push(ident(g));
    groups.push(ident(g));
  }
  const timeField = w.timeField ?? WAREHOUSE_COMMIT_TS_COLUMN;
  if (req.timeBucket) {
    select.push(`date_trunc('${req.timeBucket}', ${ident(timeField)}) AS "bucket"`);
    groups.push(`date_trunc('${req.timeBucket}', ${ident(timeField)})`);
  }
  const metrics = req.metrics ?? (groups.length > 0 ? [{ fn: 'count' as const }] : []);
  const metricNames: string[] = [];
  for (const m of metrics) {
    if (m.fn === 'count' && !m.field) {
      select.push('count(*) AS "count"');
      metricNames.push('count');
      continue;
    }
    if (!m.field) throw new ToolInputError(`metric ${m.fn} needs a field.`);
    const c = col(m.field, `metric ${m.fn} field`);
    if ((m.fn === 'sum' || m.fn === 'avg') && !NUMERIC.includes(c.type)) throw new ToolInputError(`metric ${m.fn} needs a numeric field; '${m.field}' is ${c.type}.`);
    if ((m.fn === 'min' || m.fn === 'max') && !ORDERED.includes(c.type)) throw new ToolInputError(`metric ${m.fn} needs an ordered field; '${m.field}' is ${c.type}.`);
    const name = `${m.fn}_${m.field}`;
    if (metricNames.includes(name)) continue;
    select.push(m.fn === 'count_distinct' ? `count(DISTINCT ${ident(m.field)}) AS ${ident(name)}` : `${m.fn}(${ident(m.field)}) AS ${ident(name)}`);
    metricNames.push(name);
  }
  const aggregated = metricNames.length > 0;
  if (!aggregated && groups.length > 0) throw new ToolInputError('groupBy or timeBucket needs at least one metric.');
  if (!aggregated) select.push(...columns.map(c => ident(c.name)));

  const where: string[] = [];
  if (req.timeRange?.from) where.push(`${ident(timeField)} >= ${param(col(timeField, 'time field'), req.timeRange.from, 'timeRange.from')}`);
  if (req.timeRange?.to) where.push(`${ident(timeField)} < ${param(col(timeField, 'time field'), req.timeRange.to, 'timeRange.to')}`);
  for (const [i, f] of (req.filters ?? []).entries()) where.push(filterSql(col(f.field, `filters[${i}].field`), f, i, param));

  const limit = Math.min(req.limit ?? w.maxRows, w.maxRows);
  let order = '';
  if (req.orderBy) {
    const allowed = [...(req.groupBy ?? []), ...(req.timeBucket ? ['bucket'] : []), ...metricNames, ...(aggregated ? [] : columns.map(c => c.name))];
    if (!allowed.includes(req.orderBy.by)) throw new ToolInputError(`orderBy '${req.orderBy.by}' is not a column of the answer; use one of: ${allowed.join(', ')}.`);
    order = ` ORDER BY ${ident(req.orderBy.by)} ${req.orderBy.direction === 'desc' ? 'DESC' : 'ASC'}`;
  } else if (req.timeBucket) {
    order = ' ORDER BY "bucket" ASC';
  } else if (!aggregated) {
    order = ` ORDER BY ${ident(timeField)} DESC`;
  }
  const sql = `SELECT ${select.join(', ')} FROM "awsdatacatalog".${ident(database)}.${ident(table)} FOR VERSION AS OF ${SNAPSHOT_PLACEHOLDER}`
    + (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '')
    + (groups.length > 0 ? ` GROUP BY ${groups.join(', ')}` : '')
    + `${order} LIMIT ${limit + 1}`;
  return { table, template: sql, parameters: params, limit };
}

function filterSql(c: ViewFieldConfig, f: NonNullable<StructuredRequest['filters']>[number], i: number, param: (c: ViewFieldConfig, v: unknown, what: string) => string): string {
  const where = `filters[${i}]`;
  if (f.op === 'is_null') return `${ident(c.name)} IS NULL`;
  if (f.op === 'is_not_null') return `${ident(c.name)} IS NOT NULL`;
  if (c.type === 'json') throw new ToolInputError(`${where}: '${c.name}' is a JSON field; it can only be tested with is_null / is_not_null.`);
  if (f.op === 'in' || f.op === 'not_in') {
    if (!f.values || f.values.length === 0) throw new ToolInputError(`${where}: op ${f.op} needs values (1 to ${LIMITS.maxFilterValues}).`);
    return `${ident(c.name)} ${f.op === 'in' ? 'IN' : 'NOT IN'} (${f.values.map((v, j) => param(c, v, `${where}.values[${j}]`)).join(', ')})`;
  }
  if (f.value === undefined) throw new ToolInputError(`${where}: op ${f.op} needs a value.`);
  if (['gt', 'gte', 'lt', 'lte'].includes(f.op) && !ORDERED.includes(c.type)) throw new ToolInputError(`${where}: op ${f.op} needs an ordered field; '${c.name}' is ${c.type}.`);
  const op = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op as 'eq'];
  return `${ident(c.name)} ${op} ${param(c, f.value, `${where}.value`)}`;
}

/** A value as the SQL literal Athena substitutes for `?` (strings quoted and escaped, numbers and booleans checked). */
export function literal(c: Pick<ViewFieldConfig, 'name' | 'type'>, v: unknown, what: string): string {
  const bad = (expected: string) => new ToolInputError(`${what} for '${c.name}' must be ${expected}; got ${JSON.stringify(v)?.slice(0, 60)}.`);
  switch (c.type) {
    case 'integer': {
      const s = typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : typeof v === 'string' ? v.trim() : '';
      if (!/^-?\d{1,19}$/.test(s)) throw bad('an integer');
      return s;
    }
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a finite number');
      return String(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return v ? 'true' : 'false';
    case 'timestamp': {
      const ms = typeof v === 'string' && isoTime.safeParse(v).success ? Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) || v.length === 10 ? v : `${v}Z`) : NaN;
      if (!Number.isFinite(ms)) throw bad('an ISO-8601 date or date-time');
      return `'${new Date(ms).toISOString()}'`;
    }
    default:
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad('a string');
      return `'${String(v).replace(/'/g, "''")}'`;
  }
}

/** A double-quoted identifier; names come from the declared fields (letters, digits, '_'), quotes doubled anyway. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
