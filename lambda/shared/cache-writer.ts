// Order- and replay-safe cache writes: one pipelined round trip per batch of EVALSHA calls to a Lua script that applies a row only if its version is newer.
import { createHash } from 'crypto';
import { Cluster, type Redis } from 'ioredis';
import type { CacheConnection } from './cache-client';
import { CACHE_FIELDS, cacheKey, paddedVersion, type StoredRecord } from './stored-record';
import type { ViewConfig } from './view-config';
import { StoreUnavailableError, type RecordFailure, type WriteResult } from './write-result';

/**
 * KEYS[1] the row key. ARGV: padded version, StoredRecord JSON, delete flag ('1'/'0'), row TTL seconds
 * ('0' = none), tombstone TTL seconds. Returns 1 when applied, 0 when the stored version is equal or newer.
 * Versions are zero-padded to 20 digits so string comparison is numeric comparison (Lua numbers are doubles).
 * A delete keeps a tombstone hash (version + the record with a null row) with a TTL so a late, older update
 * cannot resurrect the row; a later write replaces the tombstone and clears its TTL.
 */
export const APPLY_ROW_SCRIPT = `
local current = redis.call('HGET', KEYS[1], '${CACHE_FIELDS.version}')
if current and current >= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '${CACHE_FIELDS.version}', ARGV[1], '${CACHE_FIELDS.record}', ARGV[2])
if ARGV[3] == '1' then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
elseif ARGV[4] ~= '0' then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
else
  redis.call('PERSIST', KEYS[1])
end
return 1
`;

export const APPLY_ROW_SHA = createHash('sha1').update(APPLY_ROW_SCRIPT).digest('hex');

/** Default tombstone lifetime when a view does not say (7 days: Kafka's default retention). */
export const DEFAULT_TOMBSTONE_TTL_SECONDS = 7 * 24 * 3600;

function isNoScript(err: unknown): boolean {
  return err instanceof Error && /NOSCRIPT/.test(err.message);
}

function scriptArgs(view: ViewConfig, record: StoredRecord): [string, string, string, string, string, string] {
  const cache = view.cache;
  if (!cache) throw new Error(`view '${view.name}' has no cache options`);
  const key = cacheKey(cache.keyPrefix, view.key, record.provenance.key);
  return [
    key,
    paddedVersion(record.provenance.version),
    JSON.stringify(record),
    record.row === null ? '1' : '0',
    String(cache.ttlSeconds ?? 0),
    String(cache.tombstoneTtlSeconds ?? DEFAULT_TOMBSTONE_TTL_SECONDS),
  ];
}

/** Loads the script on every primary (cluster) or the one server; SCRIPT LOAD is idempotent. */
async function loadScript(redis: CacheConnection): Promise<void> {
  const targets: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  await Promise.all(targets.map(n => n.script('LOAD', APPLY_ROW_SCRIPT)));
}

/**
 * Writes one view's records. The EVALSHA calls are issued together on an auto-pipelining client, so the
 * batch is one round trip (per shard, in parallel, for cluster-mode caches). NOSCRIPT (a new or flushed
 * node) loads the script once and re-sends only those calls, which is safe because the script is idempotent.
 * Connection and server errors throw StoreUnavailableError so the sink fails the batch.
 */
export async function writeCacheBatch(redis: CacheConnection, view: ViewConfig, records: readonly StoredRecord[]): Promise<WriteResult> {
  const failed: RecordFailure[] = [];
  const prepared: { record: StoredRecord; args: ReturnType<typeof scriptArgs> }[] = [];
  for (const record of records) {
    try {
      prepared.push({ record, args: scriptArgs(view, record) });
    } catch (e) {
      failed.push({ record, error: (e as Error).message });
    }
  }
  const send = (items: typeof prepared) => Promise.allSettled(
    items.map(({ args: [key, ...argv] }) => redis.evalsha(APPLY_ROW_SHA, 1, key, ...argv)),
  );
  let results = await send(prepared);
  const missing = prepared.filter((_, i) => results[i].status === 'rejected' && isNoScript((results[i] as PromiseRejectedResult).reason));
  if (missing.length > 0) {
    try {
      await loadScript(redis);
    } catch (e) {
      throw new StoreUnavailableError(`cache unavailable while loading the write script: ${(e as Error).message}`, e);
    }
    const retried = await send(missing);
    let j = 0;
    results = results.map((r, i) => (r.status === 'rejected' && isNoScript(r.reason) && prepared[i] === missing[j] ? retried[j++] : r));
  }
  let written = 0;
  let stale = 0;
  for (const r of results) {
    if (r.status === 'rejected') {
      // A reply or connection error is a store problem, not a record problem: fail the whole batch.
      throw new StoreUnavailableError(`cache write failed for view '${view.name}': ${(r.reason as Error).message}`, r.reason);
    }
    if (Number(r.value) === 1) written += 1;
    else stale += 1;
  }
  return { written, stale, failed };
}

/** Reads the stored record of a key (what the MCP server serves), or undefined. Tombstones come back with `row: null`. */
export async function readCacheRecord(redis: CacheConnection, view: ViewConfig, key: Record<string, unknown>): Promise<StoredRecord | undefined> {
  const raw = await redis.hget(cacheKey(view.cache!.keyPrefix, view.key, key), CACHE_FIELDS.record);
  return raw === null ? undefined : JSON.parse(raw) as StoredRecord;
}
