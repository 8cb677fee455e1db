// The Flink engine, locally: PyFlink (pinned) in a cached virtualenv, and a FlinkSqlApplication's own package (built with the
// deploy-time builder's code from the synthesized template) run by its own runner on a local mini-cluster. Shared by
// `agent-data-stack dev --engines` and the engine tests.
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Template } from 'aws-cdk-lib/assertions';
import { analyzeFlinkSql, sqlString } from '../../../constructs/processing/flink-sql';
import { ArtifactSourceSpec, assembleArtifact, extractZip, HttpGet, InlineFileSpec } from '../../../lambda/artifact-builder/build';
import { reapWithThisProcess } from './jvm';
import { engineAsset } from './maven';
import { mapForLocal, type MappingNote } from './template';

export const CACHE_DIR = path.join(os.homedir(), '.cache', 'cdk-agent-data-stack');
export const M2_REPOSITORY = path.join(os.homedir(), '.m2', 'repository');
const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2/';

/** Runs a command to prove a tool is there; throws (never skips) with what to install when it is not. */
export function requireTool(command: string, args: string[], install: string): string {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new Error(`The Flink engine needs '${command}' (${install}); running '${command} ${args.join(' ')}' failed: ${out.error?.message ?? out.stderr}`);
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
  throw new Error(`The Flink engine needs Python 3.12 (PyFlink 2.2; 3.9-3.11 also work) with venv and pip; found ${found.join(', ') || 'no python'}. Install python3.12 or set PYFLINK_PYTHON.`);
}

/** The virtualenv's python with requirements.txt installed; built once per requirements hash under ~/.cache. */
export function pyflinkPython(): string {
  const requirements = engineAsset('requirements.txt');
  const python = findPython();
  const version = spawnSync(python, ['-c', 'import sys; print("%d%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();
  return cachedVenv(python, requirements, `pyflink-py${version}`, 20 * 60_000);
}

/**
 * A virtualenv of `python` with `requirements` installed, under ~/.cache as `<name>-<requirements hash>`: built once (a marker file
 * says the install finished), reused until the requirements change. Fails naming the missing module or registry.
 */
export function cachedVenv(python: string, requirements: string, name: string, pipTimeoutMs: number): string {
  const hash = createHash('sha256').update(fs.readFileSync(requirements)).digest('hex').slice(0, 12);
  const venv = path.join(CACHE_DIR, `${name}-${hash}`);
  const venvPython = path.join(venv, 'bin', 'python');
  const done = path.join(venv, '.installed');
  if (fs.existsSync(done)) return venvPython;
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const mk = spawnSync(python, ['-m', 'venv', venv], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`python -m venv ${venv} failed (install the venv module for ${python}): ${mk.stderr}`);
  const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirements], { encoding: 'utf8', timeout: pipTimeoutMs });
  if (pip.status !== 0) throw new Error(`pip install -r ${requirements} failed (PyPI must be reachable): ${pip.stderr || pip.error?.message}`);
  fs.writeFileSync(done, new Date().toISOString());
  return venvPython;
}

/** An HttpGet for the builder that serves Maven Central URLs (JARs and their `.sha1`) from ~/.m2, as Maven downloaded them. */
export const localMavenGet: HttpGet = async (url) => {
  if (!url.startsWith(MAVEN_CENTRAL)) return { status: 404, body: Buffer.from(`not a Maven Central URL: ${url}`) };
  const file = path.join(M2_REPOSITORY, url.slice(MAVEN_CENTRAL.length));
  return fs.existsSync(file) ? { status: 200, body: fs.readFileSync(file) } : { status: 404, body: Buffer.from(`not in ~/.m2: ${file}`) };
};

/** How a package is fetched and which application of the template it is. */
export interface UnpackOptions {
  /**
   * Serves the package's Maven Central downloads. @default cachedMavenGet (~/.m2, downloading from Maven Central what is not
   * there yet: a run on a fresh machine must not depend on another test having filled ~/.m2 first)
   */
  readonly get?: HttpGet;
  /** The logical ID prefix of the application (`transformApplicationId`). @default - the template's only Flink application */
  readonly application?: string;
}

/**
 * The logical ID prefix of the application AgentDataStack builds for a transform (`Transform-<name>`, which CloudFormation's
 * logical IDs keep only the letters and digits of, then a hash).
 */
export function transformApplicationId(transformName: string): string {
  return `Transform-${transformName}`.replace(/[^A-Za-z0-9]/g, '');
}

/**
 * One Flink application of a template with its package: the `Custom::DeployTimeArtifact` whose ObjectKey is the application's code
 * FileKey (so the package and the properties always belong to the same application). Without a selector the template must hold
 * exactly one; a selector that matches none or several is an error naming the applications there are.
 */
export function flinkApplication(template: Template, select?: string): { logicalId: string; application: any; artifact: any } {
  const applications = Object.entries(template.findResources('AWS::KinesisAnalyticsV2::Application'));
  const matching = applications.filter(([id]) => select === undefined || id.startsWith(select));
  if (matching.length !== 1) {
    const names = applications.map(([id]) => id).join(', ') || 'none';
    throw new Error(select === undefined
      ? `the template has ${applications.length} Flink applications (${names}); name one by its logical ID prefix`
      : `${matching.length === 0 ? 'no Flink application' : `${matching.length} Flink applications`} with a logical ID starting '${select}' in the template (it has ${names})`);
  }
  const [logicalId, application] = matching[0] as [string, any];
  const fileKey = application.Properties.ApplicationConfiguration.ApplicationCodeConfiguration.CodeContent.S3ContentLocation.FileKey;
  const artifact = Object.values(template.findResources('Custom::DeployTimeArtifact')).find((r: any) => r.Properties.ObjectKey === fileKey);
  if (!artifact) throw new Error(`the template has no Flink package (Custom::DeployTimeArtifact) with ObjectKey ${JSON.stringify(fileKey)}, the code of ${logicalId}`);
  return { logicalId, application, artifact };
}

