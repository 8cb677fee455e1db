// Embedding providers: Amazon Bedrock Titan Text Embeddings v2 in production, a deterministic hashed n-gram embedder for tests and local runs.
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';

/** Turns texts into vectors of `dimension` floats, in order. Throws `EmbeddingError` when it cannot. */
export interface EmbeddingProvider {
  embed(texts: string[]): Promise<number[][]>;
  readonly dimension: number;
}

/** An embedding that could not be produced; `retryable` says whether trying again later may succeed. */
export class EmbeddingError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly cause?: unknown) {
    super(message);
    this.name = 'EmbeddingError';
  }
}

/** The model returned vectors of another length than configured: a configuration error, never retried. */
export class EmbeddingDimensionError extends EmbeddingError {
  constructor(readonly expected: number, readonly actual: number, modelId: string) {
    super(`embedding model '${modelId}' returned ${actual} dimensions but ${expected} are configured: set the view's vector.dimension to the model's output size (Titan Text Embeddings v2: 256, 512 or 1024)`, false);
    this.name = 'EmbeddingDimensionError';
  }
}

export const TITAN_TEXT_EMBEDDINGS_V2 = 'amazon.titan-embed-text-v2:0';

/** Titan Text Embeddings v2 accepts at most 50,000 characters (8,192 tokens) per input. */
const TITAN_MAX_CHARS = 50_000;

export interface BedrockEmbeddingsOptions {
  /** @default - a new BedrockRuntimeClient for the function's region */
  readonly client?: BedrockRuntimeClient;
  /** @default 'amazon.titan-embed-text-v2:0' */
  readonly modelId?: string;
  /** 256, 512 or 1024 for Titan v2. @default 1024 */
  readonly dimension?: number;
  /** Unit-length vectors (cosine equals inner product). @default true */
  readonly normalize?: boolean;
  /** InvokeModel calls in flight at once (Titan embeds one text per call). @default 8 */
  readonly concurrency?: number;
  /** Attempts per text for throttling and transient errors, first included. @default 4 */
  readonly maxAttempts?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** Injected in tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

const RETRYABLE_ERRORS = new Set([
  'ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'ModelTimeoutException',
  'ModelNotReadyException', 'TooManyRequestsException', 'TimeoutError', 'RequestTimeout',
]);

/**
 * Titan Text Embeddings v2 through `InvokeModel`. The model takes one text per request, so a batch is
 * embedded with bounded concurrency; throttling and transient errors are retried with exponential backoff,
 * validation and access errors are not. Every vector's length is checked against `dimension`.
 */
export class BedrockTitanEmbeddings implements EmbeddingProvider {
  readonly dimension: number;
  readonly modelId: string;
  private readonly client: BedrockRuntimeClient;
  private readonly normalize: boolean;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: BedrockEmbeddingsOptions = {}) {
    this.modelId = options.modelId ?? TITAN_TEXT_EMBEDDINGS_V2;
    this.dimension = options.dimension ?? 1024;
    if (this.modelId.startsWith('amazon.titan-embed-text-v2') && ![256, 512, 1024].includes(this.dimension)) {
      throw new Error(`Titan Text Embeddings v2 returns 256, 512 or 1024 dimensions, not ${this.dimension}`);
    }
    this.client = options.client ?? new BedrockRuntimeClient({});
    this.normalize = options.normalize ?? true;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.sleep = options.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)));
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = new Array(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const i = next++;
        out[i] = await this.embedOne(texts[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, texts.length) }, worker));
    return out;
  }

  private async embedOne(text: string): Promise<number[]> {
    if (text.length === 0) throw new EmbeddingError('cannot embed an empty text', false);
    const body = JSON.stringify({
      inputText: text.length > TITAN_MAX_CHARS ? text.slice(0, TITAN_MAX_CHARS) : text,
      dimensions: this.dimension,
      normalize: this.normalize,
      embeddingTypes: ['float'],
    });
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.client.send(new InvokeModelCommand({
          modelId: this.modelId, contentType: 'application/json', accept: 'application/json', body,
        }));
        const parsed = JSON.parse(new TextDecoder().decode(response.body)) as { embedding?: number[]; embeddingsByType?: { float?: number[] } };
        const vector = parsed.embeddingsByType?.float ?? parsed.embedding;
        if (!Array.isArray(vector)) throw new EmbeddingError(`model '${this.modelId}' returned no embedding`, false);
        if (vector.length !== this.dimension) throw new EmbeddingDimensionError(this.dimension, vector.length, this.modelId);
        return vector;
      } catch (e) {
        if (e instanceof EmbeddingError) throw e;
        const name = (e as { name?: string }).name ?? 'Error';
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const retryable = RETRYABLE_ERRORS.has(name) || (status !== undefined && (status === 429 || status >= 500));
        if (!retryable || attempt >= this.maxAttempts) {
          throw new EmbeddingError(`${this.modelId} InvokeModel failed${retryable ? ` after ${attempt} attempts` : ''}: ${name}: ${(e as Error).message}`, retryable, e);
        }
        const exp = this.baseDelayMs * 2 ** (attempt - 1);
        await this.sleep(Math.round(exp / 2 + Math.random() * (exp / 2)));
      }
    }
  }
}

