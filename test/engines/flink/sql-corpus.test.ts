// The synth check and real Flink 2.2 agree: every program of the test corpus the check accepts (the Flink documentation
// corpus and the example job, as FlinkSqlApplication packages them) is planned by the real engine, and every mistake of
// the mistakes corpus the check refuses is refused by the real engine too. One PyFlink process plans the whole batch.
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../../constructs/common/agent-network';
import { EXAMPLE_TRANSFORM_NAME, exampleOrderEnrichmentTables, FlinkSqlApplication, FlinkTable } from '../../../constructs/processing';
import { analyzeFlinkSql, appendTableOptions, knownTableOf } from '../../../constructs/processing/flink-sql';
import { testApp, testStack } from '../../helpers/app';
import { FLINK_DOCS_CORPUS } from '../../processing/fixtures/flink-docs-corpus';
import { FLINK_SQL_MISTAKES } from '../../processing/fixtures/flink-mistakes-corpus';
import { StandInCluster } from '../../processing/support';
import { synthesizeExample } from '../../../cli/dev/engines/pipeline';
import {
  ENGINE_DIR, explainPrograms, ExplainResult, mapSqlForLocal, mavenResolve, pyflinkPython, requireTool, SqlMappingNote, transformApplicationId, unpackForLocalBroker,
} from './engine';

/** No broker is contacted when planning; the address only has to be well-formed. */
const NO_BROKER = '127.0.0.1:1';
/** Errors that would mean the engine refused a program for want of a JAR or an option, not for the mistake itself. */
const NOT_THE_MISTAKE = /Could not find any factory|Could not find any format factory|Missing required options|Unsupported options/;

let python: string;
let jars: string[];
let packageDir: string | undefined;
const notes: SqlMappingNote[] = [];
let results: Map<string, ExplainResult>;
let seconds: number;

/** A corpus program as FlinkSqlApplication packages it (JDBC declared as an added connector), mapped for a local broker. */
function packaged(name: string, sql: string): string {
  const stack = testStack(testApp());
  const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
  const app = new FlinkSqlApplication(stack, 'App', { cluster, applicationName: 'corpus', sql, connectors: ['jdbc'] });
  const mapped = mapSqlForLocal(app.packagedSql);
  notes.push(...mapped.notes.map(n => ({ ...n, table: `${name}: ${n.table}` })));
  return mapped.sql.split('${kafka.bootstrap.servers}').join(NO_BROKER);
}

/** A refused program as the engine would receive it: the example's FlinkTable DDL first where used, Kafka tables given a broker. */
function unvalidated(sql: string, tables?: 'example'): string {
  const program = [...(tables === 'example' ? exampleOrderEnrichmentTables().map((t: FlinkTable) => t.ddl) : []), sql].join('\n');
  const kafka = analyzeFlinkSql(program).tables.filter(t => t.connector === 'kafka' || t.connector === 'upsert-kafka');
  return appendTableOptions(program, kafka.map(t => ({ table: t, options: { 'properties.bootstrap.servers': NO_BROKER, 'properties.group.id': 'corpus' } })));
}

