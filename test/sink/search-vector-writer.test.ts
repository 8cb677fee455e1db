// writeSearchBatch on a vector view, end to end without AWS: the local embedder, the real OpenSearch client and the stand-in domain.
import type { Client } from '@opensearch-project/opensearch';
import { createSearchClient } from '../../lambda/shared/search-client';
import { writeSearchBatch } from '../../lambda/shared/search-writer';
import { viewMappings } from '../../contract/search-mapping';
import { EmbeddingError, HashingEmbedder, type EmbeddingProvider } from '../../lambda/shared/embeddings';
import type { StoredRecord } from '../../contract/stored-record';
import { StoreUnavailableError } from '../../lambda/shared/write-result';
import type { ViewConfig } from '../../contract/view-config';
import { SearchStandIn } from '../stores/search-stand-in';

const DIM = 32;
const TICKETS: ViewConfig = {
  name: 'tickets',
  description: 'Support tickets',
  store: 'search',
  topic: 'cdc.public.tickets',
  format: 'debezium',
  key: ['ticket_id'],
  sourceTable: 'public.tickets',
  fields: [
    { name: 'ticket_id', type: 'integer' },
    { name: 'status', type: 'keyword' },
    { name: 'subject', type: 'text' },
    { name: 'body', type: 'text' },
  ],
  search: {
    index: 'tickets',
    vector: { field: 'body_embedding', sourceFields: ['subject', 'body'], dimension: DIM, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' },
  },
};

function ticket(id: number, version: number, row: Record<string, unknown> | null): StoredRecord {
  return {
    view: 'tickets',
    row: row === null ? null : { ticket_id: id, ...row },
    provenance: {
      sourceDatabase: 'support', sourceTable: 'public.tickets', key: { ticket_id: id }, commitTimeMs: 1, position: { kind: 'postgres', lsn: `0/${version}` },
      version: String(version), op: row === null ? 'd' : 'u', kafka: { topic: 'cdc.public.tickets', partition: 0, offset: String(version) }, writtenAtMs: 2,
    },
  };
}

let standIn: SearchStandIn;
let client: Client;
let embedder: HashingEmbedder;
const opts = () => ({ embeddings: embedder, sleep: async () => undefined, maxAttempts: 2 });

beforeEach(async () => {
  standIn = new SearchStandIn();
  const url = await standIn.start();
  standIn.seedIndex('tickets-v1', 'tickets', viewMappings(TICKETS) as never);
  client = createSearchClient({ endpoint: url, region: 'us-east-1', credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 's' }) });
  embedder = new HashingEmbedder(DIM);
});

afterEach(async () => {
  await client.close();
  await standIn.stop();
});

const sentDocs = (n: number) => standIn.bulkRequests()[n].body.trim().split('\n').filter((_, i) => i % 2 === 1).map(l => JSON.parse(l));

test('bulk bodies carry a vector of the declared dimension, embedded from the source fields', async () => {
  const result = await writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'Late parcel', body: 'My parcel is late' })], opts());
  expect(result).toEqual({ written: 1, stale: 0, failed: [] });
  const [doc] = sentDocs(0);
  expect(doc.body_embedding).toHaveLength(DIM);
  expect(doc.body_embedding).toEqual(embedder.vector('Late parcel\nMy parcel is late'));
  expect(embedder.calls).toEqual([['Late parcel\nMy parcel is late']]);
});

test('an update that does not change the embedded columns reuses the stored vector (no new embedding)', async () => {
  await writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'Late parcel', body: 'My parcel is late' })], opts());
  const stored = standIn.live('tickets').get('"1"')!.body_embedding;
  const result = await writeSearchBatch(client, TICKETS, [ticket(1, 11, { status: 'closed', subject: 'Late parcel', body: 'My parcel is late' })], opts());
  expect(result).toEqual({ written: 1, stale: 0, failed: [] });
  expect(embedder.calls).toHaveLength(1);
  const mget = standIn.requests.filter(r => r.path === '/tickets/_mget');
  expect(mget).toHaveLength(2);
  expect(JSON.parse(mget[1].body)).toEqual({ ids: ['"1"'] });
  expect(mget[1].query.get('_source_includes')).toBe('subject,body,body_embedding');
  expect(sentDocs(1)[0]).toMatchObject({ status: 'closed', body_embedding: stored });
});

test('a changed embedded column triggers a new embedding', async () => {
  await writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'Late parcel', body: 'My parcel is late' })], opts());
  await writeSearchBatch(client, TICKETS, [ticket(1, 11, { status: 'open', subject: 'Late parcel', body: 'It arrived damaged too' })], opts());
  expect(embedder.calls[1]).toEqual(['Late parcel\nIt arrived damaged too']);
  expect(standIn.live('tickets').get('"1"')!.body_embedding).toEqual(embedder.vector('Late parcel\nIt arrived damaged too'));
});

