// The versioned cache writer against the real Redis: fixtures converge to the source's state, replays and reorderings converge, tombstones hold, NOSCRIPT recovers.
import { Redis } from 'ioredis';
import { decodeRecord, type MskEventRecord } from '../../lambda/shared/envelope';
import { APPLY_ROW_SCRIPT, APPLY_ROW_SHA, readCacheRecord, ROWS_PER_CALL, writeCacheBatch } from '../../lambda/shared/cache-writer';
import { cacheKey, CACHE_FIELDS, type StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { StoreUnavailableError } from '../../lambda/shared/write-result';
import { b64, deletePrefix, fixtureLines, fixtureRecords, PrivateRedis, productsView, REDIS_PORT, uniquePrefix } from './helpers';
import { mulberry32 } from '../helpers/random';

let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis({ port: REDIS_PORT, enableAutoPipelining: true, lazyConnect: false });
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
});

function newView(name: string, overrides: Partial<ViewConfig> = {}): ViewConfig {
  const keyPrefix = uniquePrefix(name);
  prefixes.push(keyPrefix);
  return productsView({ keyPrefix, ...overrides });
}

function decodeAll(view: ViewConfig, recs: MskEventRecord[]): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const r of recs) {
    const d = decodeRecord(view, r, { nowMs: 1 });
    if (d.kind === 'write') out.push(d.record);
  }
  return out;
}

/** The source's final state: every change applied in log order. */
function sourceState(file: string): Map<number, Record<string, unknown> | null> {
  const state = new Map<number, Record<string, unknown> | null>();
  let lastDeleted: number | undefined;
  for (const line of fixtureLines(file)) {
    const p = 'payload' in line && 'schema' in line ? line.payload : line;
    if (p.op === 'd') {
      const id = p.before?.id ?? lastDeleted ?? 111;
      state.set(id, null);
    } else {
      state.set(p.after.id, p.after);
      lastDeleted = undefined;
    }
  }
  return state;
}

async function storedRows(view: ViewConfig, ids: number[]): Promise<Map<number, Record<string, unknown> | null | undefined>> {
  const out = new Map<number, Record<string, unknown> | null | undefined>();
  for (const id of ids) out.set(id, (await readCacheRecord(redis, view, { id }))?.row);
  return out;
}

describe.each([
  ['postgres-products.jsonl', [] as number[]],
  ['postgres-products-replica-identity-default.jsonl', [111]],
  ['mysql-products-schema-include.jsonl', [] as number[]],
])('fixture %s', (file, deleteKeys) => {
  test('ends in the state the source had, also when replayed twice and backwards', async () => {
    const view = newView('fixture');
    const recs = fixtureRecords(file, view.topic, deleteKeys);
    const records = decodeAll(view, recs);
    const first = await writeCacheBatch(redis, view, records);
    expect(first.failed).toEqual([]);
    const expected = sourceState(file);
    const ids = [...expected.keys()];
    const check = async () => {
      const stored = await storedRows(view, ids);
      for (const id of ids) {
        const want = expected.get(id);
        if (want === null) expect(stored.get(id)).toBeNull(); // a tombstone
        else expect(stored.get(id)).toEqual(want);
      }
    };
    await check();
    // Kafka redelivers: the same batch again is all stale, and the reversed stream changes nothing.
    const again = await writeCacheBatch(redis, view, records);
    expect(again).toEqual({ written: 0, stale: records.length, failed: [] });
    await writeCacheBatch(redis, view, [...records].reverse());
    await check();
  });
});

test('the deleted fixture row is a tombstone with the view\'s tombstone TTL, and a live row has no TTL', async () => {
  const view = newView('tomb');
  await writeCacheBatch(redis, view, decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic)));
  const deletedKey = cacheKey(view.cache!.keyPrefix, view.key, { id: 111 });
  const ttl = await redis.ttl(deletedKey);
  expect(ttl).toBeGreaterThan(3500);
  expect(ttl).toBeLessThanOrEqual(3600);
  expect(await redis.hget(deletedKey, CACHE_FIELDS.version)).toBe('00000000000034133800');
  expect(await redis.ttl(cacheKey(view.cache!.keyPrefix, view.key, { id: 110 }))).toBe(-1);
});

