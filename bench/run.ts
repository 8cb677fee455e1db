// `npm run bench`: runs every benchmark and prints its figures beside a baseline measured in the same run. Nothing is asserted.
import { BenchRow, printRows, rowsAsJson } from './lib';
import { bundleBench } from './bundle.bench';
import { enginesBench } from './engines.bench';
import { freshnessBench } from './freshness.bench';
import { mcpBench } from './mcp.bench';
import { mcpColdBench } from './mcp-cold.bench';
import { sinkBench } from './sink.bench';
import { sinkMemoryBench } from './sink-memory.bench';
import { synthBench } from './synth.bench';
import { viewsBench } from './views.bench';

/** `prior`: the rows of the benches that ran before it in this run. */
type Bench = { name: string; run: (prior: BenchRow[]) => Promise<BenchRow[]> };

const BENCHES: Bench[] = [
  { name: 'sink', run: () => sinkBench() },
  // A synth of the example (its BatchSize), then one fresh process per batch: about 2 minutes.
  { name: 'sink-memory', run: () => sinkMemoryBench() },
  { name: 'mcp', run: () => mcpBench() },
  { name: 'bundle', run: () => bundleBench() },
  { name: 'mcp-cold', run: () => mcpColdBench() },
  { name: 'freshness', run: () => freshnessBench() },
  { name: 'synth', run: () => synthBench() },
  // Real Kafka, Kafka Connect with Debezium, and PostgreSQL: about 4-5 minutes; reuses the local freshness rows when they ran.
  { name: 'engines', run: prior => enginesBench({ localFreshness: prior.filter(r => r.bench === 'local freshness') }) },
  // All three views on the engines of `dev --engines` (Flink and OpenSearch too): about 6-8 minutes on 2 cores.
  { name: 'views', run: prior => viewsBench({ localFreshness: prior.filter(r => r.bench === 'local freshness') }) },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const only = args.filter(a => a !== '--json');
  const unknown = only.filter(n => !BENCHES.some(b => b.name === n));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${BENCHES.map(b => b.name).join(', ')} (and --json)`);
  const rows: BenchRow[] = [];
  const failed: { bench: string; error: string }[] = [];
  for (const b of BENCHES) {
    if (only.length > 0 && !only.includes(b.name)) continue;
    process.stderr.write(`bench: ${b.name}...\n`);
    try {
      rows.push(...await b.run(rows));
    } catch (e) {
      process.stderr.write(`bench: ${b.name} failed: ${(e as Error).message}\n`);
      failed.push({ bench: b.name, error: (e as Error).message });
    }
  }
  if (json) console.log(JSON.stringify({ rows: rowsAsJson(rows), failed }, null, 2));
  else printRows(rows);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
