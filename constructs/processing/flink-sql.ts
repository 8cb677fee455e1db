// Synth-time analysis of a Flink SQL program: statement splitting, grammar check with positions, semantic checks, table options and lineage.
import {
  analyzeQuery, ColumnContext, ColumnRuleIds, COLUMN_RULE_NAMES, FlinkColumnSchema, insertSource, OutColumn, typeFamily, unquoteIdentifier,
} from './private/flink-columns';
import { loadFlinkParser, ParseNode, TokenLike } from './private/flink-parser';

export type { FlinkColumnSchema } from './private/flink-columns';

/** What a statement does in a job. */
export type FlinkStatementKind =
  | 'create-table'
  | 'create-table-as'
  | 'create-view'
  | 'create-function'
  | 'insert'
  | 'statement-set'
  | 'set'
  | 'query'
  | 'other';

/** One statement of the program, with its position in the whole SQL text. */
export interface FlinkSqlStatement {
  /** 1-based statement number. */
  readonly index: number;
  /** Statement text without the terminating semicolon. */
  readonly text: string;
  /** Offset of the first character in the whole SQL text. */
  readonly offset: number;
  /** 1-based line of the first character. */
  readonly line: number;
  /** 1-based column of the first character. */
  readonly column: number;
  /** Set by the analysis; `other` until the statement has parsed. */
  readonly kind: FlinkStatementKind;
}

/** A `CREATE TABLE` of the program. */
export interface FlinkTableDeclaration {
  /** Normalized name (backticks removed, default catalog/database prefix dropped). */
  readonly name: string;
  /** Statement number declaring it. */
  readonly statement: number;
  /** `connector` option, lower-cased; undefined when absent. */
  readonly connector?: string;
  /** WITH options as written (keys as written, values unquoted). */
  readonly options: Record<string, string>;
  readonly columns: string[];
  /** Every column with its kind and declared type; undefined when the table copies another one's (`LIKE`). */
  readonly schema?: FlinkColumnSchema[];
  readonly primaryKey: string[];
  /** Offset in the SQL text of the `)` closing the WITH list (where options can be appended). */
  readonly optionsCloseOffset?: number;
}

/** Which tables feed which sink, per INSERT (views expanded to the tables they read). */
export interface FlinkSqlLineageEntry {
  /** Statement number of the INSERT (or CREATE TABLE AS). */
  readonly statement: number;
  readonly sink: string;
  readonly sources: string[];
}

