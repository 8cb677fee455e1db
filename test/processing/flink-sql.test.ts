// Synth-time Flink SQL analysis: the Flink documentation corpus passes, broken variants fail at the right statement/line/column, semantic rules, lineage, option injection.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables } from '../../constructs/processing/example';
import {
  analyzeFlinkSql, appendTableOptions, FlinkSqlError, knownTableOf, normalizeTableName, splitFlinkSql, validateFlinkSql,
} from '../../constructs/processing/flink-sql';
import { FlinkSqlApplication } from '../../constructs/processing/flink-sql-application';
import { loadFlinkParser } from '../../constructs/processing/private/flink-parser';
import { testApp, testStack } from '../helpers/app';
import { FLINK_DOCS_CORPUS } from './fixtures/flink-docs-corpus';
import { FLINK_SQL_MISTAKES } from './fixtures/flink-mistakes-corpus';
import { StandInCluster } from './support';

/** The example's FlinkTable declarations as the application hands them to the check (names and typed columns). */
const EXAMPLE_TABLES = { knownTables: exampleOrderEnrichmentTables().map(t => knownTableOf(t.ddl)) };

const WITH_JDBC = { connectors: ['kafka', 'upsert-kafka', 'datagen', 'print', 'blackhole', 'filesystem', 'jdbc'] };

function firstProblem(sql: string, options = {}) {
  const problems = analyzeFlinkSql(sql, options).problems;
  expect(problems.length).toBeGreaterThan(0);
  return problems[0];
}

describe('Flink documentation corpus', () => {
  test.each(Object.entries(FLINK_DOCS_CORPUS))('%s passes', (_name, sql) => {
    const analysis = analyzeFlinkSql(sql, WITH_JDBC);
    expect(analysis.problems).toEqual([]);
    expect(analysis.lineage.length).toBeGreaterThan(0);
  });

  test('lineage follows joins, temporal joins, window TVFs, views and CTEs to the declared tables', () => {
    const lineage = (name: string) => analyzeFlinkSql(FLINK_DOCS_CORPUS[name], WITH_JDBC).lineage;
    expect(lineage('event-time temporal join against a debezium-json versioned table'))
      .toEqual([{ statement: 4, sink: 'converted', sources: ['orders', 'currency_rates'] }]);
    expect(lineage('interval join of orders and shipments')).toEqual([{ statement: 4, sink: 'shipped', sources: ['Orders', 'Shipments'] }]);
    expect(lineage('CUMULATE window TVF aggregation')).toEqual([{ statement: 3, sink: 'window_sink', sources: ['Bid'] }]);
    // big_orders is a view over Orders; recent is a CTE over Orders.
    expect(lineage('deduplication keeping the first row, CTE, GROUPING SETS and HAVING')).toEqual([
      { statement: 5, sink: 'first_orders', sources: ['Orders'] },
      { statement: 6, sink: 'ratings', sources: ['Orders'] },
    ]);
    expect(lineage('filesystem sink with PARTITIONED BY, SET, UNION ALL and a statement set')).toEqual([
      { statement: 6, sink: 'MyUserTable', sources: ['clicks', 'page_views'] },
      { statement: 6, sink: 'counts', sources: ['clicks'] },
    ]);
  });

  test('table declarations carry connector, options (unquoted), columns and primary key', () => {
    const t = analyzeFlinkSql(FLINK_DOCS_CORPUS['upsert-kafka: page views per region (regular aggregation into an upsert sink)']).tables[0];
    expect(t).toMatchObject({
      name: 'pageviews_per_region', statement: 1, connector: 'upsert-kafka',
      columns: ['user_region', 'pv', 'uv'], primaryKey: ['user_region'],
      options: { 'connector': 'upsert-kafka', 'topic': 'pageviews_per_region', 'key.format': 'json', 'value.format': 'json' },
    });
  });
});

