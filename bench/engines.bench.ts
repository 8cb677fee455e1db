// Freshness and sustained load on the real engines: PostgreSQL -> Debezium (Kafka Connect 3.7) -> Kafka -> a local Lambda MSK event
// source with the synthesized mapping's batch size and window -> the sink's processBatch -> Redis -> the MCP handler's customer_lookup.
// Beside it: the same run's local loop (no engines), a raw PostgreSQL round trip, and pgbench on the same PostgreSQL alone.
import { execFile } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from 'pg';
import { deleteKeys, InMemoryDecisionStore, redisFromUrl } from '../cli/dev/dev-loop';
import { functionUrlHandler, startLocalServer } from '../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../lambda/mcp/server';
import type { MskEvent } from '../lambda/shared/envelope';
import { cacheBatchWriter } from '../lambda/sink/cache-route';
import { processBatch } from '../lambda/sink/process';
import { eventSourceFor, LocalMskEventSource } from '../cli/dev/engines/msk-event-source';
import { effectiveConnectorSetting, startEnginePipeline, startSourceDatabase, synthesizeExample } from '../cli/dev/engines/pipeline';
import { freshnessBench } from './freshness.bench';
import { BenchRow, summarize } from './lib';

const CHANGES = 300;
/** Changes issued per second in the freshness run (each to a row with no change in flight). */
const FRESHNESS_RATE = 10;
const LOAD_ROWS = 1000;
const LOAD_FIRST_ID = 200_001;
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
const STEP_S = 8;
const HOLD_S = 60;
const RATES = [500, 1000, 2000, 4000, 8000];

const log = (line: string) => process.stderr.write(`bench engines: ${line}\n`);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** The same UPDATE the sustained-load generator issues, as a pgbench script. */
function pgbenchScript(dir: string): string {
  const file = path.join(dir, 'update.sql');
  fs.writeFileSync(file, `\\set id random(${LOAD_FIRST_ID}, ${LOAD_FIRST_ID + LOAD_ROWS - 1})\nUPDATE public.customers SET balance = balance + 1, updated_at = clock_timestamp() WHERE id = :id;\n`);
  return file;
}

