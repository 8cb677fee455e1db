// What stops the dev loop: real signals to this process, and the exit of the parent process.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { currentParentPid, parentExited } from '../../cli/dev/stop-signals';

/** Runs `script` in a fresh node (Jest's sandboxed `process` does not install real signal handlers); resolves with its output. */
function runNode(script: string, onLine: (line: string, child: ChildProcess) => void): Promise<{ code: number | null; signal: string | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', '-e', script], {
      cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    let buffer = '';
    child.stdout!.on('data', (c: Buffer) => {
      buffer += c.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        onLine(line, child);
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, lines }));
  });
}

test('the first stop signal resolves; later ones are only reported until dispose (a second Ctrl-C cannot kill the clean-up)', async () => {
  // The clean-up lasts until both later signals were reported (at most 20 s): a fixed clean-up time raced the signals, which a
  // loaded machine can deliver late. Each signal is sent once the child has reported the one before.
  const script = `
    const { watchForStop } = require('./cli/dev/stop-signals');
    let repeats = 0;
    let twoRepeats;
    const repeated = new Promise(r => { twoRepeats = r; });
    const watch = watchForStop({ onRepeat: r => { console.log('repeat ' + r); if (++repeats === 2) twoRepeats(); } });
    const keepAlive = setInterval(() => undefined, 1000);
    console.log('ready');
    watch.stopped.then(async reason => {
      console.log('stopping ' + reason);
      let safety;
      await Promise.race([repeated, new Promise(r => { safety = setTimeout(r, 20000); })]); // the clean-up, during which more signals arrive
      clearTimeout(safety);
      watch.dispose();
      clearInterval(keepAlive);
      console.log('done ' + process.listenerCount('SIGINT') + process.listenerCount('SIGTERM') + process.listenerCount('SIGHUP'));
    });`;
  const result = await runNode(script, (line, child) => {
    if (line === 'ready') child.kill('SIGTERM');
    // Without a handler still installed, each of these would end the process (the default action of all three).
    if (line === 'stopping SIGTERM') child.kill('SIGINT');
    if (line === 'repeat SIGINT') child.kill('SIGHUP');
  });
  expect(result).toEqual({ code: 0, signal: null, lines: ['ready', 'stopping SIGTERM', 'repeat SIGINT', 'repeat SIGHUP', 'done 000'] });
});

test('the death of the parent process stops the loop', async () => {
  // An intermediate node is the watcher's parent; it is killed (SIGKILL: it cannot tell anyone) once the watcher runs.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-signals-'));
  const watcher = path.join(dir, 'watcher.js');
  fs.writeFileSync(watcher, `
    const { watchForStop } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'cli', 'dev', 'stop-signals'))});
    const watch = watchForStop({ parentPollMs: 50 });
    const keepAlive = setInterval(() => undefined, 1000);
    const safety = setTimeout(() => process.exit(3), 20000);
    process.stdout.write('ready ' + process.ppid + '\\n');
    watch.stopped.then(reason => {
      process.stdout.write('stopped: ' + reason + '\\n');
      watch.dispose();
      clearInterval(keepAlive);
      clearTimeout(safety);
    });`);
  const script = `
    const inner = require('child_process').spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', ${JSON.stringify(watcher)}],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    setTimeout(() => process.exit(3), 20000);`;
  const seen: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no stop after the parent died; saw ${JSON.stringify(seen)}`)), 30_000);
      void runNode(script, (line, parent) => {
        seen.push(line);
        if (line.startsWith('ready ')) parent.kill('SIGKILL');
        if (line.startsWith('stopped: ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const parentPid = seen[0].split(' ')[1];
  expect(seen).toEqual([`ready ${parentPid}`, `stopped: parent process ${parentPid} exited`]);
});

test('the parent is read from /proc, and a parent that has exited is told apart from a live one', () => {
  expect(currentParentPid()).toBe(process.ppid);
  expect(parentExited(process.ppid)).toBe(false);
  // A pid that was our child and has been reaped: as if it had been our parent, it is gone (we are not re-parented
  // here, so /proc says our parent differs from it).
  const gone = spawnSync('true').pid!;
  expect(parentExited(gone)).toBe(true);
});
