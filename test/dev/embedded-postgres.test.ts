// The private PostgreSQL of the dev loop does not outlive its owner, even one killed with SIGKILL.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binDirRunnableBy, embeddedPostgresBinDir } from '../../cli/dev/embedded-postgres';

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

test('as root, binaries the postgres user cannot reach (a checkout under /root or a 0700 dir) are copied where it can run them', () => {
  // CI and this machine run as root; the server then runs as the Debian package's postgres user.
  expect(process.getuid?.()).toBe(0);
  const ids = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
  const priv = fs.mkdtempSync(path.join(os.tmpdir(), 'private-checkout-'));
  const copies: string[] = [];
  try {
    fs.cpSync(path.dirname(embeddedPostgresBinDir()), path.join(priv, 'native'), { recursive: true, verbatimSymlinks: true });
    const bin = path.join(priv, 'native', 'bin');
    expect(() => execFileSync(path.join(bin, 'postgres'), ['--version'], { stdio: 'pipe', ...ids })).toThrow(/EACCES/);
    const usable = binDirRunnableBy(bin, ids);
    copies.push(path.dirname(usable));
    expect(usable).not.toBe(bin);
    expect(execFileSync(path.join(usable, 'postgres'), ['--version'], { ...ids }).toString()).toMatch(/PostgreSQL/);
    expect(binDirRunnableBy(bin, ids)).toBe(usable); // copied once
    expect(binDirRunnableBy(usable, ids)).toBe(usable); // reachable binaries are used where they are
  } finally {
    for (const d of [priv, ...copies]) fs.rmSync(d, { recursive: true, force: true });
  }
});
