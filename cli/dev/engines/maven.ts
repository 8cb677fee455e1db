// JVM dependencies of the engine harness: Java and Maven checks, and classpaths resolved from Maven Central by pinned version into a cache.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Everything downloaded for the engines lives here (never in the repository). */
export const ENGINE_CACHE_DIR = process.env.CDK_AGENT_ENGINE_CACHE ?? path.join(os.homedir(), '.cache', 'cdk-agent-data-stack', 'engines');
/** Maven's local repository for the harness (keeps `.sha1` files next to each artifact). */
export const MAVEN_REPOSITORY = path.join(ENGINE_CACHE_DIR, 'm2-repository');
/**
 * A file shipped beside the engines' code (poms, Java launchers, requirements): next to this module when run from source, or in
 * the package's cli/dev/engines folder when run compiled from dist/cli/dev/engines.
 */
export function engineAsset(...parts: string[]): string {
  const candidates = [path.join(__dirname, ...parts), path.join(__dirname, '..', '..', '..', '..', 'cli', 'dev', 'engines', ...parts)];
  return candidates.find(p => fs.existsSync(p)) ?? candidates[0];
}

/** Small poms and a settings.xml that mirrors every repository to Maven Central. */
export const MAVEN_DIR = engineAsset('maven');

/** A tool the harness needs is missing or unusable: the message says what to install. */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

let javaChecked: string | undefined;

/** The `java` command (JAVA_HOME's if set), checked to be Java 17 or later (Kafka Connect 3.7.x on MSK runs Java 17; Debezium 3.x needs 17). */
export function javaCommand(): string {
  javaChecked ??= checkJava(process.env.JAVA_HOME);
  return javaChecked;
}

/** Checks the `java` of a JDK home (or the one on PATH) and returns its path; throws EngineUnavailableError naming the fix. */
export function checkJava(javaHome: string | undefined): string {
  const java = javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
  const out = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new EngineUnavailableError(`Java is not available ('${java} -version' failed: ${out.error?.message ?? out.stderr}). `
      + 'The engine tests need a Java 17 JDK: apt-get install openjdk-17-jdk-headless (or set JAVA_HOME).');
  }
  const match = /version "(\d+)/.exec(out.stderr);
  const major = match ? Number(match[1]) : 0;
  if (major < 17) {
    throw new EngineUnavailableError(`'${java}' is Java ${major || 'unknown'}; Kafka Connect as MSK Connect runs it and Debezium 3.x need Java 17 or later (set JAVA_HOME).`);
  }
  return java;
}

function mavenCommand(): string {
  const out = spawnSync('mvn', ['-v'], { encoding: 'utf8', env: process.env });
  if (out.error || out.status !== 0) {
    throw new EngineUnavailableError(`Maven is not available ('mvn -v' failed: ${out.error?.message ?? out.stderr}). `
      + 'The engine tests download Kafka and Debezium from Maven Central with it: apt-get install maven.');
  }
  return 'mvn';
}

export interface ResolveOptions {
  /** The pom file name in `maven/`. */
  readonly pom: string;
  /** `-D` properties passed to Maven (versions pinned by the constructs). */
  readonly properties?: Record<string, string>;
  /** Maven `includeScope`. @default 'runtime' */
  readonly includeScope?: string;
}

/**
 * Copies a pom's dependencies into a cache directory named after the pom's content and properties, and returns it.
 * A directory already complete is reused without running Maven.
 */
export function resolveDependencies(options: ResolveOptions): string {
  const pomPath = path.join(MAVEN_DIR, options.pom);
  const props = options.properties ?? {};
  const key = createHash('sha256')
    .update(fs.readFileSync(pomPath)).update(fs.readFileSync(path.join(MAVEN_DIR, 'settings.xml')))
    .update(JSON.stringify(props)).update(options.includeScope ?? 'runtime')
    .digest('hex').slice(0, 16);
  const dir = path.join(ENGINE_CACHE_DIR, 'classpaths', `${path.basename(options.pom, '.pom.xml')}-${key}`);
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  const args = [
    '-q', '-B', '-C', '-s', path.join(MAVEN_DIR, 'settings.xml'), '-f', pomPath, `-Dmaven.repo.local=${MAVEN_REPOSITORY}`,
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
    'dependency:copy-dependencies', `-DincludeScope=${options.includeScope ?? 'runtime'}`, `-DoutputDirectory=${dir}`,
  ];
  const out = spawnSync(mavenCommand(), args, { encoding: 'utf8', cwd: os.tmpdir(), timeout: 600_000 });
  if (out.status !== 0) {
    const log = `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new EngineUnavailableError(`Maven could not resolve ${options.pom} (${JSON.stringify(props)}) from Maven Central `
      + `(https://repo1.maven.org/maven2, the only repository settings.xml allows). Is the registry reachable and the version published?\n${log}`);
  }
  fs.writeFileSync(marker, new Date().toISOString());
  return dir;
}

/** Path of an artifact in the harness's local Maven repository (after a resolve brought it there). */
export function repositoryPath(groupId: string, artifactId: string, version: string, fileName: string): string {
  return path.join(MAVEN_REPOSITORY, ...groupId.split('.'), artifactId, version, fileName);
}

/** Total size in bytes of the files under a directory (for the download figures the tests report). */
export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? directorySize(p) : fs.statSync(p).size;
  }
  return total;
}

/** The JVM's classpath argument for a directory of jars. */
export function classpathOf(...dirs: string[]): string {
  return dirs.map(d => path.join(d, '*')).join(path.delimiter);
}