test('a replayed older change is skipped before paying for an embedding', async () => {
  await writeSearchBatch(client, TICKETS, [ticket(1, 20, { status: 'open', subject: 'Now', body: 'current text' })], opts());
  const result = await writeSearchBatch(client, TICKETS, [ticket(1, 15, { status: 'open', subject: 'Old', body: 'older text' })], opts());
  expect(result).toEqual({ written: 0, stale: 1, failed: [] });
  expect(embedder.calls).toHaveLength(1);
  expect(standIn.bulkRequests()).toHaveLength(1);
});

test('deletes need no embedding; rows with empty text are written without a vector', async () => {
  const result = await writeSearchBatch(client, TICKETS, [ticket(1, 10, null), ticket(2, 10, { status: 'open', subject: null, body: '' })], opts());
  expect(result).toEqual({ written: 2, stale: 0, failed: [] });
  expect(embedder.calls).toEqual([]);
  expect(sentDocs(0)[0]).not.toHaveProperty('body_embedding');
});

test('a row whose embedding fails is returned as failed and never written without its vector', async () => {
  const flaky: EmbeddingProvider = {
    dimension: DIM,
    async embed(texts) {
      if (texts.some(t => t.includes('poison'))) throw new EmbeddingError('ValidationException: input rejected', false);
      return embedder.embed(texts);
    },
  };
  const result = await writeSearchBatch(client, TICKETS, [
    ticket(1, 10, { status: 'open', subject: 'fine', body: 'fine text' }),
    ticket(2, 10, { status: 'open', subject: 'poison', body: 'bad' }),
  ], { ...opts(), embeddings: flaky });
  expect(result.written).toBe(1);
  expect(result.failed).toHaveLength(1);
  expect(result.failed[0].record.provenance.key).toEqual({ ticket_id: 2 });
  expect(result.failed[0].error).toMatch(/embedding failed: ValidationException/);
  expect(standIn.live('tickets').has('"2"')).toBe(false);
});

test('when the provider is unavailable for every text the batch fails so the event source retries it', async () => {
  const down: EmbeddingProvider = { dimension: DIM, async embed() { throw new EmbeddingError('ThrottlingException after 4 attempts', true); } };
  await expect(writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'a', body: 'b' })], { ...opts(), embeddings: down }))
    .rejects.toThrow(StoreUnavailableError);
  expect(standIn.bulkRequests()).toHaveLength(0);
});

test('a provider returning the wrong dimension fails those rows', async () => {
  const wrong: EmbeddingProvider = { dimension: DIM, async embed(texts) { return texts.map(() => [0.1, 0.2]); } };
  const result = await writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'a', body: 'b' })], { ...opts(), embeddings: wrong });
  expect(result.failed[0].error).toMatch(/returned 2 dimensions, expected 32/);
  expect(standIn.bulkRequests()).toHaveLength(0);
});

test('if the stored documents cannot be fetched the rows are embedded again, not written without vectors', async () => {
  await writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'Late', body: 'late' })], opts());
  standIn.mgetFaults.push({ status: 503, body: { error: { type: 'unavailable_shards_exception', reason: 'x' }, status: 503 } });
  const result = await writeSearchBatch(client, TICKETS, [ticket(1, 11, { status: 'closed', subject: 'Late', body: 'late' })], opts());
  expect(result).toEqual({ written: 1, stale: 0, failed: [] });
  expect(embedder.calls).toHaveLength(2);
  expect(sentDocs(1)[0].body_embedding).toHaveLength(DIM);
});

test('without an explicit provider the view model is used (the local embedder under AGENT_EMBEDDINGS=local)', async () => {
  process.env.AGENT_EMBEDDINGS = 'local';
  try {
    const result = await writeSearchBatch(client, TICKETS, [ticket(1, 10, { status: 'open', subject: 'a', body: 'b' })], { sleep: async () => undefined });
    expect(result.written).toBe(1);
    expect(sentDocs(0)[0].body_embedding).toEqual(new HashingEmbedder(DIM).vector('a\nb'));
  } finally {
    delete process.env.AGENT_EMBEDDINGS;
  }
});

test('refuses a provider of another dimension than the view declares', async () => {
  const record = [ticket(1, 10, { status: 'open', subject: 'a', body: 'b' })];
  await expect(writeSearchBatch(client, TICKETS, record, { embeddings: new HashingEmbedder(16) })).rejects.toThrow(/vector.dimension 32 but the embedding provider returns 16/);
});
