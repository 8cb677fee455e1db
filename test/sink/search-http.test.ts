// The sink's own OpenSearch client (lambda/sink/search-http.ts) under the real search writer, against the stand-in domain:
// signed bulk and mget requests, retries on 429/5xx and dropped connections, errors the writer can classify.
import { createHash } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { viewMappings } from '../../contract/search-mapping';
import { writeSearchBatch } from '../../lambda/shared/search-writer';
import type { ViewConfig } from '../../contract/view-config';
import { StoreUnavailableError } from '../../lambda/shared/write-result';
import { asWriterClient, createSinkSearchClient, SearchHttpError, type SinkSearchClient } from '../../lambda/sink/search-http';
import { searchWriterFromEnvironment } from '../../lambda/sink/search-route';
import { SearchStandIn } from '../stores/search-stand-in';
import { orderRecord } from './helpers';

const VIEW: ViewConfig = {
  name: 'orders', description: 'Orders', store: 'search', topic: 'cdc.public.orders', format: 'debezium', key: ['order_id'], sourceTable: 'public.orders',
  fields: [{ name: 'order_id', type: 'integer' }, { name: 'status', type: 'keyword' }, { name: 'note', type: 'text' }],
  search: { index: 'orders' },
};
const VECTOR_VIEW: ViewConfig = {
  ...VIEW, name: 'notes', search: {
    index: 'notes', vector: { field: 'note_embedding', sourceFields: ['note'], dimension: 16, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' },
  },
};

const record = orderRecord;

let standIn: SearchStandIn;
let client: SinkSearchClient;
const options = { sleep: async () => undefined, maxAttempts: 3 };

beforeEach(async () => {
  standIn = new SearchStandIn();
  const url = await standIn.start();
  standIn.seedIndex('orders-v1', 'orders', viewMappings(VIEW) as never);
  standIn.seedIndex('notes-v1', 'notes', viewMappings(VECTOR_VIEW) as never);
  client = createSinkSearchClient({
    endpoint: url, region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }),
  });
});
afterEach(async () => {
  await client.close();
  await standIn.stop();
});

test('bulk writes and deletes go through the alias, SigV4-signed for es with the body hash, and converge', async () => {
  const w = asWriterClient(client);
  expect(await writeSearchBatch(w, VIEW, [record('orders', 1, 10, { status: 'new', note: 'a' }), record('orders', 2, 11, { status: 'paid', note: 'b' })], options))
    .toEqual({ written: 2, stale: 0, failed: [] });
  expect(await writeSearchBatch(w, VIEW, [record('orders', 1, 12, null), record('orders', 2, 9, { status: 'old', note: 'c' })], options))
    .toEqual({ written: 1, stale: 1, failed: [] });
  expect([...standIn.live('orders').keys()]).toEqual(['"2"']);
  expect(standIn.live('orders').get('"2"')).toMatchObject({ status: 'paid' });
  const [bulk] = standIn.bulkRequests();
  expect(bulk.path).toBe('/orders/_bulk');
  expect(bulk.query.get('require_alias')).toBe('true');
  expect(bulk.headers['content-type']).toBe('application/x-ndjson');
  expect(bulk.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/es\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-content-sha256/);
  expect(bulk.headers['x-amz-security-token']).toBe('token');
  expect(bulk.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(bulk.body).digest('hex'));
});

test('mget reads stored versions for a vector view, so an unchanged replay is a stale skip without embedding', async () => {
  const w = asWriterClient(client);
  const embeddings = new HashingEmbedder(16);
  await writeSearchBatch(w, VECTOR_VIEW, [record('notes', 1, 10, { status: 'new', note: 'call back' })], { ...options, embeddings });
  const replay = await writeSearchBatch(w, VECTOR_VIEW, [record('notes', 1, 10, { status: 'new', note: 'call back' })], { ...options, embeddings });
  expect(replay).toEqual({ written: 0, stale: 1, failed: [] });
  const mget = standIn.requests.filter(r => r.path === '/notes/_mget');
  expect(mget).toHaveLength(2);
  expect(mget[1].query.get('_source_includes')).toBe('note,note_embedding');
  expect(JSON.parse(mget[1].body)).toEqual({ ids: ['"1"'] });
});

