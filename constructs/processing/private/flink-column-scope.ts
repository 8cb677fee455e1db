// The vocabulary of Flink SQL column checks: schemas, relations, scopes, rule ids, and the small tree and name helpers they share.
import type { ParseNode } from './flink-parser';

/** A column of a declared table. */
export interface FlinkColumnSchema {
  readonly name: string;
  /** Flink SQL type as written (`BIGINT`, `DECIMAL(12, 2)`); undefined when not declared (computed columns). */
  readonly type?: string;
  /** `physical`, `metadata` (written by INSERT), `virtual` (metadata read only) or `computed`. */
  readonly kind: 'physical' | 'metadata' | 'virtual' | 'computed';
  /** The table's event-time (rowtime) attribute: the column its WATERMARK is declared for. @default false */
  readonly rowtime?: boolean;
}

/** A problem found here, positioned at a parse node of the statement. */
export interface ColumnProblem {
  readonly node: ParseNode;
  readonly message: string;
}

/** Rule indexes of dt-sql-parser's Flink grammar this module walks. */
export interface ColumnRuleIds {
  readonly queryStatement: number; readonly withClause: number; readonly withItem: number; readonly withItemName: number;
  readonly selectStatement: number; readonly selectClause: number; readonly selectList: number; readonly columnProjectItem: number;
  readonly selectLiteralColumnName: number; readonly selectExpressionColumnName: number; readonly selectWindowItemColumnName: number;
  readonly columnAlias: number; readonly tableAllColumns: number; readonly overWindowItem: number;
  readonly fromClause: number; readonly tableExpression: number; readonly tableReference: number; readonly tablePrimary: number;
  readonly tablePath: number; readonly tableAlias: number; readonly identifierList: number; readonly identifier: number;
  readonly atomExpressionTable: number; readonly windowTVFClause: number; readonly windowTVFParam: number; readonly timeAttrColumn: number;
  readonly columnDescriptor: number; readonly columnName: number; readonly columnNamePath: number;
  readonly groupByClause: number; readonly havingClause: number; readonly orderByClause: number; readonly valuesClause: number;
  readonly expression: number; readonly primaryExpression: number; readonly columnType: number;
  readonly valuesDefinition: number; readonly valuesRowDefinition: number; readonly columnNameList: number;
}

/** The rule names of `ColumnRuleIds`, looked up in the generated parser. */
export const COLUMN_RULE_NAMES: ReadonlyArray<keyof ColumnRuleIds> = [
  'queryStatement', 'withClause', 'withItem', 'withItemName', 'selectStatement', 'selectClause', 'selectList', 'columnProjectItem',
  'selectLiteralColumnName', 'selectExpressionColumnName', 'selectWindowItemColumnName', 'columnAlias', 'tableAllColumns', 'overWindowItem',
  'fromClause', 'tableExpression', 'tableReference', 'tablePrimary', 'tablePath', 'tableAlias', 'identifierList', 'identifier',
  'atomExpressionTable', 'windowTVFClause', 'windowTVFParam', 'timeAttrColumn', 'columnDescriptor', 'columnName', 'columnNamePath',
  'groupByClause', 'havingClause', 'orderByClause', 'valuesClause', 'expression', 'primaryExpression', 'columnType',
  'valuesDefinition', 'valuesRowDefinition', 'columnNameList',
];

/** An output column of a query: its name (undefined for an unnamed expression) and its type where known. */
export interface OutColumn {
  readonly name?: string;
  readonly type?: string;
  /** The select item that produces it (for positions). */
  readonly node?: ParseNode;
  /** An event-time attribute passed through unchanged. */
  readonly rowtime?: boolean;
}

/** A query's output; `columns` undefined when it cannot be known here. */
export interface Relation {
  readonly columns?: OutColumn[];
  /** Output columns that are rowtime attributes of the two sides of an interval join (Flink writes at most one into a table). */
  readonly joinedRowtimes?: OutColumn[];
}

