// The one shutdown helper of the local loops: newest first, every step tried, failures logged and reported.
import { stopInOrder, type StopStep } from '../../cli/dev/stop-in-order';

function recorder() {
  const ran: string[] = [];
  const step = (what: string, fail?: string): StopStep => ({
    what,
    run: async () => {
      ran.push(what);
      if (fail) throw new Error(fail);
    },
  });
  return { ran, step };
}

test('runs every step newest first and leaves the array as it was', async () => {
  const { ran, step } = recorder();
  const steps = [step('a'), step('b'), step('c')];
  const before = [...steps];
  await stopInOrder(steps);
  expect(ran).toEqual(['c', 'b', 'a']);
  expect(steps).toEqual(before);
});

test('a failing step does not stop the others; the first failure (in stop order) is thrown after all ran', async () => {
  const { ran, step } = recorder();
  const lines: string[] = [];
  const sync: StopStep = { what: 'sync', run: () => { ran.push('sync'); throw new Error('sync boom'); } };
  await expect(stopInOrder([step('a', 'a boom'), sync, step('c', 'c boom'), step('d')], { log: l => lines.push(l) }))
    .rejects.toThrow('c boom');
  expect(ran).toEqual(['d', 'c', 'sync', 'a']);
  expect(lines).toEqual(['stopped d', 'stopping c failed: c boom', 'stopping sync failed: sync boom', 'stopping a failed: a boom']);
});

test('with onError every failure goes to the caller and nothing is thrown', async () => {
  const { ran, step } = recorder();
  const failures: Array<[string, string]> = [];
  await stopInOrder([step('a', 'a boom'), step('b'), step('c', 'c boom')], { onError: (e, s) => failures.push([s.what, (e as Error).message]) });
  expect(ran).toEqual(['c', 'b', 'a']);
  expect(failures).toEqual([['c', 'c boom'], ['a', 'a boom']]);
});

test('timings: each stopped line carries the step\'s duration', async () => {
  // On jest's clock (Date.now included), so the durations are exact on any machine.
  jest.useFakeTimers();
  try {
    const lines: string[] = [];
    const stopped = stopInOrder([
      { what: 'slow', run: () => new Promise(r => setTimeout(r, 30)) },
      { what: 'fast', run: () => undefined },
    ], { log: l => lines.push(l), timings: true });
    await jest.advanceTimersByTimeAsync(30);
    await stopped;
    expect(lines).toEqual(['stopped fast (0 ms)', 'stopped slow (30 ms)']);
  } finally {
    jest.useRealTimers();
  }
});

test('a caller that passes steps.splice(0) stops each step once, however often stop is called', async () => {
  const { ran, step } = recorder();
  const steps = [step('a'), step('b')];
  const stop = () => stopInOrder(steps.splice(0));
  await stop();
  await stop();
  expect(ran).toEqual(['b', 'a']);
  expect(steps).toEqual([]);
});
