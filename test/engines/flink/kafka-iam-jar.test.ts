// On the real Flink 2.2 engine (PyFlink): the package FlinkSqlApplication deploys, built by the deploy-time builder's own
// code from the pinned JARs, runs its Kafka tables with MSK IAM settings; the JAR pair it shipped before cannot.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { extractZip } from '../../../lambda/artifact-builder/build';
import { AgentNetwork } from '../../../constructs/common/agent-network';
import {
  EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables, FLINK_DEPENDENCIES_JAR, FlinkJar, FlinkRuntime, FlinkSqlApplication,
} from '../../../constructs/processing';
import { testApp, testStack } from '../../helpers/app';
import { StandInCluster } from '../../processing/support';
import {
  closedPort, ENGINE_DIR, mavenResolve, pyflinkPython, requireTool, ResolvedArtifact, rootCause, runApplication, setBootstrapServers,
  unpackApplication,
} from './engine';

const TABLE_FACTORY_SERVICE = 'META-INF/services/org.apache.flink.table.factories.Factory';
/** Errors that mean the JARs do not fit together; none may appear in a run of the merged JAR. */
const LINKAGE_ERROR = /(ClassCastException|NoClassDefFoundError|ClassNotFoundException|NoSuchMethodError|LoginException)[^\n]*(kafka|amazon|msk)/i;
const RUN_TIMEOUT_MS = 5 * 60_000;

let python: string;
let bundle22: ResolvedArtifact[];

function pinOf(a: ResolvedArtifact): string {
  return `${a.groupId}:${a.artifactId}:${a.version} ${createHash('sha256').update(fs.readFileSync(a.file)).digest('hex')}`;
}

/** The example job as a user deploys it, one task slot. */
function exampleApplication(dependencies?: FlinkJar[]): Template {
  const stack = testStack(testApp());
  const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
  new FlinkSqlApplication(stack, 'Orders', {
    cluster,
    applicationName: 'orders-enrichment',
    tables: exampleOrderEnrichmentTables(),
    sql: `SET 'parallelism.default' = '1';\n${EXAMPLE_ORDER_ENRICHMENT_SQL}`,
    ...(dependencies ? { dependencies } : {}),
  });
  return Template.fromStack(stack);
}

/** The default package (merging ~33 MB of JARs takes a while on 2 cores), built once and shared. */
let defaultPackage: Promise<string> | undefined;
function defaultApplicationDir(): Promise<string> {
  defaultPackage ??= unpackApplication(exampleApplication(), '127.0.0.1:1');
  return defaultPackage;
}

async function runExample(dependencies?: FlinkJar[]) {
  const port = await closedPort();
  const dir = dependencies ? await unpackApplication(exampleApplication(dependencies), `127.0.0.1:${port}`) : await defaultApplicationDir();
  setBootstrapServers(dir, `127.0.0.1:${port}`);
  try {
    const run = await runApplication(python, dir, RUN_TIMEOUT_MS);
    const text = `${run.output}\n${run.flinkLog}`;
    // Printed so a failing run can be diagnosed from the test output alone.
    console.log(`flink run (${run.seconds} s, exit ${run.exitCode}${run.timedOut ? ', timed out' : ''}): root cause: ${rootCause(run.output)}`);
    return { ...run, port, text, files: fs.readdirSync(path.join(dir, 'lib')) };
  } finally {
    if (dependencies) fs.rmSync(dir, { recursive: true, force: true });
  }
}

afterAll(async () => {
  if (defaultPackage) fs.rmSync(await defaultPackage, { recursive: true, force: true });
});

