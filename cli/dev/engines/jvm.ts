// Runs one engine JVM as a child process: a log file per process, readiness from the log or a probe, a clear error when it exits early, clean stop.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import { javaCommand } from './maven';

export interface JvmOptions {
  /** Short name used in messages (`kafka`, `connect`). */
  readonly name: string;
  readonly classpath: string;
  readonly mainClass: string;
  readonly args?: string[];
  /** Maximum heap in MB. */
  readonly heapMb: number;
  readonly cwd: string;
  /** stdout and stderr of the JVM. */
  readonly logFile: string;
  /** Extra JVM options (system properties). */
  readonly jvmOptions?: string[];
  /** The `java` to run. @default - javaCommand() (JAVA_HOME's, Java 17 or later) */
  readonly java?: string;
}

export interface JvmProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The last lines of the log (for error messages). */
  logTail(lines?: number): string;
  /**
   * SIGTERM (the engines shut down cleanly on it); after `graceMs` SIGKILL and an error saying the engine did not stop cleanly.
   * Resolves when the process has exited.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Every engine JVM started in this test file and not yet exited (see `killLeftoverJvms`). */
const live = new Map<ChildProcess, string>();

/**
 * SIGKILLs the engines a test file left running (a failed `afterAll` that never reached its `stop()`), so jest can exit,
 * and returns their names; test/engines/environment.js fails the file when any are found.
 */
export function killLeftoverJvms(): string[] {
  const names = [...live.values()];
  for (const child of live.keys()) child.kill('SIGKILL');
  live.clear();
  return names;
}

// The engine tests' environment (test/engines/environment.js) calls this after each file's hooks.
(globalThis as { __killLeftoverEngineJvms?: () => string[] }).__killLeftoverEngineJvms = killLeftoverJvms;

/**
 * Ends the process group `child` leads (spawned `detached`) if this process dies in a way it cannot handle (SIGKILL, the OOM
 * killer): a small shell blocks reading a pipe only this process holds open, and end of file means this process is gone; it
 * then sends SIGTERM to the group and SIGKILL after `graceMs`. Like the embedded PostgreSQL's watchdog (cli/dev/embedded-postgres.ts).
 * Returns the watchdog; kill it after a normal stop.
 */
export function reapWithThisProcess(child: ChildProcess, graceMs = 20_000): ChildProcess | undefined {
  if (process.platform === 'win32' || child.pid === undefined) return undefined;
  const ticks = Math.ceil(graceMs / 200);
  const script = 'read _; kill -s TERM -- "-$1" 2>/dev/null; i=0; '
    + `while kill -0 -- "-$1" 2>/dev/null && [ $i -lt ${ticks} ]; do sleep 0.2; i=$((i+1)); done; kill -s KILL -- "-$1" 2>/dev/null`;
  const watchdog = spawn('/bin/sh', ['-c', script, 'agent-engine-watchdog', String(child.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watchdog.on('error', () => undefined);
  // Neither the watchdog nor its pipe may keep this process alive; it goes when the child does.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.stdin?.on('error', () => undefined);
  child.once('exit', () => { if (watchdog.exitCode === null) watchdog.kill('SIGKILL'); });
  return watchdog;
}

/** Small, single-node JVM settings for a shared 2-core machine. */
const BASE_JVM_OPTIONS = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', '-Djava.awt.headless=true', '-Djava.net.preferIPv4Stack=true'];

export function startJvm(o: JvmOptions): JvmProcess {
  const out = fs.openSync(o.logFile, 'a');
  const child = spawn(o.java ?? javaCommand(), [
    `-Xmx${o.heapMb}m`, `-Xms${Math.min(64, o.heapMb)}m`, ...BASE_JVM_OPTIONS, ...(o.jvmOptions ?? []),
    '-cp', o.classpath, o.mainClass, ...(o.args ?? []),
    // Its own process group: Ctrl-C in a terminal reaches only `dev --engines`, which then stops the engines in order (Connect
    // before Kafka) instead of every JVM at once; a normal exit of this process still kills it (stopOnExit below).
  ], { cwd: o.cwd, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  reapWithThisProcess(child);
  live.set(child, `${o.name} (pid ${child.pid}, log ${o.logFile})`);
  child.once('exit', () => live.delete(child));
  const stopOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stopOnExit);
  const logTail = (lines = 40) => {
    try {
      return fs.readFileSync(o.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name: o.name,
    child,
    logFile: o.logFile,
    logTail,
    stop: async (graceMs = 20_000) => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
      if (killed) throw new Error(`${o.name} did not stop within ${graceMs / 1000}s of SIGTERM and was killed. Last log lines (${o.logFile}):\n${logTail(20)}`);
    },
  };
}

/**
 * Waits until `probe` resolves true, polling; fails with the JVM's own last log lines when it exits first or the time runs out.
 */
export async function waitUntil(jvm: JvmProcess, what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (jvm.child.exitCode !== null || jvm.child.signalCode !== null) {
      throw new Error(`${jvm.name} exited (code ${jvm.child.exitCode ?? jvm.child.signalCode}) before ${what}. Last log lines (${jvm.logFile}):\n${errorLines(jvm.logTail(200))}`);
    }
    if (await Promise.resolve().then(probe).catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${jvm.name}: ${what} did not happen within ${timeoutMs / 1000}s. Last log lines (${jvm.logFile}):\n${jvm.logTail(30)}`);
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

/** The ERROR lines and exceptions of a log (the rest of it when there are none). */
export function errorLines(log: string): string {
  const lines = log.split('\n').filter(l => /ERROR|Exception|Caused by|required configuration/.test(l));
  return (lines.length > 0 ? lines.slice(-25) : log.split('\n').slice(-25)).join('\n');
}

/** Whether the log file contains a line. */
export function logContains(jvm: JvmProcess, text: string): boolean {
  try {
    return fs.readFileSync(jvm.logFile, 'utf8').includes(text);
  } catch {
    return false;
  }
}
