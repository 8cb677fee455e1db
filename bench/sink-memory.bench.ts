// The sink's memory in fresh Node.js processes, one batch each, as a cold Lambda container runs it: the bundle loads, the MSK event
// is held as the runtime holds it (the payload text and the parsed object) and the handler writes the batch into the local Redis.
// Batches: the synthesized mapping's BatchSize of the example cache view's records, typical and as large as the 6 MB invocation
// payload lets them be, and the same payload spread over Lambda's maximum BatchSize; then the smallest V8 heap
// (--max-old-space-size) the largest batch completes in. The figures choose the sink's memory per profile (docs/PERFORMANCE.md).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Redis } from 'ioredis';
import { eventSourceFor } from '../cli/dev/engines/msk-event-source';
import { synthesizeExample } from '../cli/dev/engines/pipeline';
import type { MskEvent } from '../lambda/shared/envelope';
import { benchPrefix, bundleHandler, childEnv, customerChange, deletePrefix, localCacheEnv, PEAK_RSS_MIB_JS, REDIS_URL } from './fixtures';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');
const RUNS = 3;
/** Lambda's synchronous invocation payload limit: no batch is larger, whatever BatchSize says (Lambda quotas). */
const PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** Lambda's largest BatchSize for Amazon MSK. */
const MAX_BATCH_SIZE = 10_000;
const HEAP_PROBES_MB = [16, 24, 32, 48, 64, 96, 128];

interface ChildFigures { maxRssMiB: number; heapUsedMiB: number; batchMs: number; batchCpuMs: number; written: number }