/**
 * A deterministic embedder for tests and the local loop: character 3-grams of the lowercased text (words padded
 * with spaces), each hashed (FNV-1a) to a dimension and a sign, summed and scaled to unit length. Texts sharing
 * words get close vectors; nothing leaves the process.
 */
export class HashingEmbedder implements EmbeddingProvider {
  /** Texts embedded so far, in call order (tests assert what was, and was not, embedded). */
  readonly calls: string[][] = [];

  constructor(readonly dimension: number, private readonly n = 3) {
    if (!Number.isInteger(dimension) || dimension < 1) throw new Error(`dimension must be a positive integer, got ${dimension}`);
  }

  async embed(texts: string[]): Promise<number[][]> {
    this.calls.push([...texts]);
    return texts.map(t => this.vector(t));
  }

  vector(text: string): number[] {
    const v = new Array<number>(this.dimension).fill(0);
    const normalized = text.toLowerCase().normalize('NFKC').replace(/\s+/g, ' ').trim();
    for (const word of normalized.split(' ')) {
      const padded = ` ${word} `;
      for (let i = 0; i + this.n <= padded.length; i++) {
        const h = fnv1a(padded.slice(i, i + this.n));
        v[h % this.dimension] += (h & 0x80000000) ? -1 : 1;
      }
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return norm === 0 ? v : v.map(x => x / norm);
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The text a row contributes to its embedding: the source fields' values, one per line; empty when all are empty. */
export function embeddingText(row: Record<string, unknown>, sourceFields: readonly string[]): string {
  return sourceFields
    .map(f => row[f])
    .filter(v => v !== undefined && v !== null && String(v).trim() !== '')
    .map(v => (typeof v === 'object' ? JSON.stringify(v) : String(v)))
    .join('\n');
}

/** Set to `local` to use the hashed n-gram embedder instead of Bedrock (local dev loop, tests). */
export const EMBEDDINGS_ENV = 'AGENT_EMBEDDINGS';

const providers = new Map<string, EmbeddingProvider>();

/**
 * The container-wide provider for a view's vector config: Bedrock with the view's model and dimension, or the
 * local embedder when `AGENT_EMBEDDINGS=local`. The sink and the MCP server call this so a query is embedded
 * exactly like the documents it is compared with.
 */
export function embeddingProviderFor(
  vector: { readonly modelId: string; readonly dimension: number },
  env: NodeJS.ProcessEnv = process.env,
): EmbeddingProvider {
  const local = env[EMBEDDINGS_ENV] === 'local';
  const key = `${local ? 'local' : 'bedrock'}|${vector.modelId}|${vector.dimension}`;
  let provider = providers.get(key);
  if (!provider) {
    provider = local ? new HashingEmbedder(vector.dimension) : new BedrockTitanEmbeddings({ modelId: vector.modelId, dimension: vector.dimension });
    providers.set(key, provider);
  }
  return provider;
}
