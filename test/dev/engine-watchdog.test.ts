// The engines of `dev --engines` run in their own process groups (so a terminal's Ctrl-C reaches only the CLI, which stops them
// in order); the watchdog ends such a group when the CLI itself is SIGKILLed. A real child process is killed here, not a mock.
import { spawn } from 'child_process';
import * as path from 'path';

const REPO = path.join(__dirname, '..', '..');
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A node process that starts `sleep 300` in its own process group (as the engines are), with or without the watchdog; resolves its pids. */
async function parentWithDetachedChild(watchdog: boolean): Promise<{ parent: number; child: number }> {
  const script = `
    const { spawn } = require('child_process');
    const { reapWithThisProcess } = require('./cli/dev/engines/jvm');
    const c = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    if (${watchdog}) reapWithThisProcess(c, 1000);
    console.log(c.pid);
    setInterval(() => undefined, 1000);`;
  const parent = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const child = await new Promise<number>((resolve, reject) => {
    parent.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim())));
    parent.once('exit', code => reject(new Error(`parent exited ${code}`)));
  });
  await sleep(300); // the watchdog is blocked on its pipe by now
  return { parent: parent.pid!, child };
}

test('an engine in its own process group is ended when the process that started it is SIGKILLed', async () => {
  const { parent, child } = await parentWithDetachedChild(true);
  expect(alive(child)).toBe(true);
  process.kill(parent, 'SIGKILL');
  for (let i = 0; i < 50 && alive(child); i++) await sleep(100);
  expect(alive(child)).toBe(false);
}, 60_000);

test('without the watchdog the detached engine outlives a SIGKILLed parent (what the watchdog is for)', async () => {
  const { parent, child } = await parentWithDetachedChild(false);
  process.kill(parent, 'SIGKILL');
  await sleep(2000);
  try {
    expect(alive(child)).toBe(true);
  } finally {
    process.kill(child, 'SIGKILL');
  }
}, 60_000);
