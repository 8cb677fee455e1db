// The PyFlink SQL runner (lambda/flink-sql-runner/main.py) run with python3 against a stand-in pyflink that records calls.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables, FlinkSqlApplication } from '../../constructs/processing';
import { splitFlinkSql } from '../../constructs/processing/flink-sql';
import { testApp, testStack } from '../helpers/app';
import { StandInCluster } from './support';
import { FLINK_DOCS_CORPUS } from './fixtures/flink-docs-corpus';

const RUNNER = path.join(__dirname, '..', '..', 'lambda', 'flink-sql-runner', 'main.py');
const STAND_IN = path.join(__dirname, 'fixtures');

interface RunResult {
  readonly status: number | null;
  readonly stderr: string;
  readonly calls: unknown[][];
}

/** Copies the runner into a fresh folder (as the application ZIP would), writes job.sql and the runtime properties, runs it. */
function run(sql: string | undefined, groups: Array<{ PropertyGroupId: string; PropertyMap: Record<string, string> }>, env: Record<string, string> = {}): RunResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-runner-'));
  try {
    fs.copyFileSync(RUNNER, path.join(dir, 'main.py'));
    if (sql !== undefined) fs.writeFileSync(path.join(dir, 'job.sql'), sql);
    fs.writeFileSync(path.join(dir, 'application_properties.json'), JSON.stringify(groups));
    const record = path.join(dir, 'calls.jsonl');
    const out = spawnSync('python3', [path.join(dir, 'main.py')], {
      env: { PATH: process.env.PATH, PYTHONPATH: STAND_IN, FLINK_APPLICATION_PROPERTIES: path.join(dir, 'application_properties.json'), PYFLINK_RECORD: record, ...env },
      encoding: 'utf8',
    });
    const calls = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').trim().split('\n').filter(Boolean).map(l => JSON.parse(l)) : [];
    return { status: out.status, stderr: out.stderr, calls };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const PROGRAM = `-- orders; customers
SET 'pipeline.name' = 'it''s; the job';
CREATE TABLE orders (id BIGINT, note STRING) WITH (
  'connector' = 'kafka',
  'topic' = 'a;b',
  'properties.bootstrap.servers' = '\${kafka.bootstrap.servers}',
  'properties.sasl.jaas.config' = 'software.amazon.msk.auth.iam.IAMLoginModule required;'
);
INSERT INTO out1 SELECT id, ';' FROM orders; /* ; */
CREATE TABLE out1 (id BIGINT, note STRING) WITH ('connector' = 'print');
EXECUTE STATEMENT SET BEGIN
  INSERT INTO out2 SELECT id FROM orders;
  INSERT INTO out3 SELECT id FROM orders;
END;
CREATE TABLE out2 (id BIGINT) WITH ('connector' = 'print', 'x' = '\${not.a.variable}');
`;

describe('flink-sql-runner main.py', () => {
  test('runs SET first, then every DDL in order, then all INSERTs in one statement set', () => {
    const r = run(PROGRAM, [
      { PropertyGroupId: 'kinesis.analytics.flink.run.options', PropertyMap: { python: 'main.py', jarfile: 'lib/kafka.jar' } },
      { PropertyGroupId: 'sql.runner', PropertyMap: { file: 'job.sql' } },
      { PropertyGroupId: 'sql.variables', PropertyMap: { 'kafka.bootstrap.servers': 'b-1:9098,b-2:9098' } },
    ]);
    expect(r.stderr).toMatch(/submitted 3 INSERT statement\(s\) after 3 DDL statement\(s\)/);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      ['TableEnvironment.create', 'streaming'],
      ['config.set', 'pipeline.name', "it's; the job"],
      ['execute_sql', expect.stringContaining("'properties.bootstrap.servers' = 'b-1:9098,b-2:9098'")],
      ['execute_sql', "CREATE TABLE out1 (id BIGINT, note STRING) WITH ('connector' = 'print')"],
      ['execute_sql', "CREATE TABLE out2 (id BIGINT) WITH ('connector' = 'print', 'x' = '${not.a.variable}')"],
      ['create_statement_set', 1],
      ['statement_set.add_insert_sql', 1, "INSERT INTO out1 SELECT id, ';' FROM orders"],
      ['statement_set.add_insert_sql', 1, 'INSERT INTO out2 SELECT id FROM orders'],
      ['statement_set.add_insert_sql', 1, 'INSERT INTO out3 SELECT id FROM orders'],
      ['statement_set.execute', 1],
    ]);
    // The JAAS value keeps its semicolon: it was not split.
    expect((r.calls[2][1] as string)).toContain("'software.amazon.msk.auth.iam.IAMLoginModule required;'");
  });

  test('adds the extra JARs to pipeline.jars as file URIs next to main.py, and waits only when IS_LOCAL is set', () => {
    const sql = "CREATE TABLE s (x INT) WITH ('connector' = 'datagen');\nINSERT INTO s SELECT 1;";
    const r = run(sql, [{ PropertyGroupId: 'sql.runner', PropertyMap: { jars: 'lib/a.jar; lib/b.jar' } }], { IS_LOCAL: 'true' });
    expect(r.status).toBe(0);
    const set = r.calls.find(c => c[0] === 'config.set')!;
    expect(set[1]).toBe('pipeline.jars');
    expect(set[2]).toMatch(/^file:\/\/\/.*\/flink-runner-[^/]+\/lib\/a\.jar;file:\/\/\/.*\/lib\/b\.jar$/);
    expect(r.calls[r.calls.length - 1]).toEqual(['result.wait']);
  });

  test('locally (IS_LOCAL) the jarfile the service would load goes first into pipeline.jars; on the service it is left to the service', () => {
    const sql = "CREATE TABLE s (x INT) WITH ('connector' = 'datagen');\nINSERT INTO s SELECT 1;";
    const groups = [{ PropertyGroupId: 'kinesis.analytics.flink.run.options', PropertyMap: { python: 'main.py', jarfile: 'lib/pyflink-dependencies.jar' } }];
    const local = run(sql, groups, { IS_LOCAL: 'true' });
    expect(local.status).toBe(0);
    expect(local.calls.find(c => c[0] === 'config.set')![2]).toMatch(/^file:\/\/\/.*\/flink-runner-[^/]+\/lib\/pyflink-dependencies\.jar$/);
    const deployed = run(sql, groups);
    expect(deployed.status).toBe(0);
    expect(deployed.calls.some(c => c[0] === 'config.set' && c[1] === 'pipeline.jars')).toBe(false);
  });

  test('inline statements in the runtime properties take precedence over the file', () => {
    const r = run('this file is not read', [{ PropertyGroupId: 'sql.runner', PropertyMap: { statements: "CREATE TABLE s (x INT) WITH ('connector' = 'datagen'); INSERT INTO s SELECT 1" } }]);
    expect(r.status).toBe(0);
    expect(r.calls.filter(c => c[0] === 'statement_set.add_insert_sql').map(c => c[2])).toEqual(['INSERT INTO s SELECT 1']);
  });

  test('EXECUTE INSERT and CREATE TABLE AS go into the one statement set with the INSERTs, not to execute_sql (which would submit a job each)', () => {
    const sql = [
      "CREATE TABLE s (x INT) WITH ('connector' = 'datagen');",
      "CREATE TABLE t (x INT, y AS x + 1) WITH ('connector' = 'blackhole');",
      "CREATE VIEW v (x) AS SELECT x FROM s;",
      "EXECUTE INSERT INTO t SELECT x FROM s;",
      "/* copy */ CREATE TABLE IF NOT EXISTS c WITH ('connector' = 'print', 'k' = 'AS') AS SELECT x FROM v;",
      "EXECUTE STATEMENT SET BEGIN INSERT INTO t SELECT 1; CREATE TABLE d AS SELECT 2 AS x; END;",
    ].join('\n');
    const r = run(sql, []);
    expect(r.stderr).toMatch(/submitted 4 INSERT statement\(s\) after 3 DDL statement\(s\)/);
    expect(r.status).toBe(0);
    expect(r.calls.filter(c => c[0] === 'execute_sql').map(c => (c[1] as string).slice(0, 15))).toEqual(['CREATE TABLE s ', 'CREATE TABLE t ', 'CREATE VIEW v (']);
    expect(r.calls.filter(c => c[0] === 'statement_set.add_insert_sql').map(c => c[2])).toEqual([
      'EXECUTE INSERT INTO t SELECT x FROM s',
      "CREATE TABLE IF NOT EXISTS c WITH ('connector' = 'print', 'k' = 'AS') AS SELECT x FROM v",
      'INSERT INTO t SELECT 1',
      'CREATE TABLE d AS SELECT 2 AS x',
    ]);
    // A program whose only output is a CREATE TABLE AS runs (it used to fail with "no INSERT INTO statement").
    const only = run("CREATE TABLE s (x INT) WITH ('connector' = 'datagen');\nCREATE TABLE c WITH ('connector' = 'print') AS SELECT x FROM s;", []);
    expect(only.status).toBe(0);
    expect(only.calls.filter(c => c[0] === 'statement_set.add_insert_sql')).toHaveLength(1);
  });

  test('fails without running anything when the program has no INSERT', () => {
    const r = run("CREATE TABLE s (x INT) WITH ('connector' = 'datagen');", []);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no INSERT INTO statement/);
    expect(r.calls).toEqual([]);
  });

  test('a failing DDL stops the job before any INSERT is submitted', () => {
    const r = run("CREATE TABLE s (x INT) WITH ('connector' = 'datagen');\nINSERT INTO s SELECT 1;", [], { PYFLINK_FAIL_ON: 'CREATE TABLE s' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/stand-in failure: CREATE TABLE s/);
    expect(r.calls.some(c => c[0] === 'create_statement_set')).toBe(false);
  });

  test('runs the example application\'s packaged program as the construct configures it', () => {
    const stack = testStack(testApp());
    const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
    const flink = new FlinkSqlApplication(stack, 'Orders', { cluster, applicationName: 'orders-enrichment', sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() });
    const r = run(flink.packagedSql, [
      { PropertyGroupId: 'sql.runner', PropertyMap: { file: 'job.sql', jars: 'lib/aws-msk-iam-auth-2.2.0.jar' } },
      { PropertyGroupId: 'sql.variables', PropertyMap: { 'kafka.bootstrap.servers': cluster.bootstrapBrokersSaslIam } },
    ]);
    expect(r.status).toBe(0);
    expect(r.calls.map(c => c[0])).toEqual([
      'TableEnvironment.create', 'config.set', 'config.set', 'execute_sql', 'execute_sql', 'execute_sql',
      'create_statement_set', 'statement_set.add_insert_sql', 'statement_set.execute',
    ]);
    expect(r.calls[2]).toEqual(['config.set', 'table.exec.source.cdc-events-duplicate', 'true']);
    const ddl = r.calls.filter(c => c[0] === 'execute_sql').map(c => c[1] as string);
    expect(ddl.map(d => /CREATE TABLE `(\w+)`/.exec(d)![1])).toEqual(['orders', 'customers', 'orders_enriched']);
    for (const d of ddl) expect(d).toContain(`'properties.bootstrap.servers' = '${cluster.bootstrapBrokersSaslIam}'`);
    expect(r.calls[7][2]).toMatch(/^INSERT INTO orders_enriched\nSELECT/);
  });

  test('a variable is escaped for the quotes it stands in: its value stays the text of one literal and cannot add SQL', () => {
    const sql = [
      "SET 'pipeline.name' = '${job.name}';",
      "CREATE TABLE s (x INT) WITH ('connector' = 'datagen');",
      "CREATE TABLE `${table}` (x INT) WITH ('connector' = 'filesystem', 'path' = '${out.path}', 'format' = 'json'); -- ${out.path}",
      'INSERT INTO `${table}` SELECT x FROM s;',
    ].join('\n');
    const injected = "s3://b/it's', 'connector' = 'blackhole";
    const r = run(sql, [{ PropertyGroupId: 'sql.variables', PropertyMap: { 'job.name': "it's the job", 'table': 'out`s', 'out.path': injected } }]);
    expect(r.stderr).toMatch(/submitted 1 INSERT statement\(s\) after 2 DDL statement\(s\)/);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      ['TableEnvironment.create', 'streaming'],
      ['config.set', 'pipeline.name', "it's the job"],
      ['execute_sql', "CREATE TABLE s (x INT) WITH ('connector' = 'datagen')"],
      // One 'path' option holding the whole value; the comment is left as written (a newline in a value would end it).
      ['execute_sql', "CREATE TABLE `out``s` (x INT) WITH ('connector' = 'filesystem', 'path' = 's3://b/it''s'', ''connector'' = ''blackhole', 'format' = 'json')"],
      ['create_statement_set', 1],
      ['statement_set.add_insert_sql', 1, 'INSERT INTO `out``s` SELECT x FROM s'],
      ['statement_set.execute', 1],
    ]);
  });

  test('fails naming the variable, before anything runs, when it stands outside quotes or puts a backslash in a string', () => {
    const program = (option: string) => `CREATE TABLE s (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = ${option});\nINSERT INTO s SELECT 1;`;
    const outside = run(program('${rate}'), [{ PropertyGroupId: 'sql.variables', PropertyMap: { rate: "1'); DROP TABLE s; --" } }]);
    expect(outside.status).not.toBe(0);
    expect(outside.stderr).toMatch(/sql.variables 'rate' is used outside quotes, where its value would be SQL text/);
    expect(outside.calls).toEqual([]);
    const backslash = run(program("'${rate}'"), [{ PropertyGroupId: 'sql.variables', PropertyMap: { rate: '1\\' } }]);
    expect(backslash.status).not.toBe(0);
    expect(backslash.stderr).toMatch(/sql.variables 'rate' holds a backslash and stands in a '...' string/);
    expect(backslash.calls).toEqual([]);
  });

  test('a construct\'s sqlVariables value with a quote reaches the job as the one option value it was given', () => {
    const stack = testStack(testApp());
    const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
    new FlinkSqlApplication(stack, 'Files', {
      cluster, applicationName: 'files',
      sql: "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');\n"
        + "CREATE TABLE out_files (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '${out.path}', 'format' = 'json');\n"
        + 'INSERT INTO out_files SELECT id FROM src;',
      sqlVariables: { 'out.path': "s3://bucket/o'brien/" },
    });
    const application = Object.values(Template.fromStack(stack).findResources('AWS::KinesisAnalyticsV2::Application'))[0];
    const groups = application.Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups;
    const r = run((stack.node.findChild('Files') as FlinkSqlApplication).packagedSql, groups);
    expect(r.status).toBe(0);
    expect(r.calls.find(c => c[0] === 'execute_sql' && /out_files/.test(c[1] as string))![1]).toContain("'path' = 's3://bucket/o''brien/'");
  });

  test('splits every documentation program exactly like the synth-time splitter', () => {
    const programs = Object.values(FLINK_DOCS_CORPUS);
    const script = 'import json, sys\nsys.path.insert(0, sys.argv[1])\nimport main\nprint(json.dumps([main.split_statements(p) for p in json.load(sys.stdin)]))';
    const out = spawnSync('python3', ['-c', script, path.dirname(RUNNER)], { input: JSON.stringify(programs), encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual(programs.map(p => splitFlinkSql(p).map(s => s.text)));
  });
});
