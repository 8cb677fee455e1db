// `npm run dev`, the command the README documents, started as a child: whatever stops that npm process (TERM, INT, HUP,
// or its death by SIGKILL), everything the loop started stops and cleans up: the node process, the private PostgreSQL
// (process and data dir, and with it the replication slot) and the Redis keys it wrote. Signals go to the npm pid only.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Redis } from 'ioredis';

const ROOT = path.join(__dirname, '..', '..');

interface Proc { readonly pid: number; readonly start: string; readonly args: string }

/** Reads pid, ppid and start time of every process from /proc (this test runs where the dev loop runs: Linux). */
function processTable(): Map<number, { ppid: number; start: string; state: string; args: string }> {
  const table = new Map<number, { ppid: number; start: string; state: string; args: string }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start at the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      table.set(Number(entry), { ppid: Number(rest[1]), start: rest[19], state: rest[0], args });
    } catch {
      // exited while we read
    }
  }
  return table;
}

/** Every live descendant of `pid`, with its start time (so a reused pid is not mistaken for it). */
function descendants(pid: number): Proc[] {
  const table = processTable();
  const out: Proc[] = [];
  const walk = (parent: number) => {
    for (const [p, info] of table) {
      if (info.ppid === parent) {
        out.push({ pid: p, start: info.start, args: info.args });
        walk(p);
      }
    }
  };
  walk(pid);
  return out;
}

/** The processes of `procs` still running (a zombie is not running). */
function alive(procs: readonly Proc[]): Proc[] {
  const table = processTable();
  return procs.filter(p => {
    const now = table.get(p.pid);
    return now !== undefined && now.start === p.start && now.state !== 'Z';
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

let redis: Redis;
let started: { npm: ChildProcess; procs: Proc[]; dataDir?: string; keyPrefix?: string } | undefined;

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
});

afterEach(async () => {
  // Whatever the test saw, leave nothing behind: stop what this test started (by pid), then remove its data and keys.
  if (!started) return;
  const { npm, procs, dataDir, keyPrefix } = started;
  started = undefined;
  const nodes = alive(procs).filter(p => !/postgres/.test(p.args));
  for (const p of nodes) process.kill(p.pid, 'SIGTERM');
  await until('leftover processes to stop', 20_000, () => (alive(procs).filter(p => !/postgres/.test(p.args)).length === 0 ? true : undefined))
    .catch(() => undefined);
  for (const p of alive(procs)) process.kill(p.pid, 'SIGKILL');
  if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  if (keyPrefix) {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
});

afterAll(() => redis?.disconnect());

/** Starts `npm run dev` and waits for its readiness text; returns what it started. */
async function startNpmRunDev() {
  // Its own process group, so nothing sent to this test's group reaches it; signals below go to the npm pid only.
  const npm = spawn('npm', ['run', 'dev', '--', '--port', '0', '--quiet'], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGENT_DEV_REDIS_URL: 'redis://127.0.0.1:6379' },
  });
  let stdout = '';
  let stderr = '';
  npm.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  npm.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => npm.once('exit', (code, signal) => resolve({ code, signal })));
  started = { npm, procs: [] };
  const keyPrefix = await until(`the readiness text of npm run dev (stderr so far: ${stderr})`, 100_000, () => {
    if (npm.exitCode !== null) throw new Error(`npm run dev exited with ${npm.exitCode}: ${stderr}`);
    return /Redis keys of this run start with '([^']+)'/.exec(stdout)?.[1];
  });
  started.keyPrefix = keyPrefix;
  const pgPort = /psql "postgresql:\/\/[^@]+@127\.0\.0\.1:(\d+)\//.exec(stdout)![1];
  // The loop has written the seed rows' keys once the snapshot went through the sink.
  await until('the seed keys in Redis', 20_000, async () => ((await redis.keys(`${keyPrefix}*`)).length >= 3 ? true : undefined));
  const procs = descendants(npm.pid!);
  started.procs = procs;
  const postmaster = procs.find(p => /\/postgres -D /.test(p.args) && p.args.includes(` -p ${pgPort} `));
  expect(postmaster).toBeDefined();
  const dataDir = path.dirname(/ -D (\S+)/.exec(postmaster!.args)![1]);
  started.dataDir = dataDir;
  expect(fs.existsSync(dataDir)).toBe(true);
  expect(procs.some(p => /^node /.test(p.args) && p.args.includes('agent-data-stack.ts dev'))).toBe(true);
  return { npm, exited, procs, dataDir, keyPrefix, output: () => ({ stdout, stderr }) };
}

test.each([
  ['SIGTERM', 'kill -TERM'],
  ['SIGINT', 'kill -INT'],
  ['SIGHUP', 'kill -HUP (npm does not forward it: the loop sees its parent die)'],
  ['SIGKILL', 'kill -KILL (the parent dies without a word: the loop sees it)'],
] as const)('%s to the npm run dev process (%s) stops the node process and PostgreSQL, removes the data dir and the Redis keys', async (signal, _how) => {
  const run = await startNpmRunDev();
  process.kill(run.npm.pid!, signal);
  await until('npm run dev to exit', 30_000, () => (run.npm.exitCode !== null || run.npm.signalCode !== null ? true : undefined));
  // Everything it started is gone, not just npm (give an orphaned loop the time a clean stop takes, no more).
  const left = await until('every process npm run dev started to stop', 30_000, () => (alive(run.procs).length === 0 ? [] : undefined))
    .catch(() => alive(run.procs));
  expect(left.map(p => p.args)).toEqual([]);
  expect(fs.existsSync(run.dataDir)).toBe(false);
  expect(await redis.keys(`${run.keyPrefix}*`)).toEqual([]);
  const { stderr } = run.output();
  // The orphaned loop keeps writing to the pipes npm handed it, so its goodbye is visible in every case.
  expect(stderr).toMatch(/Stopped\. The sink applied 3 change\(s\)/);
  expect(stderr).not.toMatch(/Stopped with an error/);
});

test('Ctrl-C in a terminal (SIGINT to the whole process group: npm forwards a second one to node) stops and cleans up once', async () => {
  const run = await startNpmRunDev();
  // The terminal sends SIGINT to every process of the foreground group; npm then forwards its own copy to node, which
  // must not let the second signal kill it half-way through clean-up.
  process.kill(-run.npm.pid!, 'SIGINT');
  await until('npm run dev to exit', 30_000, () => (run.npm.exitCode !== null || run.npm.signalCode !== null ? true : undefined));
  const left = await until('every process npm run dev started to stop', 30_000, () => (alive(run.procs).length === 0 ? [] : undefined))
    .catch(() => alive(run.procs));
  expect(left.map(p => p.args)).toEqual([]);
  expect(fs.existsSync(run.dataDir)).toBe(false);
  expect(await redis.keys(`${run.keyPrefix}*`)).toEqual([]);
  const { stderr } = run.output();
  expect(stderr.match(/Stopped\. The sink applied 3 change\(s\)/g)).toHaveLength(1);
  expect(stderr).not.toMatch(/Stopped with an error/);
});
