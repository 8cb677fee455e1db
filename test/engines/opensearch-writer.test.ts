// The search writer (lambda/shared/search-writer.ts) on real OpenSearch: `_bulk` with external versions through the alias, 409 on
// stale, versioned deletes, what `index.gc_deletes` really guarantees, retries on the engine's own 429, and a property test: thousands
// of reordered and duplicated Debezium deliveries converge to the source state, with deletes older than gc_deletes in the mix.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { onEvent } from '../../lambda/search-index/index';
import { decodeRecord, type MskEventRecord } from '../../lambda/shared/envelope';
import { viewIndexSettings, viewMappings } from '../../contract/search-mapping';
import { writeSearchBatch } from '../../lambda/shared/search-writer';
import type { StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { StoreUnavailableError } from '../../lambda/shared/write-result';
import { asWriterClient, createSinkSearchClient } from '../../lambda/sink/search-http';
import { mulberry32 } from '../helpers/random';
import { LocalOpenSearch, localSearchClient, startOpenSearch } from './harness';

let engine: LocalOpenSearch;
let client: Client;

function view(index: string): ViewConfig {
  return {
    name: 'products', description: 'Products', store: 'search', topic: 'agentdata.inventory.products', format: 'debezium', key: ['id'],
    sourceTable: 'inventory.products',
    fields: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'string' }, { name: 'weight', type: 'number' }],
    search: { index },
  };
}

/** Creates a view's index as deploy does: the index handler with the construct's mappings and settings. */
async function deployIndex(v: ViewConfig, gcDeletesSeconds = 86400): Promise<void> {
  const settings = viewIndexSettings({ shards: 1, replicas: 0, deleteTombstoneRetentionSeconds: gcDeletesSeconds }, v);
  await onEvent(client, {
    RequestType: 'Create', ResourceType: 'Custom::AgentSearchIndex', ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's',
    RequestId: 'r', LogicalResourceId: 'l',
    ResourceProperties: {
      ServiceToken: 'x', Endpoint: engine.url, Alias: v.search!.index, Index: `${v.search!.index}-v1`, Mappings: JSON.stringify(viewMappings(v)),
      StaticSettings: JSON.stringify(settings.static), DynamicSettings: JSON.stringify(settings.dynamic), RemoveOnDelete: 'true',
    },
  } as unknown as CloudFormationCustomResourceEvent);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

/** A Debezium PostgreSQL change event as the connector puts it on Kafka (plain JSON, schemas off). */
function change(v: ViewConfig, lsn: number, id: number, op: 'c' | 'u' | 'd'): MskEventRecord {
  const source = { lsn, ts_ms: 1_764_000_000_000 + lsn, db: 'shop', schema: 'inventory', table: 'products' };
  const value = op === 'd' ? { op, before: { id }, after: null, source } : { op, before: null, after: { id, name: `v${lsn}`, weight: lsn / 10 }, source };
  return { topic: v.topic, partition: 0, offset: lsn, key: b64({ id }), value: b64(value) };
}

function decode(v: ViewConfig, recs: MskEventRecord[]): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const r of recs) {
    const d = decodeRecord(v, r, { nowMs: 1 });
    if (d.kind === 'write') out.push(d.record);
  }
  return out;
}