test('a late older update cannot resurrect a deleted row; a newer insert replaces the tombstone and clears its TTL', async () => {
  const view = newView('resurrect');
  const upd = (id: number, lsn: number, name: string) => ({ topic: view.topic, partition: 0, offset: lsn, key: b64({ id }), value: b64({ op: 'u', after: { id, name }, source: { lsn, ts_ms: lsn, db: 'd', schema: 's', table: 't' } }) });
  const del = (id: number, lsn: number) => ({ topic: view.topic, partition: 0, offset: lsn, key: b64({ id }), value: b64({ op: 'd', before: { id }, after: null, source: { lsn, ts_ms: lsn, db: 'd', schema: 's', table: 't' } }) });
  const key = cacheKey(view.cache!.keyPrefix, view.key, { id: 1 });
  await writeCacheBatch(redis, view, decodeAll(view, [del(1, 20)]));
  expect(await writeCacheBatch(redis, view, decodeAll(view, [upd(1, 10, 'old')]))).toEqual({ written: 0, stale: 1, failed: [] });
  expect((await readCacheRecord(redis, view, { id: 1 }))?.row).toBeNull();
  await writeCacheBatch(redis, view, decodeAll(view, [upd(1, 30, 'new')]));
  expect((await readCacheRecord(redis, view, { id: 1 }))?.row).toMatchObject({ name: 'new' });
  expect(await redis.ttl(key)).toBe(-1);
});

test('a view TTL expires live rows', async () => {
  const view = newView('ttl');
  const withTtl = { ...view, cache: { ...view.cache!, ttlSeconds: 120 } };
  await writeCacheBatch(redis, withTtl, decodeAll(withTtl, fixtureRecords('postgres-products.jsonl', view.topic).slice(0, 1)));
  const ttl = await redis.ttl(cacheKey(view.cache!.keyPrefix, view.key, { id: 101 }));
  expect(ttl).toBeGreaterThan(100);
  expect(ttl).toBeLessThanOrEqual(120);
});

test('NOSCRIPT after a SCRIPT FLUSH: the script is loaded once and the batch still applies', async () => {
  // A private server: flushing scripts on the shared one would disturb other suites.
  const server = new PrivateRedis();
  await server.start();
  const own = new Redis({ port: server.port, enableAutoPipelining: true });
  try {
    const view = newView('noscript');
    await own.script('FLUSH');
    expect(await own.script('EXISTS', APPLY_ROW_SHA)).toEqual([0]);
    const result = await writeCacheBatch(own, view, decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic)));
    expect(result.written).toBe(16);
    expect(await own.script('EXISTS', APPLY_ROW_SHA)).toEqual([1]);
  } finally {
    own.disconnect();
    await server.stop();
  }
});

test('the script answers one status character per row: written and stale counted from it, any other reply fails the batch', async () => {
  const view = newView('reply');
  const records = decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic)).slice(0, 3);
  expect(await writeCacheBatch(redis, view, records)).toMatchObject({ written: 3, stale: 0 });
  // Loaded by the batch above if it was not already: no rows, an empty status string.
  expect(await redis.evalsha(APPLY_ROW_SHA, 0, '0', '0', '')).toBe('');
  expect(await writeCacheBatch(redis, view, records)).toMatchObject({ written: 0, stale: 3 });
  // The array of integers earlier versions of the script answered, and a string of the wrong length, are refused.
  for (const reply of [[1, 1, 1], '11', '1x1']) {
    const stub = { sendCommand: async () => reply, options: {} } as unknown as Redis;
    await expect(writeCacheBatch(stub, view, records)).rejects.toThrow(new RegExp(`returned ${JSON.stringify(reply).replace(/[[\]]/g, '\\$&')} for 3 row\\(s\\)`));
  }
});