/** One table of a FROM clause under its alias; `columns` undefined when unknown (UDF tables, unknown sources). */
export interface Source {
  readonly alias: string;
  readonly columns?: OutColumn[];
}

export interface Scope {
  readonly sources: Source[];
  /** Select-list aliases, usable in GROUP BY, HAVING and ORDER BY. */
  readonly aliases: Set<string>;
}

/** Window TVFs add these columns to their input table. */
export const WINDOW_COLUMNS: OutColumn[] = [
  { name: 'window_start', type: 'TIMESTAMP(3)' }, { name: 'window_end', type: 'TIMESTAMP(3)' }, { name: 'window_time', type: 'TIMESTAMP(3)', rowtime: true },
];

/** Niladic functions the grammar can read as a column name. */
export const NILADIC = new Set(['CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'LOCALTIME', 'LOCALTIMESTAMP', 'CURRENT_USER', 'SESSION_USER',
  'USER', 'CURRENT_ROW_TIMESTAMP', 'CURRENT_WATERMARK', 'NULL', 'TRUE', 'FALSE', 'UNKNOWN']);

/** What the walker needs from the analysis around it. */
export interface ColumnContext {
  readonly R: ColumnRuleIds;
  /** Text of a node in the statement. */
  text(node: ParseNode): string;
  /** Columns of a declared table or view; undefined when the table is unknown or its columns are not known. */
  table(name: string): FlinkColumnSchema[] | OutColumn[] | undefined;
  /** Normalized table name of a tablePath node. */
  tableName(node: ParseNode): string;
  report(problem: ColumnProblem): void;
}

export function rulesOf(node: ParseNode): ParseNode[] {
  return (node.children ?? []).filter(c => c.ruleIndex !== undefined);
}

export function first(node: ParseNode, rule: number): ParseNode | undefined {
  return rulesOf(node).find(c => c.ruleIndex === rule);
}

/** Unquotes a `quoted` identifier; a plain identifier is kept as written (Flink identifiers are case-sensitive). */
export function unquoteIdentifier(text: string): string {
  const t = text.trim();
  return t.length >= 2 && t.startsWith('`') && t.endsWith('`') ? t.slice(1, -1).replace(/``/g, '`') : t;
}

/** The parts of a dotted name (`o`.`id` -> ['o', 'id']). */
export function partsOf(node: ParseNode, ctx: ColumnContext): string[] {
  const ids: ParseNode[] = [];
  const walk = (n: ParseNode) => {
    if (n.ruleIndex === ctx.R.identifier) {
      ids.push(n);
      return;
    }
    for (const c of rulesOf(n)) walk(c);
  };
  walk(node);
  return ids.length > 0 ? ids.map(i => unquoteIdentifier(ctx.text(i))) : [unquoteIdentifier(ctx.text(node))];
}

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export function suggestion(name: string, candidates: string[]): string {
  const exact = candidates.find(c => c.toLowerCase() === name.toLowerCase());
  if (exact) return `; did you mean '${exact}' (identifiers are case-sensitive)?`;
  const ranked = candidates.map(c => ({ c, d: distance(name.toLowerCase(), c.toLowerCase()) })).filter(x => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d);
  return ranked.length > 0 ? `; did you mean '${ranked[0].c}'?` : '';
}

export function listOf(columns: OutColumn[]): string {
  return columns.map(c => c.name).filter((n): n is string => !!n).join(', ');
}

export function isLiteralText(text: string): boolean {
  return /^[0-9.'"-]/.test(text.trim());
}

export function partsOfList(list: ParseNode, ctx: ColumnContext): string[] {
  const out: string[] = [];
  const walk = (n: ParseNode) => {
    if (n.ruleIndex === ctx.R.identifier) out.push(unquoteIdentifier(ctx.text(n)));
    else for (const c of rulesOf(n)) walk(c);
  };
  walk(list);
  return out;
}