async function live(index: string): Promise<Map<string, string>> {
  await client.indices.refresh({ index } as never);
  const res = await client.search({ index, body: { size: 10_000, query: { match_all: {} }, _source: ['name'] } } as never);
  const hits = (res.body as { hits: { hits: Array<{ _id: string; _source: { name: string } }> } }).hits.hits;
  return new Map(hits.map(h => [h._id, h._source.name]));
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const noWait = { sleep: async () => undefined };

beforeAll(async () => {
  engine = await startOpenSearch();
  client = localSearchClient(engine.url);
});

afterAll(async () => {
  await client?.close();
  await engine?.stop();
});

test('_bulk through the alias with external versions: newer applied, same or older 409 (stale), deletes versioned, 2^63-1 exact', async () => {
  const v = view('products');
  await deployIndex(v);
  expect(await writeSearchBatch(client, v, decode(v, [change(v, 10, 1, 'c'), change(v, 11, 2, 'c')]), noWait)).toEqual({ written: 2, stale: 0, failed: [] });
  expect(await writeSearchBatch(client, v, decode(v, [change(v, 10, 1, 'u'), change(v, 9, 2, 'u')]), noWait)).toEqual({ written: 0, stale: 2, failed: [] });
  expect(await writeSearchBatch(client, v, decode(v, [change(v, 12, 1, 'd'), change(v, 13, 7, 'd')]), noWait)).toEqual({ written: 2, stale: 0, failed: [] });
  // The delete tombstones hold their versions: a late older update of either key is refused.
  expect(await writeSearchBatch(client, v, decode(v, [change(v, 11, 1, 'u'), change(v, 5, 7, 'c')]), noWait)).toEqual({ written: 0, stale: 2, failed: [] });
  expect([...(await live('products')).entries()]).toEqual([['"2"', 'v11']]);
  const max = decode(v, [change(v, 1, 3, 'c')])[0];
  const top = { ...max, provenance: { ...max.provenance, version: '9223372036854775807' } };
  expect(await writeSearchBatch(client, v, [top], noWait)).toEqual({ written: 1, stale: 0, failed: [] });
  // Held exactly: one below the maximum is refused (a version rounded through a double would be 2^63 and refuse nothing smaller).
  const below = { ...max, provenance: { ...max.provenance, version: '9223372036854775806' } };
  expect(await writeSearchBatch(client, v, [below], noWait)).toEqual({ written: 0, stale: 1, failed: [] });
  expect(await writeSearchBatch(client, view('nosuch'), decode(v, [change(v, 20, 1, 'c')]), noWait))
    .toMatchObject({ written: 0, failed: [{ error: expect.stringMatching(/HTTP 404: index_not_found_exception: no such index \[nosuch\] and \[require_alias\] request flag is \[true\]/) }] });
  expect((await client.indices.exists({ index: 'nosuch' } as never)).body).toBe(false);
});

test('index.gc_deletes bounds the delete tombstone: a late older update is refused within it and resurrects the row after it', async () => {
  const v = view('gcprobe');
  await deployIndex(v);
  await client.indices.putSettings({ index: 'gcprobe', body: { 'index.gc_deletes': '1s' } } as never);
  await writeSearchBatch(client, v, decode(v, [change(v, 10, 1, 'c'), change(v, 20, 1, 'd')]), noWait);
  expect(await writeSearchBatch(client, v, decode(v, [change(v, 15, 1, 'u')]), noWait)).toEqual({ written: 0, stale: 1, failed: [] });
  await sleep(1500);
  await client.indices.refresh({ index: 'gcprobe' } as never); // tombstones older than gc_deletes are pruned on refresh
  await sleep(400);
  await client.indices.refresh({ index: 'gcprobe' } as never);
  // OpenSearch has forgotten version 20: the stale update (version 15) is applied, the deleted row is back.
  expect(await writeSearchBatch(client, v, decode(v, [change(v, 15, 1, 'u')]), noWait)).toEqual({ written: 1, stale: 0, failed: [] });
  expect([...(await live('gcprobe')).entries()]).toEqual([['"1"', 'v15']]);
});

test('the engine\'s own 429 (flood-stage block) is retried with backoff until it lifts; an engine that keeps refusing or is down is StoreUnavailableError', async () => {
  const v = view('blocked');
  await deployIndex(v);
  const block = (on: boolean) => client.indices.putSettings({ index: 'blocked', body: { 'index.blocks.read_only_allow_delete': on ? true : null } } as never);
  await block(true);
  const delays: number[] = [];
  const result = await writeSearchBatch(client, v, decode(v, [change(v, 10, 1, 'c'), change(v, 11, 2, 'c')]), {
    maxAttempts: 4, baseDelayMs: 100,
    sleep: async ms => {
      delays.push(ms);
      if (delays.length === 2) await block(false);
    },
  });
  expect(result).toEqual({ written: 2, stale: 0, failed: [] });
  expect(delays).toHaveLength(2);
  await block(true);
  await expect(writeSearchBatch(client, v, decode(v, [change(v, 12, 1, 'u')]), { maxAttempts: 3, ...noWait }))
    .rejects.toThrow(/search index 'blocked' is write-blocked \(index\.blocks\.read_only_allow_delete\) after 3 attempts; the batch is retried, not dead-lettered\. .*free storage or scale the domain/);
  await block(false);
  const down = localSearchClient('http://127.0.0.1:9', 2000);
  await expect(writeSearchBatch(down, v, decode(v, [change(v, 12, 1, 'u')]), { maxAttempts: 2, ...noWait })).rejects.toBeInstanceOf(StoreUnavailableError);
  await down.close();
});

test('a write block answering 403 (index.blocks.write, as AWS sets it when storage runs low) is retried like a 429, never dead-lettered', async () => {
  const v = view('writeblocked');
  await deployIndex(v);
  const block = (on: boolean) => client.indices.putSettings({ index: 'writeblocked', body: { 'index.blocks.write': on ? true : null } } as never);
  await block(true);
  try {
    // What the engine answers: a per-item 403 cluster_block_exception (FORBIDDEN/8/index write), the type of error a bad document never has.
    const raw = await client.bulk({ index: 'writeblocked', body: '{"index":{"_id":"x"}}\n{"id":1}\n' } as never);
    expect(JSON.stringify((raw.body as { items: unknown[] }).items[0])).toMatch(/"status":403.*cluster_block_exception.*FORBIDDEN\/8\/index write \(api\)/);
    const delays: number[] = [];
    const result = await writeSearchBatch(client, v, decode(v, [change(v, 10, 1, 'c'), change(v, 11, 2, 'c'), change(v, 12, 3, 'd')]), {
      maxAttempts: 4, baseDelayMs: 100,
      sleep: async ms => { delays.push(ms); if (delays.length === 2) await block(false); },
    });
    expect(result).toEqual({ written: 3, stale: 0, failed: [] });
    expect(delays).toHaveLength(2);
    expect([...(await live('writeblocked')).entries()].sort()).toEqual([['"1"', 'v10'], ['"2"', 'v11']]);
    // A block that outlasts the attempts fails the batch (the event source retries it), with the block and the fix named.
    await block(true);
    const stuck = writeSearchBatch(client, v, decode(v, [change(v, 13, 1, 'u')]), { maxAttempts: 3, ...noWait });
    await expect(stuck).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(stuck).rejects.toThrow(/search index 'writeblocked' is write-blocked \(index\.blocks\.write\) after 3 attempts.*PUT <index>\/_settings \{"index\.blocks\.write": null\}/);
  } finally {
    await block(false);
  }
});

test('request size: a batch over the engine\'s http.max_content_length (the 100mb default) goes in bounded requests; a 413 is split; one document over it is dead-lettered naming the limit', async () => {
  // The harness cannot set node settings (cli/dev/engines/java/OpenSearchNode.java builds them in code), so the limit is the default 100mb
  // and the batches here are over 100 MiB: keyword values over ignore_above are kept in _source only, so the engine does little per byte.
  const v: ViewConfig = { ...view('blobs'), fields: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'keyword' }] };
  await deployIndex(v);
  // The sink's own client (what the sink runs), with each `_bulk` request's size and answer recorded.
  const sink = createSinkSearchClient({ endpoint: engine.url, region: 'us-east-1', requestTimeoutMs: 120_000, credentials: async () => ({ accessKeyId: 'A', secretAccessKey: 'S' }) });
  const seen: Array<{ mib: number; status: number | string }> = [];
  const counting = asWriterClient({
    ...sink,
    bulk: async params => {
      const mib = Math.round(Buffer.byteLength(params.body) / 1024 / 1024 * 10) / 10;
      try {
        const res = await sink.bulk(params);
        seen.push({ mib, status: res.statusCode });
        return res;
      } catch (e) {
        seen.push({ mib, status: (e as { meta?: { statusCode?: number } }).meta?.statusCode ?? String((e as Error).message) });
        throw e;
      }
    },
  });
  const blobs = (lsn: number, ids: number[], bytes: number) => decode(v, ids.map(id => change(v, lsn, id, 'c')))
    .map(r => ({ ...r, row: { ...r.row!, name: `${r.row!.id}:`.padEnd(bytes, 'b') } }));
  const count = async () => {
    await client.indices.refresh({ index: 'blobs' } as never);
    return (((await client.count({ index: 'blobs' } as never)).body) as { count: number }).count;
  };
  try {
    const ids = Array.from({ length: 420 }, (_, i) => i + 1);
    // 420 documents of 256 KiB, about 105 MiB: with the default bound, 5 MiB requests the engine accepts.
    expect(await writeSearchBatch(counting, v, blobs(10, ids, 256 * 1024), noWait)).toEqual({ written: 420, stale: 0, failed: [] });
    expect(seen.every(s => s.status === 200 && s.mib <= 5)).toBe(true);
    const bounded = seen.length;
    expect(await count()).toBe(420);

    // No up-front bound: the engine answers the ~100.4 MiB request with 413 and the writer splits it in halves. With this node's 512 MB
    // heap the ~50 MiB halves exceed its indexing pressure limit (10% of the heap), which answers 429 however idle the node is: split too.
    seen.length = 0;
    const split = await writeSearchBatch(counting, v, blobs(20, ids.slice(0, 401), 256 * 1024), { ...noWait, maxBulkBytes: 1024 * 1024 * 1024 });
    expect(split).toEqual({ written: 401, stale: 0, failed: [] });
    expect(seen[0].status).toBe(413);
    expect(seen[0].mib).toBeGreaterThan(100);
    expect(seen.every(s => [413, 429, 200].includes(s.status as number))).toBe(true);
    expect(await count()).toBe(420);
    const splitSeen = seen.map(s => `${s.mib} MiB: ${s.status}`);

    // One document over the limit on its own: dead-lettered with the reason, the rest of the batch written.
    seen.length = 0;
    const huge = await writeSearchBatch(counting, v, [...blobs(30, [1], 1024), ...blobs(30, [2], 101 * 1024 * 1024), ...blobs(30, [3], 1024)], noWait);
    expect(huge.written).toBe(2);
    expect(huge.failed.map(f => f.record.provenance.key)).toEqual([{ id: 2 }]);
    expect(huge.failed[0].error).toMatch(/^HTTP 413: the document's _bulk request \(101\.0 MiB\) exceeds the domain's HTTP request payload limit/);
    console.log(`request size: 420 x 256 KiB in ${bounded} requests of <= 5 MiB; unbounded 401 x 256 KiB: ${splitSeen.join(', ')}; `
      + `101 MiB document: ${seen.map(s => `${s.mib} MiB: ${s.status}`).join(', ')}`);
  } finally {
    await sink.close();
  }
});