beforeAll(() => {
  requireTool('java', ['-version'], 'a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  requireTool('mvn', ['-v'], 'Apache Maven, e.g. apt-get install maven');
  python = pyflinkPython();
  bundle22 = mavenResolve(path.join(ENGINE_DIR, 'pom.xml'));
  // The old pair's shaded SQL connector, for the failing-before runs.
  mavenResolve(path.join(ENGINE_DIR, 'pom-old-pair.xml'));
}, 30 * 60_000);

describe('the pinned Kafka/MSK IAM bundle', () => {
  test('FLINK_2_2 and FLINK_1_20 pin exactly the runtime closure Maven resolves for pom.xml, with the same SHA-256', () => {
    expect([...FlinkRuntime.FLINK_2_2.kafkaIamBundle!].sort()).toEqual(bundle22.map(pinOf).sort());
    expect(FlinkRuntime.FLINK_2_2.kafkaIamBundle![0]).toMatch(/^org\.apache\.flink:flink-connector-kafka:4\.0\.0-2\.0 /);
    const bundle120 = mavenResolve(path.join(ENGINE_DIR, 'pom.xml'), { 'kafka.connector.version': FlinkRuntime.FLINK_1_20.kafkaConnectorVersion });
    expect([...FlinkRuntime.FLINK_1_20.kafkaIamBundle!].sort()).toEqual(bundle120.map(pinOf).sort());
    // One Kafka: kafka-clients unrelocated, no shaded SQL connector.
    expect(bundle22.map(a => a.artifactId)).toEqual(expect.arrayContaining(['flink-connector-kafka', 'kafka-clients', 'aws-msk-iam-auth', 'sts', 'auth']));
    expect(bundle22.map(a => a.artifactId)).not.toContain('flink-sql-connector-kafka');
  });

  test('the merged JAR is the only JAR of the package and provides the kafka and upsert-kafka table factories PyFlink lacks', async () => {
    const dir = await defaultApplicationDir();
    {
      expect(fs.readdirSync(path.join(dir, 'lib'))).toEqual([FLINK_DEPENDENCIES_JAR]);
      const props = JSON.parse(fs.readFileSync(path.join(dir, 'application_properties.json'), 'utf8'));
      expect(props.find((g: any) => g.PropertyGroupId === 'kinesis.analytics.flink.run.options').PropertyMap.jarfile).toBe(`lib/${FLINK_DEPENDENCIES_JAR}`);
      expect(props.find((g: any) => g.PropertyGroupId === 'sql.runner').PropertyMap.jars).toBeUndefined();
      const jar = extractZip(fs.readFileSync(path.join(dir, 'lib', FLINK_DEPENDENCIES_JAR)));
      expect(jar.get(TABLE_FACTORY_SERVICE)!.toString('utf8').split('\n')).toEqual(expect.arrayContaining([
        'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory',
        'org.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory',
      ]));
      expect(jar.has('org/apache/kafka/common/security/auth/AuthenticateCallbackHandler.class')).toBe(true);
      expect(jar.has('software/amazon/msk/auth/iam/IAMClientCallbackHandler.class')).toBe(true);
      expect(jar.has('software/amazon/awssdk/services/sts/StsClient.class')).toBe(true);
      expect([...jar.keys()].filter(n => n.startsWith('org/apache/flink/kafka/shaded/'))).toEqual([]);
      expect([...jar.keys()].filter(n => /^META-INF\/[^/]+\.(SF|RSA|DSA)$/.test(n))).toEqual([]);
      // PyFlink's own JARs have no Kafka factory, so the SQL's 'connector' = 'kafka' can only come from this JAR.
      const script = [
        'import glob, os, sys, zipfile, pyflink',
        'lib = os.path.join(os.path.dirname(pyflink.__file__), "lib")',
        'for jar in sorted(glob.glob(os.path.join(lib, "*.jar"))):',
        '    z = zipfile.ZipFile(jar)',
        `    text = z.read("${TABLE_FACTORY_SERVICE}").decode() if "${TABLE_FACTORY_SERVICE}" in z.namelist() else ""`,
        '    print(os.path.basename(jar), "KafkaDynamicTableFactory" in text)',
      ].join('\n');
      const jars = spawnSync(python, ['-c', script], { encoding: 'utf8' });
      expect(jars.status).toBe(0);
      const lines = jars.stdout.trim().split('\n');
      expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^flink-dist-2\.2\.0\.jar False$/)]));
      expect(lines.filter(l => !l.endsWith(' False'))).toEqual([]);
    }
  });
});

describe('the example job on the Flink 2.2 engine, pointed at a closed loopback port', () => {
  test('with the merged JAR its IAM Kafka clients start and the job fails only for want of a broker', async () => {
    const run = await runExample();
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).not.toBe(0);
    expect(run.text).not.toMatch(LINKAGE_ERROR);
    expect(run.text).not.toMatch(/Could not find any factory for identifier/);
    // The source enumerators' admin clients and the sink's producer were configured with SASL_SSL/AWS_MSK_IAM and tried the broker.
    const refused = new RegExp(`\\[(AdminClient|Producer) clientId=[^\\]]+\\] Connection to node -1 \\([^)]*127\\.0\\.0\\.1:${run.port}\\) could not be established`, 'g');
    const clients = new Set([...run.flinkLog.matchAll(refused)].map(m => m[1]));
    expect([...clients].sort()).toEqual(['AdminClient', 'Producer']);
    expect(rootCause(run.output)).toMatch(/^org\.apache\.kafka\.common\.errors\.TimeoutException: Timed out waiting for a node assignment/);
  });

  test('the JAR pair the package shipped before (shaded SQL connector + thin aws-msk-iam-auth) cannot load the IAM callback handler', async () => {
    const run = await runExample([
      FlinkJar.fromMavenCentral('org.apache.flink', 'flink-sql-connector-kafka', '4.0.1-2.0'),
      FlinkJar.fromMavenCentral('software.amazon.msk', 'aws-msk-iam-auth', '2.2.0'),
    ]);
    expect(run.files.sort()).toEqual(['aws-msk-iam-auth-2.2.0.jar', 'flink-sql-connector-kafka-4.0.1-2.0.jar']);
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).not.toBe(0);
    expect(rootCause(run.output)).toMatch(/^java\.lang\.ClassNotFoundException: org\.apache\.kafka\.common\.security\.auth\.AuthenticateCallbackHandler/);
    expect(run.output).toMatch(/NoClassDefFoundError: org\/apache\/kafka\/common\/security\/auth\/AuthenticateCallbackHandler/);
  });

  test('the same pair with everything the thin JAR lacks fails with the ClassCastException of aws-msk-iam-auth#129/#190', async () => {
    const extras = FlinkRuntime.FLINK_2_2.kafkaIamBundle!.filter(p => !p.startsWith('org.apache.flink:flink-connector-kafka:')).map(pin => {
      const [coordinates, sha256] = pin.split(' ');
      const [g, a, v] = coordinates.split(':');
      return FlinkJar.fromMavenCentral(g, a, v, { sha256 });
    });
    const run = await runExample([FlinkJar.fromMavenCentral('org.apache.flink', 'flink-sql-connector-kafka', '4.0.1-2.0'), ...extras]);
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).not.toBe(0);
    expect(rootCause(run.output)).toMatch(
      /^java\.lang\.ClassCastException: class software\.amazon\.msk\.auth\.iam\.IAMClientCallbackHandler cannot be cast to class org\.apache\.flink\.kafka\.shaded\.org\.apache\.kafka\.common\.security\.auth\.AuthenticateCallbackHandler/,
    );
  });
});
