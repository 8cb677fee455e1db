// Integer key values given as digit strings are canonicalized before the store is read: the sink stores customer 7 under
// "7" (contract/stored-record.ts encodeKey), so "007" and "-0" must read the rows written for 7 and 0. Real Redis, the
// sink's own writer, a unique key prefix deleted afterwards.
import { Redis } from 'ioredis';
import type { ViewConfig } from '../../contract/view-config';
import { fieldValueSchema, keySchema } from '../../lambda/mcp/schemas';
import { toMskEvent } from '../../cli/dev/dev-loop';
import type { StoredRecord } from '../../contract/stored-record';
import { writeCacheBatch } from '../../lambda/shared/cache-writer';
import { decodeRecord, eventRecords } from '../../lambda/shared/envelope';
import { callTool, NOW_MS, record, uniquePrefix } from './support';

const prefix = uniquePrefix();
const view: ViewConfig = {
  name: 'customers', description: 'Customers.', store: 'cache', topic: 'agentdata.public.customers', format: 'debezium',
  key: ['customer_id'], sourceTable: 'public.customers',
  fields: [{ name: 'customer_id', type: 'integer' }, { name: 'name', type: 'string' }],
  cache: { keyPrefix: `${prefix}customers:`, tombstoneTtlSeconds: 3600 },
};
let redis: Redis;

beforeAll(async () => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const rows = [0, 7, 9007199254740993n].map(id => record('customers', 'public.customers', { customer_id: typeof id === 'bigint' ? id.toString() : id },
    { customer_id: typeof id === 'bigint' ? id.toString() : id, name: `c${id}` }, NOW_MS - 1000, 1));
  const res = await writeCacheBatch(redis as any, view, rows);
  expect(res.failed).toEqual([]);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  expect(await redis.keys(`${prefix}*`)).toEqual([]);
  redis.disconnect();
});

const call = (name: string, args: Record<string, unknown>) => callTool({ views: [view], redis: redis as any, now: () => NOW_MS }, name, args);

describe('integer keys as digit strings', () => {
  test.each([
    [7, 7], ['7', 7], ['007', 7], [0, 0], ['0', 0], ['-0', 0], ['000', 0],
  ])('customers_lookup %j finds the row of id %d', async (given, id) => {
    const answer = await call('customers_lookup', { customer_id: given });
    expect(answer.found).toBe(true);
    expect(answer.row).toMatchObject({ name: `c${id}` });
  });

  test('a digit string beyond 2^53 stays exact (leading zeros dropped)', async () => {
    const answer = await call('customers_lookup', { customer_id: '009007199254740993' });
    expect(answer).toMatchObject({ found: true, key: { customer_id: '9007199254740993' }, row: { name: 'c9007199254740993' } });
  });

  test('lookup_many and get_lineage read the same rows', async () => {
    const many = await call('customers_lookup_many', { keys: [{ customer_id: '007' }, { customer_id: '-0' }] });
    expect(many.results.map((r: any) => r.found)).toEqual([true, true]);
    const lineage = await call('get_lineage', { view: 'customers', key: { customer_id: '007' } });
    expect(lineage).toMatchObject({ found: true, key: { customer_id: '7' } });
  });

  // The sink keys an integer column by the same canonical digits (canonicalIntegerDigits), whichever way the source sent it.
  test('a row whose source sent the integer key as digit strings ("0042", "-0043") is found by 42 and -43 as well as by the digits', async () => {
    const records = eventRecords(toMskEvent(['0042', '-0043'].map((id, i) => ({
      topic: view.topic, partition: 0, offset: 10 + i, timestamp: NOW_MS, key: { customer_id: id },
      value: {
        before: null, after: { customer_id: id, name: `digits ${id}` }, op: 'u' as const, ts_ms: NOW_MS, transaction: null,
        source: {
          version: '3.0.0.Final', connector: 'postgresql' as const, name: 'agentdata', db: 'shop', schema: 'public', table: 'customers',
          txId: null, lsn: 5000 + i, xmin: null, ts_ms: NOW_MS, snapshot: 'false' as const,
        },
      },
    }))));
    const decoded = records.map(r => decodeRecord(view, r, { nowMs: NOW_MS }));
    const stored = decoded.map(d => (d.kind === 'write' ? d.record : undefined)).filter((r): r is StoredRecord => r !== undefined);
    expect(stored.map(r => r.provenance.key)).toEqual([{ customer_id: '42' }, { customer_id: '-43' }]);
    expect((await writeCacheBatch(redis as any, view, stored)).written).toBe(2);
    for (const [given, name] of [[42, 'digits 0042'], ['0042', 'digits 0042'], [-43, 'digits -0043'], ['-043', 'digits -0043']] as const) {
      expect(await call('customers_lookup', { customer_id: given })).toMatchObject({ found: true, row: { name } });
    }
  });

  test('the schemas canonicalize integer digit strings where keys and filter values are parsed', () => {
    expect(keySchema(view).parse({ customer_id: '-007' })).toEqual({ customer_id: '-7' });
    expect(fieldValueSchema('integer').parse('-0')).toBe('0');
    expect(fieldValueSchema('integer').parse('0012345678901234567')).toBe('12345678901234567');
    expect(fieldValueSchema('integer').parse(42)).toBe(42);
    expect(fieldValueSchema('integer').safeParse('1e3').success).toBe(false);
  });
});
