// The Flink engine for tests: PyFlink (pinned) in a cached virtualenv, JARs resolved by Maven into ~/.m2, and a
// FlinkSqlApplication's own package (built with the deploy-time builder's code) run by its own runner on a local mini-cluster.
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { analyzeFlinkSql, sqlString } from '../../../constructs/processing/flink-sql';
import { ArtifactSourceSpec, assembleArtifact, extractZip, HttpGet, InlineFileSpec } from '../../../lambda/artifact-builder/build';
import { mapForLocal, type MappingNote } from '../harness/template';

export const ENGINE_DIR = __dirname;
export const CACHE_DIR = path.join(os.homedir(), '.cache', 'cdk-agent-data-stack');
export const M2_REPOSITORY = path.join(os.homedir(), '.m2', 'repository');
const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2/';

/** Runs a command to prove a tool is there; throws (never skips) with what to install when it is not. */
export function requireTool(command: string, args: string[], install: string): string {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new Error(`The Flink engine test needs '${command}' (${install}); running '${command} ${args.join(' ')}' failed: ${out.error?.message ?? out.stderr}`);
  }
  return `${out.stdout}${out.stderr}`.trim();
}

/** A Python 3.12 (what Managed Service for Apache Flink 2.2 runs) or, failing that, another version PyFlink 2.2 supports. */
export function findPython(): string {
  const pyenvRoot = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  const pyenv312 = fs.existsSync(path.join(pyenvRoot, 'versions'))
    ? fs.readdirSync(path.join(pyenvRoot, 'versions')).filter(v => /^3\.12\./.test(v)).map(v => path.join(pyenvRoot, 'versions', v, 'bin', 'python3.12'))
    : [];
  const candidates = [process.env.PYFLINK_PYTHON, 'python3.12', ...pyenv312, 'python3'].filter((c): c is string => !!c);
  const found: string[] = [];
  for (const c of candidates) {
    const out = spawnSync(c, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (out.status !== 0) continue;
    const version = out.stdout.trim();
    found.push(`${c} (${version})`);
    if (version === '3.12') return c;
  }
  for (const c of candidates) {
    const out = spawnSync(c, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (out.status === 0 && /^3\.(9|10|11)$/.test(out.stdout.trim())) return c;
  }
  throw new Error(`The Flink engine test needs Python 3.12 (PyFlink 2.2; 3.9-3.11 also work) with venv and pip; found ${found.join(', ') || 'no python'}. Install python3.12 or set PYFLINK_PYTHON.`);
}

/** The virtualenv's python with requirements.txt installed; built once per requirements hash under ~/.cache. */
export function pyflinkPython(): string {
  const requirements = path.join(ENGINE_DIR, 'requirements.txt');
  const python = findPython();
  const version = spawnSync(python, ['-c', 'import sys; print("%d%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();
  const hash = createHash('sha256').update(fs.readFileSync(requirements)).digest('hex').slice(0, 12);
  const venv = path.join(CACHE_DIR, `pyflink-py${version}-${hash}`);
  const venvPython = path.join(venv, 'bin', 'python');
  const done = path.join(venv, '.installed');
  if (fs.existsSync(done)) return venvPython;
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const mk = spawnSync(python, ['-m', 'venv', venv], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`python -m venv ${venv} failed (install the venv module for ${python}): ${mk.stderr}`);
  const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirements], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (pip.status !== 0) throw new Error(`pip install -r ${requirements} failed (PyPI must be reachable): ${pip.stderr || pip.error?.message}`);
  fs.writeFileSync(done, new Date().toISOString());
  return venvPython;
}

export interface ResolvedArtifact {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
  readonly file: string;
}

/** Resolves a pom's runtime dependencies into ~/.m2 with Maven and lists them with their local files. */
export function mavenResolve(pom: string, properties: Record<string, string> = {}): ResolvedArtifact[] {
  const list = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mvn-list-')), 'list.txt');
  const out = spawnSync('mvn', [
    '-q', '-B', '-f', pom, 'dependency:list', '-DincludeScope=runtime', '-DoutputAbsoluteArtifactFilename=true', `-DoutputFile=${list}`,
    ...Object.entries(properties).map(([k, v]) => `-D${k}=${v}`),
  ], { encoding: 'utf8', timeout: 10 * 60_000 });
  if (out.status !== 0) throw new Error(`mvn dependency:list -f ${pom} failed (Maven Central must be reachable): ${out.stdout}${out.stderr}`);
  return fs.readFileSync(list, 'utf8').split('\n').map(l => l.trim()).filter(l => /:jar:/.test(l)).map(l => {
    const [groupId, artifactId, , version, , ...file] = l.split(':');
    return { groupId, artifactId, version, file: file.join(':') };
  });
}

/** An HttpGet for the builder that serves Maven Central URLs (JARs and their `.sha1`) from ~/.m2, as Maven downloaded them. */
export const localMavenGet: HttpGet = async (url) => {
  if (!url.startsWith(MAVEN_CENTRAL)) return { status: 404, body: Buffer.from(`not a Maven Central URL: ${url}`) };
  const file = path.join(M2_REPOSITORY, url.slice(MAVEN_CENTRAL.length));
  return fs.existsSync(file) ? { status: 200, body: fs.readFileSync(file) } : { status: 404, body: Buffer.from(`not in ~/.m2: ${file}`) };
};

/**
 * Builds a FlinkSqlApplication's package from its synthesized template exactly as the deploy-time builder does
 * (same Sources and Files, downloads served from ~/.m2 and verified against the published .sha1 and the pinned
 * SHA-256), unpacks it, and writes the application's runtime properties with the brokers replaced.
 */
export async function unpackApplication(template: Template, bootstrapServers: string): Promise<string> {
  const artifact = Object.values(template.findResources('Custom::DeployTimeArtifact'))
    .find((r: any) => String(r.Properties.ObjectKey).startsWith('flink/')) as any;
  if (!artifact) throw new Error('the template has no Flink package (Custom::DeployTimeArtifact with an ObjectKey under flink/)');
  const zip = await assembleArtifact(localMavenGet, artifact.Properties.Sources as ArtifactSourceSpec[], artifact.Properties.Files as InlineFileSpec[]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-app-'));
  for (const [name, data] of extractZip(zip)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  const application = Object.values(template.findResources('AWS::KinesisAnalyticsV2::Application'))[0] as any;
  fs.writeFileSync(path.join(dir, 'application_properties.json'), JSON.stringify(application.Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups, null, 2));
  setBootstrapServers(dir, bootstrapServers);
  return dir;
}

/** Points an unpacked application's `sql.variables` at other brokers. */
export function setBootstrapServers(dir: string, bootstrapServers: string): void {
  const file = path.join(dir, 'application_properties.json');
  const groups = JSON.parse(fs.readFileSync(file, 'utf8')).map((g: any) => (
    g.PropertyGroupId === 'sql.variables' ? { ...g, PropertyMap: { ...g.PropertyMap, 'kafka.bootstrap.servers': bootstrapServers } } : g
  ));
  fs.writeFileSync(file, JSON.stringify(groups, null, 2));
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>(r => server.close(() => r()));
  return port;
}

export interface JobRun {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The runner's stdout and stderr. */
  readonly output: string;
  /** The mini-cluster's Flink log. */
  readonly flinkLog: string;
  readonly seconds: number;
}

/** Runs the package's job to its end (`startApplication`); the whole process group is killed at the timeout. */
export async function runApplication(python: string, dir: string, timeoutMs: number): Promise<JobRun> {
  const started = Date.now();
  const job = startApplication(python, dir);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void job.stop();
  }, timeoutMs);
  const exitCode = await job.exited;
  clearTimeout(timer);
  // The JVM is in the same process group; make sure nothing of this run is left.
  await job.stop();
  return { exitCode, timedOut, output: job.output(), flinkLog: job.flinkLog(), seconds: Math.round((Date.now() - started) / 1000) };
}

/** The deepest `Caused by:` line of a Java stack trace in the text (the root cause), if any. */
export function rootCause(text: string): string | undefined {
  const causes = text.split('\n').filter(l => l.startsWith('Caused by: '));
  return causes.length > 0 ? causes[causes.length - 1].slice('Caused by: '.length) : undefined;
}

/** The local broker's side of a change to the packaged SQL, like the harness's `MappingNote` for Kafka Connect. */
export interface SqlMappingNote extends MappingNote {
  readonly table: string;
}

/**
 * Maps a packaged Flink program for the local PLAINTEXT broker by the harness's own rule (`mapForLocal`: IAM SASL to
 * PLAINTEXT): per Kafka table, `properties.security.protocol` SASL_SSL becomes PLAINTEXT and the IAM `properties.sasl.*`
 * options are removed, as text edits of the WITH lists. Nothing else in the SQL changes; every edit is returned as a note.
 */
export function mapSqlForLocal(sql: string): { sql: string; notes: SqlMappingNote[] } {
  const notes: SqlMappingNote[] = [];
  let out = sql;
  for (const table of analyzeFlinkSql(sql).tables) {
    for (const note of mapForLocal(table.options).notes) {
      const item = new RegExp(`,\\s*${escapeRegExp(sqlString(note.property))}\\s*=\\s*${escapeRegExp(sqlString(note.from ?? ''))}`);
      if (!item.test(out)) throw new Error(`mapSqlForLocal: option ${note.property} of ${table.name} not found as written`);
      out = out.replace(item, note.to === undefined ? '' : `,\n  ${sqlString(note.property)} = ${sqlString(note.to)}`);
      notes.push({ ...note, table: table.name });
    }
  }
  return { sql: out, notes };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A running local job; `stop()` kills its process group (python and its JVM). */
export interface RunningApplication {
  output(): string;
  flinkLog(): string;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts the package's main.py with the venv's PyFlink as a local job (IS_LOCAL, as AWS's PyFlink samples run
 * locally): small heap, logs in the package folder; returns while the job runs.
 */
export function startApplication(python: string, dir: string): RunningApplication {
  const logDir = path.join(dir, 'log');
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const child = spawn(python, [path.join(dir, 'main.py')], {
    cwd: dir,
    detached: true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
      IS_LOCAL: 'true',
      FLINK_APPLICATION_PROPERTIES: path.join(dir, 'application_properties.json'),
      FLINK_LOG_DIR: logDir,
      JVM_ARGS: '-Xmx512m -XX:+UseSerialGC',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString('utf8'); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString('utf8'); });
  const exited = new Promise<number | null>(r => child.on('close', code => r(code)));
  return {
    output: () => output,
    flinkLog: () => fs.readdirSync(logDir).filter(f => f.endsWith('.log')).map(f => fs.readFileSync(path.join(logDir, f), 'utf8')).join('\n'),
    exited,
    async stop() {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      await exited;
    },
  };
}

export interface ExplainResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly seconds: number;
}

/** Plans programs on the real engine without running them, all in one PyFlink process (explain_programs.py). */
export function explainPrograms(python: string, jars: string[], programs: Array<{ name: string; sql: string }>): { results: ExplainResult[]; seconds: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-explain-'));
  try {
    const input = path.join(dir, 'programs.json');
    fs.writeFileSync(input, JSON.stringify({ jars, programs }));
    const started = Date.now();
    const run = spawnSync(python, [path.join(ENGINE_DIR, 'explain_programs.py'), input], {
      encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}), FLINK_LOG_DIR: dir, JVM_ARGS: '-Xmx512m -XX:+UseSerialGC' },
    });
    const results = run.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as ExplainResult);
    if (run.status !== 0 || results.length !== programs.length) {
      throw new Error(`explain_programs.py exited ${run.status} after ${results.length}/${programs.length} programs: ${run.stderr.slice(-4000)}`);
    }
    return { results, seconds: Math.round((Date.now() - started) / 100) / 10 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
