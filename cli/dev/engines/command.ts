// `agent-data-stack dev --engines`: starts the engine stack, prints progress and how to connect, and stops it all on Ctrl-C.
import type { CliIo } from '../../agent-data-stack';
import { ENGINE_EXTENSIONS } from './extensions';
import { describeEngineStack, startEngineStack, StartupStopped, type EngineStack } from './stack';
import { warehouseExtension } from './warehouse/extension';

export interface DevEnginesOptions {
  readonly port: number;
  readonly redisUrl?: string;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** Run the warehouse views' Iceberg writer jobs (`--no-warehouse-writer` turns them off). @default true */
  readonly warehouseWriter?: boolean;
}

/** Exit code 0 after a clean stop, 1 when stopping left something behind, 2 when start-up failed (everything started is stopped). */
export async function runDevEngines(o: DevEnginesOptions, io: CliIo, untilStopped: () => Promise<string>): Promise<number> {
  const t0 = Date.now();
  const progress = (line: string) => { if (!o.quiet) io.stderr(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`); };
  io.stderr('Starting the example on the real engines: PostgreSQL, Kafka, Kafka Connect + Debezium, Flink (PyFlink), OpenSearch, Redis, '
    + 'the local Iceberg warehouse and its writer job, the sink and the MCP server. On 2 cores this takes a few minutes; the first run also downloads about 1.2 GB (see docs/DEVELOPING.md).');
  let stack: EngineStack;
  // A stop request during start-up lets the current step finish, then unwinds what was started.
  let stopRequested: string | undefined;
  const stopped = untilStopped().then(reason => { stopRequested = reason; return reason; });
  try {
    const extensions = o.warehouseWriter === false ? [warehouseExtension({ writer: false })] : ENGINE_EXTENSIONS;
    stack = await startEngineStack({ port: o.port, redisUrl: o.redisUrl, verbose: o.verbose, log: progress, stopRequested: () => stopRequested, extensions });
  } catch (e) {
    if (e instanceof StartupStopped) {
      io.stderr(`${e.reason} during start-up: stopped everything started so far.`);
      return 0;
    }
    io.stderr(`dev --engines could not start (everything started was stopped): ${(e as Error).message}`);
    return 2;
  }
  if (!stopRequested) io.stdout(describeEngineStack(stack));
  const reason = await stopped;
  io.stderr(`\n${reason}: stopping in order (MCP server, sink pollers, warehouse writer and catalog, Flink, connector, Connect, Kafka, OpenSearch, PostgreSQL, Redis keys)...`);
  const stats = stack.stats();
  try {
    await stack.stop();
  } catch (e) {
    io.stderr(`Stopped with an error: ${(e as Error).message}. Check for leftover java or python processes and Redis keys under '${stack.keyPrefix}'.`);
    return 1;
  }
  io.stderr(`Stopped. The sink applied ${stats.written} change(s) in ${stats.batches} batch(es); ${stats.deadLettered} dead-lettered.`);
  return 0;
}