beforeAll(async () => {
  requireTool('java', ['-version'], 'a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  requireTool('mvn', ['-v'], 'Apache Maven, e.g. apt-get install maven');
  python = pyflinkPython();
  // The example's own package: its job.sql and its merged Kafka/MSK IAM JAR, built by the deploy-time builder's code.
  const example = synthesizeExample();
  const exampleSql = await unpackForLocalBroker(Template.fromJSON(example.template), NO_BROKER, { application: transformApplicationId(EXAMPLE_TRANSFORM_NAME) });
  packageDir = exampleSql.dir;
  const lib = path.join(packageDir, 'lib');
  jars = [
    ...fs.readdirSync(lib).map(f => path.join(lib, f)),
    ...mavenResolve(path.join(ENGINE_DIR, 'pom-jdbc.xml')).map(a => a.file),
  ];
  notes.push(...exampleSql.notes.map(n => ({ ...n, table: `example job.sql: ${n.table}` })));
  const programs = [
    { name: 'example job.sql', sql: exampleSql.sql.split('${kafka.bootstrap.servers}').join(NO_BROKER) },
    ...Object.entries(FLINK_DOCS_CORPUS).map(([name, sql]) => ({ name: `corpus: ${name}`, sql: packaged(name, sql) })),
    ...Object.entries(FLINK_SQL_MISTAKES).map(([name, m]) => ({ name: `mistake: ${name}`, sql: unvalidated(m.sql, m.tables) })),
  ];
  const run = explainPrograms(python, jars, programs);
  results = new Map(run.results.map(r => [r.name, r]));
  seconds = run.seconds;
  console.log(`planned ${programs.length} programs in one PyFlink process in ${seconds} s:\n${run.results.map(r => `  ${r.ok ? 'planned ' : 'REFUSED '} ${r.name} (${r.seconds} s)${r.error ? `\n      ${r.error.split(' | ').map(e => e.split('\n')[0]).join(' | ').slice(0, 600)}` : ''}`).join('\n')}`);
  console.log(`IAM SASL -> PLAINTEXT mappings (${notes.length}):\n${[...new Set(notes.map(n => `  ${n.property}: ${n.from} -> ${n.to ?? '(removed)'}`))].join('\n')}`);
}, 30 * 60_000);

afterAll(() => {
  if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
});

test('the example job.sql, as packaged, is planned by Flink 2.2 with only the IAM SASL options mapped to PLAINTEXT', () => {
  expect(results.get('example job.sql')).toMatchObject({ ok: true });
  const exampleNotes = notes.filter(n => n.table.startsWith('example job.sql: '));
  // Three Kafka tables, each: security.protocol SASL_SSL -> PLAINTEXT, three IAM sasl.* options removed.
  expect(exampleNotes.map(n => `${n.table.slice('example job.sql: '.length)} ${n.property}`).sort()).toEqual(
    ['customers', 'orders', 'orders_enriched'].flatMap(t => [
      `${t} properties.sasl.client.callback.handler.class`, `${t} properties.sasl.jaas.config`, `${t} properties.sasl.mechanism`, `${t} properties.security.protocol`,
    ]).sort());
});

test('every corpus program the synth check accepts is planned by Flink 2.2', () => {
  const refused = Object.keys(FLINK_DOCS_CORPUS).map(n => results.get(`corpus: ${n}`)!).filter(r => !r.ok);
  expect(refused).toEqual([]);
});

test('every mistake the synth check refuses is refused by Flink 2.2, for the mistake (not for a missing JAR or option)', () => {
  const accepted = Object.entries(FLINK_SQL_MISTAKES).map(([n, m]) => ({ m, r: results.get(`mistake: ${n}`)! }))
    .filter(({ m, r }) => r.ok || (m.flink ? !m.flink.test(r.error ?? '') : NOT_THE_MISTAKE.test(r.error ?? ''))).map(({ r }) => r);
  expect(accepted).toEqual([]);
  // And the synth check does refuse each one (the unit tests pin where and why).
  const known = { knownTables: exampleOrderEnrichmentTables().map(t => knownTableOf(t.ddl)) };
  for (const m of Object.values(FLINK_SQL_MISTAKES)) expect(analyzeFlinkSql(m.sql, m.tables === 'example' ? known : {}).problems).not.toEqual([]);
});

test('Flink names the same culprit as the synth check for the example\'s misspelt columns', () => {
  expect(results.get('mistake: example: misspelt qualified column c.nmae')!.error).toMatch(/Column 'nmae' not found in table 'c'/);
  expect(results.get('mistake: example: misspelt qualified column o.totl')!.error).toMatch(/Column 'totl' not found in table 'o'/);
  expect(results.get('mistake: example: misspelt unqualified column in WHERE')!.error).toMatch(/Column 'statuss' not found in any table/);
  expect(results.get('mistake: example: 5-column INSERT into the 6-column sink')!.error).toMatch(/Different number of columns|do not match/);
});
