// `npm run bench`: runs every benchmark and prints its figures beside a baseline measured in the same run. Nothing is asserted.
import { BenchRow, printRows } from './lib';
import { bundleBench } from './bundle.bench';
import { enginesBench } from './engines.bench';
import { freshnessBench } from './freshness.bench';
import { mcpBench } from './mcp.bench';
import { sinkBench } from './sink.bench';
import { synthBench } from './synth.bench';

/** `prior`: the rows of the benches that ran before it in this run. */
type Bench = { name: string; run: (prior: BenchRow[]) => Promise<BenchRow[]> };

const BENCHES: Bench[] = [
  { name: 'sink', run: () => sinkBench() },
  { name: 'mcp', run: () => mcpBench() },
  { name: 'bundle', run: () => bundleBench() },
  { name: 'freshness', run: () => freshnessBench() },
  { name: 'synth', run: () => synthBench() },
  // Real Kafka, Kafka Connect with Debezium, and PostgreSQL: about 4-5 minutes; reuses the local freshness rows when they ran.
  { name: 'engines', run: prior => enginesBench({ localFreshness: prior.filter(r => r.bench === 'local freshness') }) },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: BenchRow[] = [];
  for (const b of BENCHES) {
    if (only.length > 0 && !only.includes(b.name)) continue;
    process.stderr.write(`bench: ${b.name}...\n`);
    try {
      rows.push(...await b.run(rows));
    } catch (e) {
      process.stderr.write(`bench: ${b.name} failed: ${(e as Error).message}\n`);
    }
  }
  printRows(rows);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