test('each call is written to the socket as soon as its rows are built, not held until an earlier call is answered', async () => {
  // While the server is paused no call is answered. An auto-pipelining client keeps one pipeline in flight and queues
  // every later command until that pipeline's replies are in: only the first call would reach the socket.
  const view = newView('inflight');
  const base = decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic)).filter(r => r.row !== null)[0];
  const records: StoredRecord[] = Array.from({ length: 3 * ROWS_PER_CALL }, (_, i) => ({
    ...base, provenance: { ...base.provenance, key: { id: 10_000 + i } }, row: { ...base.row, id: 10_000 + i },
  }));
  // A private server: pausing the shared one would stall other suites.
  const server = new PrivateRedis();
  await server.start();
  const own = new Redis({ port: server.port, enableAutoPipelining: true });
  const admin = new Redis({ port: server.port });
  try {
    await own.script('LOAD', APPLY_ROW_SCRIPT);
    const stream = (own as unknown as { stream: { write: (chunk: unknown, ...rest: unknown[]) => boolean } }).stream;
    const written: string[] = [];
    const write = stream.write.bind(stream);
    stream.write = (chunk: unknown, ...rest: unknown[]) => {
      written.push(String(chunk));
      return write(chunk, ...rest);
    };
    // The server holds every write command (the script writes) until UNPAUSE, which it still takes while paused: no call
    // can be answered before it, on a machine of any speed (no clock involved).
    await admin.client('PAUSE', 120_000, 'WRITE');
    let answered = false;
    // One batch of three calls, then three slices of one call each, each started in a later turn of the event loop (as
    // processBatch hands the writer a slice, then yields): an auto-pipelining client sends the first turn's commands
    // together, and queues later turns' commands until that pipeline is answered, which the paused server never does.
    const batch = writeCacheBatch(own, view, records).finally(() => { answered = true; });
    const turn = () => new Promise(resolve => setTimeout(resolve, 20));
    await turn();
    const slices: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      const slice = records.slice(i * ROWS_PER_CALL, (i + 1) * ROWS_PER_CALL).map(r => ({ ...r, provenance: { ...r.provenance, key: { id: 20_000 + Number(r.provenance.key.id) } } }));
      slices.push(writeCacheBatch(own, view, slice).finally(() => { answered = true; }));
      await turn();
    }
    await new Promise(resolve => setTimeout(resolve, 100));
    const sentWhilePaused = written.join('').split(APPLY_ROW_SHA).length - 1;
    expect(answered).toBe(false);
    await admin.client('UNPAUSE');
    const result = await batch;
    const sliced = await Promise.all(slices);
    expect(sentWhilePaused).toBe(6);
    expect(result).toMatchObject({ written: 3 * ROWS_PER_CALL, stale: 0 });
    expect(sliced).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ written: ROWS_PER_CALL, stale: 0 })));
  } finally {
    own.disconnect();
    admin.disconnect();
    await server.stop();
  }
});

test('a client with a keyPrefix writes under it, as ioredis\' own commands read', async () => {
  const view = newView('kp');
  const records = decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic));
  const prefixed = new Redis({ port: REDIS_PORT, keyPrefix: 'kp-test:' });
  try {
    expect((await writeCacheBatch(prefixed, view, records)).written).toBe(16);
    const live = records.find(r => r.row !== null)!;
    expect(await readCacheRecord(prefixed, view, live.provenance.key)).toMatchObject({ row: live.row });
    expect(await redis.exists(`kp-test:${cacheKey(view.cache!.keyPrefix, view.key, live.provenance.key)}`)).toBe(1);
  } finally {
    await deletePrefix(redis, `kp-test:${view.cache!.keyPrefix}`);
    prefixed.disconnect();
  }
});

test('a record whose key column is missing fails alone; the rest is written', async () => {
  const view = newView('badkey');
  const [good] = decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic).slice(0, 1));
  const bad: StoredRecord = { ...good, provenance: { ...good.provenance, key: {} } };
  const result = await writeCacheBatch(redis, view, [bad, good]);
  expect(result.written).toBe(1);
  expect(result.failed).toEqual([{ record: bad, error: "key column 'id' is missing" }]);
});

test('an unreachable cache is a StoreUnavailableError, not a per-record failure', async () => {
  const view = newView('down');
  const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  dead.on('error', () => undefined);
  await expect(writeCacheBatch(dead, view, decodeAll(view, fixtureRecords('postgres-products.jsonl', view.topic).slice(0, 2))))
    .rejects.toBeInstanceOf(StoreUnavailableError);
  dead.disconnect();
});


type SourceKind = 'postgres' | 'mysql' | 'upsert-kafka';

