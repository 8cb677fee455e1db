// The SQL mode of `<view>_query`: one SELECT over the view's own Iceberg tables, parsed with a Trino grammar and refused otherwise; the executed text is rebuilt from the parsed tokens.
import { ToolInputError } from './errors';
import { loadTrinoParser, SqlNode, SqlSyntaxError } from './warehouse-parser';

/** Longest SQL an agent may send. */
export const MAX_AGENT_SQL_LENGTH = 8000;

/** Functions an agent's SQL may call: aggregates, window functions and pure scalar functions; nothing that reads outside the query. */
export const ALLOWED_SQL_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'count_if', 'sum', 'avg', 'min', 'max', 'min_by', 'max_by', 'approx_distinct', 'approx_percentile', 'arbitrary', 'any_value',
  'array_agg', 'bool_and', 'bool_or', 'every', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'corr',
  'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'geometric_mean',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // math and conditionals
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'truncate', 'sign', 'sqrt', 'power', 'pow', 'ln', 'log', 'log2', 'log10', 'exp', 'mod',
  'greatest', 'least', 'coalesce', 'nullif', 'if', 'try', 'width_bucket', 'is_nan', 'is_finite',
  // date and time
  'date_trunc', 'date_add', 'date_diff', 'date_format', 'date_parse', 'from_iso8601_timestamp', 'from_iso8601_date', 'to_iso8601',
  'from_unixtime', 'to_unixtime', 'year', 'quarter', 'month', 'week', 'day', 'day_of_week', 'dow', 'day_of_year', 'doy', 'hour',
  'minute', 'second', 'now', 'at_timezone', 'with_timezone', 'format_datetime', 'parse_datetime', 'last_day_of_month',
  // strings, JSON and arrays
  'lower', 'upper', 'length', 'concat', 'substr', 'substring', 'trim', 'ltrim', 'rtrim', 'replace', 'split_part', 'strpos', 'starts_with',
  'regexp_like', 'regexp_extract', 'regexp_replace', 'lpad', 'rpad', 'reverse', 'json_extract_scalar', 'json_extract', 'json_format',
  'json_parse', 'json_array_length', 'cardinality', 'contains', 'element_at', 'array_join', 'format', 'typeof',
]);

export interface SqlGuardScope {
  /** Glue database of the view's tables. */
  readonly database: string;
  /** The only tables the SQL may read (the view's current-state and history tables). */
  readonly tables: readonly string[];
  /**
   * Every table of the database (other views' tables included): a WITH query may not take one of these names, or an
   * unqualified reference the guard reads as the WITH query could resolve to the table where the WITH is out of scope.
   */
  readonly databaseTables?: readonly string[];
}

/** An accepted query: the tables it reads and its text with each table pinned to a snapshot. */
export interface GuardedSql {
  readonly tables: string[];
  /** The query as executed: tokens of the parsed statement, tables fully qualified and read `FOR VERSION AS OF` the given snapshot ids. */
  render(snapshots: Record<string, string>): string;
}

