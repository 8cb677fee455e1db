// The search writer against request-size limits and per-item statuses, through the sink's own client (lambda/sink/search-http.ts):
// a front door on 127.0.0.1 in front of the stand-in domain refuses `_bulk` bodies over a size limit with 413 (as Amazon OpenSearch
// Service does: `{"Message":"Request size exceeded 10485760 bytes"}`) and rewrites chosen items' results (a per-item 403
// `security_exception`, as fine-grained access control answers when the sink's role has bulk but not index write on the index).
import * as http from 'http';
import type { AddressInfo } from 'net';
import { viewMappings } from '../../contract/search-mapping';
import type { ViewConfig } from '../../contract/view-config';
import type { EmbeddingProvider } from '../../lambda/shared/embeddings';
import { DEFAULT_MAX_BULK_BYTES, writeSearchBatch } from '../../lambda/shared/search-writer';
import { StoreUnavailableError, type WriteResult } from '../../lambda/shared/write-result';
import { asWriterClient, createSinkSearchClient, type SinkSearchClient } from '../../lambda/sink/search-http';
import { mulberry32 } from '../helpers/random';
import { SearchStandIn } from '../stores/search-stand-in';
import { orderRecord } from './helpers';

const MiB = 1024 * 1024;

const VIEW: ViewConfig = {
  name: 'orders', description: 'Orders', store: 'search', topic: 'cdc.public.orders', format: 'debezium', key: ['order_id'], sourceTable: 'public.orders',
  fields: [{ name: 'order_id', type: 'integer' }, { name: 'status', type: 'keyword' }, { name: 'note', type: 'text' }],
  search: { index: 'orders' },
};
const DIM = 1024;
const TICKETS: ViewConfig = {
  ...VIEW, name: 'tickets', search: {
    index: 'tickets', vector: { field: 'note_embedding', sourceFields: ['note'], dimension: DIM, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' },
  },
};

const record = orderRecord;

/** Dense vectors like Titan's (float32 values, about 20 JSON characters each once read into JavaScript numbers). */
class DenseEmbedder implements EmbeddingProvider {
  readonly dimension = DIM;
  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t, i) => {
      const random = mulberry32(t.length * 7919 + i);
      return Array.from({ length: DIM }, () => Math.fround(random() * 0.2 - 0.1));
    });
  }
}

interface SeenBulk {
  readonly bytes: number;
  /** Document ids of the request's actions, in order. */
  readonly ids: string[];
  readonly status: number;
}

/** A proxy in front of the stand-in: a request-size limit answered with 413, and per-item results rewritten by document id. */
class FrontDoor {
  maxBodyBytes = Number.POSITIVE_INFINITY;
  /** OpenSearch's indexing pressure limit (`indexing_pressure.memory.limit`, 10% of the heap): a larger request is refused with 429. */
  pressureLimitBytes = Number.POSITIVE_INFINITY;
  readonly itemOverrides = new Map<string, Array<{ status: number; type: string; reason: string }>>();
  readonly bulks: SeenBulk[] = [];
  private server?: http.Server;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const isBulk = (req.url ?? '').split('?')[0].endsWith('/_bulk');
        const ids = isBulk ? actionIds(body.toString('utf8')) : [];
        if (isBulk && body.length > this.maxBodyBytes) {
          this.bulks.push({ bytes: body.length, ids, status: 413 });
          return reply(res, 413, { Message: `Request size exceeded ${this.maxBodyBytes} bytes` });
        }
        if (isBulk && body.length > this.pressureLimitBytes) {
          this.bulks.push({ bytes: body.length, ids, status: 429 });
          const reason = 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, '
            + `coordinating_operation_bytes=${body.length}, max_coordinating_and_primary_bytes=${this.pressureLimitBytes}]`;
          return reply(res, 429, { error: { root_cause: [{ type: 'rejected_execution_exception', reason }], type: 'rejected_execution_exception', reason }, status: 429 });
        }
        const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, up => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            let text = Buffer.concat(parts).toString('utf8');
            const status = up.statusCode ?? 502;
            if (isBulk) {
              this.bulks.push({ bytes: body.length, ids, status });
              if (status === 200) text = JSON.stringify(this.rewrite(JSON.parse(text)));
            }
            res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
            res.end(text);
          });
        });
        upstream.on('error', e => reply(res, 502, { error: String(e) }));
        upstream.end(body);
      });
    });
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>(resolve => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private rewrite(response: { errors: boolean; items: Array<Record<string, Record<string, unknown>>> }): unknown {
    for (const item of response.items) {
      const result = Object.values(item)[0];
      const override = this.itemOverrides.get(result._id as string)?.shift();
      if (!override) continue;
      result.status = override.status;
      result.error = { type: override.type, reason: override.reason };
      delete result.result;
      response.errors = true;
    }
    return response;
  }
}

