// The SQL mode guard of <view>_query: a hostile corpus is refused with a message saying why; accepted queries are rebuilt from tokens and pinned to a snapshot.
import { ToolInputError } from '../../lambda/mcp/errors';
import { guardAgentSql } from '../../lambda/mcp/warehouse-sql-guard';

const scope = { database: 'shop_wh', tables: ['order_history', 'order_history_history'], databaseTables: ['order_history', 'order_history_history', 'payments'] };
const refuse = (sql: string) => () => guardAgentSql(sql, scope);

describe('refused', () => {
  const hostile: Array<[string, string, RegExp]> = [
    ['DDL: DROP', 'DROP TABLE order_history', /not a query \(it is a DROP statement\)/],
    ['DDL: CREATE TABLE', 'CREATE TABLE x (a int)', /not a query/],
    ['DDL: ALTER', 'ALTER TABLE order_history ADD COLUMN x int', /not a query/],
    ['CTAS', 'CREATE TABLE x AS SELECT * FROM order_history', /not a query/],
    ['UNLOAD (Athena)', "UNLOAD (SELECT * FROM order_history) TO 's3://bucket/x' WITH (format = 'JSON')", /does not parse|not a query/],
    ['DML: INSERT', 'INSERT INTO order_history SELECT * FROM order_history', /not a query/],
    ['DML: DELETE', 'DELETE FROM order_history WHERE id = 1', /not a query/],
    ['DML: UPDATE', "UPDATE order_history SET status = 'x'", /not a query/],
    ['DML: MERGE', 'MERGE INTO order_history t USING order_history s ON t.id = s.id WHEN MATCHED THEN DELETE', /not a query/],
    ['OPTIMIZE/VACUUM', 'VACUUM order_history', /does not parse|not a query/],
    ['two statements', 'SELECT 1 FROM order_history; DROP TABLE order_history', /2 statements/],
    ['a second statement after a line comment', 'SELECT * FROM order_history -- harmless\n; DELETE FROM order_history', /2 statements/],
    ['a second statement after a block comment', 'SELECT * FROM order_history /* x */; DROP TABLE order_history', /2 statements/],
    ['another table', 'SELECT * FROM customers', /reads 'customers', which is not this view's table/],
    ['another table in a join', 'SELECT * FROM order_history o JOIN customers c ON o.id = c.id', /reads 'customers'/],
    ['another table in a subquery', 'SELECT * FROM order_history WHERE id IN (SELECT id FROM secrets)', /reads 'secrets'/],
    ['another database', 'SELECT * FROM other_db.order_history', /reads 'other_db\.order_history'/],
    ['another catalog (federated Lambda connector)', 'SELECT * FROM "lambda:mysql".shop.order_history', /reads 'lambda:mysql\.shop\.order_history'/],
    ['the Iceberg metadata table (data file paths)', 'SELECT * FROM "order_history$files"', /reads 'order_history\$files'/],
    ['information_schema', 'SELECT * FROM information_schema.tables', /reads 'information_schema\.tables'/],
    ['a table function reading external data', "SELECT * FROM TABLE(system.query(query => 'select * from secrets'))", /table function|function 'system\.query'/],
    ['a function outside the allow-list', "SELECT url_extract_host('http://x') FROM order_history", /function 'url_extract_host'/],
    ['a qualified function', 'SELECT system.builtin.count(*) FROM order_history', /function 'system\.builtin\.count'/],
    ['an external (Lambda) UDF', "USING EXTERNAL FUNCTION f(x varchar) RETURNS varchar LAMBDA 'fn' SELECT f(status) FROM order_history", /does not parse|not a query/],
    ['EXPLAIN', 'EXPLAIN SELECT * FROM order_history', /not a query/],
    ['SHOW', 'SHOW TABLES', /not a query/],
    ['a WITH query named like another view\'s table, referenced out of its scope', 'SELECT * FROM (WITH payments AS (SELECT 1 AS x) SELECT x FROM payments) a, payments', /names a WITH query 'payments' like a table/],
    ['time travel', 'SELECT * FROM order_history FOR VERSION AS OF 1', /FOR VERSION\/TIMESTAMP AS OF/],
    ['no table at all', 'SELECT 1', /reads no table of the view/],
    ['not SQL', 'hello there', /does not parse/],
    ['empty', '   ', /is empty/],
    ['too long', `SELECT * FROM order_history WHERE status = '${'x'.repeat(9000)}'`, /at most 8000/],
  ];
  test.each(hostile)('%s', (_, sql, message) => {
    expect(refuse(sql)).toThrow(ToolInputError);
    expect(refuse(sql)).toThrow(message);
  });
});

describe('accepted', () => {
  test('a grouped query: tables fully qualified and pinned, comments gone', () => {
    const g = guardAgentSql(`-- 90-day trend
SELECT date_trunc('day', created_at) AS d, count(*) AS n /* per day */
FROM order_history
WHERE created_at > now() - INTERVAL '90' DAY
GROUP BY 1 ORDER BY 1;`, scope);
    expect(g.tables).toEqual(['order_history']);
    const sql = g.render({ order_history: '123456789' });
    expect(sql).toContain('FROM "awsdatacatalog"."shop_wh"."order_history" FOR VERSION AS OF 123456789 WHERE');
    expect(sql).not.toMatch(/--|\/\*|;/);
  });

  test('a CTE over both tables, qualified names and quoted identifiers', () => {
    const g = guardAgentSql('WITH d AS (SELECT id FROM "shop_wh"."order_history_history" WHERE "_op" = \'d\') SELECT count(*) FROM awsdatacatalog.shop_wh.order_history h JOIN d ON h.id = d.id', scope);
    expect(g.tables.sort()).toEqual(['order_history', 'order_history_history']);
    const sql = g.render({ order_history: '1', order_history_history: '2' });
    expect(sql).toContain('"awsdatacatalog"."shop_wh"."order_history_history" FOR VERSION AS OF 2');
    expect(sql).toContain('"awsdatacatalog"."shop_wh"."order_history" FOR VERSION AS OF 1 h JOIN d');
  });

  test('a semicolon inside a string or a comment is not a second statement', () => {
    const g = guardAgentSql("SELECT count(*) FROM order_history WHERE status <> '; DROP TABLE x' /* ; DELETE FROM order_history */", scope);
    expect(g.render({ order_history: '7' })).toContain("'; DROP TABLE x'");
  });
});

describe('WITH query names are resolved by scope (a name is a WITH query only inside its WITH and the query it introduces)', () => {
  const wh = { database: 'shop_wh', tables: ['order_history', 'order_history_history'], databaseTables: ['order_history', 'order_history_history', 'payments_wh'] };
  const guard = (sql: string) => () => guardAgentSql(sql, wh);
  test.each<[string, string, RegExp]>([
    ['the reviewer\'s statement: a WITH named like another view\'s metadata table, referenced outside its subquery',
      'SELECT p.* FROM (WITH "payments_wh$partitions" AS (SELECT id FROM order_history) SELECT count(*) n FROM "payments_wh$partitions") x CROSS JOIN "payments_wh$partitions" p', /\$/],
    ['a plain WITH name referenced outside its subquery (it would read a table of the session database)',
      'SELECT * FROM (WITH secret_tbl AS (SELECT id FROM order_history) SELECT * FROM secret_tbl) a CROSS JOIN secret_tbl', /reads 'secret_tbl'/],
    ['a WITH inside a scalar subquery, its name used by the outer FROM',
      'SELECT (WITH t AS (SELECT 1 AS x FROM order_history) SELECT count(*) FROM t), o.* FROM order_history o, t', /reads 't'/],
    ['a nested WITH\'s name used by the outer query\'s body',
      'WITH a AS (WITH b AS (SELECT id FROM order_history) SELECT id FROM b) SELECT * FROM a CROSS JOIN b', /reads 'b'/],
    ['a WITH query referencing a later one (Trino resolves it to a table)',
      'WITH a AS (SELECT * FROM later), later AS (SELECT id FROM order_history) SELECT * FROM a', /reads 'later'/],
    ['a WITH name used in a sibling subquery', 'SELECT * FROM (WITH c AS (SELECT id FROM order_history) SELECT * FROM c) a JOIN (SELECT * FROM c) b ON a.id = b.id', /reads 'c'/],
    ['an unqualified metadata table name as a WITH name, even used within scope',
      'WITH "order_history$files" AS (SELECT id FROM order_history) SELECT * FROM "order_history$files"', /'order_history\$files'.*\$/],
  ])('refused: %s', (_, sql, message) => {
    expect(guard(sql)).toThrow(ToolInputError);
    expect(guard(sql)).toThrow(message);
  });

  test.each<[string, string, string[]]>([
    ['a WITH used in its own query', 'WITH d AS (SELECT id FROM order_history) SELECT count(*) FROM d', ['order_history']],
    ['a later WITH query reading an earlier one', 'WITH a AS (SELECT id FROM order_history), b AS (SELECT id FROM a) SELECT * FROM b', ['order_history']],
    ['a nested WITH used inside its subquery, the outer WITH visible in it',
      'WITH a AS (SELECT id FROM order_history) SELECT * FROM (WITH b AS (SELECT id FROM a) SELECT * FROM b) x JOIN a ON x.id = a.id', ['order_history']],
    ['a WITH inside a scalar subquery, used there', 'SELECT (WITH t AS (SELECT id FROM order_history_history) SELECT count(*) FROM t) AS n FROM order_history', ['order_history_history', 'order_history']],
    ['a recursive WITH reading itself', 'WITH RECURSIVE r(n) AS (SELECT 1 FROM order_history UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r', ['order_history']],
  ])('accepted: %s', (_, sql, tables) => {
    expect(guardAgentSql(sql, wh).tables.sort()).toEqual([...tables].sort());
  });
});

test('the guard works from a minified esbuild bundle, as the MCP Lambda runs it (the grammar from the shipped trino-parser.js beside it, rule names not class names)', () => {
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  const fs = require('fs') as typeof import('fs');
  const os = require('os') as typeof import('os');
  const path = require('path') as typeof import('path');
  const outfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'guard-bundle-')), 'guard.js');
  buildSync({
    entryPoints: [path.join(__dirname, '../../lambda/mcp/warehouse-sql-guard.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', minify: true,
    external: ['@aws-sdk/*'], logLevel: 'silent',
  });
  // As in the Lambda: the grammar is the MCP bundle's second entry, beside the code that loads it (and never inlined in it).
  expect(fs.readFileSync(outfile, 'utf8')).not.toMatch(/TrinoSqlParser\.ruleNames|class \w+ extends \w+Parser/);
  fs.copyFileSync(path.join(__dirname, '../../bundles/mcp/trino-parser.js'), path.join(path.dirname(outfile), 'trino-parser.js'));
  const bundled = require(outfile) as typeof import('../../lambda/mcp/warehouse-sql-guard');
  expect(bundled.guardAgentSql('SELECT count(*) FROM order_history', scope).render({ order_history: '5' }))
    .toBe('SELECT count ( * ) FROM "awsdatacatalog"."shop_wh"."order_history" FOR VERSION AS OF 5');
  expect(() => bundled.guardAgentSql('SELECT 1 FROM order_history; DROP TABLE order_history', scope)).toThrow(/2 statements/);
  fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
});
