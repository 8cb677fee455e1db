// OpenSearch for the engine harness: one node from the Maven Central jars (server, netty4, analysis-common, mapper-extras, painless, k-NN)
// on 127.0.0.1 over plain HTTP, security plugin absent, data in a temp dir; started by a small Java launcher that subclasses Node.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Client } from '@opensearch-project/opensearch';
import { freePort } from '../embedded-postgres';
import { createSearchClient } from '../../../lambda/shared/search-client';
import { JvmProcess, logContains, startJvm, waitUntil } from './jvm';
import { classpathOf, ENGINE_CACHE_DIR, engineAsset, EngineUnavailableError, resolveDependencies } from './maven';

/**
 * The OpenSearch version the harness runs. AgentSearch deploys OpenSearch 3.7 by default (`OPENSEARCH_3_7`), but Maven
 * Central has no 3.7.0 modules (`transport-netty4-client`, `analysis-common`, `mapper-extras-client`, `lang-painless`
 * are published for 3.6.0 and 3.8.0, not 3.7.0) and no k-NN plugin for 3.6 or 3.8. 3.5.0 is the newest version that
 * OpenSearch Service offers (`OPENSEARCH_3_5`) with every module and the k-NN plugin (3.5.0.0) on Maven Central.
 */
export const OPENSEARCH_VERSION = '3.5.0';
/** The k-NN plugin build for OPENSEARCH_VERSION (k-NN is released per OpenSearch version). */
export const KNN_VERSION = '3.5.0.0';
/** OpenSearch 3.x is compiled for Java 21. */
const MIN_JAVA = 21;
/** A JDK this machine may have beside the default Java 17. */
const KNOWN_JDKS = ['/usr/lib/jvm/temurin-25-jdk-amd64', '/usr/lib/jvm/temurin-21-jdk-amd64', '/usr/lib/jvm/java-21-openjdk-amd64'];

/** The distribution's modules the views need, loaded as classpath plugins (what `modules/` holds in the tarball). */
export const OPENSEARCH_MODULES = [
  'org.opensearch.transport.Netty4ModulePlugin',
  'org.opensearch.analysis.common.CommonAnalysisModulePlugin',
  'org.opensearch.index.mapper.MapperExtrasModulePlugin',
  'org.opensearch.painless.PainlessModulePlugin',
];
export const KNN_PLUGIN = 'org.opensearch.knn.plugin.KNNPlugin';

const LAUNCHER_SOURCES = [
  engineAsset('java', 'OpenSearchNode.java'),
  engineAsset('java', 'org', 'opensearch', 'transport', 'grpc', 'spi', 'QueryBuilderProtoConverter.java'),
  engineAsset('java', 'org', 'opensearch', 'transport', 'grpc', 'spi', 'QueryBuilderProtoConverterRegistry.java'),
];

function javaMajor(java: string): number | undefined {
  const out = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0) return undefined;
  const match = /version "(\d+)/.exec(out.stderr);
  return match ? Number(match[1]) : undefined;
}

/**
 * A JDK home with Java 21 or later: `OPENSEARCH_JAVA_HOME`, else `JAVA_HOME` when it is new enough, else a known JDK
 * path on this machine. Throws EngineUnavailableError naming the fix.
 */
export function openSearchJavaHome(env: NodeJS.ProcessEnv = process.env, candidates: readonly string[] = KNOWN_JDKS): string {
  const explicit = env.OPENSEARCH_JAVA_HOME;
  if (explicit) {
    const major = javaMajor(path.join(explicit, 'bin', 'java'));
    if (major === undefined || major < MIN_JAVA) {
      throw new EngineUnavailableError(`OPENSEARCH_JAVA_HOME=${explicit} is ${major === undefined ? 'not a working JDK' : `Java ${major}`}; `
        + `OpenSearch ${OPENSEARCH_VERSION} needs Java ${MIN_JAVA} or later.`);
    }
    return explicit;
  }
  const tried: string[] = [];
  for (const home of [env.JAVA_HOME, ...candidates].filter((h): h is string => !!h)) {
    const major = javaMajor(path.join(home, 'bin', 'java'));
    tried.push(`${home} (${major === undefined ? 'absent' : `Java ${major}`})`);
    if (major !== undefined && major >= MIN_JAVA) return home;
  }
  throw new EngineUnavailableError(`OpenSearch ${OPENSEARCH_VERSION} needs Java ${MIN_JAVA} or later and none was found (tried ${tried.join(', ')}). `
    + 'Install one (apt-get install openjdk-21-jdk-headless, or a Temurin 21/25 JDK) and set OPENSEARCH_JAVA_HOME to it.');
}

