// Private database servers for the bootstrap tests: embedded PostgreSQL with a chosen wal_level, and a MariaDB with the binlog on.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { freePort, startLocalPostgres } from '../../../cli/dev/embedded-postgres';
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
  stop(): Promise<void>;
}

/** A throwaway MariaDB with the binlog on, ROW format and FULL row images: what a CDC-ready RDS MySQL looks like. */
export async function startMariaDb(extraArgs: string[] = []): Promise<PrivateMariaDb> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdc-src-mariadb-'));
  const data = path.join(dir, 'data');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const child: ChildProcess = spawn('mariadbd', [
    '--no-defaults', `--datadir=${data}`, '--user=root', `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${path.join(dir, 'sock')}`, `--log-bin=${path.join(data, 'binlog')}`, '--binlog-format=ROW',
    '--binlog-row-image=FULL', '--server-id=1', `--pid-file=${path.join(dir, 'pid')}`, ...extraArgs,
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
