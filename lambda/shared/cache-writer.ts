// Order- and replay-safe cache writes: EVALSHA calls to a Lua script that applies each row only if its version is newer, each written to the socket as soon as its rows are built.
import { createHash } from 'crypto';
import { Cluster, Command, type Redis } from 'ioredis';
import type { CacheConnection } from './cache-client';
import { CACHE_FIELDS, cacheKey, paddedVersion, type StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { StoreUnavailableError, type RecordFailure, type WriteResult } from './write-result';

/**
 * KEYS: the row keys, in the batch's order. ARGV[1] row TTL seconds ('0' = none), ARGV[2] tombstone TTL seconds,
 * ARGV[3] one character per row, '1' for a delete and '0' for a write, then per row i (1-based) ARGV[2i+2] padded
 * version and ARGV[2i+3] StoredRecord JSON.
 * Returns one character per row, '1' when applied and '0' when the stored version is equal or newer, as one string:
 * a bulk string costs the client one reply to parse where an array of integers costs it one per row. Rows are applied
 * in order, so two changes of one key in a batch behave as two calls would.
 * Versions are zero-padded to 20 digits so string comparison is numeric comparison (Lua numbers are doubles).
 * A delete keeps a tombstone hash (version + the record with a null row) with a TTL so a late, older update
 * cannot resurrect the row; a later write replaces the tombstone and clears its TTL. A key that did not exist has
 * no TTL to clear, so PERSIST is sent only when the key held a version (one call fewer per new row).
 * Many rows per call amortize the script invocation, which costs more on the server than the row's own
 * HGET/HSET; cluster-mode caches get one row per call, since a script's keys must share a hash slot. The delete
 * flags travel as one string per call rather than one argument per row: an argument costs the client its framing
 * and the server its parsing, a byte of a string costs neither.
 */
export const APPLY_ROW_SCRIPT = `
local rowTtl = tonumber(ARGV[1])
local tombTtl = tonumber(ARGV[2])
local deletes = ARGV[3]
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local a = 2 * i + 2
  local current = redis.call('HGET', key, '${CACHE_FIELDS.version}')
  if current and current >= ARGV[a] then
    out[i] = '0'
  else
    redis.call('HSET', key, '${CACHE_FIELDS.version}', ARGV[a], '${CACHE_FIELDS.record}', ARGV[a + 1])
    if string.byte(deletes, i) == 49 then
      redis.call('EXPIRE', key, tombTtl)
    elseif rowTtl ~= 0 then
      redis.call('EXPIRE', key, rowTtl)
    elseif current then
      redis.call('PERSIST', key)
    end
    out[i] = '1'
  end
end
return table.concat(out)
`;

export const APPLY_ROW_SHA = createHash('sha1').update(APPLY_ROW_SCRIPT).digest('hex');

/** Default tombstone lifetime when a view does not say (7 days: Kafka's default retention). */
export const DEFAULT_TOMBSTONE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Rows per EVALSHA on a single-node (cluster mode disabled) cache. Each call is written as soon as its rows are
 * ready, so the server runs one while the next is built, and a script blocks the server only for a fraction of a
 * millisecond (a few microseconds a row) however large the batch. 50 rather than 100: a batch of 100 records is then
 * two calls, and the sink waits only for the second call's rows after building it, not for all 100 (see "Fourth
 * pass" in docs/PERFORMANCE.md). Cluster-mode caches send one row per call.
 */
export const ROWS_PER_CALL = 50;

function isNoScript(err: unknown): boolean {
  return err instanceof Error && /NOSCRIPT/.test(err.message);
}

/** Loads the script on every primary (cluster) or the one server; SCRIPT LOAD is idempotent. */
async function loadScript(redis: CacheConnection): Promise<void> {
  const targets: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  await Promise.all(targets.map(n => n.script('LOAD', APPLY_ROW_SCRIPT)));
}

type Settled = PromiseSettledResult<unknown>;

/**
 * Sends one EVALSHA and settles it at once, so a failed call never counts as an unhandled rejection while later calls
 * are built. On a single node the call bypasses ioredis' auto-pipelining and is written to the socket now: an
 * auto-pipelining client keeps one pipeline in flight per connection and queues every later command until that
 * pipeline's replies are in, so a batch's second call would wait for its first call's round trip before it left the
 * client. Commands on one connection are applied in the order written, so the batch's rows keep their order on the
 * normal path; a call re-sent after NOSCRIPT or a reconnect can land after a later one, which the script's version
 * check makes harmless. The command carries the client's `keyPrefix`, as ioredis' own `evalsha` does. A cluster client
 * keeps auto-pipelining, which groups the one-row calls per shard.
 * `args` is the whole command after its name: the script's SHA, the number of keys as a string, the keys, then ARGV.
 */
function evalRows(redis: CacheConnection, args: string[]): Promise<Settled> {
  const sent = redis instanceof Cluster
    ? redis.evalsha(args[0], args[1], args.slice(2))
    : redis.sendCommand(evalCommand(args, redis.options.keyPrefix)) as Promise<unknown>;
  return sent.then(
    value => ({ status: 'fulfilled' as const, value }),
    (reason: unknown) => ({ status: 'rejected' as const, reason }),
  );
}

/**
 * The EVALSHA command of `args` (strings only, already in the command's layout). ioredis' Command constructor copies its
 * arguments with `Array.prototype.flat` and checks each one's type, which on the ~150 arguments of a 50-row call cost
 * more than building them (see "Fifth pass" in docs/PERFORMANCE.md): the command is made with no arguments and given
 * `args` as they are, which is what the constructor would have stored. A client with a `keyPrefix` (none of this
 * library's) goes through the constructor, which prefixes the keys.
 */
export function evalCommand(args: string[], keyPrefix?: string): Command {
  if (keyPrefix) return new Command('evalsha', args, { replyEncoding: 'utf8', keyPrefix });
  const command = new Command('evalsha', [], { replyEncoding: 'utf8' });
  command.args = args;
  return command;
}

/** Lets the auto-pipelining cluster client (which flushes on setImmediate) put the calls queued so far on the wire. */
const yieldToSocket = () => new Promise<void>(resolve => setImmediate(resolve));
/** One-row calls a cluster client queues between two turns of the event loop (its auto-pipeline sends them at each turn). */
const CLUSTER_CALLS_PER_YIELD = 100;

/**
 * Writes one view's records. Each EVALSHA call is written as soon as its rows are built (cluster-mode caches: queued
 * on the auto-pipelining client, which sends each shard's calls together), so the server applies the first rows
 * while the rest are encoded. NOSCRIPT (a new or flushed node) loads the script once and re-sends only those
 * calls, which is safe because the script is idempotent. Connection and server errors throw StoreUnavailableError
 * so the sink fails the batch.
 */
export async function writeCacheBatch(redis: CacheConnection, view: ViewConfig, records: readonly StoredRecord[]): Promise<WriteResult> {
  const cache = view.cache;
  const failed: RecordFailure[] = [];
  // Per view, not per row: the TTL arguments and the call layout.
  const rowTtl = String(cache?.ttlSeconds ?? 0);
  const tombstoneTtl = String(cache?.tombstoneTtlSeconds ?? DEFAULT_TOMBSTONE_TTL_SECONDS);
  const cluster = redis instanceof Cluster;
  const perCall = cluster ? 1 : ROWS_PER_CALL;
  const calls: { rows: number; args: string[] }[] = [];
  const pending: Promise<Settled>[] = [];
  // The call's whole argument list is built in `args` (the SHA, the number of keys once known, the keys), the row
  // versions and records in `argv` until the call is sent.
  let args: string[] = [APPLY_ROW_SHA, ''];
  let argv: string[] = [];
  let deletes = '';
  const flush = async () => {
    const rows = args.length - 2;
    if (rows === 0) return;
    args[1] = String(rows);
    args.push(rowTtl, tombstoneTtl, deletes);
    for (let i = 0; i < argv.length; i++) args.push(argv[i]);
    calls.push({ rows, args });
    pending.push(evalRows(redis, args));
    args = [APPLY_ROW_SHA, ''];
    argv = [];
    deletes = '';
    // A single node's call is on the wire already; a cluster's go out when its auto-pipeline runs.
    if (cluster && calls.length % CLUSTER_CALLS_PER_YIELD === 0) await yieldToSocket();
  };
  const keyPrefix = cache?.keyPrefix;
  for (const record of records) {
    let key: string;
    let version: string;
    try {
      if (keyPrefix === undefined) throw new Error(`view '${view.name}' has no cache options`);
      key = cacheKey(keyPrefix, view.key, record.provenance.key);
      version = paddedVersion(record.provenance.version);
    } catch (e) {
      failed.push({ record, error: (e as Error).message });
      continue;
    }
    args.push(key);
    argv.push(version, JSON.stringify(record));
    deletes += record.row === null ? '1' : '0';
    if (args.length - 2 === perCall) await flush();
  }
  await flush();

  let results = await Promise.all(pending);
  const missing = calls.filter((_, i) => results[i].status === 'rejected' && isNoScript((results[i] as PromiseRejectedResult).reason));
  if (missing.length > 0) {
    try {
      await loadScript(redis);
    } catch (e) {
      throw new StoreUnavailableError(`cache unavailable while loading the write script: ${(e as Error).message}`, e);
    }
    const retried = await Promise.all(missing.map(c => evalRows(redis, c.args)));
    let j = 0;
    results = results.map((r, i) => (r.status === 'rejected' && isNoScript(r.reason) && calls[i] === missing[j] ? retried[j++] : r));
  }
  let written = 0;
  let stale = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r.status === 'rejected') {
      // A reply or connection error is a store problem, not a record problem: fail the whole batch.
      throw new StoreUnavailableError(`cache write failed for view '${view.name}': ${(r.reason as Error).message}`, r.reason);
    }
    const applied = r.value;
    if (typeof applied !== 'string' || applied.length !== calls[i].rows || !/^[01]*$/.test(applied)) {
      throw new StoreUnavailableError(`cache write for view '${view.name}' returned ${JSON.stringify(applied)} for ${calls[i].rows} row(s)`);
    }
    for (let c = 0; c < applied.length; c++) {
      if (applied.charCodeAt(c) === 49) written += 1;
      else stale += 1;
    }
  }
  return { written, stale, failed };
}

/** Reads the stored record of a key (what the MCP server serves), or undefined. Tombstones come back with `row: null`. */
export async function readCacheRecord(redis: CacheConnection, view: ViewConfig, key: Record<string, unknown>): Promise<StoredRecord | undefined> {
  const raw = await redis.hget(cacheKey(view.cache!.keyPrefix, view.key, key), CACHE_FIELDS.record);
  return raw === null ? undefined : JSON.parse(raw) as StoredRecord;
}