describe('statement splitting', () => {
  test('semicolons inside strings, identifiers and comments do not end statements', () => {
    const sql = [
      "-- leading comment; not a statement",
      "CREATE TABLE `a;b` (x STRING) WITH ('connector' = 'datagen', 'k' = 'it''s; fine');",
      "/* block; comment */ INSERT INTO `a;b` SELECT ';' FROM `a;b`; -- trailing; comment",
      '',
    ].join('\n');
    const statements = splitFlinkSql(sql);
    expect(statements.map(s => s.text)).toEqual([
      "CREATE TABLE `a;b` (x STRING) WITH ('connector' = 'datagen', 'k' = 'it''s; fine')",
      "INSERT INTO `a;b` SELECT ';' FROM `a;b`",
    ]);
    expect(statements.map(s => [s.index, s.line, s.column])).toEqual([[1, 2, 1], [2, 3, 22]]);
  });

  test('an EXECUTE STATEMENT SET block is one statement', () => {
    const sql = "EXECUTE STATEMENT SET BEGIN\nINSERT INTO a SELECT 1;\nINSERT INTO b SELECT 2;\nEND;\nSET 'x' = 'y';";
    expect(splitFlinkSql(sql).map(s => s.text)).toEqual([
      'EXECUTE STATEMENT SET BEGIN\nINSERT INTO a SELECT 1;\nINSERT INTO b SELECT 2;\nEND',
      "SET 'x' = 'y'",
    ]);
  });

  test('a statement without a final semicolon and comment-only text', () => {
    expect(splitFlinkSql('SELECT 1;\n  SELECT 2  ').map(s => s.text)).toEqual(['SELECT 1', 'SELECT 2']);
    expect(splitFlinkSql('-- only a comment;\n/* and; another */')).toEqual([]);
  });

  test('table names are normalized', () => {
    expect(normalizeTableName('`default_catalog`.`default_database`.`orders`')).toBe('orders');
    expect(normalizeTableName('cat.db.`we.ird`')).toBe('cat.db.we.ird');
    expect(normalizeTableName('default_database.t')).toBe('t');
  });
});

