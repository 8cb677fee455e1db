// writeSearchBatch with the real @opensearch-project/opensearch client (SigV4-signed) against a stand-in domain on 127.0.0.1:
// bulk bodies, external versions, deletes, stale skips, retries, per-item failures, outages, and convergence under replays.
import type { Client } from '@opensearch-project/opensearch';
import { createSearchClient } from '../../lambda/shared/search-client';
import { searchDocument, writeSearchBatch } from '../../lambda/shared/search-writer';
import { viewMappings } from '../../contract/search-mapping';
import type { StoredRecord } from '../../contract/stored-record';
import { StoreUnavailableError } from '../../lambda/shared/write-result';
import type { ViewConfig } from '../../contract/view-config';
import { SearchStandIn } from '../stores/search-stand-in';
import { mulberry32 } from '../helpers/random';

const VIEW: ViewConfig = {
  name: 'orders',
  description: 'Orders',
  store: 'search',
  topic: 'cdc.public.orders',
  format: 'debezium',
  key: ['order_id'],
  sourceTable: 'public.orders',
  fields: [
    { name: 'order_id', type: 'integer' },
    { name: 'status', type: 'keyword' },
    { name: 'note', type: 'text' },
    { name: 'created_at', type: 'timestamp' },
  ],
  search: { index: 'orders' },
};

function record(orderId: number, version: string | number, row: Record<string, unknown> | null, offset = 0): StoredRecord {
  return {
    view: 'orders',
    row,
    provenance: {
      sourceDatabase: 'shop',
      sourceTable: 'public.orders',
      key: { order_id: orderId },
      commitTimeMs: 1_700_000_000_000,
      position: { kind: 'postgres', lsn: `0/${Number(version).toString(16)}` },
      version: String(version),
      op: row === null ? 'd' : 'u',
      kafka: { topic: 'cdc.public.orders', partition: 0, offset: String(offset) },
      writtenAtMs: 1_700_000_000_500,
    },
  };
}

const row = (orderId: number, status: string) => ({ order_id: orderId, status, note: `order ${orderId}` });

let standIn: SearchStandIn;
let client: Client;
const delays: number[] = [];
const options = { sleep: async (ms: number) => { delays.push(ms); }, maxAttempts: 3, baseDelayMs: 100 };

beforeEach(async () => {
  standIn = new SearchStandIn();
  const url = await standIn.start();
  standIn.seedIndex('orders-v1', 'orders', viewMappings(VIEW) as never);
  client = createSearchClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }),
  });
  delays.length = 0;
});

afterEach(async () => {
  await client.close();
  await standIn.stop();
});

