// The Flink SQL analysis is kept between calls and synths (constructs/processing/private/flink-analysis-cache.ts): what is
// kept must be exactly what a fresh analysis gives, and only ever reused for the same program, options and code.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXAMPLE_ORDER_ENRICHMENT_SQL } from '../../constructs/processing/example';
import { analyzeFlinkSql, FlinkSqlAnalysis } from '../../constructs/processing/flink-sql';
import { analysisCacheFile, analysisKey, clearKeptAnalyses } from '../../constructs/processing/private/flink-analysis-cache';
import { FLINK_DOCS_CORPUS } from './fixtures/flink-docs-corpus';
import { FLINK_SQL_MISTAKES } from './fixtures/flink-mistakes-corpus';

let cacheHome: string;
const saved = { xdg: process.env.XDG_CACHE_HOME, gate: process.env.CDK_AGENT_GATE_CACHE };
beforeEach(() => {
  cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-analysis-cache-'));
  process.env.XDG_CACHE_HOME = cacheHome;
  delete process.env.CDK_AGENT_GATE_CACHE;
  clearKeptAnalyses();
});
afterEach(() => {
  fs.rmSync(cacheHome, { recursive: true, force: true });
  for (const [k, v] of [['XDG_CACHE_HOME', saved.xdg], ['CDK_AGENT_GATE_CACHE', saved.gate]] as const) {
    if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  clearKeptAnalyses();
});

const fresh = (sql: string): FlinkSqlAnalysis => {
  process.env.CDK_AGENT_GATE_CACHE = 'off';
  clearKeptAnalyses();
  try {
    return analyzeFlinkSql(sql);
  } finally {
    delete process.env.CDK_AGENT_GATE_CACHE;
    clearKeptAnalyses();
  }
};

const programs: Array<[string, string]> = [
  ['the example', EXAMPLE_ORDER_ENRICHMENT_SQL],
  ...Object.entries(FLINK_DOCS_CORPUS).slice(0, 6),
  ...Object.entries(FLINK_SQL_MISTAKES).slice(0, 6).map(([name, m]) => [name, m.sql] as [string, string]),
];

test.each(programs)('%s: the analysis read back from the cache directory equals a fresh analysis, problems and positions included', (_name, sql) => {
  const expected = fresh(sql);
  analyzeFlinkSql(sql); // computed and written
  const key = analysisKey(sql, {});
  expect(fs.existsSync(analysisCacheFile(key))).toBe(true);
  clearKeptAnalyses();
  expect(analyzeFlinkSql(sql)).toStrictEqual(expected); // read from the file
  expect(analyzeFlinkSql(sql)).toStrictEqual(expected); // from this process
});

test('a kept entry is what later calls return, in a new process too; a damaged entry is analysed again and rewritten', () => {
  const sql = EXAMPLE_ORDER_ENRICHMENT_SQL;
  const real = analyzeFlinkSql(sql);
  const file = analysisCacheFile(analysisKey(sql, {}));
  // The cache is read, not just written: a planted entry comes back.
  fs.writeFileSync(file, JSON.stringify({ ...real, views: ['planted'] }));
  clearKeptAnalyses();
  expect(analyzeFlinkSql(sql).views).toEqual(['planted']);
  fs.writeFileSync(file, '{"statements": [');
  clearKeptAnalyses();
  expect(analyzeFlinkSql(sql)).toStrictEqual(real);
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toStrictEqual(real);
});

test('the key covers the program and every option; a caller changing its result does not change the next one', () => {
  const sql = 'CREATE TABLE t (a INT) WITH (\'connector\' = \'jdbc\');\nINSERT INTO t SELECT 1;';
  expect(analysisKey(sql, {})).not.toBe(analysisKey(`${sql} `, {}));
  expect(analysisKey(sql, {})).not.toBe(analysisKey(sql, { connectors: ['jdbc'] }));
  expect(analysisKey(sql, { knownTables: [{ name: 'x', columns: [] }] })).not.toBe(analysisKey(sql, { knownTables: ['x'] }));
  expect(analyzeFlinkSql(sql).problems.map(p => p.message)).toEqual([expect.stringMatching(/jdbc/)]);
  expect(analyzeFlinkSql(sql, { connectors: ['jdbc'] }).problems).toEqual([]);
  // Each way a result is made: kept in this process, read from the cache directory, and analysed afresh.
  const fresh = `${sql}\n-- ${Date.now()} ${Math.random()}`;
  const ways = [
    (_program: string) => undefined,
    (_program: string) => clearKeptAnalyses(),
    (program: string) => { clearKeptAnalyses(); fs.rmSync(analysisCacheFile(analysisKey(program, {}))); },
  ];
  for (const prepare of ways) {
    for (const program of [sql, fresh]) {
      analyzeFlinkSql(program);
      prepare(program);
      const first = analyzeFlinkSql(program);
      first.problems.length = 0;
      expect(analyzeFlinkSql(program).problems).toHaveLength(1);
    }
  }
});

test('CDK_AGENT_GATE_CACHE=off writes nothing to the cache directory', () => {
  process.env.CDK_AGENT_GATE_CACHE = 'off';
  analyzeFlinkSql(EXAMPLE_ORDER_ENRICHMENT_SQL);
  expect(fs.existsSync(path.join(cacheHome, 'cdk-agent-data-stack', 'flink-sql'))).toBe(false);
});