export interface OpenSearchDistribution {
  /** The jars of the server and its modules. */
  readonly classpathDir: string;
  /** The unpacked k-NN plugin zip. */
  readonly knnDir: string;
  /** The compiled launcher (OpenSearchNode and the transport-grpc SPI names). */
  readonly launcherDir: string;
  readonly javaHome: string;
  /** Bytes downloaded from Maven Central for it (the jars and the k-NN zip as Maven stored them). */
  readonly downloadBytes: number;
}

/** Resolves the jars (cached), unpacks the k-NN zip and compiles the launcher once per source version. */
export function openSearchDistribution(): OpenSearchDistribution {
  const javaHome = openSearchJavaHome();
  const classpathDir = resolveDependencies({ pom: 'opensearch.pom.xml', properties: { 'opensearch.version': OPENSEARCH_VERSION, 'knn.version': KNN_VERSION } });
  const zipName = `opensearch-knn-${KNN_VERSION}.zip`;
  const zip = path.join(classpathDir, zipName);
  if (!fs.existsSync(zip)) throw new EngineUnavailableError(`${zipName} is missing from ${classpathDir}; delete that directory to resolve again`);
  const knnDir = path.join(classpathDir, 'knn');
  if (!fs.existsSync(path.join(knnDir, '.complete'))) {
    fs.rmSync(knnDir, { recursive: true, force: true });
    fs.mkdirSync(knnDir);
    const out = spawnSync(path.join(javaHome, 'bin', 'jar'), ['xf', zip], { cwd: knnDir, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`could not unpack ${zip}: ${out.stderr}`);
    fs.writeFileSync(path.join(knnDir, '.complete'), new Date().toISOString());
  }
  const hash = createHash('sha256');
  for (const f of LAUNCHER_SOURCES) hash.update(fs.readFileSync(f));
  hash.update(classpathDir).update(javaHome);
  const launcherDir = path.join(ENGINE_CACHE_DIR, 'launchers', `opensearch-${hash.digest('hex').slice(0, 16)}`);
  if (!fs.existsSync(path.join(launcherDir, '.complete'))) {
    fs.rmSync(launcherDir, { recursive: true, force: true });
    const out = spawnSync(path.join(javaHome, 'bin', 'javac'), ['-d', launcherDir, '-cp', classpathOf(classpathDir), ...LAUNCHER_SOURCES], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`could not compile the OpenSearch launcher with ${javaHome}/bin/javac:\n${out.stdout}${out.stderr}`);
    fs.writeFileSync(path.join(launcherDir, '.complete'), new Date().toISOString());
  }
  const downloadBytes = fs.readdirSync(classpathDir).filter(f => f.endsWith('.jar') || f.endsWith('.zip'))
    .reduce((n, f) => n + fs.statSync(path.join(classpathDir, f)).size, 0);
  return { classpathDir, knnDir, launcherDir, javaHome, downloadBytes };
}

export interface LocalOpenSearch {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly version: string;
  readonly workDir: string;
  /** Milliseconds from spawn to the cluster answering `green` health (resolving and compiling excluded). */
  readonly startupMs: number;
  readonly downloadBytes: number;
  readonly jvm: JvmProcess;
  /** SIGTERM; resolves when the node has closed, and throws when it did not close cleanly. */
  stop(): Promise<void>;
}

export interface OpenSearchOptions {
  /** @default 512 */
  readonly heapMb?: number;
  /** @default true */
  readonly knn?: boolean;
  /** @default 90_000 */
  readonly startTimeoutMs?: number;
}

/** Starts one OpenSearch node (single-node discovery, plain HTTP on 127.0.0.1, no security plugin). */
export async function startOpenSearch(options: OpenSearchOptions = {}): Promise<LocalOpenSearch> {
  const dist = openSearchDistribution();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-opensearch-'));
  const httpPort = await freePort();
  const transportPort = await freePort();
  const knn = options.knn ?? true;
  const heapMb = options.heapMb ?? 512;
  const started = Date.now();
  const jvm = startJvm({
    name: 'opensearch',
    java: path.join(dist.javaHome, 'bin', 'java'),
    classpath: [dist.launcherDir, path.join(dist.classpathDir, '*'), ...(knn ? [path.join(dist.knnDir, '*')] : [])].join(path.delimiter),
    mainClass: 'OpenSearchNode',
    args: [workDir, String(httpPort), String(transportPort), ...OPENSEARCH_MODULES, ...(knn ? [KNN_PLUGIN] : [])],
    heapMb,
    cwd: workDir,
    logFile: path.join(workDir, 'opensearch.log'),
    jvmOptions: [`-Xms${heapMb}m`, '--enable-native-access=ALL-UNNAMED', '-Dlog4j2.disable.jmx=true', '-Dio.netty.allocator.type=unpooled'],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    await jvm.stop(30_000);
    const clean = logContains(jvm, 'OPENSEARCH_NODE_STOPPED');
    if (!clean) throw new Error(`opensearch exited without closing the node. Last log lines (${jvm.logFile}):\n${jvm.logTail(20)}`);
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await waitUntil(jvm, 'the node started', () => logContains(jvm, 'OPENSEARCH_NODE_STARTED'), options.startTimeoutMs ?? 90_000);
    await waitUntil(jvm, 'cluster health green', async () => {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=green&timeout=5s`);
      return res.ok && ((await res.json()) as { status?: string }).status === 'green';
    }, 30_000);
  } catch (e) {
    await jvm.stop().catch(() => undefined);
    throw e;
  }
  const version = ((await (await fetch(url)).json()) as { version: { number: string } }).version.number;
  return { url, version, workDir, startupMs: Date.now() - started, downloadBytes: dist.downloadBytes, jvm, stop };
}

/** A `Custom::AgentSearchIndex` as the template declares it (`ServiceToken` left out, `Endpoint` unresolved). */
export interface DeployedSearchIndex {
  readonly logicalId: string;
  readonly properties: { Endpoint: unknown; Alias: string; Index: string; Mappings: string; StaticSettings: string; DynamicSettings: string; RemoveOnDelete?: string };
}

/** The view indexes a synthesized stack asks the index handler to create. */
export function deployedSearchIndexes(template: { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> }): DeployedSearchIndex[] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === 'Custom::AgentSearchIndex').map(([logicalId, r]) => {
    const { ServiceToken: _token, ...properties } = r.Properties ?? {};
    return { logicalId, properties: properties as DeployedSearchIndex['properties'] };
  });
}

/**
 * The one local mapping rule for search indexes: a `knn_vector` on the `faiss` engine becomes the `lucene` engine (same method,
 * space type and parameters). The k-NN plugin on Maven Central carries no native libraries, so faiss cannot build a graph here:
 * indexing a vector fails with `UnsatisfiedLinkError: no opensearchknn_faiss_avx512_spr in java.library.path` and closes the shard.
 */
export function withLuceneVectors(mappingsJson: string): { mappings: string; changed: string[] } {
  const mappings = JSON.parse(mappingsJson) as { properties: Record<string, { type?: string; method?: { engine?: string } }> };
  const changed: string[] = [];
  for (const [name, field] of Object.entries(mappings.properties)) {
    if (field.type === 'knn_vector' && field.method?.engine === 'faiss') {
      field.method.engine = 'lucene';
      changed.push(name);
    }
  }
  return { mappings: JSON.stringify(mappings), changed };
}

/**
 * The Lambdas' own client (`createSearchClient`, SigV4-signed) pointed at the local node over plain HTTP, as the unit tests point
 * it at the stand-in. Without the security plugin the node accepts every request and ignores the signature; on AWS the domain
 * checks it (IAM, then fine-grained access control).
 */
export function localSearchClient(url: string, requestTimeoutMs = 30_000): Client {
  return createSearchClient({ endpoint: url, region: 'us-east-1', requestTimeoutMs, credentials: async () => ({ accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }) });
}
