// Synth-time analysis of a Flink SQL program: statement splitting, grammar check with positions, semantic checks, table options and lineage.
import { keptAnalysis } from './private/flink-analysis-cache';
import { analyzeQuery, ColumnContext, FlinkColumnSchema, OutColumn, unquoteIdentifier } from './private/flink-columns';
import { loadFlinkParser, ParseNode } from './private/flink-parser';
import { computeLineStarts, normalizeTableName, positionOf, scanLexical, splitFlinkSql, temporaryTableAsOffset } from './private/flink-split';
import { checkInsertColumns, ruleIds, StatementFacts, statementFacts, textOf, unique, watermarkProblem } from './private/flink-tree';
import {
  DEFAULT_FLINK_CONNECTORS, DEFAULT_FLINK_FORMATS, FlinkKnownTable, FlinkSqlAnalysis, FlinkSqlAnalysisOptions, FlinkSqlError, FlinkSqlLineageEntry,
  FlinkSqlProblem, FlinkSqlStatement, FlinkTableDeclaration,
} from './flink-sql-types';

export type { FlinkColumnSchema } from './private/flink-columns';
export * from './flink-sql-types';
export { normalizeTableName, splitFlinkSql } from './private/flink-split';

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

/**
 * Parses and checks a program; never throws for problems in the SQL (see `problems`). The result is kept per program, options
 * and library code, in this process and in the library's cache directory (`CDK_AGENT_GATE_CACHE=off` turns that off).
 */
export function analyzeFlinkSql(sql: string, options: FlinkSqlAnalysisOptions = {}): FlinkSqlAnalysis {
  return keptAnalysis(sql, options, () => analyzeAfresh(sql, options));
}

function analyzeAfresh(sql: string, options: FlinkSqlAnalysisOptions): FlinkSqlAnalysis {
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
      const temporaryAs = temporaryTableAsOffset(stmt.text);
      if (lexical.unmatchedClose !== undefined) {
        problems.push(syntax(lexical.unmatchedClose, "unmatched ')': there is no '(' open before it; remove it or add the '(' it closes"));
      } else if (temporaryAs !== undefined) {
        // The grammar stops at the WITH or AS; the reason is TEMPORARY, which Flink refuses for CREATE TABLE ... AS too.
        problems.push(syntax(temporaryAs, 'CREATE TEMPORARY TABLE ... AS SELECT: Flink cannot create a temporary table from a query '
          + '("CREATE TABLE AS SELECT syntax does not support to create temporary table yet"); declare it with CREATE TEMPORARY TABLE '
          + '<name> (<columns>) WITH (...) and fill it with INSERT INTO <name> SELECT ..., or remove TEMPORARY'));
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
  const declared = new Map<string, { statement: number; kind: 'table' | 'ctas' | 'view' | 'known' }>();
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
  /** The runner adds a CREATE TABLE AS to the job's one statement set: its table exists only once the job is submitted. */
  const ctasProblem = (what: string, name: string, statement: number) =>
    `${what} '${name}', which CREATE TABLE ... AS (statement ${statement}) creates only when the job is submitted (it runs in the job's one statement set with the INSERTs), `
    + `so no statement can read or write it; declare '${name}' with CREATE TABLE and fill it with INSERT INTO ... SELECT`;
  const checkRead = (stmt: FlinkSqlStatement, read: { name: string; node: ParseNode }) => {
    const key = read.name.toLowerCase();
    const d = declared.get(key);
    if (d?.kind === 'ctas') semantic(stmt, read.node, ctasProblem('this reads table', read.name, d.statement));
    if (d) return;
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
      declared.set(key, { statement: stmt.index, kind: f.kind === 'create-view' ? 'view' : f.kind === 'create-table-as' ? 'ctas' : 'table' });
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
        } else if (target.kind === 'ctas') {
          semantic(stmt, ins.node, ctasProblem('INSERT INTO', ins.target, target.statement));
          continue;
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