/**
 * Builds a FlinkSqlApplication's package from its synthesized template exactly as the deploy-time builder does
 * (same Sources and Files, downloads served from ~/.m2, fetched into it from Maven Central when missing, and verified
 * against the published .sha1 and the pinned SHA-256), unpacks it, and writes the application's runtime properties with the brokers replaced. `o.application` names the
 * application when the template has more than one (`flinkApplication`).
 */
export async function unpackApplication(template: Template, bootstrapServers: string, o: UnpackOptions = {}): Promise<string> {
  const { application, artifact } = flinkApplication(template, o.application);
  const zip = await assembleArtifact(o.get ?? cachedMavenGet, artifact.Properties.Sources as ArtifactSourceSpec[], artifact.Properties.Files as InlineFileSpec[]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-app-'));
  for (const [name, data] of extractZip(zip)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  fs.writeFileSync(path.join(dir, 'application_properties.json'), JSON.stringify(application.Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups, null, 2));
  setBootstrapServers(dir, bootstrapServers);
  return dir;
}

/**
 * The application unpacked (`unpackApplication`) for the local PLAINTEXT broker: its job.sql rewritten in place by `mapSqlForLocal`,
 * whose notes (every edit) are returned with the folder.
 */
export async function unpackForLocalBroker(template: Template, bootstrapServers: string, o: UnpackOptions = {}): Promise<{ dir: string; sql: string; notes: SqlMappingNote[] }> {
  const dir = await unpackApplication(template, bootstrapServers, o);
  const file = path.join(dir, 'job.sql');
  const mapped = mapSqlForLocal(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, mapped.sql);
  return { dir, ...mapped };
}

/** Points an unpacked application's `sql.variables` at other brokers. */
export function setBootstrapServers(dir: string, bootstrapServers: string): void {
  const file = path.join(dir, 'application_properties.json');
  const groups = JSON.parse(fs.readFileSync(file, 'utf8')).map((g: any) => (
    g.PropertyGroupId === 'sql.variables' ? { ...g, PropertyMap: { ...g.PropertyMap, 'kafka.bootstrap.servers': bootstrapServers } } : g
  ));
  fs.writeFileSync(file, JSON.stringify(groups, null, 2));
}

/**
 * An HttpGet for the builder that serves Maven Central URLs from ~/.m2 and downloads (into ~/.m2) what is not there yet, as the
 * deploy-time builder downloads it on AWS; the builder still checks every file against its `.sha1` and the pinned SHA-256.
 */
export const cachedMavenGet: HttpGet = async (url) => {
  const cached = await localMavenGet(url);
  if (cached.status === 200 || !url.startsWith(MAVEN_CENTRAL)) return cached;
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.ok) {
    const file = path.join(M2_REPOSITORY, url.slice(MAVEN_CENTRAL.length));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // A part file of this process's own: CI's prefetch and a test may fetch the same file at once.
    const part = `${file}.${process.pid}.part`;
    fs.writeFileSync(part, body);
    fs.renameSync(part, file);
  }
  return { status: res.status, body };
};

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
 * Waits `graceMs` for a job that dies at once (bad JAR, SQL): resolves if it is still running then, else throws
 * `<what> exited at start: <root cause>` (the deepest `Caused by:` of its output, or the output's tail). The wait's timer is
 * cleared either way, so it never holds the event loop.
 */
export async function assertStarted(job: Pick<RunningApplication, 'exited' | 'output'>, what: string, graceMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<boolean>(r => { timer = setTimeout(() => r(false), graceMs); });
  try {
    const died = await Promise.race([job.exited.then(() => true), grace]);
    if (died) throw new Error(`${what} exited at start: ${rootCause(job.output()) ?? job.output().slice(-2000)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the package's main.py with the venv's PyFlink as a local job (IS_LOCAL, as AWS's PyFlink samples run
 * locally): small heap, logs in the package folder; returns while the job runs.
 */
export function startApplication(python: string, dir: string): RunningApplication {
  return spawnLocalJob(python, [path.join(dir, 'main.py')], dir, {}, '512m');
}

/**
 * Spawns a PyFlink program in its own process group with the package's environment (IS_LOCAL, application properties, logs in
 * `<dir>/log`) plus `env`, a small serial-GC heap, its output kept; `stop()` kills the group (python and its JVM).
 */
export function spawnLocalJob(python: string, args: string[], dir: string, env: Record<string, string>, heap: string): RunningApplication {
  const logDir = path.join(dir, 'log');
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const child = spawn(python, args, {
    cwd: dir,
    detached: true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
      IS_LOCAL: 'true',
      FLINK_APPLICATION_PROPERTIES: path.join(dir, 'application_properties.json'),
      FLINK_LOG_DIR: logDir,
      JVM_ARGS: `-Xmx${heap} -XX:+UseSerialGC`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapWithThisProcess(child, 5000);
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