describe('syntax errors are reported with statement, line and column in the whole text', () => {
  const DDL = "CREATE TABLE src (id INT, name STRING) WITH ('connector' = 'datagen');\nCREATE TABLE dst (id INT, name STRING) WITH ('connector' = 'print');\n";

  test('a misspelt keyword at the start of a line', () => {
    expect(firstProblem(`${DDL}INSERT INTO dst\nSELEC id, name FROM src;`)).toEqual({
      kind: 'syntax', statement: 3, line: 4, column: 1, message: "'SELEC' is not valid at this position",
    });
  });

  test('a missing comma between column definitions', () => {
    const p = firstProblem("CREATE TABLE t (\n  id INT\n  name STRING\n) WITH ('connector' = 'datagen');");
    expect([p.statement, p.line, p.column]).toEqual([1, 3, 3]);
    expect(p.message).toMatch(/'name'/);
  });

  test('an error in a statement that starts mid-line counts columns from the line start', () => {
    const sql = "CREATE TABLE a (id INT) WITH ('connector' = 'print'); INSERT INTO a SELEKT 1;";
    const p = firstProblem(sql);
    expect([p.statement, p.line, p.column]).toEqual([2, 1, sql.indexOf('SELEKT') + 1]);
  });

  test('errors in two statements are both reported', () => {
    const sql = `${DDL}INSERT INTO dst SELECT id name FROM src WHERE;\nINSERT INTO dst SELECT id, name FROM src GROUP id, name;`;
    const problems = analyzeFlinkSql(sql).problems;
    expect(problems.map(p => [p.statement, p.line])).toEqual(expect.arrayContaining([[3, 3], [4, 4]]));
    const second = problems.find(p => p.statement === 4)!;
    expect(second.column).toBe('INSERT INTO dst SELECT id, name FROM src GROUP '.length + 1);
  });

  test('a broken window TVF call (missing comma before the interval)', () => {
    const sql = "CREATE TABLE Bid (bidtime TIMESTAMP(3), price INT) WITH ('connector' = 'datagen');\n"
      + "CREATE TABLE w (s TIMESTAMP(3), p INT) WITH ('connector' = 'print');\n"
      + 'INSERT INTO w SELECT window_start, SUM(price)\n'
      + "  FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime) INTERVAL '10' MINUTES))\n"
      + '  GROUP BY window_start, window_end;';
    const p = firstProblem(sql);
    expect([p.statement, p.line, p.column]).toEqual([3, 4, "  FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime) ".length + 1]);
  });

  test('a WATERMARK clause without FOR', () => {
    const sql = "CREATE TABLE t (\n  ts TIMESTAMP(3),\n  WATERMARK ts AS ts - INTERVAL '5' SECOND\n) WITH ('connector' = 'datagen');";
    const p = firstProblem(sql);
    expect([p.statement, p.line]).toEqual([1, 3]);
    expect(p.column).toBeGreaterThanOrEqual(3);
  });

  test('an unterminated string literal', () => {
    const p = firstProblem("CREATE TABLE t (x INT) WITH (\n  'connector' = 'kafka\n);");
    expect([p.kind, p.statement, p.line]).toEqual(['syntax', 1, 2]);
  });

  test('an unmatched closing parenthesis is one error at that parenthesis', () => {
    const sql = `${DDL}INSERT INTO dst SELECT id, name) FROM src;`;
    const problems = analyzeFlinkSql(sql).problems;
    expect(problems).toEqual([{ kind: 'syntax', statement: 3, line: 3, column: 'INSERT INTO dst SELECT id, name'.length + 1, message: expect.stringMatching(/^unmatched '\)'/) }]);
  });

  test('an unterminated quoted identifier or block comment is one error at its opening', () => {
    expect(analyzeFlinkSql(`${DDL}INSERT INTO dst SELECT \`id, name FROM src;`).problems).toEqual([
      { kind: 'syntax', statement: 3, line: 3, column: 24, message: 'unterminated quoted identifier: the ` here is never closed; close it with `' }]);
    expect(analyzeFlinkSql(`${DDL}INSERT INTO dst /* SELECT id, name FROM src;`).problems).toEqual([
      { kind: 'syntax', statement: 3, line: 3, column: 17, message: 'unterminated comment: the /* here is never closed; close it with */' }]);
  });

  test('validateFlinkSql throws every problem with a caret under the column', () => {
    let error: unknown;
    try {
      validateFlinkSql(`${DDL}INSERT INTO dst\nSELEC id, name FROM src;`, { label: 'job.sql' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlinkSqlError);
    expect((error as Error).message).toBe([
      'job.sql: 1 syntax error:',
      "  statement 3, line 4, column 1: 'SELEC' is not valid at this position",
      '    SELEC id, name FROM src;',
      '    ^',
    ].join('\n'));
    expect((error as FlinkSqlError).problems).toHaveLength(1);
  });
});

describe('semantic checks', () => {
  const T = (name: string, connector = 'print') => `CREATE TABLE ${name} (id INT) WITH ('connector' = '${connector}');\n`;

  test('fails when a query reads an undeclared table', () => {
    const p = firstProblem(`${T('dst')}INSERT INTO dst SELECT id FROM nowhere;`);
    expect(p).toMatchObject({ kind: 'semantic', statement: 2, line: 2, column: 32 });
    expect(p.message).toMatch(/table 'nowhere' is not declared/);
  });

  test('fails when the INSERT target is not declared', () => {
    expect(firstProblem(`${T('src', 'datagen')}INSERT INTO dst SELECT id FROM src;`).message).toMatch(/INSERT INTO 'dst': the table is not declared/);
  });

  test('fails when a table is used before its CREATE TABLE', () => {
    expect(firstProblem(`${T('dst')}INSERT INTO dst SELECT id FROM src;\n${T('src', 'datagen')}`).message)
      .toMatch(/table 'src' is read before it is declared \(statement 3\)/);
    expect(firstProblem(`${T('src', 'datagen')}INSERT INTO dst SELECT id FROM src;\n${T('dst')}`).message)
      .toMatch(/INSERT INTO 'dst' comes before its CREATE TABLE \(statement 3\)/);
  });

  test('fails when inserting into a view', () => {
    expect(firstProblem(`${T('src', 'datagen')}CREATE VIEW v AS SELECT * FROM src;\nINSERT INTO v SELECT id FROM src;`).message)
      .toMatch(/'v': it is a view/);
  });

  test('fails when a statement reads or writes the table of a CREATE TABLE AS (the runner creates it only when the job is submitted)', () => {
    const ctas = `${T('src', 'datagen')}CREATE TABLE copy WITH ('connector' = 'print') AS SELECT id FROM src;\n`;
    expect(analyzeFlinkSql(ctas).problems).toEqual([]);
    expect(firstProblem(`${ctas}${T('dst')}INSERT INTO dst SELECT id FROM copy;`))
      .toMatchObject({ statement: 4, message: expect.stringMatching(/this reads table 'copy', which CREATE TABLE \.\.\. AS \(statement 2\) creates only when the job is submitted/) });
    expect(firstProblem(`${ctas}CREATE VIEW v AS SELECT * FROM copy;\n${T('dst')}INSERT INTO dst SELECT id FROM v;`).message).toMatch(/reads table 'copy'/);
    expect(firstProblem(`${ctas}INSERT INTO copy SELECT id FROM src;`).message)
      .toMatch(/^INSERT INTO 'copy', which CREATE TABLE .*declare 'copy' with CREATE TABLE and fill it with INSERT INTO/);
  });

  test('fails on CREATE TEMPORARY TABLE ... AS SELECT saying that Flink refuses it and what to write instead (not the grammar\'s position message)', () => {
    for (const ctas of [
      "CREATE TEMPORARY TABLE copy WITH ('connector' = 'print') AS SELECT id FROM src;",
      '/* c */ CREATE OR REPLACE TEMPORARY TABLE IF NOT EXISTS `copy` AS SELECT id FROM src;',
    ]) {
      const problem = firstProblem(`${T('src', 'datagen')}${ctas}`);
      expect(problem).toMatchObject({ statement: 2, line: 2, column: ctas.indexOf('TEMPORARY') + 1 });
      expect(problem.message).toMatch(/^CREATE TEMPORARY TABLE \.\.\. AS SELECT: Flink cannot create a temporary table from a query \("CREATE TABLE AS SELECT syntax does not support to create temporary table yet"\); declare it with CREATE TEMPORARY TABLE <name> \(<columns>\) WITH \(\.\.\.\) and fill it with INSERT INTO <name> SELECT \.\.\., or remove TEMPORARY$/);
    }
    // A temporary table with a computed column or a watermark (AS inside the column list) is declared as before.
    const temporary = "CREATE TEMPORARY TABLE t (id BIGINT, id2 AS id + 1, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');\n";
    expect(analyzeFlinkSql(`${temporary}${T('dst')}INSERT INTO dst SELECT id FROM t;`).problems).toEqual([]);
  });

  test('fails when there is no INSERT', () => {
    expect(firstProblem(T('src', 'datagen'))).toMatchObject({ statement: 0, message: expect.stringMatching(/no INSERT INTO statement/) });
  });

  test('fails on a standalone SELECT', () => {
    expect(firstProblem(`${T('src', 'datagen')}${T('dst')}INSERT INTO dst SELECT id FROM src;\nSELECT * FROM src;`))
      .toMatchObject({ statement: 4, line: 4, column: 1, message: expect.stringMatching(/query without INSERT INTO/) });
  });

  test('fails on an unknown connector, and names the JAR for a known but unpackaged one', () => {
    expect(firstProblem(`${T('src', 'kafkaa')}${T('dst')}INSERT INTO dst SELECT id FROM src;`).message)
      .toMatch(/connector 'kafkaa' of table 'src' is unknown; known connectors: blackhole, datagen, filesystem, kafka, print, upsert-kafka/);
    expect(firstProblem(`${T('src', 'jdbc')}${T('dst')}INSERT INTO dst SELECT id FROM src;`).message)
      .toMatch(/connector 'jdbc' .* not packaged .*flink-connector-jdbc/);
    expect(analyzeFlinkSql(`${T('src', 'jdbc')}${T('dst')}INSERT INTO dst SELECT id FROM src;`, WITH_JDBC).problems).toEqual([]);
  });

  test('fails when a table has no connector option', () => {
    expect(firstProblem(`CREATE TABLE src (id INT) WITH ('format' = 'json');\n${T('dst')}INSERT INTO dst SELECT id FROM src;`).message)
      .toMatch(/table 'src' has no 'connector' option/);
  });

  test('fails when a table is declared twice, or re-declares a known CDC source', () => {
    expect(firstProblem(`${T('dst')}${T('dst')}INSERT INTO dst SELECT 1;`).message).toMatch(/'dst' is already declared by statement 1/);
    expect(firstProblem(`${T('orders', 'datagen')}${T('dst')}INSERT INTO dst SELECT id FROM orders;`, { knownTables: ['orders'] }).message)
      .toMatch(/already declared by a CDC source/);
  });

  test('known tables satisfy reads and INSERT targets', () => {
    const a = analyzeFlinkSql('INSERT INTO out_t SELECT o.id FROM orders o JOIN customers c ON o.cid = c.id;', { knownTables: ['orders', 'customers', 'out_t'] });
    expect(a.problems).toEqual([]);
    expect(a.lineage).toEqual([{ statement: 1, sink: 'out_t', sources: ['orders', 'customers'] }]);
  });

  test('every semantic problem is reported, not just the first', () => {
    const problems = analyzeFlinkSql(`${T('dst')}INSERT INTO dst SELECT id FROM a1;\nINSERT INTO dst SELECT id FROM a2;`).problems;
    expect(problems.map(p => p.message)).toEqual([expect.stringMatching(/'a1'/), expect.stringMatching(/'a2'/)]);
  });
});

describe('column references, INSERT arity and types are checked against the declared tables', () => {
  test('the example job passes against its FlinkTable declarations', () => {
    expect(analyzeFlinkSql(EXAMPLE_ORDER_ENRICHMENT_SQL, EXAMPLE_TABLES).problems).toEqual([]);
  });

  test('FlinkTable declarations give the check their typed columns, metadata columns as virtual', () => {
    expect(EXAMPLE_TABLES.knownTables[0]).toEqual({
      name: 'orders',
      columns: [
        { name: 'id', type: 'BIGINT', kind: 'physical' }, { name: 'customer_id', type: 'BIGINT', kind: 'physical' },
        { name: 'status', type: 'STRING', kind: 'physical' }, { name: 'total', type: 'DECIMAL(12, 2)', kind: 'physical' },
        { name: 'cdc_commit_ts', type: 'TIMESTAMP_LTZ(3)', kind: 'virtual' }, { name: 'cdc_source_table', type: 'STRING', kind: 'virtual' },
        { name: 'cdc_kafka_offset', type: 'BIGINT', kind: 'virtual' },
      ],
    });
  });

  test.each(Object.entries(FLINK_SQL_MISTAKES))('fails on %s, with one problem at its place', (_name, m) => {
    const problems = analyzeFlinkSql(m.sql, m.tables === 'example' ? EXAMPLE_TABLES : {}).problems;
    expect(problems[0]).toEqual({ kind: m.kind, statement: expect.any(Number), line: m.line, column: m.column, message: expect.stringMatching(m.message) });
    // A syntax error is one error; a semantic mistake may show in more than one column (a swapped pair), each real.
    if (m.kind === 'syntax') expect(problems).toHaveLength(1);
  });

  test('numeric widening, literals, computed and metadata columns are not flagged', () => {
    const sql = "CREATE TABLE s (a INT, b DECIMAL(5, 1), c AS a + 1, m BIGINT METADATA FROM 'offset' VIRTUAL) WITH ('connector' = 'datagen');\n"
      + "CREATE TABLE d (x BIGINT, y DOUBLE, z BIGINT, w STRING, k BIGINT METADATA FROM 'offset') WITH ('connector' = 'blackhole');\n"
      + "INSERT INTO d SELECT a, b, c + m, 'lit', CAST(a AS BIGINT) FROM s;";
    expect(analyzeFlinkSql(sql).problems).toEqual([]);
  });

  test('INSERT with a column list is matched against the list, and computed or virtual columns cannot be listed', () => {
    const ddl = "CREATE TABLE s (a INT, b STRING) WITH ('connector' = 'datagen');\n"
      + "CREATE TABLE d (x INT, y STRING, z AS x * 2, v BIGINT METADATA FROM 'offset' VIRTUAL) WITH ('connector' = 'blackhole');\n";
    expect(analyzeFlinkSql(`${ddl}INSERT INTO d (y) SELECT b FROM s;`).problems).toEqual([]);
    expect(firstProblem(`${ddl}INSERT INTO d (x, y) SELECT a FROM s;`).message).toMatch(/the query gives 1 column, but the column list names 2 columns \(x, y\)/);
    expect(firstProblem(`${ddl}INSERT INTO d (z) SELECT a FROM s;`).message).toMatch(/'z' is a computed column and cannot be written/);
    expect(firstProblem(`${ddl}INSERT INTO d (v) SELECT a FROM s;`).message).toMatch(/'v' is a virtual metadata column and cannot be written/);
  });

  test('correlated subqueries see the outer query; views carry their columns (or their column list)', () => {
    const ddl = "CREATE TABLE s (a INT, b STRING) WITH ('connector' = 'datagen');\nCREATE TABLE d (x INT) WITH ('connector' = 'blackhole');\n";
    expect(analyzeFlinkSql(`${ddl}INSERT INTO d SELECT a FROM s WHERE EXISTS (SELECT 1 FROM s AS t WHERE t.a = s.a);`).problems).toEqual([]);
    expect(firstProblem(`${ddl}CREATE VIEW v AS SELECT a AS k FROM s;\nINSERT INTO d SELECT a FROM v;`).message).toMatch(/column 'a' is not a column of 'v'; did you mean 'k'\?/);
    expect(firstProblem(`${ddl}CREATE VIEW v (q) AS SELECT a FROM s;\nINSERT INTO d SELECT a FROM v;`).message).toMatch(/column 'a' is not a column of 'v'; did you mean 'q'\?/);
  });

  test('a format JAR added through the connectors option is accepted; an unknown format is named with the known ones', () => {
    const sql = "CREATE TABLE s (a INT) WITH ('connector' = 'datagen');\nCREATE TABLE d (a INT) WITH ('connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'avro');\nINSERT INTO d SELECT a FROM s;";
    expect(analyzeFlinkSql(sql, { connectors: [...WITH_JDBC.connectors, 'avro'] }).problems).toEqual([]);
    expect(firstProblem(sql.replace("'avro'", "'jsn'")).message).toMatch(/'format' = 'jsn' of table 'd': unknown format; known formats: canal-json, csv, debezium-json, json, maxwell-json, ogg-json, raw$/);
  });

  test('FlinkSqlApplication refuses a misspelt column of a FlinkTable at synth, positioned in the user\'s SQL', () => {
    const m = FLINK_SQL_MISTAKES['example: misspelt qualified column c.nmae'];
    const stack = testStack(testApp());
    const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
    expect(() => new FlinkSqlApplication(stack, 'Orders', { cluster, sql: m.sql, tables: exampleOrderEnrichmentTables() })).toThrow(
      /statement 1, line 6, column 3: column 'nmae' is not a column of 'c'; did you mean 'name'\?/);
    expect(() => validateFlinkSql(m.sql, { ...EXAMPLE_TABLES, label: 'order-enrichment.sql' })).toThrow(
      /order-enrichment\.sql: 1 error:\n {2}statement 1, line 6, column 3: column 'nmae' is not a column of 'c'; did you mean 'name'\?; its columns: id, name, tier, cdc_commit_ts/);
  });
});

describe('appendTableOptions', () => {
  test('adds only missing options (case-insensitive), escapes quotes, keeps the program valid', () => {
    const sql = "CREATE TABLE s (id INT) WITH ('connector' = 'kafka', 'topic' = 't', 'Properties.Group.Id' = 'mine');\nCREATE TABLE d (id INT) WITH ('connector' = 'print');\nINSERT INTO d SELECT id FROM s;";
    const a = analyzeFlinkSql(sql);
    const out = appendTableOptions(sql, [{ table: a.tables[0], options: { 'properties.group.id': 'injected', 'properties.sasl.jaas.config': "x required; y='z'" } }]);
    const again = analyzeFlinkSql(out);
    expect(again.problems).toEqual([]);
    expect(again.tables[0].options).toEqual({
      'connector': 'kafka', 'topic': 't', 'Properties.Group.Id': 'mine', 'properties.sasl.jaas.config': "x required; y='z'",
    });
    expect(again.statements).toHaveLength(3);
  });
});

describe('parser bundle', () => {
  test('is built once into the temp directory, keyed by the dt-sql-parser version, and reused', () => {
    const first = loadFlinkParser();
    expect(loadFlinkParser()).toBe(first);
    const version = JSON.parse(fs.readFileSync(require.resolve('dt-sql-parser/package.json'), 'utf8')).version;
    const files = fs.readdirSync(path.join(os.tmpdir(), 'cdk-agent-data-stack'));
    expect(files).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^flink-parser-${version.replace(/\./g, '\\.')}-[0-9a-f]{12}\\.cjs$`))]));
    expect(typeof first.FlinkSqlParser.RULE_insertSimpleStatement).toBe('number');
  });
});