describe('writeSearchBatch request bodies', () => {
  test('indexes rows through the alias with external versions, signed with SigV4', async () => {
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new')), record(2, 11, row(2, 'paid'))], options);
    expect(result).toEqual({ written: 2, stale: 0, failed: [] });
    const [bulk] = standIn.bulkRequests();
    expect(bulk.method).toBe('PUT');
    expect(bulk.path).toBe('/orders/_bulk');
    expect(bulk.query.get('require_alias')).toBe('true');
    expect(bulk.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(bulk.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/es\/aws4_request/);
    expect(bulk.headers['x-amz-security-token']).toBe('token');
    const lines = bulk.body.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('{"index":{"_id":"\\"1\\"","version":10,"version_type":"external"}}');
    const doc = JSON.parse(lines[1]);
    expect(doc).toMatchObject({ order_id: 1, status: 'new', note: 'order 1', _provenance: { version: '10', sourceTable: 'public.orders', op: 'u' } });
    expect(standIn.live('orders').get('"2"')).toMatchObject({ status: 'paid' });
  });

  test('deletes are versioned delete actions', async () => {
    await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new'))], options);
    const result = await writeSearchBatch(client, VIEW, [record(1, 12, null)], options);
    expect(result).toEqual({ written: 1, stale: 0, failed: [] });
    expect(standIn.bulkRequests()[1].body).toBe('{"delete":{"_id":"\\"1\\"","version":12,"version_type":"external"}}\n');
    expect(standIn.live('orders').has('"1"')).toBe(false);
  });

  test('versions above 2^53 reach OpenSearch exactly', async () => {
    await writeSearchBatch(client, VIEW, [record(1, '9223372036854775807', row(1, 'max'))], options);
    expect(standIn.bulkRequests()[0].body).toContain('"version":9223372036854775807,');
    expect(standIn.indexes.get('orders-v1')!.docs.get('"1"')!.version).toBe(9223372036854775807n);
  });

  test('only declared fields are sent (the mapping is strict), timestamps in micros become millis', () => {
    const doc = searchDocument(VIEW, record(1, 1, { ...row(1, 'x'), secret: 'not a view column', created_at: 1_700_000_000_123_456 }));
    expect(doc).not.toHaveProperty('secret');
    expect(doc.created_at).toBe(1_700_000_000_123);
  });

  test('within a batch only the newest version of a document is sent; the older ones count as stale', async () => {
    const result = await writeSearchBatch(client, VIEW, [record(1, 12, row(1, 'b')), record(1, 10, row(1, 'a')), record(1, 13, row(1, 'c'))], options);
    expect(result).toEqual({ written: 1, stale: 2, failed: [] });
    const lines = standIn.bulkRequests()[0].body.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('"version":13');
  });
});

describe('writeSearchBatch response paths', () => {
  test('409 version conflicts are stale skips, not failures', async () => {
    await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new'))], options);
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'replayed')), record(1, 9, row(1, 'older'))], options);
    expect(result).toEqual({ written: 0, stale: 2, failed: [] });
    expect(standIn.live('orders').get('"1"')).toMatchObject({ status: 'new' });
  });

  test('a late older update after a delete is refused (the delete tombstone keeps its version)', async () => {
    await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new')), record(2, 10, null)], options);
    await writeSearchBatch(client, VIEW, [record(1, 20, null)], options);
    const late = await writeSearchBatch(client, VIEW, [record(1, 15, row(1, 'late')), record(2, 5, row(2, 'late'))], options);
    expect(late).toEqual({ written: 0, stale: 2, failed: [] });
    expect(standIn.live('orders').size).toBe(0);
  });

  test('a delete of a document never written is applied (404 not_found still records the version)', async () => {
    expect(await writeSearchBatch(client, VIEW, [record(7, 3, null)], options)).toEqual({ written: 1, stale: 0, failed: [] });
  });

  test('a whole-request 429 is retried with growing backoff', async () => {
    const rejected = { status: 429, body: { error: { root_cause: [{ type: 'es_rejected_execution_exception', reason: 'rejected execution' }], type: 'es_rejected_execution_exception', reason: 'rejected execution' }, status: 429 } };
    standIn.bulkFaults.push(rejected, rejected);
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new'))], options);
    expect(result).toEqual({ written: 1, stale: 0, failed: [] });
    expect(standIn.bulkRequests()).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  test('a dropped connection is retried', async () => {
    standIn.bulkFaults.push('drop-connection');
    expect(await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new'))], options)).toEqual({ written: 1, stale: 0, failed: [] });
    expect(standIn.bulkRequests()).toHaveLength(2);
  });

  test('a domain answering 503 on every attempt throws StoreUnavailableError so the batch is retried by the event source', async () => {
    const unavailable = { status: 503, body: { error: { type: 'cluster_block_exception', reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];' }, status: 503 } };
    standIn.bulkFaults.push(unavailable, unavailable, unavailable);
    await expect(writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new'))], options)).rejects.toThrow(StoreUnavailableError);
    expect(standIn.bulkRequests()).toHaveLength(3);
    expect(standIn.live('orders').size).toBe(0);
  });

  test('403 (missing grant or role mapping) throws StoreUnavailableError at once instead of dead-lettering data', async () => {
    standIn.bulkFaults.push({ status: 403, body: { error: { type: 'security_exception', reason: 'no permissions for [indices:data/write/bulk]' }, status: 403 } });
    await expect(writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'new'))], options)).rejects.toThrow(/refused the sink's credentials \(HTTP 403\)/);
    expect(standIn.bulkRequests()).toHaveLength(1);
  });

  test('a request rejected as a whole with 400 returns every record as failed', async () => {
    standIn.bulkFaults.push({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'Malformed action/metadata line' }, status: 400 } });
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'a')), record(2, 10, row(2, 'b'))], options);
    expect(result.written).toBe(0);
    expect(result.failed.map(f => f.error)).toEqual([expect.stringMatching(/HTTP 400.*Malformed/), expect.stringMatching(/HTTP 400/)]);
  });

  test('a per-item 429 is retried for that item only', async () => {
    standIn.itemFaults.set('"2"', [429]);
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'a')), record(2, 10, row(2, 'b'))], options);
    expect(result).toEqual({ written: 2, stale: 0, failed: [] });
    const bulks = standIn.bulkRequests();
    expect(bulks).toHaveLength(2);
    expect(bulks[1].body).toBe(`{"index":{"_id":"\\"2\\"","version":10,"version_type":"external"}}\n${JSON.stringify(searchDocument(VIEW, record(2, 10, row(2, 'b'))))}\n`);
  });

  test('a per-item 500 that persists is returned in failed after the retries; the rest is written (429 and 503 fail the batch instead: search-writer-limits)', async () => {
    standIn.itemFaults.set('"2"', [500, 500, 500]);
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'a')), record(2, 10, row(2, 'b'))], options);
    expect(result.written).toBe(1);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0].record.provenance.key).toEqual({ order_id: 2 });
    expect(result.failed[0].error).toMatch(/after 3 attempts, HTTP 500: /);
    expect(standIn.bulkRequests()).toHaveLength(3);
  });

  test('a per-item error retrying cannot fix (400) is returned in failed at once', async () => {
    standIn.itemFaults.set('"1"', [400]);
    const result = await writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'a')), record(2, 10, row(2, 'b'))], options);
    expect(result.written).toBe(1);
    expect(result.failed.map(f => f.error)).toEqual([expect.stringMatching(/HTTP 400: mapper_parsing_exception/)]);
    expect(standIn.bulkRequests()).toHaveLength(1);
  });

  test('when no item of the batch is accepted in any attempt (429/5xx per item) the store is treated as unavailable', async () => {
    standIn.itemFaults.set('"1"', [503, 503, 503]);
    standIn.itemFaults.set('"2"', [429, 429, 429]);
    await expect(writeSearchBatch(client, VIEW, [record(1, 10, row(1, 'a')), record(2, 10, row(2, 'b'))], options)).rejects.toThrow(/accepted no item of the batch in 3 attempts/);
  });

  test('a missing alias is never auto-created: items fail with index_not_found', async () => {
    const result = await writeSearchBatch(client, { ...VIEW, search: { index: 'nosuch' } }, [record(1, 10, row(1, 'a'))], options);
    expect(result.failed.map(f => f.error)).toEqual([expect.stringMatching(/HTTP 404: index_not_found_exception.*require_alias/)]);
    expect(standIn.indexes.has('nosuch')).toBe(false);
  });

  test('a record with an invalid version is failed without being sent', async () => {
    const result = await writeSearchBatch(client, VIEW, [record(1, 'abc', row(1, 'a')), record(2, '9223372036854775808', row(2, 'b'))], options);
    expect(result.failed.map(f => f.error)).toEqual([expect.stringMatching(/decimal integer string/), expect.stringMatching(/exceeds/)]);
    expect(standIn.bulkRequests()).toHaveLength(0);
  });

  test('refuses a view that is not a search view', async () => {
    await expect(writeSearchBatch(client, { ...VIEW, store: 'cache', search: undefined }, [], options)).rejects.toThrow(/not a search view/);
  });
});