test('property: thousands of reordered and duplicated deliveries converge to the source state, with deletes older than gc_deletes', async () => {
  const seed = Number(process.env.SEARCH_PROPERTY_SEED ?? 20261130);
  const rounds = Number(process.env.SEARCH_PROPERTY_ROUNDS ?? 4);
  const gcDeletesMs = 1000;
  console.log(`search writer property test: seed=${seed} rounds=${rounds} (replay with SEARCH_PROPERTY_SEED=${seed})`);
  const rand = mulberry32(seed);
  let deliveries = 0;
  let prunedEpochs = 0;
  for (let round = 0; round < rounds; round++) {
    const v = view(`prop${round}`);
    await deployIndex(v);
    // Short tombstone retention so that deletes become older than gc_deletes within the test (the construct's minimum is 60 s).
    await client.indices.putSettings({ index: v.search!.index, body: { 'index.gc_deletes': `${gcDeletesMs}ms` } } as never);
    const source = new Map<number, string | null>();
    let lsn = 1000;
    // Epochs: within one, deliveries are reordered, duplicated and batched at random (the redelivery horizon); between two, more than
    // gc_deletes passes, so the earlier epochs' delete tombstones are pruned. Late deletes may come from any epoch (they are harmless).
    const oldDeletes: MskEventRecord[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const events: MskEventRecord[] = [];
      for (let i = 0; i < 120; i++) {
        lsn += 1 + Math.floor(rand() * 40);
        const id = Math.floor(rand() * 25);
        const op = source.get(id) == null ? 'c' : rand() < 0.3 ? 'd' : 'u';
        const e = change(v, lsn, id, op);
        events.push(e);
        if (op === 'd') {
          oldDeletes.push(e);
          // Debezium's tombstone after a delete (tombstones.on.delete=true): the writer skips it.
          events.push({ ...e, value: null });
        }
        source.set(id, op === 'd' ? null : `v${lsn}`);
      }
      const stream = [...events.flatMap(e => (rand() < 0.35 ? [e, e] : [e])), ...oldDeletes.filter(() => rand() < 0.2)];
      for (let i = stream.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [stream[i], stream[j]] = [stream[j], stream[i]];
      }
      for (let at = 0; at < stream.length;) {
        const batch = stream.slice(at, at + 1 + Math.floor(rand() * 40));
        const result = await writeSearchBatch(client, v, decode(v, batch), noWait);
        if (result.failed.length > 0) throw new Error(`seed=${seed} round=${round} epoch=${epoch}: ${JSON.stringify(result.failed.map(f => f.error))}`);
        at += batch.length;
        deliveries += batch.length;
      }
      // Let this epoch's tombstones age past gc_deletes and be pruned; a sentinel proves the pruning happened.
      const sentinel = 1_000_000 + epoch;
      await writeSearchBatch(client, v, decode(v, [change(v, 500, sentinel, 'c'), change(v, 600, sentinel, 'd')]), noWait);
      await sleep(gcDeletesMs + 500);
      await client.indices.refresh({ index: v.search!.index } as never);
      await sleep(300);
      await client.indices.refresh({ index: v.search!.index } as never);
      const probe = await writeSearchBatch(client, v, decode(v, [change(v, 550, sentinel, 'u')]), noWait);
      if (probe.written === 1) prunedEpochs++;
      await writeSearchBatch(client, v, decode(v, [change(v, 700, sentinel, 'd')]), noWait);
    }
    const want = [...source.entries()].filter(([, name]) => name !== null).map(([id, name]) => [`"${id}"`, name]).sort();
    const got = [...(await live(v.search!.index)).entries()].sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const diverged = want.filter(w => !got.some(g => JSON.stringify(g) === JSON.stringify(w))).length + got.filter(g => !want.some(w => JSON.stringify(g) === JSON.stringify(w))).length;
      throw new Error(`${diverged} divergences in round ${round} (seed ${seed}): got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    }
    await client.indices.delete({ index: `${v.search!.index}-v1` } as never);
  }
  console.log(`search writer property test: ${deliveries} deliveries, 0 divergences, tombstones pruned after ${prunedEpochs} of ${rounds * 3} epochs`);
  expect(deliveries).toBeGreaterThan(2000);
  // Not vacuous: the engine really forgot the earlier epochs' deletes before the next epoch's deliveries.
  expect(prunedEpochs).toBe(rounds * 3);
});