/** The MSK event of `count` customer updates whose `name` is padded to `padBytes`. */
function batchEvent(count: number, padBytes: number): MskEvent {
  const records = Array.from({ length: count }, (_, i) => {
    const c = customerChange(1 + i, 10_000_000 + i, i);
    const after = { ...(c.value as { after: Record<string, unknown> }).after, name: `Customer ${1 + i} ${'x'.repeat(padBytes)}` };
    // REPLICA IDENTITY FULL: `before` carries the whole old row, the largest envelope Debezium writes for an update.
    const value = { ...(c.value as object), before: after, after };
    return {
      topic: c.topic, partition: 0, offset: i, timestamp: Date.now(), timestampType: 'CREATE_TIME' as const,
      key: Buffer.from(JSON.stringify(c.key)).toString('base64'), value: Buffer.from(JSON.stringify(value)).toString('base64'), headers: [],
    };
  });
  return { eventSource: 'aws:kafka', eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/bench/1', bootstrapServers: 'b-1:9098', records: { [`${records[0].topic}-0`]: records } };
}

/** The largest padding for which `count` records still fit the 6 MB payload. */
function padForPayload(count: number): number {
  let lo = 0;
  let hi = Math.ceil(PAYLOAD_LIMIT / count);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (JSON.stringify(batchEvent(count, mid)).length <= PAYLOAD_LIMIT - 16 * 1024) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Runs the bundle's handler on the event file in a new process (optionally with a V8 heap cap); figures read after the batch. */
function runChild(bundle: string, eventFile: string, env: Record<string, string>, heapMb?: number): ChildFigures | { failed: string } {
  const script = `const fs=require('fs');const m=require(${JSON.stringify(bundle)});`
    + `const text=fs.readFileSync(${JSON.stringify(eventFile)},'utf8');const event=JSON.parse(text);`
    + 'const c0=process.cpuUsage();const t0=process.hrtime.bigint();'
    + 'm.handler(event,{awsRequestId:"bench"}).then(async s=>{const t1=process.hrtime.bigint();const c=process.cpuUsage(c0);'
    + `const out={maxRssMiB:${PEAK_RSS_MIB_JS},heapUsedMiB:process.memoryUsage().heapUsed/1048576,batchMs:Number(t1-t0)/1e6,batchCpuMs:(c.user+c.system)/1000,written:s.written};`
    + 'text.length;await m.close();process.stdout.write("\\n"+JSON.stringify(out))}).catch(e=>{console.error(e);process.exit(1)})';
  const args = [...(heapMb ? [`--max-old-space-size=${heapMb}`] : []), '-e', script];
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024,
    env: childEnv({ AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', ...env }),
  });
  if (r.status !== 0) return { failed: `${r.signal ?? r.status}: ${(r.stderr ?? '').split('\n').filter(l => /heap|memory|Error/i.test(l)).slice(0, 2).join(' ') || (r.stderr ?? '').slice(-200)}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export async function sinkMemoryBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sink-memory-'));
  const prefix = benchPrefix('sink-memory');
  const redis = new Redis(REDIS_URL);
  try {
    // The example as deployed: its cache view and the BatchSize of the mapping that reads it.
    const { template, views } = synthesizeExample();
    const declared = views.find(v => v.store === 'cache')!;
    const view = { ...declared, cache: { ...declared.cache!, keyPrefix: `${prefix}${declared.cache!.keyPrefix}` } };
    const batchSize = eventSourceFor(template, view.topic).batchSize;

    const bundle = path.join(dir, 'sink.js');
    const empty = path.join(dir, 'empty.js');
    bundleHandler(path.join(ROOT, 'lambda/sink/index.ts'), bundle);
    bundleHandler({ contents: 'export const handler = async () => ({ received: 0 }); export const close = async () => undefined;' }, empty);
    const env = {
      AGENT_VIEWS: JSON.stringify([view]), ...localCacheEnv(), AGENT_SINK_DLQ_KIND: 's3', AGENT_SINK_DLQ_TARGET: 'bench-dead-letters',
      POWERTOOLS_SERVICE_NAME: 'bench', POWERTOOLS_METRICS_NAMESPACE: 'Bench', POWERTOOLS_LOG_LEVEL: 'ERROR',
    };

    const largestPad = padForPayload(batchSize);
    let mostRecords = batchSize;
    for (let hi = MAX_BATCH_SIZE; mostRecords < hi;) {
      const mid = Math.ceil((mostRecords + hi) / 2);
      if (JSON.stringify(batchEvent(mid, 0)).length <= PAYLOAD_LIMIT - 16 * 1024) mostRecords = mid;
      else hi = mid - 1;
    }
    const cases = [
      { name: `${batchSize} records (BatchSize), typical`, count: batchSize, pad: 0 },
      { name: `${batchSize} records (BatchSize), each as large as the 6 MB payload allows`, count: batchSize, pad: largestPad },
      { name: `${mostRecords} records (the most of this view's smallest records the 6 MB payload holds; BatchSize can be up to ${MAX_BATCH_SIZE})`, count: mostRecords, pad: 0 },
    ];
    const rows: BenchRow[] = [];
    const emptyFile = path.join(dir, 'empty-event.json');
    fs.writeFileSync(emptyFile, '{}');
    const baseline = summarize(Array.from({ length: RUNS }, () => {
      const r = runChild(empty, emptyFile, {});
      if ('failed' in r) throw new Error(`empty handler failed: ${r.failed}`);
      return r.maxRssMiB;
    })).p50;
    let largestFile = '';
    for (const c of cases) {
      const file = path.join(dir, `event-${c.count}-${c.pad}.json`);
      const text = JSON.stringify(batchEvent(c.count, c.pad));
      fs.writeFileSync(file, text);
      if (c.pad === largestPad && c.count === batchSize) largestFile = file;
      const runs: ChildFigures[] = [];
      for (let i = 0; i < RUNS; i++) {
        // Every run writes every record (a run after another would find them current and skip them as stale).
        await deletePrefix(redis, prefix);
        const r = runChild(bundle, file, env);
        if ('failed' in r) throw new Error(`${c.name}: the sink failed: ${r.failed}`);
        if (r.written !== c.count) throw new Error(`${c.name}: the sink wrote ${r.written} of ${c.count} records`);
        runs.push(r);
      }
      const label = `${c.name}: ${(text.length / 1048576).toFixed(2)} MiB event, ≈ ${(text.length / c.count / 1024).toFixed(1)} KiB per record`;
      rows.push(
        { bench: 'sink memory', metric: `peak RSS, ${label}, p50 of ${RUNS}`, value: summarize(runs.map(r => r.maxRssMiB)).p50, unit: 'MiB', baselineName: 'empty handler peak RSS', baseline },
        { bench: 'sink memory', metric: `batch CPU, ${c.name}, p50 of ${RUNS}`, value: summarize(runs.map(r => r.batchCpuMs)).p50, unit: 'ms', baselineName: 'batch wall time p50', baseline: summarize(runs.map(r => r.batchMs)).p50 },
      );
    }
    // The smallest V8 old-space cap under which the largest BatchSize batch still completes: how much of the RSS the heap needs.
    let fits: number | undefined;
    for (const mb of HEAP_PROBES_MB) {
      await deletePrefix(redis, prefix);
      if (!('failed' in runChild(bundle, largestFile, env, mb))) {
        fits = mb;
        break;
      }
    }
    if (fits === undefined) throw new Error(`the largest batch did not complete under --max-old-space-size=${HEAP_PROBES_MB[HEAP_PROBES_MB.length - 1]}`);
    rows.push({ bench: 'sink memory', metric: `smallest --max-old-space-size (of ${HEAP_PROBES_MB.join(', ')}) the largest ${batchSize}-record batch completes in`, value: fits, unit: 'MB', baselineName: 'empty handler peak RSS', baseline });
    return rows;
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  sinkMemoryBench().then(rows => {
    for (const r of rows) console.log(`${r.bench} | ${r.metric} | ${r.value.toFixed(1)} ${r.unit} | ${r.baselineName} ${r.baseline.toFixed(1)}`);
  }).catch(e => {
    console.error(e);
    process.exit(1);
  });
}