describe('writeSearchBatch convergence', () => {

  test('random permutations, duplicates and batch splits converge to the last-by-version state of every key', async () => {
    const seed = 20261127;
    const random = mulberry32(seed);
    for (let round = 0; round < 40; round++) {
      standIn.seedIndex(`orders-v1`, 'orders', viewMappings(VIEW) as never);
      // A history: per key, versions increase; some changes are deletes.
      const history: StoredRecord[] = [];
      let version = 1;
      for (let step = 0; step < 60; step++) {
        const id = 1 + Math.floor(random() * 8);
        history.push(record(id, version++, random() < 0.25 ? null : row(id, `s${step}`)));
      }
      const expected = new Map<string, StoredRecord>();
      for (const r of history) expected.set(JSON.stringify(String(r.provenance.key.order_id)), r);
      // Deliver with duplicates, shuffled, in random batch sizes.
      const deliveries = [...history, ...history.filter(() => random() < 0.4)];
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
      }
      while (deliveries.length > 0) {
        const batch = deliveries.splice(0, 1 + Math.floor(random() * 10));
        const result = await writeSearchBatch(client, VIEW, batch, options);
        expect(result.failed).toEqual([]);
      }
      const live = standIn.live('orders');
      const want = [...expected.entries()].filter(([, r]) => r.row !== null).map(([id, r]) => [id, r.row!.status]).sort();
      const got = [...live.entries()].map(([id, doc]) => [id, doc.status]).sort();
      if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`diverged in round ${round} (seed ${seed}): got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    }
  });
});
