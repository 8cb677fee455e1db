// Synth-time Flink SQL analysis: the Flink documentation corpus passes, broken variants fail at the right statement/line/column, semantic rules, lineage, option injection.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  analyzeFlinkSql, appendTableOptions, FlinkSqlError, normalizeTableName, splitFlinkSql, validateFlinkSql,
} from '../../constructs/processing/flink-sql';
import { loadFlinkParser } from '../../constructs/processing/private/flink-parser';
import { FLINK_DOCS_CORPUS } from './fixtures/flink-docs-corpus';

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
      options: { 'connector': 'upsert-kafka', 'topic': 'pageviews_per_region', 'key.format': 'avro', 'value.format': 'avro' },
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
