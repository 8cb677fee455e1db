// assertStarted: a local job that dies at once is reported with its root cause; one still running after the grace period passes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertStarted, spawnLocalJob, type RunningApplication } from '../../cli/dev/engines/flink';

const timers = () => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length;
const dirs: string[] = [];
const jobs: RunningApplication[] = [];

/** A real short child process run the way the engines run PyFlink (own process group, output kept), node standing in for python. */
function nodeJob(script: string): RunningApplication {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assert-started-'));
  dirs.push(dir);
  const job = spawnLocalJob(process.execPath, ['-e', script], dir, {}, '64m');
  jobs.push(job);
  return job;
}

afterAll(async () => {
  for (const j of jobs) await j.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('a job that exits at start is reported with the deepest Caused by: of its output', async () => {
  const job = nodeJob(`console.error([
    'Exception in thread "main" org.apache.flink.table.api.TableException: failed',
    'Caused by: java.lang.RuntimeException: wrapper',
    'Caused by: java.lang.ClassNotFoundException: org.sqlite.JDBC',
  ].join('\\n')); process.exit(1);`);
  await expect(assertStarted(job, 'the test job', 10_000)).rejects.toThrow('the test job exited at start: java.lang.ClassNotFoundException: org.sqlite.JDBC');
});

test('without a Caused by: line the tail of the output is the reason', async () => {
  const job = nodeJob("console.log('no such file: job.sql'); process.exit(2);");
  await expect(assertStarted(job, 'the test job', 10_000)).rejects.toThrow(/^the test job exited at start: no such file: job\.sql\s*$/);
});

test('a job still running after the grace period passes', async () => {
  const job = nodeJob("console.log('up'); setInterval(() => undefined, 1000);");
  // Running for real: it has printed (a job that died at start would have exited instead).
  while (!job.output().includes('up')) {
    if (await Promise.race([job.exited.then(() => true), new Promise(r => setTimeout(() => r(false), 20))])) throw new Error(`the job exited: ${job.output()}`);
  }
  // The grace period on jest's clock, not the wall clock: it resolves at 500 ms and not a millisecond before. The child's
  // I/O (its exit, were it to die) still runs on the real event loop.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    let passed = false;
    const started = assertStarted(job, 'the test job', 500).then(() => { passed = true; });
    await jest.advanceTimersByTimeAsync(499);
    expect(passed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(started).resolves.toBeUndefined();
    expect(passed).toBe(true);
  } finally {
    jest.useRealTimers();
  }
  let exited = false;
  void job.exited.then(() => { exited = true; });
  await new Promise(r => setImmediate(r));
  expect(exited).toBe(false);
});

test('the grace timer is cleared when the job dies first (it does not hold the event loop)', async () => {
  const fake: Pick<RunningApplication, 'exited' | 'output'> = { exited: Promise.resolve(1), output: () => 'Caused by: boom' };
  const before = timers();
  await expect(assertStarted(fake, 'the fake job', 60_000)).rejects.toThrow('the fake job exited at start: boom');
  expect(timers()).toBe(before);
});