/** Accepts exactly one SELECT over the scope's tables; throws ToolInputError saying what was refused and what is allowed. */
export function guardAgentSql(sql: string, scope: SqlGuardScope): GuardedSql {
  const allowed = `Send one SELECT (or WITH ... SELECT) over ${scope.tables.map(t => `'${t}'`).join(' or ')}, or use the structured request.`;
  if (typeof sql !== 'string' || !sql.trim()) throw new ToolInputError(`The sql is empty. ${allowed}`);
  if (sql.length > MAX_AGENT_SQL_LENGTH) throw new ToolInputError(`The sql has ${sql.length} characters; at most ${MAX_AGENT_SQL_LENGTH} are accepted.`);
  const { TrinoSQL, TrinoSqlParser } = loadTrinoParser();
  const names = TrinoSqlParser.ruleNames;
  const rule = (n: SqlNode) => (n.ruleIndex === undefined ? undefined : names[n.ruleIndex]);
  const errors: SqlSyntaxError[] = [];
  const tree = new TrinoSQL().parse(sql, e => errors.push(e));
  if (errors.length > 0) {
    const e = errors[0];
    throw new ToolInputError(`The sql does not parse as Athena (Trino) SQL at line ${e.startLine}, column ${e.startColumn + 1}: ${e.message}. ${allowed}`);
  }
  const statements = (tree.children ?? []).filter(c => rule(c) === 'statements');
  if (statements.length !== 1) throw new ToolInputError(`The sql holds ${statements.length} statements; exactly one SELECT is accepted. ${allowed}`);
  const statement = findRule(statements[0], 'statement', rule);
  const body = (statement?.children ?? []).filter(c => c.ruleIndex !== undefined);
  if (!statement || body.length !== 1 || rule(body[0]) !== 'rootQuery') {
    throw new ToolInputError(`The sql is not a query (it is a ${describeStatement(statement, rule)}); only SELECT is accepted. ${allowed}`);
  }
  const root = body[0];

  // Each table reference is checked against the WITH names in scope where it stands: a WITH query's name is visible in
  // the queries of the same WITH after it (and in its own, for WITH RECURSIVE) and in the query the WITH introduces, never
  // outside; elsewhere Athena resolves the name to a table of the database (another view's table, a metadata table).
  const refs: Array<{ node: SqlNode; table: string }> = [];
  const pending: Array<{ node: SqlNode; ctes: ReadonlySet<string> }> = [];
  const visit = (node: SqlNode, ctes: ReadonlySet<string>): void => {
    const r = rule(node);
    if (r === 'query') {
      const withClause = (node.children ?? []).find(c => rule(c) === 'with');
      if (withClause) {
        const recursive = (withClause.children ?? []).some(c => c.symbol && (c.symbol.text ?? '').toUpperCase() === 'RECURSIVE');
        let inScope = new Set(ctes);
        for (const named of (withClause.children ?? []).filter(c => rule(c) === 'namedQuery')) {
          const id = (named.children ?? []).find(c => rule(c) === 'identifier');
          const name = id ? identifierText(id) : undefined;
          if (name !== undefined) {
            if (name.includes('$')) {
              throw new ToolInputError(`The sql names a WITH query '${name}'; a name with '$' is an Iceberg metadata table, which agents may not read. Give it another name.`);
            }
            if (scope.tables.includes(name) || (scope.databaseTables ?? []).includes(name)) {
              throw new ToolInputError(`The sql names a WITH query '${name}' like a table of the warehouse; give it another name.`);
            }
          }
          const own = name !== undefined && recursive ? new Set([...inScope, name]) : inScope;
          for (const c of named.children ?? []) visit(c, own);
          if (name !== undefined) inScope = new Set([...inScope, name]);
        }
        for (const c of node.children ?? []) if (c !== withClause) visit(c, inScope);
        return;
      }
    } else if (r === 'tableRef') {
      pending.push({ node, ctes });
    } else if (r === 'functionName') {
      const name = qualifiedParts(node).map(p => p.toLowerCase());
      if (name.length !== 1 || !ALLOWED_SQL_FUNCTIONS.has(name[0])) {
        throw new ToolInputError(`The sql calls function '${name.join('.')}', which is not allowed here (only aggregates, window functions and pure scalar functions such as date_trunc, round, lower). ${allowed}`);
      }
    } else if (r === 'tableFunctionCall' || r === 'tableFunctionInvocation') {
      throw new ToolInputError(`The sql calls a table function (TABLE(...)), which can read outside the view. ${allowed}`);
    } else if (r === 'queryPeriod') {
      throw new ToolInputError('The sql uses FOR VERSION/TIMESTAMP AS OF; answers are pinned to the newest snapshot, whose id and commit time they report. Remove the clause.');
    }
    for (const c of node.children ?? []) visit(c, ctes);
  };
  visit(root, new Set());
  for (const { node, ctes } of pending) {
    const parts = qualifiedParts(node);
    const lower = parts.map(p => p.toLowerCase());
    if (lower.some(p => p.includes('$'))) {
      throw new ToolInputError(`The sql reads '${parts.join('.')}', an Iceberg metadata table ('$' in the name), which agents may not read. ${allowed}`);
    }
    if (lower.length === 1 && ctes.has(lower[0])) continue;
    const [table, schema, catalog] = [...lower].reverse();
    const ok = lower.length <= 3 && scope.tables.includes(table)
      && (schema === undefined || schema === scope.database.toLowerCase())
      && (catalog === undefined || catalog === 'awsdatacatalog');
    if (!ok) throw new ToolInputError(`The sql reads '${parts.join('.')}', which is not this view's table. ${allowed}`);
    refs.push({ node, table });
  }
  if (refs.length === 0) throw new ToolInputError(`The sql reads no table of the view. ${allowed}`);

  const tables = [...new Set(refs.map(r => r.table))];
  return {
    tables,
    render(snapshots) {
      const replaced = new Map(refs.map(r => {
        const id = snapshots[r.table];
        if (!id || !/^\d{1,20}$/.test(id)) throw new Error(`no snapshot id for table ${r.table}`);
        return [r.node, `"awsdatacatalog"."${scope.database}"."${r.table}" FOR VERSION AS OF ${id}`];
      }));
      return tokensOf(root, replaced).join(' ');
    },
  };
}

function findRule(node: SqlNode, name: string, rule: (n: SqlNode) => string | undefined): SqlNode | undefined {
  if (rule(node) === name) return node;
  for (const c of node.children ?? []) {
    const hit = findRule(c, name, rule);
    if (hit) return hit;
  }
  return undefined;
}

/** The statement kind for the refusal message (the first keyword). */
function describeStatement(statement: SqlNode | undefined, rule: (n: SqlNode) => string | undefined): string {
  const first = statement ? tokensOf(statement, new Map())[0] : undefined;
  void rule;
  return first ? `${first.toUpperCase()} statement` : 'statement that is not a query';
}

/** Terminal tokens in order (comments are on a hidden channel and never in the tree), with replaced subtrees. */
function tokensOf(node: SqlNode, replaced: Map<SqlNode, string>, out: string[] = []): string[] {
  const r = replaced.get(node);
  if (r !== undefined) {
    out.push(r);
    return out;
  }
  if (node.symbol) {
    const text = node.symbol.text ?? '';
    if (text !== '<EOF>') out.push(text);
    return out;
  }
  for (const c of node.children ?? []) tokensOf(c, replaced, out);
  return out;
}

/** The identifier parts of a table reference or a function name, unquoted. */
function qualifiedParts(node: SqlNode): string[] {
  const parts: string[] = [];
  const visit = (n: SqlNode) => {
    if (n.symbol) {
      const t = n.symbol.text ?? '';
      if (t !== '.') parts.push(unquote(t));
      return;
    }
    for (const c of n.children ?? []) visit(c);
  };
  visit(node);
  return parts;
}

function identifierText(node: SqlNode): string {
  return qualifiedParts(node).join('.').toLowerCase();
}

function unquote(t: string): string {
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/""/g, '"');
  if (t.length >= 2 && t.startsWith('`') && t.endsWith('`')) return t.slice(1, -1).replace(/``/g, '`');
  return t;
}
