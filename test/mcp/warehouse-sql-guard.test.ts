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