/** An event for key `id` at the given position, as the source's connector would put it on Kafka. */
function sourceEvent(kind: SourceKind, topic: string, pos: { file: number; pos: number; row: number; seq: number }, id: number, op: 'c' | 'u' | 'd', rand: () => number): MskEventRecord {
  if (kind === 'upsert-kafka') {
    return { topic, partition: 0, offset: pos.seq, timestamp: pos.seq, key: b64({ id }), value: op === 'd' ? null : b64({ id, name: `v${pos.seq}` }) };
  }
  const source = kind === 'postgres'
    ? { lsn: pos.seq, ts_ms: pos.seq, db: 'db', schema: 's', table: 't' }
    : { file: `mysql-bin.${String(pos.file).padStart(6, '0')}`, pos: pos.pos, row: pos.row, ts_ms: pos.seq, db: 'db', table: 't' };
  const value = op === 'd'
    ? { op, before: rand() < 0.5 ? { id } : null, after: null, source }
    : { op, before: null, after: { id, name: `v${pos.seq}` }, source };
  return { topic, partition: 0, offset: pos.seq, key: b64({ id }), value: b64(value) };
}

describe.each([
  ['postgres' as SourceKind, 2000],
  ['mysql' as SourceKind, 1000],
  ['upsert-kafka' as SourceKind, 1000],
])('property (%s positions)', (kind, defaultCases) => {
  test('random permutations and duplications of a change stream converge to the last-by-position state', async () => {
    const seed = Number(process.env.SINK_PROPERTY_SEED ?? 20261127);
    const cases = Number(process.env.SINK_PROPERTY_CASES ?? defaultCases);
    const rand = mulberry32(seed);
    const view = newView(`prop-${kind}`, kind === 'upsert-kafka' ? { format: 'upsert-kafka' } : {});
    for (let c = 0; c < cases; c++) {
      const caseView = { ...view, cache: { ...view.cache!, keyPrefix: `${view.cache!.keyPrefix}${c}:` } };
      const keys = 1 + Math.floor(rand() * 4);
      const events: MskEventRecord[] = [];
      const last = new Map<number, { seq: number; name: string | null }>();
      const pos = { file: 1 + Math.floor(rand() * 3), pos: 4 + Math.floor(rand() * 1000), row: 0, seq: 1000 };
      const n = 1 + Math.floor(rand() * 12);
      for (let i = 0; i < n; i++) {
        pos.seq += 1 + Math.floor(rand() * 50);
        // MySQL: the next row of the same event, a later event, or a new binlog file whose positions restart.
        const step = rand();
        if (step < 0.3) pos.row += 1;
        else if (step < 0.85) { pos.pos += 1 + Math.floor(rand() * 500); pos.row = 0; }
        else { pos.file += 1; pos.pos = 4 + Math.floor(rand() * 10); pos.row = 0; }
        const id = Math.floor(rand() * keys);
        const op = rand() < 0.25 ? 'd' : (rand() < 0.5 ? 'c' : 'u');
        events.push(sourceEvent(kind, view.topic, pos, id, op, rand));
        last.set(id, { seq: pos.seq, name: op === 'd' ? null : `v${pos.seq}` });
        if (kind !== 'upsert-kafka' && op === 'd' && rand() < 0.5) events.push({ topic: view.topic, partition: 0, offset: pos.seq, key: b64({ id }), value: null });
      }
      // Redeliver: duplicate some events, shuffle, and cut into batches.
      const stream = events.flatMap(e => (rand() < 0.3 ? [e, e] : [e]));
      for (let i = stream.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [stream[i], stream[j]] = [stream[j], stream[i]];
      }
      let at = 0;
      while (at < stream.length) {
        const size = 1 + Math.floor(rand() * stream.length);
        await writeCacheBatch(redis, caseView, decodeAll(caseView, stream.slice(at, at + size)));
        at += size;
      }
      for (const [id, want] of last) {
        const got = await readCacheRecord(redis, caseView, { id });
        const ok = got !== undefined && (want.name === null ? got.row === null : got.row?.name === want.name);
        if (!ok) {
          throw new Error(`property failed (${kind}): seed=${seed} case=${c} key=${id} expected ${JSON.stringify(want)} got ${JSON.stringify(got)} `
            + `(replay with SINK_PROPERTY_SEED=${seed})`);
        }
      }
    }
  });
});
