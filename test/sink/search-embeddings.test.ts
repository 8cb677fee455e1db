// Embedding providers: Bedrock Titan v2 against a mocked runtime client (request shape, batching, retries, errors, dimension check) and the local hashed n-gram embedder.
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BedrockTitanEmbeddings, EmbeddingDimensionError, EmbeddingError, HashingEmbedder, embeddingProviderFor, embeddingText,
} from '../../lambda/shared/embeddings';

const bedrock = mockClient(BedrockRuntimeClient);
const delays: number[] = [];
const sleep = async (ms: number) => { delays.push(ms); };

function reply(vector: number[]) {
  return { body: new TextEncoder().encode(JSON.stringify({ embedding: vector, inputTextTokenCount: 3, embeddingsByType: { float: vector } })) } as never;
}

const bodyText = (b: unknown) => (typeof b === 'string' ? b : new TextDecoder().decode(b as Uint8Array));

function awsError(name: string, status: number) {
  return Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });
}

beforeEach(() => {
  bedrock.reset();
  delays.length = 0;
});

describe('BedrockTitanEmbeddings', () => {
  test('sends one InvokeModel per text with the Titan v2 body and returns vectors in order', async () => {
    bedrock.on(InvokeModelCommand).callsFake(input => {
      const body = JSON.parse(bodyText(input.body));
      return reply(new Array(256).fill(body.inputText.length / 100));
    });
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), dimension: 256, sleep });
    const vectors = await provider.embed(['a', 'bb', 'ccc']);
    expect(vectors.map(v => v[0])).toEqual([0.01, 0.02, 0.03]);
    const calls = bedrock.commandCalls(InvokeModelCommand);
    expect(calls).toHaveLength(3);
    expect(calls[0].args[0].input).toMatchObject({ modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', accept: 'application/json' });
    expect(JSON.parse(bodyText(calls[0].args[0].input.body))).toEqual({ inputText: 'a', dimensions: 256, normalize: true, embeddingTypes: ['float'] });
  });

  test('batches with bounded concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    bedrock.on(InvokeModelCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise(r => setImmediate(r));
      inFlight--;
      return reply(new Array(1024).fill(0.1));
    });
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), concurrency: 3, sleep });
    const vectors = await provider.embed(Array.from({ length: 10 }, (_, i) => `text ${i}`));
    expect(vectors).toHaveLength(10);
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(10);
    expect(peak).toBe(3);
  });

  test('retries throttling with backoff, then succeeds', async () => {
    bedrock.on(InvokeModelCommand)
      .rejectsOnce(awsError('ThrottlingException', 429))
      .rejectsOnce(awsError('ServiceUnavailableException', 503))
      .resolves(reply(new Array(1024).fill(0.5)));
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), sleep, baseDelayMs: 100 });
    const [v] = await provider.embed(['hello']);
    expect(v).toHaveLength(1024);
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
  });

  test('gives up after maxAttempts with a retryable EmbeddingError', async () => {
    bedrock.on(InvokeModelCommand).rejects(awsError('ThrottlingException', 429));
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), sleep, maxAttempts: 3 });
    const error = await provider.embed(['hello']).catch(e => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/after 3 attempts: ThrottlingException/);
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(3);
  });

  test('a model error (validation, access) is not retried', async () => {
    bedrock.on(InvokeModelCommand).rejects(awsError('ValidationException', 400));
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), sleep });
    const error = await provider.embed(['hello']).catch(e => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/ValidationException/);
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(1);
  });

  test('a vector of another dimension is a clear, non-retryable error', async () => {
    bedrock.on(InvokeModelCommand).resolves(reply(new Array(512).fill(0.1)));
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), dimension: 1024, sleep });
    const error = await provider.embed(['hello']).catch(e => e);
    expect(error).toBeInstanceOf(EmbeddingDimensionError);
    expect(error.message).toMatch(/returned 512 dimensions but 1024 are configured/);
    expect(error.retryable).toBe(false);
  });

  test('refuses dimensions Titan v2 cannot produce, and empty texts', async () => {
    expect(() => new BedrockTitanEmbeddings({ dimension: 300 })).toThrow(/256, 512 or 1024 dimensions, not 300/);
    const provider = new BedrockTitanEmbeddings({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), sleep });
    await expect(provider.embed([''])).rejects.toThrow(/empty text/);
  });
});

describe('HashingEmbedder', () => {
  const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

  test('is deterministic, of the declared dimension and unit length', async () => {
    const e = new HashingEmbedder(64);
    const [a, b] = await e.embed(['Late delivery of my order', 'Late delivery of my order']);
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
    expect(cosine(a, a)).toBeCloseTo(1, 10);
  });

  test('texts sharing words are closer than unrelated ones', () => {
    const e = new HashingEmbedder(256);
    const complaint = e.vector('my parcel arrived late and damaged');
    expect(cosine(complaint, e.vector('parcel arrived damaged'))).toBeGreaterThan(cosine(complaint, e.vector('invoice address change request')));
  });

  test('records what it embedded', async () => {
    const e = new HashingEmbedder(8);
    await e.embed(['x']);
    expect(e.calls).toEqual([['x']]);
  });
});

describe('embeddingText and embeddingProviderFor', () => {
  test('joins the non-empty source fields, one per line', () => {
    expect(embeddingText({ subject: 'Late', body: 'Parcel late', tag: null, n: 3 }, ['subject', 'body', 'tag', 'missing'])).toBe('Late\nParcel late');
    expect(embeddingText({ subject: ' ' }, ['subject'])).toBe('');
  });

  test('uses the local embedder when AGENT_EMBEDDINGS=local, Bedrock otherwise, one per model', () => {
    const local = embeddingProviderFor({ modelId: 'amazon.titan-embed-text-v2:0', dimension: 256 }, { AGENT_EMBEDDINGS: 'local' });
    expect(local).toBeInstanceOf(HashingEmbedder);
    expect(local.dimension).toBe(256);
    expect(embeddingProviderFor({ modelId: 'amazon.titan-embed-text-v2:0', dimension: 256 }, { AGENT_EMBEDDINGS: 'local' })).toBe(local);
    const bedrockProvider = embeddingProviderFor({ modelId: 'amazon.titan-embed-text-v2:0', dimension: 512 }, { AWS_REGION: 'us-east-1' });
    expect(bedrockProvider).toBeInstanceOf(BedrockTitanEmbeddings);
    expect(bedrockProvider.dimension).toBe(512);
  });
});
