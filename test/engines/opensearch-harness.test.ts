// The OpenSearch engine from Maven Central: starts with a 512 MB heap, has the modules and k-NN loaded, stops cleanly; a missing
// Java 21+ is named with the fix. Figures (version, start time, download size) are printed: how fast it starts is the machine's
// business (a cold, loaded 2-core CI machine is slower), bounded only by startOpenSearch's own start timeout.
import { EngineUnavailableError, openSearchJavaHome, startOpenSearch, LocalOpenSearch, OPENSEARCH_VERSION } from './harness';

let engine: LocalOpenSearch | undefined;

afterAll(async () => {
  await engine?.stop();
});

test('a Java older than 21 (or none) is refused with the fix named', () => {
  expect(() => openSearchJavaHome({ OPENSEARCH_JAVA_HOME: '/usr/lib/jvm/java-17-openjdk-amd64' }))
    .toThrow(/OPENSEARCH_JAVA_HOME=.* is Java 17; OpenSearch 3\.5\.0 needs Java 21 or later/);
  expect(() => openSearchJavaHome({ JAVA_HOME: '/usr/lib/jvm/java-17-openjdk-amd64' }, ['/nonexistent-jdk']))
    .toThrow(EngineUnavailableError);
  expect(() => openSearchJavaHome({}, ['/nonexistent-jdk']))
    .toThrow(/needs Java 21 or later and none was found \(tried \/nonexistent-jdk \(absent\)\)\. Install one .*OPENSEARCH_JAVA_HOME/);
});

test('one node starts from the Maven Central jars, serves plain HTTP with the modules and k-NN, and stops cleanly', async () => {
  engine = await startOpenSearch();
  console.log(`OpenSearch ${engine.version} started in ${engine.startupMs} ms; ${(engine.downloadBytes / 1024 / 1024).toFixed(1)} MiB from Maven Central; data in ${engine.workDir}`);
  expect(engine.version).toBe(OPENSEARCH_VERSION);
  const plugins = await (await fetch(`${engine.url}/_cat/plugins?h=component&format=json`)).json() as Array<{ component: string }>;
  expect(plugins.map(p => p.component).sort()).toEqual([
    'org.opensearch.analysis.common.CommonAnalysisModulePlugin', 'org.opensearch.index.mapper.MapperExtrasModulePlugin',
    'org.opensearch.knn.plugin.KNNPlugin', 'org.opensearch.painless.PainlessModulePlugin', 'org.opensearch.transport.Netty4ModulePlugin',
  ]);
  // No security plugin: the FGAC API the access handler calls on AWS does not exist here.
  const security = await fetch(`${engine.url}/_plugins/_security/api/roles/x`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
  expect(security.status).toBe(400);
  const heap = await (await fetch(`${engine.url}/_nodes/stats/jvm?filter_path=nodes.*.jvm.mem.heap_max_in_bytes`)).json() as { nodes: Record<string, { jvm: { mem: { heap_max_in_bytes: number } } }> };
  expect(Object.values(heap.nodes)[0].jvm.mem.heap_max_in_bytes).toBeLessThanOrEqual(512 * 1024 * 1024);

  const dataDir = engine.workDir;
  const stopped = Date.now();
  await engine.stop();
  console.log(`OpenSearch stopped in ${Date.now() - stopped} ms`);
  engine = undefined;
  expect(require('fs').existsSync(dataDir)).toBe(false);
});
