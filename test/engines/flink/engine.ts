// The Flink engine for tests: what `agent-data-stack dev --engines` shares lives in cli/dev/engines/flink.ts (PyFlink venv, the
// package built by the deploy-time builder's code, the local runner); here are the test-only parts (Maven listings, explain, runs to the end).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { startApplication } from '../../../cli/dev/engines/flink';

export * from '../../../cli/dev/engines/flink';

export const ENGINE_DIR = __dirname;

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