test('429, 5xx and a dropped connection are retried; an outage that outlasts the attempts is a StoreUnavailableError', async () => {
  const w = asWriterClient(client);
  standIn.bulkFaults.push({ status: 429, body: { error: { type: 'es_rejected_execution_exception' }, status: 429 } }, 'drop-connection');
  expect(await writeSearchBatch(w, VIEW, [record('orders', 1, 10, { status: 'new', note: 'a' })], options)).toEqual({ written: 1, stale: 0, failed: [] });
  const unavailable = { status: 503, body: { error: { type: 'unavailable' }, status: 503 } };
  standIn.bulkFaults.push(unavailable, unavailable, unavailable);
  await expect(writeSearchBatch(w, VIEW, [record('orders', 1, 11, { status: 'paid', note: 'a' })], options)).rejects.toBeInstanceOf(StoreUnavailableError);
});

test('a 403 is not retried and fails the batch; a 400 dead-letters the records with the body\'s reason', async () => {
  standIn.bulkFaults.push({ status: 403, body: { error: { type: 'security_exception', reason: 'no permissions' }, status: 403 } });
  const err = await client.bulk({ index: 'orders', body: '{"delete":{"_id":"1"}}\n', require_alias: true }).catch(e => e);
  expect(err).toBeInstanceOf(SearchHttpError);
  expect(err.meta).toEqual({ statusCode: 403, body: { error: { type: 'security_exception', reason: 'no permissions' }, status: 403 } });
  const w = asWriterClient(client);
  standIn.bulkFaults.push({ status: 403, body: { error: { type: 'security_exception', reason: 'no permissions' }, status: 403 } });
  await expect(writeSearchBatch(w, VIEW, [record('orders', 1, 10, { status: 'new', note: 'a' })], options)).rejects.toThrow(/refused the sink's credentials \(HTTP 403\)/);
  expect(standIn.bulkRequests()).toHaveLength(2);
  standIn.bulkFaults.push({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'Malformed action/metadata line' }, status: 400 } });
  const result = await writeSearchBatch(w, VIEW, [record('orders', 1, 10, { status: 'new', note: 'a' })], options);
  expect(result.failed.map(f => f.error)).toEqual([expect.stringMatching(/HTTP 400.*Malformed/)]);
});

test('a request that outlives its timeout fails without a status (retryable)', async () => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
  const slow = createSinkSearchClient({
    endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, region: 'us-east-1', requestTimeoutMs: 200,
    credentials: async () => ({ accessKeyId: 'A', secretAccessKey: 'S' }),
  });
  try {
    const err = await slow.mget({ index: 'orders', body: { ids: ['1'] } }).catch(e => e);
    expect(err.message).toMatch(/timed out after 200 ms/);
    expect(err.meta).toBeUndefined();
  } finally {
    await slow.close();
    silent.closeAllConnections();
    await new Promise<void>(resolve => silent.close(() => resolve()));
  }
});

test('the sink wires the writer from AGENT_SEARCH_ENDPOINT (credentials from the default chain) and refuses to start without it', async () => {
  await expect(searchWriterFromEnvironment({ AWS_REGION: 'us-east-1' })).rejects.toThrow(/AGENT_SEARCH_ENDPOINT and AGENT_SEARCH_REGION must be set/);
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'S' });
  try {
    const url = `http://127.0.0.1:${new URL(await standIn.stop().then(() => standIn.start())).port}`;
    const writer = await searchWriterFromEnvironment({ AGENT_SEARCH_ENDPOINT: url, AGENT_SEARCH_REGION: 'us-east-1' });
    expect(await writer!(VIEW, [record('orders', 3, 10, { status: 'new', note: 'n' })])).toEqual({ written: 1, stale: 0, failed: [] });
    expect(standIn.bulkRequests()[0].headers.authorization).toMatch(/Credential=AKIDENV\//);
  } finally {
    process.env = saved;
  }
});