async function runPgbench(conn: { port: number; password: string }, seconds: number, extra: string[] = ['-c', '2', '-j', '2']): Promise<number> {
  if (!fs.existsSync(PGBENCH)) throw new Error(`pgbench not found at ${PGBENCH} (apt-get install postgresql-client, or set PGBENCH)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pgbench-'));
  try {
    const { stdout } = await promisify(execFile)(PGBENCH, ['-n', '-f', pgbenchScript(dir), '-T', String(seconds), ...extra,
      '-h', '127.0.0.1', '-p', String(conn.port), '-U', 'postgres', 'shop'], { env: { ...process.env, PGPASSWORD: conn.password } });
    const tps = /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
    return Number(tps[1]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface EnginesBenchOptions {
  /** Rows of the local freshness bench already run in this `npm run bench` (else it is run here). */
  readonly localFreshness?: BenchRow[];
}

export async function enginesBench(options: EnginesBenchOptions = {}): Promise<BenchRow[]> {
  const local = options.localFreshness?.length ? options.localFreshness : await freshnessBench();
  const localP50 = local.find(r => r.metric.includes('p50'))!;
  const localP99 = local.find(r => r.metric.includes('p99'))!;

  const example = synthesizeExample();
  const source = await startSourceDatabase();
  const cleanups: Array<() => Promise<unknown>> = [async () => source.stop()];
  try {
    await source.admin.query(`INSERT INTO public.customers (id, name, email, tier, balance)
      SELECT g, 'Load ' || g, 'load' || g || '@example.com', 'standard', 0 FROM generate_series(${LOAD_FIRST_ID}, ${LOAD_FIRST_ID + LOAD_ROWS - 1}) g`);
    // PostgreSQL alone: the same single-row UPDATE, before any engine runs (no slot yet, so nothing decodes the WAL).
    const pgbenchTps = await runPgbench({ port: source.db.port, password: source.password }, 10);
    log(`pgbench alone: ${pgbenchTps.toFixed(0)} tps`);

    const pipeline = await startEnginePipeline({ example, source, log });
    cleanups.push(() => pipeline.stop());
    const declared = example.views.find(v => v.name === 'customer')!;
    const keyPrefix = `bench:engines:${randomBytes(6).toString('hex')}:`;
    const view = { ...declared, cache: { ...declared.cache!, keyPrefix: `${keyPrefix}${declared.cache!.keyPrefix}` } };
    const mapping = eventSourceFor(example.template, view.topic);
    const settings = {
      pollIntervalMs: await effectiveConnectorSetting(pipeline, 'poll.interval.ms'),
      maxBatchSize: await effectiveConnectorSetting(pipeline, 'max.batch.size'),
    };
    log(`settings: Debezium poll.interval.ms=${settings.pollIntervalMs.value} (${settings.pollIntervalMs.fromTemplate ? 'template' : 'connector default'}), `
      + `max.batch.size=${settings.maxBatchSize.value}; event source BatchSize=${mapping.batchSize}, window=${mapping.batchingWindowMs} ms `
      + `(${mapping.batchingWindowFromTemplate ? 'template' : "Lambda's default"})`);

    const cache = redisFromUrl('redis://127.0.0.1:6379');
    cleanups.push(() => cache.close());
    const redis = await cache.ready();
    cleanups.push(() => deleteKeys(redis, keyPrefix));
    const writer = cacheBatchWriter(cache);
    // Freshness lag per batch as the sink reports it (write time minus source commit time), with when it was reported.
    const lags: Array<{ at: number; lagMs: number; records: number }> = [];
    const poller = new LocalMskEventSource({
      bootstrapServers: pipeline.kafka.bootstrapServers, mapping,
      handler: async (event: MskEvent) => {
        let lag = 0;
        const summary = await processBatch(event, {
          views: [view], writers: { cache: writer }, deadLetters: { send: async l => { throw new Error(`dead letters: ${JSON.stringify(l[0])}`); } },
          metrics: { count: () => undefined, freshnessLag: (_v, ms) => { lag = ms; }, cdcLag: () => undefined },
          log: { info: () => undefined, warn: () => undefined },
        });
        lags.push({ at: Date.now(), lagMs: lag, records: summary.received });
      },
    });
    await poller.start();
    cleanups.push(() => poller.stop());

    const server = await startLocalServer(functionUrlHandler(request => handleHttpRequest(request, {
      views: [view], redis, decisions: new InMemoryDecisionStore(), now: () => Date.now(), serverName: 'bench (engines)',
    })), { port: 0 });
    cleanups.push(() => server.close());
    // The SDK client leaves an abort listener per call on its transport's signal; a fresh client every few hundred calls keeps
    // that from piling up (and from slowing the lookups it times).
    const connectMcp = async () => {
      const c = new McpClient({ name: 'bench-engines', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      return c;
    };
    let mcp = await connectMcp();
    let calls = 0;
    const retired: McpClient[] = [];
    cleanups.push(async () => { for (const c of [mcp, ...retired]) await c.close().catch(() => undefined); });
    const lookup = async (id: number) => {
      if (++calls % 300 === 0) {
        retired.push(mcp);
        mcp = await connectMcp();
      }
      return ((await mcp.callTool({ name: 'customer_lookup', arguments: { id } })).structuredContent as { row?: { balance?: number } })?.row?.balance;
    };

    // The snapshot of the load rows has reached Redis before timing starts.
    const lastLoadId = LOAD_FIRST_ID + LOAD_ROWS - 1;
    for (const deadline = Date.now() + 120_000; (await lookup(lastLoadId)) === undefined;) {
      if (Date.now() > deadline) throw new Error('the snapshot never reached Redis');
      await sleep(200);
    }

    const fresh = await measureFreshness(source.db.connection, lookup);
    log(`freshness: p50 ${fresh.visible.p50.toFixed(0)} ms, p99 ${fresh.visible.p99.toFixed(0)} ms (n=${fresh.visible.n}), lookup cycle p50 ${fresh.cycle.p50.toFixed(1)} ms`);

    const load = await sustainedLoad({ port: source.db.port, password: source.password }, lags);
    const settingsText = `poll.interval.ms=${settings.pollIntervalMs.value}, BatchSize=${mapping.batchSize}, window=${mapping.batchingWindowMs} ms`;
    const rows: BenchRow[] = [
      { bench: 'engines freshness', metric: `commit -> MCP answer p50 (n=${fresh.visible.n}; ${settingsText})`, value: fresh.visible.p50, unit: 'ms', baselineName: 'local loop (no engines) p50, same run', baseline: localP50.value },
      { bench: 'engines freshness', metric: `commit -> MCP answer p99 (n=${fresh.visible.n})`, value: fresh.visible.p99, unit: 'ms', baselineName: 'local loop (no engines) p99, same run', baseline: localP99.value },
      { bench: 'engines freshness', metric: `commit -> MCP answer p50 (n=${fresh.visible.n})`, value: fresh.visible.p50, unit: 'ms', baselineName: 'PostgreSQL round trip (SELECT 1) p50', baseline: fresh.rtt.p50 },
      { bench: 'engines freshness', metric: 'detection resolution: customer_lookup polling cycle p50', value: fresh.cycle.p50, unit: 'ms', baselineName: 'commit -> MCP answer p50', baseline: fresh.visible.p50 },
      { bench: 'engines load', metric: `highest rate held ${HOLD_S} s with bounded lag: ${load.heldRate}/s asked, reached (median lag ${load.held.firstLagMs.toFixed(0)} -> ${load.held.lastLagMs.toFixed(0)} ms, p99 ${load.held.p99LagMs.toFixed(0)} ms, ${load.held.verdict})`, value: load.held.achieved, unit: 'changes/s', baselineName: 'pgbench on the same PostgreSQL alone (2 clients)', baseline: pgbenchTps },
    ];
    for (const s of load.steps) {
      rows.push({ bench: 'engines load', metric: `step ${s.target}/s for ${s.seconds} s (reached ${s.achieved.toFixed(0)}/s, ${s.verdict}, ${s.growthMsPerS.toFixed(0)} ms/s): median lag, last third`, value: s.lastLagMs, unit: 'ms', baselineName: 'median lag, first third', baseline: s.firstLagMs });
    }
    return rows;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(e => log(`cleanup: ${(e as Error).message}`));
  }
}

/**
 * Commit-to-visible for CHANGES changes issued at FRESHNESS_RATE per second, each to a load row with no change in flight; a
 * loop looks every in-flight row up through customer_lookup until the new balance shows. Beside it, SELECT 1 round trips.
 */
async function measureFreshness(conn: ConstructorParameters<typeof Client>[0], lookup: (id: number) => Promise<number | undefined>) {
  const pg = new Client(conn);
  await pg.connect();
  const inFlight = new Map<number, { value: number; t0: bigint }>();
  const visible: number[] = [];
  const rtt: number[] = [];
  const cycles: number[] = [];
  let issued = 0;
  let done = false;
  const started = Date.now();
  try {
    const watcher = (async () => {
      while (!done || inFlight.size > 0) {
        if (Date.now() - started > 120_000) throw new Error(`freshness: ${inFlight.size} changes not visible after 120 s`);
        const c0 = process.hrtime.bigint();
        await Promise.all([...inFlight].map(async ([id, want]) => {
          if ((await lookup(id)) === want.value) {
            visible.push(Number(process.hrtime.bigint() - want.t0) / 1e6);
            inFlight.delete(id);
          }
        }));
        if (inFlight.size > 0) cycles.push(Number(process.hrtime.bigint() - c0) / 1e6);
        else await sleep(2);
      }
    })();
    for (let i = 0; i < CHANGES; i++) {
      await sleep(Math.max(0, started + (i * 1000) / FRESHNESS_RATE - Date.now()));
      const r0 = process.hrtime.bigint();
      await pg.query('SELECT 1');
      rtt.push(Number(process.hrtime.bigint() - r0) / 1e6);
      let id = LOAD_FIRST_ID + (i % 100);
      while (inFlight.has(id)) id += 100;
      const value = 1_000_000 + (++issued);
      const t0 = process.hrtime.bigint();
      await pg.query('UPDATE public.customers SET balance = $2 WHERE id = $1', [id, value]);
      inFlight.set(id, { value, t0 });
    }
    done = true;
    await watcher;
    return { visible: summarize(visible), rtt: summarize(rtt), cycle: summarize(cycles) };
  } finally {
    done = true;
    await pg.end();
  }
}

interface StepResult {
  readonly target: number;
  readonly seconds: number;
  /** The rate pgbench reached (its tps). */
  readonly achieved: number;
  readonly firstLagMs: number;
  readonly lastLagMs: number;
  readonly p99LagMs: number;
  /** Lag growth from the first to the last third, per second of step. */
  readonly growthMsPerS: number;
  readonly verdict: 'bounded' | 'growing' | 'generator-limited';
}

/**
 * pgbench issues the single-row UPDATE at `rate` per second (`-R`, 4 clients) for `seconds`; the result is the rate reached and
 * the freshness lag the sink reported for what it wrote meanwhile (first third against last third of the step).
 */
async function loadStep(conn: { port: number; password: string }, rate: number, seconds: number, lags: Array<{ at: number; lagMs: number }>): Promise<StepResult> {
  const start = Date.now();
  const achieved = await runPgbench(conn, seconds, ['-R', String(rate), '-c', '4', '-j', '2']);
  const end = Date.now();
  await sleep(1000);
  const inStep = lags.filter(l => l.at >= start && l.at <= end + 1000);
  const third = (end - start) / 3;
  // The median of the per-batch lags of a third: the poll interval and the batching window make single batches jump by up to a second.
  const median = (xs: Array<{ lagMs: number }>) => summarize(xs.map(x => x.lagMs)).p50;
  const firstLagMs = median(inStep.filter(l => l.at < start + third));
  const lastLagMs = median(inStep.filter(l => l.at >= end - third));
  const p99LagMs = summarize(inStep.map(l => l.lagMs)).p99;
  const growthMsPerS = (lastLagMs - firstLagMs) / ((2 * third) / 1000);
  // Bounded: the median lag of the last third is within 1 s (a poll interval and a batching window) of the first third's and
  // under 5 s. A step pgbench could not drive at its rate says where PostgreSQL, with the pipeline beside it, stops.
  const growing = inStep.length === 0 || !(lastLagMs <= firstLagMs + 1000) || lastLagMs >= 5000;
  const verdict = growing ? 'growing' : achieved < rate * 0.9 ? 'generator-limited' : 'bounded';
  return { target: rate, seconds, achieved, firstLagMs, lastLagMs, p99LagMs, growthMsPerS, verdict };
}

async function sustainedLoad(conn: { port: number; password: string }, lags: Array<{ at: number; lagMs: number }>) {
  const drain = async () => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      await sleep(1000);
      const recent = lags.filter(l => l.at > Date.now() - 1000);
      if (recent.length === 0 || recent.every(l => l.lagMs < 1500)) return;
    }
  };
  const steps: StepResult[] = [];
  for (const rate of RATES) {
    const s = await loadStep(conn, rate, STEP_S, lags);
    steps.push(s);
    log(`step ${rate}/s: pgbench reached ${s.achieved.toFixed(0)}/s, median lag ${s.firstLagMs} -> ${s.lastLagMs} ms (${s.verdict})`);
    await drain();
    if (s.verdict !== 'bounded') break;
  }
  // Held for a minute at the highest bounded step; when the minute shows growth the step already missed, once more one step lower.
  const bounded = steps.filter(x => x.verdict === 'bounded').map(x => x.target);
  let heldRate = bounded.pop() ?? RATES[0];
  let held = await loadStep(conn, heldRate, HOLD_S, lags);
  log(`held ${heldRate}/s for ${HOLD_S} s: reached ${held.achieved.toFixed(0)}/s, lag ${held.firstLagMs} -> ${held.lastLagMs} ms, p99 ${held.p99LagMs} ms (${held.verdict})`);
  await drain();
  const lower = bounded.pop();
  if (held.verdict === 'growing' && lower !== undefined) {
    steps.push(held);
    heldRate = lower;
    held = await loadStep(conn, heldRate, HOLD_S, lags);
    log(`held ${heldRate}/s for ${HOLD_S} s: reached ${held.achieved.toFixed(0)}/s, lag ${held.firstLagMs} -> ${held.lastLagMs} ms, p99 ${held.p99LagMs} ms (${held.verdict})`);
    await drain();
  }
  return { steps, held, heldRate };
}
