// Fills the engine tests' download caches (the PyFlink and warehouse virtualenvs, the Kafka, OpenSearch and Flink jars) with the
// same functions the tests call, so that `.ci/run` can fetch them while the unit tests run instead of before each engine test.
// On a fresh machine these downloads were about a third of the engine phase (pip alone about 1.7 GB). Everything is pinned and
// cached exactly as the tests cache it (~/.cache/cdk-agent-data-stack, ~/.m2): a later call finds it complete and returns at once.
// One download at a time, so that it takes one core at most from the unit tests. A failure is reported and the script goes on:
// the engine test that needs the item tries again and fails there, loudly, with the same message.
// Usage: node -r ./scripts/ts-register.js scripts/prefetch-engines.ts
import * as path from 'path';
import { pyflinkPython } from '../cli/dev/engines/flink';
import { kafkaClasspathDir } from '../cli/dev/engines/kafka';
import { openSearchDistribution } from '../cli/dev/engines/opensearch';
import { warehousePython } from '../cli/dev/engines/warehouse/engine';
import { pyflink120Python, sqliteJdbcJar } from '../cli/dev/engines/warehouse/writer';
import { FlinkRuntime } from '../constructs/processing/flink-runtime';
import { mavenResolve } from '../test/engines/flink/engine';

const flinkPoms = path.join(__dirname, '..', 'test', 'engines', 'flink');

/** What the engine tests download, in the order the engine tests first need it. */
export const PREFETCH_ITEMS: ReadonlyArray<{ readonly name: string; readonly run: () => unknown }> = [
  { name: 'Kafka and Kafka Connect jars', run: kafkaClasspathDir },
  { name: 'OpenSearch and k-NN', run: openSearchDistribution },
  { name: 'PyFlink 2.2 virtualenv', run: pyflinkPython },
  { name: 'Flink Kafka connector jars (2.2 and 1.20)', run: () => [
    mavenResolve(path.join(flinkPoms, 'pom.xml')),
    mavenResolve(path.join(flinkPoms, 'pom.xml'), { 'kafka.connector.version': FlinkRuntime.FLINK_1_20.kafkaConnectorVersion }),
    mavenResolve(path.join(flinkPoms, 'pom-old-pair.xml')),
    mavenResolve(path.join(flinkPoms, 'pom-jdbc.xml')),
  ] },
  { name: 'warehouse virtualenv (PyIceberg, DuckDB)', run: warehousePython },
  { name: 'PyFlink 1.20 virtualenv (warehouse writer)', run: pyflink120Python },
  { name: 'SQLite JDBC driver', run: sqliteJdbcJar },
];

/** Runs every item once, one at a time; returns the names of the items that failed. */
export async function prefetch(items = PREFETCH_ITEMS, log: (line: string) => void = console.log): Promise<string[]> {
  const failed: string[] = [];
  for (const item of items) {
    const start = Date.now();
    try {
      await item.run();
      log(`prefetch: ${item.name}: ready in ${((Date.now() - start) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed.push(item.name);
      log(`prefetch: ${item.name}: FAILED after ${((Date.now() - start) / 1000).toFixed(1)} s (the engine tests will try again): ${(e as Error).message}`);
    }
  }
  return failed;
}

if (require.main === module) {
  void prefetch().then(failed => { process.exitCode = failed.length ? 1 : 0; });
}
