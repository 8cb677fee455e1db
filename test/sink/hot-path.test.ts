// The sink's per-record shortcuts (docs/PERFORMANCE.md, "Fifth pass") give what the long way gave: the EVALSHA command
// built without ioredis' argument copy, the per-run topic and partition lookups, the table names kept across records.
import { Command, Redis } from 'ioredis';
import { APPLY_ROW_SCRIPT, evalCommand, writeCacheBatch } from '../../lambda/shared/cache-writer';
import { decodeRecord, type MskEventRecord } from '../../lambda/shared/envelope';
import { offsetRanges, processBatch, type SinkDependencies } from '../../lambda/sink/process';
import { CACHE_FIELDS, cacheKey, type StoredRecord } from '../../contract/stored-record';
import { b64, deletePrefix, mskEvent, productsView, REDIS_PORT, uniquePrefix } from './helpers';

let redis: Redis;
const prefixes: string[] = [];
beforeAll(() => {
  redis = new Redis({ port: REDIS_PORT });
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
});

/** A Debezium PostgreSQL update of product `id` in `schema.table`. */
function change(topic: string, partition: number, offset: number, id: number, table = 'products', schema = 'inventory'): MskEventRecord {
  return {
    topic, partition, offset, key: b64({ id }),
    value: b64({
      before: null, after: { id, name: `p${id}`, description: 'd', weight: 1.5 }, op: 'u', ts_ms: 5,
      source: { connector: 'postgresql', name: 'dbserver1', db: 'shop', schema, table, lsn: 1000 + offset, txId: 7, ts_ms: 4 },
    }),
  };
}

test('the EVALSHA command is the bytes ioredis\' own command writes; with a keyPrefix the keys are prefixed as ioredis does', () => {
  const args = ['f'.repeat(40), '2', 'k:1', 'k:2', '0', '3600', '01', '00000000000000000001', '{"a":"é"}', '00000000000000000002', '{}'];
  const own = new Command('evalsha', [...args], { replyEncoding: 'utf8' });
  expect(evalCommand([...args]).toWritable(undefined as never)).toEqual(own.toWritable(undefined as never));
  const prefixed = new Command('evalsha', [...args], { replyEncoding: 'utf8', keyPrefix: 'app:' });
  const ours = evalCommand([...args], 'app:');
  expect(ours.toWritable(undefined as never)).toEqual(prefixed.toWritable(undefined as never));
  expect(ours.args.slice(2, 4)).toEqual(['app:k:1', 'app:k:2']);
});

test('a single-node write hands its calls to the socket without copying their arguments (Array.prototype.flat)', async () => {
  const keyPrefix = uniquePrefix('hotpath');
  prefixes.push(keyPrefix);
  const view = productsView({ keyPrefix });
  const records: StoredRecord[] = [];
  for (let id = 1; id <= 120; id++) {
    const d = decodeRecord(view, change(view.topic, 0, id, id), { nowMs: 1 });
    if (d.kind === 'write') records.push(d.record);
  }
  // A fresh server has no script yet: its NOSCRIPT reload (SCRIPT LOAD, two arguments, flattened once) is not the
  // write path this test measures, so the script is loaded first (idempotent, the same SHA on every run).
  await redis.script('LOAD', APPLY_ROW_SCRIPT);
  const flat = jest.spyOn(Array.prototype, 'flat');
  try {
    const result = await writeCacheBatch(redis, view, records);
    expect(result).toEqual({ written: 120, stale: 0, failed: [] });
    // ioredis' constructor still flattens the empty array the command is made with; no call's arguments are copied.
    expect(flat.mock.contexts.map(c => (c as unknown[]).length).filter(n => n > 0)).toEqual([]);
  } finally {
    flat.mockRestore();
  }
  expect(JSON.parse((await redis.hget(cacheKey(keyPrefix, view.key, { id: 120 }), CACHE_FIELDS.record))!)).toEqual(JSON.parse(JSON.stringify(records[119])));
});

test('offset ranges are right when partitions and topics interleave', () => {
  const recs = [
    { topic: 'a', partition: 0, offset: 5 }, { topic: 'a', partition: 0, offset: 3 }, { topic: 'a', partition: 1, offset: 9 },
    { topic: 'a', partition: 0, offset: 7 }, { topic: 'b', partition: 0, offset: '12' }, { topic: 'a', partition: 1, offset: 2 },
    { topic: 'b', partition: 0, offset: '90071992547409930' },
  ];
  expect(offsetRanges(recs)).toEqual({
    'a-0': { first: '3', last: '7', count: 3 },
    'a-1': { first: '2', last: '9', count: 2 },
    'b-0': { first: '12', last: '90071992547409930', count: 2 },
  });
});

test('records of interleaved topics and tables each keep their own view, heartbeat and table name', async () => {
  const keyPrefix = uniquePrefix('hotpath-mix');
  const one = productsView({ keyPrefix, name: 'one', topic: 'db.inventory.products' });
  const two = productsView({ keyPrefix: `${keyPrefix}two:`, name: 'two', topic: 'db.other.items' });
  const seen: { view: string; table: string; database: string }[] = [];
  const lags: string[] = [];
  const deps: SinkDependencies = {
    views: [one, two],
    writers: {
      cache: async (v, recs) => {
        for (const r of recs) seen.push({ view: v.name, table: r.provenance.sourceTable, database: r.provenance.sourceDatabase });
        return { written: recs.length, stale: 0, failed: [] };
      },
    },
    deadLetters: { send: async () => { throw new Error('no dead letters expected'); } },
    metrics: { count: () => undefined, freshnessLag: () => undefined, cdcLag: topic => lags.push(topic) },
    log: { info: () => undefined, warn: () => undefined },
  };
  const heartbeat = { topic: '__debezium-heartbeat.db', partition: 0, offset: 1, value: b64({ ts_ms: 1 }) };
  // mskEvent groups by topic-partition; the event's records are given here in an interleaved order on purpose.
  const records = [
    change(one.topic, 0, 1, 1), heartbeat, change(two.topic, 0, 1, 2, 'items', 'other'), change(one.topic, 0, 2, 3),
    change(two.topic, 0, 2, 4, 'items', 'other'), { ...heartbeat, offset: 2 }, change(one.topic, 0, 3, 5, 'products', 'archive'),
  ];
  const event = { ...mskEvent([]), records: { mixed: records } };
  expect(await processBatch(event, deps)).toMatchObject({ received: 7, written: 5, deadLettered: 0 });
  expect(lags).toEqual(['__debezium-heartbeat.db', '__debezium-heartbeat.db']);
  expect(seen).toEqual([
    { view: 'one', table: 'inventory.products', database: 'dbserver1/shop' },
    { view: 'one', table: 'inventory.products', database: 'dbserver1/shop' },
    { view: 'one', table: 'archive.products', database: 'dbserver1/shop' },
    { view: 'two', table: 'other.items', database: 'dbserver1/shop' },
    { view: 'two', table: 'other.items', database: 'dbserver1/shop' },
  ]);
});
