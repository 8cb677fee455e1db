// Shared pieces of the benchmarks: the example's cache view under a unique key prefix, Debezium change events for it, Redis cleanup.
import { randomUUID } from 'crypto';
import * as path from 'path';
import { buildSync, type BuildOptions } from 'esbuild';
import { Redis } from 'ioredis';
import type { CapturedRecord } from '../cli/dev/pg-capture';
import { LOCAL_CONNECTOR_VERSION } from '../cli/dev/pg-capture';
import { BUNDLE_OPTIONS } from '../constructs/common/handler-bundle';
import type { ViewConfig } from '../contract/view-config';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function benchPrefix(name: string): string {
  return `agent-data-stack-bench:${name}:${randomUUID().slice(0, 8)}:`;
}

/** The example declaration's `customer` view (bin/example.ts), with its keys under `prefix`. */
export function customerView(prefix: string): ViewConfig {
  return {
    name: 'customer',
    description: 'A customer\'s current profile, tier and balance, by customer id.',
    store: 'cache',
    topic: 'agentdata.public.customers',
    format: 'debezium',
    key: ['id'],
    fields: [
      { name: 'id', type: 'integer', description: 'Customer id' },
      { name: 'name', type: 'string' },
      { name: 'email', type: 'string' },
      { name: 'tier', type: 'keyword', description: 'standard, silver, gold or platinum' },
      { name: 'balance', type: 'number', description: 'Account balance' },
      { name: 'updated_at', type: 'timestamp' },
    ],
    sourceTable: 'public.customers',
    cache: { keyPrefix: `${prefix}customer:`, tombstoneTtlSeconds: 604800 },
  };
}

/** A Debezium update event (schemas off) for customer `id`, as the PostgreSQL connector emits it. */
export function customerChange(id: number, lsn: number, offset: number): CapturedRecord {
  const after = { id, name: `Customer ${id}`, email: `c${id}@example.com`, tier: 'gold', balance: (id % 10000) / 4, updated_at: '2026-11-28T00:00:00.000000Z' };
  return {
    topic: 'agentdata.public.customers', partition: 0, offset, timestamp: Date.now(), key: { id },
    value: {
      before: null, after, op: 'u', ts_ms: Date.now(), transaction: null,
      source: {
        version: LOCAL_CONNECTOR_VERSION, connector: 'postgresql', name: 'agentdata', ts_ms: Date.now(), snapshot: 'false',
        db: 'shop', schema: 'public', table: 'customers', txId: 1000 + offset, lsn, xmin: null,
      },
    },
  };
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

const ROOT = path.join(__dirname, '..');

/** A handler bundled like AgentFunction's (esbuild, CJS, node24, minified, AWS SDK v3 external): an entry file or inline source. */
export function bundleHandler(entry: string | { contents: string }, outfile: string, overrides: BuildOptions = {}): void {
  buildSync({
    // The options the shipped bundles are built with (constructs/common/handler-bundle.ts), so the figures are theirs.
    ...BUNDLE_OPTIONS, metafile: false, absWorkingDir: ROOT,
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, loader: 'ts' as const, resolveDir: ROOT } }),
    outfile, ...overrides,
  });
}

/** The environment a bundle runs in a child process: the AWS SDK from the repo's node_modules (as the runtime provides it), a Region. */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), AWS_REGION: 'us-east-1', ...env };
}

/** A handler's cache settings for the local Redis (no TLS, no auth). */
export function localCacheEnv(url = REDIS_URL): Record<string, string> {
  const u = new URL(url);
  return { AGENT_CACHE_ENDPOINT: u.hostname, AGENT_CACHE_PORT: u.port || '6379', AGENT_CACHE_TLS: 'false', AGENT_CACHE_AUTH: 'none' };
}

/**
 * JavaScript for a child process's own peak RSS in MiB: VmHWM, not resourceUsage().maxRSS, which on Linux carries the forking
 * process's high-water mark across the child's fork and exec.
 */
export const PEAK_RSS_MIB_JS = 'Number(/VmHWM:\\s*(\\d+)/.exec(require("fs").readFileSync("/proc/self/status","utf8"))[1])/1024';