function actionIds(ndjson: string): string[] {
  const ids: string[] = [];
  for (const line of ndjson.split('\n')) {
    const m = /^\{"(?:index|delete)":\{"_id":("(?:[^"\\]|\\.)*")/.exec(line);
    if (m) ids.push(JSON.parse(m[1]));
  }
  return ids;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const SECURITY_REASON = 'no permissions for [indices:data/write/bulk[s]] and User [name=arn:aws:iam::111122223333:role/agent-sink, '
  + 'backend_roles=[arn:aws:iam::111122223333:role/agent-sink], requestedTenant=null]';

let standIn: SearchStandIn;
let door: FrontDoor;
let client: SinkSearchClient;
const delays: number[] = [];
const options = { sleep: async (ms: number) => { delays.push(ms); }, maxAttempts: 3 };

beforeEach(async () => {
  standIn = new SearchStandIn();
  door = new FrontDoor(await standIn.start());
  standIn.seedIndex('orders-v1', 'orders', viewMappings(VIEW) as never);
  standIn.seedIndex('tickets-v1', 'tickets', viewMappings(TICKETS) as never);
  client = createSinkSearchClient({
    endpoint: await door.start(), region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
  });
  delays.length = 0;
});
afterEach(async () => {
  await client.close();
  await door.stop();
  await standIn.stop();
});

/** The result with each failure as `<order_id>: <error>` (records are large here). */
const summary = (r: WriteResult) => ({ ...r, failed: r.failed.map(f => `${f.record.provenance.key.order_id}: ${f.error.slice(0, 300)}`) });
const orderIds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify(String(from + i)));

describe('request size', () => {
  test('a _bulk refused with 413 is split in halves, recursively and in order, until every part fits; nothing is dead-lettered', async () => {
    door.maxBodyBytes = 64 * 1024;
    const records = Array.from({ length: 40 }, (_, i) => record('orders', i + 1, 10, { status: 'new', note: `${i + 1} `.padEnd(4096, 'x') }));
    // No up-front bound: this test is about the split on 413 alone.
    const result = await writeSearchBatch(asWriterClient(client), VIEW, records, { ...options, maxBulkBytes: 1024 * MiB });
    expect(summary(result)).toEqual({ written: 40, stale: 0, failed: [] });
    expect(standIn.live('orders').size).toBe(40);
    const accepted = door.bulks.filter(b => b.status === 200);
    const refused = door.bulks.filter(b => b.status === 413);
    // 40 docs of about 4.3 KiB (about 172 KiB): 40 refused, its first half (1-20) refused, split into 10 + 10 accepted; the second half
    // (21-40) is as large as a refused request, so it is split without being sent: 10 + 10 accepted.
    expect(refused.map(b => b.ids.length)).toEqual([40, 20]);
    expect(accepted.map(b => b.ids.length)).toEqual([10, 10, 10, 10]);
    expect(accepted.every(b => b.bytes <= door.maxBodyBytes)).toBe(true);
    expect(accepted.flatMap(b => b.ids)).toEqual(orderIds(1, 40));
    expect(delays).toEqual([]);
  });

  test('a single document refused with 413 on its own is dead-lettered with a reason naming the limit; the rest of the batch is written', async () => {
    door.maxBodyBytes = 64 * 1024;
    const records = [1, 2, 3, 4, 5].map(id => record('orders', id, 10, { status: 'new', note: id === 3 ? 'y'.repeat(100 * 1024) : `note ${id}` }));
    const result = await writeSearchBatch(asWriterClient(client), VIEW, records, options);
    expect(result.written).toBe(4);
    expect(result.failed.map(f => f.record.provenance.key)).toEqual([{ order_id: 3 }]);
    expect(result.failed[0].error).toMatch(/^HTTP 413: the document's _bulk request \(100\.\d KiB\) exceeds the domain's HTTP request payload limit/);
    expect(result.failed[0].error).toMatch(/10 MiB/);
    expect(result.failed[0].error).toMatch(/Request size exceeded 65536 bytes/);
    expect([...standIn.live('orders').keys()].sort()).toEqual(['"1"', '"2"', '"4"', '"5"']);
    expect(door.bulks.map(b => [b.ids.map(id => JSON.parse(id)), b.status])).toEqual([
      [['1', '2', '3', '4', '5'], 413], [['1', '2', '3'], 413], [['1', '2'], 200], [['3'], 413], [['4', '5'], 200],
    ]);
  });

  test(`requests are bounded up front (${DEFAULT_MAX_BULK_BYTES / MiB} MiB by default): 500 vector documents of 1024 dimensions fit a 10 MiB domain without a 413`, async () => {
    door.maxBodyBytes = 10 * MiB;
    const records = Array.from({ length: 500 }, (_, i) => record('tickets', i + 1, 10, { status: 'open', note: `ticket ${i + 1}: the printer is on fire again` }));
    const result = await writeSearchBatch(asWriterClient(client), TICKETS, records, { ...options, embeddings: new DenseEmbedder() });
    expect(summary(result)).toEqual({ written: 500, stale: 0, failed: [] });
    const total = door.bulks.reduce((n, b) => n + b.bytes, 0);
    // The whole batch is over the small-instance limit: sent as one request, it was refused whole and dead-lettered.
    expect(total).toBeGreaterThan(10 * MiB);
    expect(door.bulks.every(b => b.status === 200 && b.bytes <= DEFAULT_MAX_BULK_BYTES)).toBe(true);
    // About 10.4 MiB: 241 + 241 + 18 documents.
    expect(door.bulks).toHaveLength(Math.ceil(total / DEFAULT_MAX_BULK_BYTES));
    expect(door.bulks.flatMap(b => b.ids)).toEqual(orderIds(1, 500));
    expect(standIn.live('tickets').size).toBe(500);
  });

  test('a 429 whose request alone exceeds the node\'s indexing pressure limit is split like a 413, not retried; one document over it is dead-lettered', async () => {
    door.pressureLimitBytes = 100 * 1024;
    const records = Array.from({ length: 9 }, (_, i) => record('orders', i + 1, 10, { status: 'new', note: 'p'.repeat(i === 8 ? 120 * 1024 : 20 * 1024) }));
    const result = await writeSearchBatch(asWriterClient(client), VIEW, records, options);
    expect(summary(result)).toEqual({
      written: 8, stale: 0, failed: [expect.stringMatching(/^9: HTTP 429: the document's _bulk request \(120\.\d KiB\) exceeds the node's indexing pressure limit/)],
    });
    expect(result.failed[0].error).toMatch(/indexing_pressure\.memory\.limit/);
    // 9 (280 KiB) and 5 (100 KiB) refused; then no request as large as the smallest refused one is sent: [6..9] and [8, 9] are split
    // unsent, and document 9 (120 KiB) alone is dead-lettered unsent.
    expect(door.bulks.map(b => [b.ids.length, b.status])).toEqual([[9, 429], [5, 429], [3, 200], [2, 200], [2, 200], [1, 200]]);
    expect(door.bulks.filter(b => b.status === 200).flatMap(b => b.ids)).toEqual(orderIds(1, 8));
    expect(delays).toEqual([]);
  });

  test('maxBulkBytes is configurable; a document larger than it goes alone', async () => {
    const records = [1, 2, 3, 4].map(id => record('orders', id, 10, { status: 'new', note: id === 2 ? 'z'.repeat(3000) : 'n'.repeat(600) }));
    const result = await writeSearchBatch(asWriterClient(client), VIEW, records, { ...options, maxBulkBytes: 2000 });
    expect(summary(result)).toEqual({ written: 4, stale: 0, failed: [] });
    expect(door.bulks.map(b => b.ids.map(id => JSON.parse(id)))).toEqual([['1'], ['2'], ['3', '4']]);
    await expect(writeSearchBatch(asWriterClient(client), VIEW, records, { ...options, maxBulkBytes: 0 })).rejects.toThrow(/maxBulkBytes must be a positive integer/);
  });
});

describe('per-item statuses', () => {
  test('a per-item 403 security_exception (FGAC role mapping gap) fails the batch at once, naming the fix, instead of dead-lettering', async () => {
    door.itemOverrides.set('"2"', [{ status: 403, type: 'security_exception', reason: SECURITY_REASON }]);
    const records = [1, 2, 3].map(id => record('orders', id, 10, { status: 'new', note: `n${id}` }));
    const err = await writeSearchBatch(asWriterClient(client), VIEW, records, options).catch(e => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.message).toMatch(/search index 'orders' refused the sink's writes \(HTTP 403: security_exception: no permissions for \[indices:data\/write\/bulk\[s\]\]/);
    expect(err.message).toMatch(/map the sink's role to an OpenSearch role with write on the index \('orders' and 'orders-v\*'\)/);
    expect(err.message).toMatch(/AgentSearch\.grantWrite/);
    expect(door.bulks).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  test('a per-item 429 that outlasts the attempts fails the batch even when other items were written; it is never dead-lettered', async () => {
    standIn.itemFaults.set('"2"', [429, 429, 429]);
    const records = [1, 2].map(id => record('orders', id, 10, { status: 'new', note: `n${id}` }));
    const err = await writeSearchBatch(asWriterClient(client), VIEW, records, options).catch(e => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.message).toMatch(/search index 'orders' still refused 1 item after 3 attempts \(HTTP 429: es_rejected_execution_exception/);
    expect(door.bulks.map(b => b.ids.length)).toEqual([2, 1, 1]);
    expect([...standIn.live('orders').keys()]).toEqual(['"1"']);
  });

  test('a per-item 503 (unavailable shards) that outlasts the attempts fails the batch too', async () => {
    standIn.itemFaults.set('"1"', [503, 503, 503]);
    const records = [1, 2].map(id => record('orders', id, 10, { status: 'new', note: `n${id}` }));
    await expect(writeSearchBatch(asWriterClient(client), VIEW, records, options)).rejects.toThrow(/still refused 1 item after 3 attempts \(HTTP 503: unavailable_shards_exception/);
  });

  test('unchanged: other per-item 4xx are dead-lettered at once, 409 is stale, a versioned delete answering 404 is applied, a persistent 500 is dead-lettered after the retries', async () => {
    door.itemOverrides.set('"1"', [{ status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [order_id] of type [integer]' }]);
    standIn.itemFaults.set('"4"', [500, 500, 500]);
    await writeSearchBatch(asWriterClient(client), VIEW, [record('orders', 2, 20, { status: 'new', note: 'n2' })], options);
    const result = await writeSearchBatch(asWriterClient(client), VIEW, [
      record('orders', 1, 10, { status: 'new', note: 'n1' }), record('orders', 2, 15, { status: 'old', note: 'n2' }), record('orders', 3, 10, null),
      record('orders', 4, 10, { status: 'new', note: 'n4' }),
    ], options);
    expect(result.written).toBe(1);
    expect(result.stale).toBe(1);
    expect(result.failed.map(f => [f.record.provenance.key.order_id, f.error])).toEqual([
      [1, expect.stringMatching(/^HTTP 400: mapper_parsing_exception/)],
      [4, expect.stringMatching(/^after 3 attempts, HTTP 500/)],
    ]);
  });
});
