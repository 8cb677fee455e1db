// .ci/run fetches the engine tests' downloads while the unit tests run (scripts/prefetch-engines.ts).
import * as fs from 'fs';
import * as path from 'path';
import { pyflinkPython } from '../../cli/dev/engines/flink';
import { kafkaClasspathDir } from '../../cli/dev/engines/kafka';
import { openSearchDistribution } from '../../cli/dev/engines/opensearch';
import { warehousePython } from '../../cli/dev/engines/warehouse/engine';
import { pyflink120Python, sqliteJdbcJar } from '../../cli/dev/engines/warehouse/writer';
import { prefetch, PREFETCH_ITEMS } from '../../scripts/prefetch-engines';

test('every cached download the engine tests make through a shared function is prefetched', () => {
  const runs = PREFETCH_ITEMS.map(i => i.run);
  for (const fn of [pyflinkPython, pyflink120Python, warehousePython, kafkaClasspathDir, openSearchDistribution, sqliteJdbcJar]) {
    expect(runs).toContain(fn);
  }
});

test('a failed item is reported by name and the items after it still run, one at a time', async () => {
  const order: string[] = [];
  let running = 0;
  const item = (name: string, fail = false) => ({
    name,
    run: async () => {
      running += 1;
      expect(running).toBe(1);
      order.push(name);
      await new Promise(r => setTimeout(r, 5));
      running -= 1;
      if (fail) throw new Error(`${name} unreachable`);
    },
  });
  const lines: string[] = [];
  const failed = await prefetch([item('a'), item('b', true), item('c')], l => lines.push(l));
  expect(order).toEqual(['a', 'b', 'c']);
  expect(failed).toEqual(['b']);
  expect(lines[1]).toMatch(/^prefetch: b: FAILED after .* \(the engine tests will try again\): b unreachable$/);
  expect(lines[2]).toMatch(/^prefetch: c: ready in /);
});

test('.ci/run waits for the prefetch before the engine tests, and runs it beside the unit tests', () => {
  const lines = fs.readFileSync(path.join(__dirname, '..', '..', '.ci', 'run'), 'utf8').split('\n').map(l => l.trim());
  const at = (re: RegExp) => lines.findIndex(l => re.test(l));
  const start = at(/^node -r \.\/scripts\/ts-register\.js scripts\/prefetch-engines\.ts .*&$/);
  expect(start).toBeGreaterThan(at(/^npm ci\b/));
  expect(at(/^npm test\b/)).toBeGreaterThan(start);
  expect(at(/^wait "\$prefetch_pid"/)).toBeGreaterThan(at(/^npm test\b/));
  expect(at(/^npm run test:engines$/)).toBeGreaterThan(at(/^wait "\$prefetch_pid"/));
});