export interface FlinkSqlProblem {
  readonly kind: 'syntax' | 'semantic';
  /** Statement number (0 for program-wide problems). */
  readonly statement: number;
  /** 1-based line and column in the whole SQL text. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface FlinkSqlAnalysis {
  readonly statements: FlinkSqlStatement[];
  readonly tables: FlinkTableDeclaration[];
  readonly views: string[];
  readonly lineage: FlinkSqlLineageEntry[];
  readonly problems: FlinkSqlProblem[];
}

/** A table declared outside the SQL text, with its columns when they are known. */
export interface FlinkKnownTable {
  readonly name: string;
  /** @default - the columns are not known, so references to them are not checked */
  readonly columns?: FlinkColumnSchema[];
}

export interface FlinkSqlAnalysisOptions {
  /**
   * Tables declared outside this SQL text (CDC source helpers, catalogs); reads and INSERTs may name them, and their
   * columns (when given) are checked like those of a CREATE TABLE. @default - none
   */
  readonly knownTables?: Array<string | FlinkKnownTable>;
  /**
   * Connector names the runtime can load. Names listed here beyond the defaults also count as formats (a JAR added
   * through FlinkSqlApplication's `dependencies` is declared through its `connectors` prop, whichever it provides).
   * @default DEFAULT_FLINK_CONNECTORS
   */
  readonly connectors?: string[];
  /** Format names the runtime can load, beyond DEFAULT_FLINK_FORMATS. @default - none */
  readonly formats?: string[];
}

/** Connectors in the Flink distribution, plus the Kafka connectors this library packages. */
export const DEFAULT_FLINK_CONNECTORS: readonly string[] = ['kafka', 'upsert-kafka', 'datagen', 'print', 'blackhole', 'filesystem'];

/** Formats the Flink runtime ships (flink-json, flink-csv and the raw format of the table runtime). */
export const DEFAULT_FLINK_FORMATS: readonly string[] = ['json', 'csv', 'raw', 'debezium-json', 'canal-json', 'maxwell-json', 'ogg-json'];

/** Formats Flink users commonly name whose JARs the Flink runtime does not ship. */
const FORMATS_NEEDING_JARS: Readonly<Record<string, string>> = {
  'avro': 'flink-sql-avro',
  'avro-confluent': 'flink-sql-avro-confluent-registry',
  'debezium-avro-confluent': 'flink-sql-avro-confluent-registry',
  'parquet': 'flink-sql-parquet',
  'orc': 'flink-sql-orc',
  'protobuf': 'flink-sql-protobuf',
};

/** Connectors Flink users commonly name whose JARs this library does not package by default. */
const CONNECTORS_NEEDING_JARS: Readonly<Record<string, string>> = {
  'jdbc': 'flink-connector-jdbc-core plus the dialect module of the database, such as flink-connector-jdbc-mysql',
  'kinesis': 'flink-sql-connector-aws-kinesis-streams',
  'firehose': 'flink-sql-connector-aws-kinesis-firehose',
  'dynamodb': 'flink-sql-connector-dynamodb',
  'opensearch': 'flink-sql-connector-opensearch',
  'elasticsearch-7': 'flink-sql-connector-elasticsearch7',
  'mongodb': 'flink-sql-connector-mongodb',
  'hbase-2.2': 'flink-sql-connector-hbase-2.2',
};

/** Thrown when a program fails validation; `problems` holds every error found. */
export class FlinkSqlError extends Error {
  constructor(message: string, public readonly problems: FlinkSqlProblem[]) {
    super(message);
    this.name = 'FlinkSqlError';
  }
}

// ---------------------------------------------------------------------------------------------
// Statement splitting
// ---------------------------------------------------------------------------------------------

/**
 * Splits a SQL text on the semicolons that end statements: not those inside '...' strings,
 * `...` or "..." identifiers, -- line comments or /* block comments *\/, nor those inside an
 * `EXECUTE STATEMENT SET BEGIN ... END` block. Statements holding only comments are dropped.
 */
export function splitFlinkSql(sql: string): FlinkSqlStatement[] {
  const lineStarts = computeLineStarts(sql);
  const statements: FlinkSqlStatement[] = [];
  let start = -1;
  let words: string[] = [];
  let word = '';
  let i = 0;
  const flushWord = () => {
    if (word) {
      words.push(word.toUpperCase());
      word = '';
    }
  };
  const push = (end: number) => {
    if (start >= 0) {
      const text = sql.slice(start, end).replace(/\s+$/, '');
      const pos = positionOf(lineStarts, start);
      statements.push({ index: statements.length + 1, text, offset: start, line: pos.line, column: pos.column, kind: 'other' });
    }
    start = -1;
    words = [];
    word = '';
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      flushWord();
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      flushWord();
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
      continue;
    }
    if (c === "'" || c === '`' || c === '"') {
      flushWord();
      if (start < 0) start = i;
      i = skipQuoted(sql, i, c);
      continue;
    }
    if (c === ';') {
      flushWord();
      const inSetBlock = isStatementSetBlock(words) && words[words.length - 1] !== 'END';
      if (!inSetBlock) {
        push(i);
        i++;
        continue;
      }
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      flushWord();
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (/[A-Za-z0-9_]/.test(c)) word += c;
    else flushWord();
    i++;
  }
  flushWord();
  push(sql.length);
  return statements;
}

function isStatementSetBlock(words: string[]): boolean {
  const head = words.slice(0, 4).join(' ');
  return head === 'EXECUTE STATEMENT SET BEGIN' || head.startsWith('STATEMENT SET BEGIN');
}

/** Index after the closing quote (a doubled quote is an escaped quote); end of text when unterminated. */
function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    if (quote === "'" && sql[j] === '\\' && j + 1 < sql.length) {
      // Flink string literals accept backslash escapes in some contexts; never split inside them.
      j += 2;
      continue;
    }
    j++;
  }
  return sql.length;
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function positionOf(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

/** Normalizes a table path: backticks removed, `default_catalog.default_database.` dropped. */
export function normalizeTableName(path: string): string {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '`') {
      if (quoted && path[i + 1] === '`') {
        current += '`';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (c === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else if (quoted || !/\s/.test(c)) {
      current += c;
    }
  }
  parts.push(current);
  if (parts.length === 3 && parts[0] === 'default_catalog') parts.shift();
  if (parts.length === 2 && parts[0] === 'default_database') parts.shift();
  return parts.join('.');
}

interface StatementFacts {
  kind: FlinkStatementKind;
  /** CREATE TABLE / CTAS / CREATE VIEW name. */
  declares?: { name: string; node: ParseNode };
  table?: Omit<FlinkTableDeclaration, 'statement'>;
  /** INSERT targets (several in a statement set), with the reads of each and the INSERT (or CTAS) node. */
  inserts: Array<{ target: string; node: ParseNode; reads: Array<{ name: string; node: ParseNode }>; statement?: ParseNode }>;
  /** The query of a view or CTAS, and a view's column list. */
  query?: ParseNode;
  viewColumns?: string[];
  /** The column a CREATE TABLE's WATERMARK is declared for. */
  watermark?: ParseNode;
  /** Reads of a view definition or a LIKE clause. */
  reads: Array<{ name: string; node: ParseNode }>;
}

/** Parses and checks a program; never throws for problems in the SQL (see `problems`). */
export function analyzeFlinkSql(sql: string, options: FlinkSqlAnalysisOptions = {}): FlinkSqlAnalysis {
  const parser = loadFlinkParser();
  const R = ruleIds(parser.FlinkSqlParser);
  const lineStarts = computeLineStarts(sql);
  const split = splitFlinkSql(sql);
  const problems: FlinkSqlProblem[] = [];
  const facts: Array<StatementFacts | undefined> = [];
  const statements: FlinkSqlStatement[] = [];

  for (const stmt of split) {
    const syntax = (offset: number, message: string): FlinkSqlProblem => (
      { kind: 'syntax', statement: stmt.index, ...positionOf(lineStarts, stmt.offset + offset), message });
    const lexical = scanLexical(stmt.text);
    if (lexical.unterminated) {
      // Nothing after an open quote can be parsed meaningfully: one error, at the quote.
      const u = lexical.unterminated;
      problems.push(syntax(u.offset, `unterminated ${u.what}: the ${u.quote} here is never closed; close it with ${u.close}`));
      facts.push(undefined);
      statements.push(stmt);
      continue;
    }
    const errors: FlinkSqlProblem[] = [];
    const tree = new parser.FlinkSQL().parse(stmt.text, (e) => {
      const line = stmt.line + e.startLine - 1;
      const column = e.startLine === 1 ? stmt.column + e.startColumn - 1 : e.startColumn;
      errors.push({ kind: 'syntax', statement: stmt.index, line, column, message: e.message });
    });
    if (errors.length > 0 || lexical.unmatchedClose !== undefined) {
      // One error per statement, as a compiler reports it: the parser's recovery after the first error only cascades.
      if (lexical.unmatchedClose !== undefined) {
        problems.push(syntax(lexical.unmatchedClose, "unmatched ')': there is no '(' open before it; remove it or add the '(' it closes"));
      } else if (lexical.unclosedOpen !== undefined) {
        const open = positionOf(lineStarts, stmt.offset + lexical.unclosedOpen);
        problems.push({ ...errors[0], message: `missing ')': the '(' at line ${open.line}, column ${open.column} is not closed before this point` });
      } else {
        problems.push(errors[0]);
      }
      facts.push(undefined);
      statements.push(stmt);
      continue;
    }
    const f = statementFacts(tree, stmt, R);
    facts.push(f);
    statements.push({ ...stmt, kind: f.kind });
  }

  const tables: FlinkTableDeclaration[] = [];
  const views = new Map<string, string[]>();
  const lineage: FlinkSqlLineageEntry[] = [];
  if (problems.length > 0) return { statements, tables, views: [], lineage, problems };

  const at = (stmt: FlinkSqlStatement, node: ParseNode) => {
    const offset = stmt.offset + (node.start?.start ?? 0);
    return positionOf(lineStarts, offset);
  };
  const semantic = (stmt: FlinkSqlStatement, node: ParseNode, message: string) => {
    problems.push({ kind: 'semantic', statement: stmt.index, ...at(stmt, node), message });
  };
  const declared = new Map<string, { statement: number; kind: 'table' | 'view' | 'known' }>();
  /** Columns of each declared table and view, where known. */
  const schemas = new Map<string, ReadonlyArray<FlinkColumnSchema | OutColumn> | undefined>();
  for (const known of options.knownTables ?? []) {
    const k = typeof known === 'string' ? { name: known } : known;
    declared.set(normalizeTableName(k.name).toLowerCase(), { statement: 0, kind: 'known' });
    schemas.set(normalizeTableName(k.name).toLowerCase(), k.columns);
  }
  const columnContext = (stmt: FlinkSqlStatement): ColumnContext => ({
    R,
    text: node => textOf(node, stmt),
    tableName: node => normalizeTableName(textOf(node, stmt)),
    table: name => schemas.get(name.toLowerCase()) as OutColumn[] | undefined,
    report: p => semantic(stmt, p.node, p.message),
  });
  const laterDeclarations = new Map<string, number>();
  statements.forEach((s, i) => {
    const d = facts[i]?.declares;
    if (d && !laterDeclarations.has(d.name.toLowerCase())) laterDeclarations.set(d.name.toLowerCase(), s.index);
  });
  const connectors = new Set((options.connectors ?? DEFAULT_FLINK_CONNECTORS).map(c => c.toLowerCase()));
  const formats = new Set([...DEFAULT_FLINK_FORMATS, ...(options.formats ?? []), ...connectors].map(f => f.toLowerCase()));
  const checkRead = (stmt: FlinkSqlStatement, read: { name: string; node: ParseNode }) => {
    const key = read.name.toLowerCase();
    if (declared.has(key)) return;
    const later = laterDeclarations.get(key);
    semantic(stmt, read.node, later !== undefined
      ? `table '${read.name}' is read before it is declared (statement ${later}); move its CREATE TABLE before statement ${stmt.index}`
      : `table '${read.name}' is not declared; add a CREATE TABLE (or a CDC source) for it`);
  };
  const expand = (name: string, seen = new Set<string>()): string[] => {
    const view = views.get(name.toLowerCase());
    if (!view || seen.has(name.toLowerCase())) return [name];
    seen.add(name.toLowerCase());
    return view.flatMap(v => expand(v, seen));
  };

  let insertCount = 0;
  statements.forEach((stmt, i) => {
    const f = facts[i]!;
    if (f.kind === 'query') {
      semantic(stmt, { start: { start: 0, stop: 0, line: 1, column: 0, type: 0 } }, 'a query without INSERT INTO produces no output in a deployed job; write its result with INSERT INTO <sink table> SELECT ...');
      return;
    }
    for (const read of f.reads) checkRead(stmt, read);
    if (f.declares) {
      const key = f.declares.name.toLowerCase();
      const previous = declared.get(key);
      if (previous) {
        semantic(stmt, f.declares.node, previous.kind === 'known'
          ? `table '${f.declares.name}' is already declared by a CDC source of this application; remove this CREATE or rename it`
          : `'${f.declares.name}' is already declared by statement ${previous.statement}; each table or view is declared once`);
      }
      declared.set(key, { statement: stmt.index, kind: f.kind === 'create-view' ? 'view' : 'table' });
      if (f.kind === 'create-view') views.set(key, unique(f.reads.map(r => r.name)));
      if (f.kind === 'create-table') schemas.set(key, f.table?.schema);
      if (f.query) {
        const out = analyzeQuery(f.query, columnContext(stmt)).columns;
        const renamed = f.viewColumns && out ? f.viewColumns.map((n, j) => ({ name: n, type: out[j]?.type })) : undefined;
        schemas.set(key, renamed ?? (out?.every(c => c.name) ? out : undefined));
      }
    }
    if (f.table) {
      const table: FlinkTableDeclaration = { ...f.table, statement: stmt.index };
      tables.push(table);
      if (f.kind === 'create-table') {
        const wm = watermarkProblem(table);
        if (wm) semantic(stmt, f.watermark ?? f.declares!.node, wm.message);
        if (f.watermark && table.schema && !table.schema.some(c => c.rowtime)) {
          semantic(stmt, f.watermark, `WATERMARK FOR '${unquoteIdentifier(textOf(f.watermark, stmt))}': table '${table.name}' has no such column; its columns: ${table.columns.join(', ')}`);
        }
        for (const [key, value] of Object.entries(table.options)) {
          const format = value.toLowerCase();
          if (!/^(key\.|value\.)?format$/i.test(key) || formats.has(format)) continue;
          const jar = FORMATS_NEEDING_JARS[format];
          semantic(stmt, f.declares!.node, jar
            ? `'${key}' = '${value}' of table '${table.name}': the format is not packaged with this application; add its JAR (${jar}) through the 'dependencies' prop and name '${format}' in 'connectors', or use 'json'`
            : `'${key}' = '${value}' of table '${table.name}': unknown format; known formats: ${[...formats].filter(x => !connectors.has(x) || DEFAULT_FLINK_FORMATS.includes(x)).sort().join(', ')}`);
        }
        if (!table.connector) {
          semantic(stmt, f.declares!.node, `table '${table.name}' has no 'connector' option; add WITH ('connector' = '<name>', ...)`);
        } else if (!connectors.has(table.connector)) {
          const jar = CONNECTORS_NEEDING_JARS[table.connector];
          semantic(stmt, f.declares!.node, jar
            ? `connector '${table.connector}' of table '${table.name}' is not packaged with this application; add its JAR (${jar}) and connector name through the 'dependencies' and 'connectors' props`
            : `connector '${table.connector}' of table '${table.name}' is unknown; known connectors: ${[...connectors].sort().join(', ')}`);
        }
      }
    }
    for (const ins of f.inserts) {
      insertCount++;
      for (const read of ins.reads) checkRead(stmt, read);
      if (f.kind !== 'create-table-as') {
        const target = declared.get(ins.target.toLowerCase());
        if (!target) {
          const later = laterDeclarations.get(ins.target.toLowerCase());
          semantic(stmt, ins.node, later !== undefined
            ? `INSERT INTO '${ins.target}' comes before its CREATE TABLE (statement ${later}); declare sink tables first`
            : `INSERT INTO '${ins.target}': the table is not declared; add a CREATE TABLE for the sink`);
        } else if (target.kind === 'view') {
          semantic(stmt, ins.node, `INSERT INTO '${ins.target}': it is a view, and views cannot be written; insert into a table`);
        }
        if (ins.statement) {
          const sink = target && target.kind !== 'view' ? schemas.get(ins.target.toLowerCase()) as FlinkColumnSchema[] | undefined : undefined;
          checkInsertColumns(ins.target, ins.node, ins.statement, sink, columnContext(stmt));
        }
      }
      lineage.push({
        statement: stmt.index,
        sink: ins.target,
        sources: unique(ins.reads.flatMap(r => expand(r.name))),
      });
    }
  });
  if (insertCount === 0 && problems.length === 0) {
    problems.push({ kind: 'semantic', statement: 0, line: 1, column: 1, message: 'the program has no INSERT INTO statement, so the job would write nothing; add at least one INSERT INTO <sink> SELECT ...' });
  }
  return { statements, tables, views: [...views.keys()], lineage, problems };
}

/**
 * INSERT INTO checks against the sink's declared columns: an explicit column list names written columns, the query gives
 * as many columns as are written (by position, as Flink matches them), and where both types are known they are in a
 * family Flink casts between implicitly.
 */
function checkInsertColumns(target: string, targetNode: ParseNode, insert: ParseNode, schema: FlinkColumnSchema[] | undefined, ctx: ColumnContext): void {
  const source = insertSource(insert, ctx);
  if (!schema) return;
  const writable = schema.filter(c => c.kind === 'physical' || c.kind === 'metadata');
  const list = rulesOf(insert).find(c => c.ruleIndex === ctx.R.columnNameList);
  let expected = writable;
  if (list) {
    expected = [];
    for (const n of findAll(list, ctx.R.columnName)) {
      const name = unquoteIdentifier(ctx.text(n));
      const col = schema.find(c => c.name === name);
      if (!col || col.kind === 'computed' || col.kind === 'virtual') {
        ctx.report({
          node: n,
          message: col
            ? `INSERT INTO '${target}' (${name}): '${name}' is a ${col.kind === 'computed' ? 'computed' : 'virtual metadata'} column and cannot be written`
            : `INSERT INTO '${target}' (${name}): '${target}' has no column '${name}'; its columns: ${writable.map(c => c.name).join(', ')}`,
        });
        return;
      }
      expected.push(col);
    }
  }
  const describe = `${expected.length} column${expected.length === 1 ? '' : 's'} (${expected.map(c => c.name).join(', ')})`;
  for (const row of source.rows ?? []) {
    if (row.arity !== expected.length) {
      ctx.report({ node: row.node, message: `INSERT INTO '${target}': this VALUES row has ${row.arity} value${row.arity === 1 ? '' : 's'}, but ${list ? 'the column list names' : 'the table has'} ${describe}` });
    }
  }
  const columns = source.columns;
  if (!columns) return;
  if (source.joinedRowtimes && source.joinedRowtimes.length >= 2) {
    const names = source.joinedRowtimes.map(c => c.name ?? '?');
    ctx.report({
      node: source.joinedRowtimes[1].node ?? targetNode,
      message: `INSERT INTO '${target}': the query writes ${names.length} rowtime attributes of an interval join (${names.join(', ')}); `
        + `Flink writes at most one into a table: CAST the others to TIMESTAMP(3) (for example CAST(${names[1]} AS TIMESTAMP(3)))`,
    });
  }
  if (columns.length !== expected.length) {
    ctx.report({
      node: columns[0]?.node ?? targetNode,
      message: `INSERT INTO '${target}': the query gives ${columns.length} column${columns.length === 1 ? '' : 's'}, but ${list ? 'the column list names' : 'the table has'} ${describe}; `
        + 'columns are written by position, so select one expression per column, in order',
    });
    return;
  }
  columns.forEach((c, i) => {
    const sink = expected[i];
    const from = typeFamily(c.type);
    const to = typeFamily(sink.type);
    if (from && to && from !== to) {
      ctx.report({
        node: c.node ?? targetNode,
        message: `INSERT INTO '${target}': query column ${i + 1}${c.name ? ` '${c.name}'` : ''} is ${c.type} (${from}), but sink column '${sink.name}' is ${sink.type} (${to}); `
          + `Flink does not cast ${from} to ${to} implicitly: CAST it, or fix the order of the select list`,
      });
    }
  });
}

/** The table one `CREATE TABLE` declares, with its columns (for `knownTables`); throws when the text declares no table. */
export function knownTableOf(ddl: string): FlinkKnownTable {
  const table = analyzeFlinkSql(ddl).tables[0];
  if (!table) throw new Error(`not a CREATE TABLE statement: ${ddl.slice(0, 80)}`);
  return { name: table.name, columns: table.schema };
}

/** Analyzes and throws a `FlinkSqlError` listing every problem, each with statement, line, column and a caret excerpt. */
export function validateFlinkSql(sql: string, options: FlinkSqlAnalysisOptions & { readonly label?: string } = {}): FlinkSqlAnalysis {
  const analysis = analyzeFlinkSql(sql, options);
  if (analysis.problems.length > 0) {
    throw new FlinkSqlError(formatFlinkSqlProblems(sql, analysis.problems, options.label ?? 'Flink SQL'), analysis.problems);
  }
  return analysis;
}

/** Renders problems the way synth reports them. */
export function formatFlinkSqlProblems(sql: string, problems: FlinkSqlProblem[], label: string): string {
  const lines = sql.split('\n');
  const kinds = new Set(problems.map(p => p.kind));
  const what = kinds.has('syntax') ? 'syntax error' : 'error';
  const out = [`${label}: ${problems.length} ${what}${problems.length === 1 ? '' : 's'}:`];
  for (const p of problems) {
    const where = p.statement > 0 ? `statement ${p.statement}, line ${p.line}, column ${p.column}` : 'program';
    out.push(`  ${where}: ${p.message}`);
    if (p.statement > 0) {
      const text = (lines[p.line - 1] ?? '').replace(/\r$/, '').replace(/\t/g, ' ');
      out.push(`    ${text}`);
      out.push(`    ${' '.repeat(Math.max(0, p.column - 1))}^`);
    }
  }
  return out.join('\n');
}

/** Returns `sql` with options appended to the WITH list of the given tables (options already present are left alone). */
export function appendTableOptions(sql: string, additions: Array<{ table: FlinkTableDeclaration; options: Record<string, string> }>): string {
  const edits = additions
    .filter(a => a.table.optionsCloseOffset !== undefined)
    .map(a => {
      const present = new Set(Object.keys(a.table.options).map(k => k.toLowerCase()));
      const extra = Object.entries(a.options).filter(([k]) => !present.has(k.toLowerCase()));
      return { at: a.table.optionsCloseOffset!, text: extra.map(([k, v]) => `,\n  ${sqlString(k)} = ${sqlString(v)}`).join('') };
    })
    .filter(e => e.text.length > 0)
    .sort((a, b) => b.at - a.at);
  let out = sql;
  for (const e of edits) {
    // Keep the closing parenthesis on the last option's line end, so line numbers of later statements only move down.
    let at = e.at;
    while (at > 0 && /\s/.test(out[at - 1])) at--;
    out = out.slice(0, at) + e.text + out.slice(at);
  }
  return out;
}

/** A single-quoted Flink SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------
// Parse tree helpers
// ---------------------------------------------------------------------------------------------

interface RuleIds extends ColumnRuleIds {
  columnOptionDefinition: number; metadataColumnDefinition: number; computedColumnDefinition: number; watermarkDefinition: number;
  simpleCreateTable: number; createTableAsSelect: number; createView: number; createFunction: number;
  insertSimpleStatement: number; insertMulStatement: number; queryStatement: number; setStatement: number;
  explainStatement: number; showStatement: number; describeStatement: number;
  tablePath: number; tablePathCreate: number; viewPathCreate: number; withItemName: number; tablePrimary: number;
  windowTVFParam: number; tableProperty: number; tablePropertyKey: number; tablePropertyValue: number;
  tablePropertyList: number; tableConstraint: number; columnNameList: number; columnName: number; columnNameCreate: number;
  likeDefinition: number; uid: number; columnConstraint: number; physicalColumnDefinition: number;
}

function ruleIds(P: Record<string, unknown>): RuleIds {
  const names: string[] = [
    'simpleCreateTable', 'createTableAsSelect', 'createView', 'createFunction', 'insertSimpleStatement', 'insertMulStatement',
    'queryStatement', 'setStatement', 'explainStatement', 'showStatement', 'describeStatement', 'tablePath', 'tablePathCreate',
    'viewPathCreate', 'withItemName', 'tablePrimary', 'windowTVFParam', 'tableProperty', 'tablePropertyKey', 'tablePropertyValue',
    'tablePropertyList', 'tableConstraint', 'columnNameList', 'columnName', 'columnNameCreate', 'likeDefinition', 'uid',
    'columnConstraint', 'physicalColumnDefinition', 'columnOptionDefinition', 'metadataColumnDefinition', 'computedColumnDefinition',
    'watermarkDefinition',
  ];
  const ids: Record<string, number> = {};
  for (const n of [...names, ...COLUMN_RULE_NAMES]) {
    const v = P[`RULE_${n}`];
    if (typeof v !== 'number') throw new Error(`cdk-agent-data-stack: the installed dt-sql-parser has no Flink rule '${n}'; install dt-sql-parser 4.x`);
    ids[n] = v;
  }
  return ids as unknown as RuleIds;
}

function rulesOf(node: ParseNode): ParseNode[] {
  return (node.children ?? []).filter(c => c.ruleIndex !== undefined);
}

function findFirst(node: ParseNode, rules: number[]): ParseNode | undefined {
  if (node.ruleIndex !== undefined && rules.includes(node.ruleIndex)) return node;
  for (const c of rulesOf(node)) {
    const hit = findFirst(c, rules);
    if (hit) return hit;
  }
  return undefined;
}

function findAll(node: ParseNode, rule: number, out: ParseNode[] = []): ParseNode[] {
  if (node.ruleIndex === rule) out.push(node);
  for (const c of rulesOf(node)) findAll(c, rule, out);
  return out;
}

function textOf(node: ParseNode, stmt: FlinkSqlStatement): string {
  if (node.symbol) return stmt.text.slice(node.symbol.start, node.symbol.stop + 1);
  const start = node.start?.start ?? 0;
  const stop = node.stop?.stop ?? start - 1;
  return stmt.text.slice(start, stop + 1);
}

function firstTerminal(node: ParseNode): TokenLike | undefined {
  if (node.symbol) return node.symbol;
  for (const c of node.children ?? []) {
    const t = firstTerminal(c);
    if (t) return t;
  }
  return undefined;
}

function unquoteSqlString(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.length >= 2 && t.startsWith('`') && t.endsWith('`')) return t.slice(1, -1).replace(/``/g, '`');
  return t;
}

function statementFacts(tree: ParseNode, stmt: FlinkSqlStatement, R: RuleIds): StatementFacts {
  const head = findFirst(tree, [
    R.simpleCreateTable, R.createTableAsSelect, R.createView, R.createFunction, R.insertMulStatement,
    R.insertSimpleStatement, R.setStatement, R.explainStatement, R.showStatement, R.describeStatement, R.queryStatement,
  ]);
  const facts: StatementFacts = { kind: 'other', inserts: [], reads: [] };
  if (!head) return facts;
  const name = (n: ParseNode) => normalizeTableName(textOf(n, stmt));
  const readsIn = (scope: ParseNode): Array<{ name: string; node: ParseNode }> => {
    const ctes = new Set(findAll(scope, R.withItemName).map(n => name(n).toLowerCase()));
    const reads: Array<{ name: string; node: ParseNode }> = [];
    for (const primary of findAll(scope, R.tablePrimary)) {
      const path = rulesOf(primary).find(c => c.ruleIndex === R.tablePath);
      if (path) reads.push({ name: name(path), node: path });
    }
    for (const param of findAll(scope, R.windowTVFParam)) {
      const t = firstTerminal(param);
      const uid = findFirst(param, [R.uid]);
      if (t && uid && stmt.text.slice(t.start, t.stop + 1).toUpperCase() === 'TABLE') reads.push({ name: name(uid), node: uid });
    }
    return reads.filter(r => !ctes.has(r.name.toLowerCase()));
  };
  switch (head.ruleIndex) {
    case R.simpleCreateTable:
    case R.createTableAsSelect: {
      const pathNode = findFirst(head, [R.tablePathCreate])!;
      const tableName = name(pathNode);
      facts.kind = head.ruleIndex === R.simpleCreateTable ? 'create-table' : 'create-table-as';
      facts.declares = { name: tableName, node: pathNode };
      const options: Record<string, string> = {};
      const list = findFirst(head, [R.tablePropertyList]);
      for (const prop of list ? rulesOf(list).filter(c => c.ruleIndex === R.tableProperty) : []) {
        const key = rulesOf(prop).find(c => c.ruleIndex === R.tablePropertyKey);
        const value = rulesOf(prop).find(c => c.ruleIndex === R.tablePropertyValue);
        if (key) options[unquoteSqlString(textOf(key, stmt))] = value ? unquoteSqlString(textOf(value, stmt)) : '';
      }
      const connectorKey = Object.keys(options).find(k => k.toLowerCase() === 'connector');
      const columns = findAll(head, R.columnNameCreate).map(n => unquoteSqlString(textOf(n, stmt)));
      const constraint = findFirst(head, [R.tableConstraint]);
      let primaryKey = constraint ? findAll(constraint, R.columnName).map(n => unquoteSqlString(textOf(n, stmt))) : [];
      if (primaryKey.length === 0) {
        // Column-level `id INT PRIMARY KEY NOT ENFORCED`.
        for (const col of findAll(head, R.physicalColumnDefinition)) {
          const cc = findFirst(col, [R.columnConstraint]);
          if (cc && /PRIMARY\s+KEY/i.test(textOf(cc, stmt))) {
            const cn = findFirst(col, [R.columnNameCreate]);
            if (cn) primaryKey = [unquoteSqlString(textOf(cn, stmt))];
          }
        }
      }
      const like = findFirst(head, [R.likeDefinition]);
      facts.table = {
        name: tableName,
        connector: connectorKey ? options[connectorKey].toLowerCase() : undefined,
        options,
        columns,
        schema: facts.kind === 'create-table' && !like ? tableSchema(head, stmt, R) : undefined,
        primaryKey,
        optionsCloseOffset: list?.stop ? stmt.offset + list.stop.start : undefined,
      };
      const watermark = findFirst(head, [R.watermarkDefinition]);
      facts.watermark = watermark ? rulesOf(watermark).find(c => c.ruleIndex === R.columnName) : undefined;
      if (like) {
        const base = findFirst(like, [R.tablePath]);
        if (base) facts.reads.push({ name: name(base), node: base });
      }
      if (facts.kind === 'create-table-as') {
        const query = findFirst(head, [R.queryStatement]);
        facts.query = query;
        facts.inserts.push({ target: tableName, node: pathNode, reads: query ? readsIn(query) : [] });
      }
      return facts;
    }
    case R.createView: {
      const pathNode = findFirst(head, [R.viewPathCreate])!;
      facts.kind = 'create-view';
      facts.declares = { name: name(pathNode), node: pathNode };
      facts.reads = readsIn(head);
      facts.query = findFirst(head, [R.queryStatement]);
      const list = rulesOf(head).find(c => c.ruleIndex === R.columnNameList);
      if (list) facts.viewColumns = findAll(list, R.columnName).map(n => unquoteIdentifier(textOf(n, stmt)));
      return facts;
    }
    case R.createFunction:
      facts.kind = 'create-function';
      return facts;
    case R.insertMulStatement:
    case R.insertSimpleStatement: {
      facts.kind = head.ruleIndex === R.insertMulStatement ? 'statement-set' : 'insert';
      for (const ins of findAll(head, R.insertSimpleStatement)) {
        const target = rulesOf(ins).find(c => c.ruleIndex === R.tablePath)!;
        facts.inserts.push({ target: name(target), node: target, reads: readsIn(ins), statement: ins });
      }
      return facts;
    }
    case R.setStatement:
      facts.kind = 'set';
      return facts;
    default:
      facts.kind = 'query';
      return facts;
  }
}

/** Columns of a CREATE TABLE with kind and declared type. */
function tableSchema(head: ParseNode, stmt: FlinkSqlStatement, R: RuleIds): FlinkColumnSchema[] {
  const out: FlinkColumnSchema[] = [];
  for (const def of findAll(head, R.columnOptionDefinition)) {
    const col = rulesOf(def)[0];
    if (!col) continue;
    const nameNode = findFirst(col, [R.columnNameCreate]);
    if (!nameNode) continue;
    const name = unquoteIdentifier(textOf(nameNode, stmt));
    const typeNode = rulesOf(col).find(c => c.ruleIndex === R.columnType);
    const type = typeNode ? textOf(typeNode, stmt) : undefined;
    if (col.ruleIndex === R.computedColumnDefinition) out.push({ name, kind: 'computed' });
    else if (col.ruleIndex === R.metadataColumnDefinition) out.push({ name, type, kind: /\bVIRTUAL\s*$/i.test(textOf(col, stmt)) ? 'virtual' : 'metadata' });
    else out.push({ name, type, kind: 'physical' });
  }
  const watermark = findFirst(head, [R.watermarkDefinition]);
  const rowtime = watermark ? rulesOf(watermark).find(c => c.ruleIndex === R.columnName) : undefined;
  const rowtimeName = rowtime ? unquoteIdentifier(textOf(rowtime, stmt)) : undefined;
  return out.map(c => (c.name === rowtimeName ? { ...c, rowtime: true } : c));
}

/**
 * WATERMARK FOR <column>: the column is declared, and is TIMESTAMP(p) or TIMESTAMP_LTZ(p) with p at most 3 (Flink's
 * rule; a bare TIMESTAMP is TIMESTAMP(6)). Computed columns' types are not known here and are left to Flink.
 */
function watermarkProblem(table: FlinkTableDeclaration): { column?: string; message: string } | undefined {
  const rowtime = table.schema?.find(c => c.rowtime);
  if (!table.schema || !rowtime || !rowtime.type) return undefined;
  const m = /^(TIMESTAMP_LTZ|TIMESTAMP)\s*(?:\(\s*(\d+)\s*\))?(\s+WITHOUT\s+TIME\s+ZONE|\s+WITH\s+LOCAL\s+TIME\s+ZONE)?\s*(NOT\s+NULL)?$/i.exec(rowtime.type.trim());
  const precision = m ? Number(m[2] ?? 6) : undefined;
  if (m && precision! <= 3) return undefined;
  return {
    column: rowtime.name,
    message: m
      ? `WATERMARK FOR '${rowtime.name}' of table '${table.name}': the column is ${rowtime.type}, precision ${precision}; Flink's rowtime attribute must be TIMESTAMP(p) or TIMESTAMP_LTZ(p) with p from 0 to 3: declare it ${m[1].toUpperCase()}(3)`
      : `WATERMARK FOR '${rowtime.name}' of table '${table.name}': the column is ${rowtime.type}; Flink's rowtime attribute must be TIMESTAMP(p) or TIMESTAMP_LTZ(p) with p from 0 to 3`,
  };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

interface LexicalScan {
  /** An open quote or comment that never closes. */
  unterminated?: { offset: number; what: string; quote: string; close: string };
  /** Offset of a `)` with no open `(`. */
  unmatchedClose?: number;
  /** Offset of the innermost `(` still open at the end of the statement. */
  unclosedOpen?: number;
}

/** Finds unterminated strings, quoted identifiers and comments, and unbalanced parentheses, outside strings and comments. */
function scanLexical(text: string): LexicalScan {
  const open: number[] = [];
  let unmatchedClose: number | undefined;
  const QUOTES: Record<string, string> = { "'": 'string literal', '`': 'quoted identifier', '"': 'quoted identifier' };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return { unterminated: { offset: i, what: 'comment', quote: '/*', close: '*/' } };
      i = close + 1;
    } else if (QUOTES[c]) {
      const end = skipQuoted(text, i, c);
      if (end >= text.length && !closesAt(text, i, c)) return { unterminated: { offset: i, what: QUOTES[c], quote: c, close: c } };
      i = end - 1;
    } else if (c === '(') {
      open.push(i);
    } else if (c === ')') {
      if (open.length === 0) unmatchedClose ??= i;
      else open.pop();
    }
  }
  return { unmatchedClose, unclosedOpen: open.length > 0 ? open[open.length - 1] : undefined };
}

/** Whether the quoted text opened at `i` is closed by the last character of `text`. */
function closesAt(text: string, i: number, quote: string): boolean {
  let j = i + 1;
  while (j < text.length) {
    if (text[j] === quote) {
      if (text[j + 1] === quote) {
        j += 2;
        continue;
      }
      return true;
    }
    if (quote === "'" && text[j] === '\\' && j + 1 < text.length) {
      j += 2;
      continue;
    }
    j++;
  }
  return false;
}
