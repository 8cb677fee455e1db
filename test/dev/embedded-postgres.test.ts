// The private PostgreSQL of the dev loop does not outlive its owner, even one killed with SIGKILL.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('when its owner dies by SIGKILL, the server is stopped and its data dir removed', async () => {
  const owner = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', '-e', `
    const { startLocalPostgres } = require('./cli/dev/embedded-postgres');
    startLocalPostgres().then(pg => {
      const pid = Number(require('fs').readFileSync(pg.dataDir + '/data/postmaster.pid', 'utf8').split('\\n')[0]);
      process.stdout.write(JSON.stringify({ pid, dataDir: pg.dataDir }) + '\\n');
      setInterval(() => undefined, 1000);
    });`], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const started = await new Promise<{ pid: number; dataDir: string }>((resolve, reject) => {
    owner.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
    });
    owner.once('exit', code => reject(new Error(`the owner exited with ${code} before the server was up`)));
  });
  try {
    expect(running(started.pid)).toBe(true);
    owner.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    while ((running(started.pid) || fs.existsSync(started.dataDir)) && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
    expect(running(started.pid)).toBe(false);
    expect(fs.existsSync(started.dataDir)).toBe(false);
  } finally {
    // Whatever happened, leave nothing of this test behind.
    if (owner.exitCode === null && owner.signalCode === null) owner.kill('SIGKILL');
    if (running(started.pid)) process.kill(started.pid, 'SIGKILL');
    fs.rmSync(started.dataDir, { recursive: true, force: true });
  }
});
