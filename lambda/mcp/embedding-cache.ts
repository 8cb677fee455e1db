// A bounded LRU with a time to live for `<view>_similar` query embeddings: an agent repeating or paging a question embeds it once.
import type { SearchVectorConfig } from '../../contract/view-config';

export interface EmbeddingCacheOptions {
  /** Entries kept; the least recently used is evicted beyond it. @default 256 (about 2 MB of 1024-dimension vectors) */
  readonly maxEntries?: number;
  /** Milliseconds an entry is served after it was computed. @default 300000 (5 minutes) */
  readonly ttlMs?: number;
}

export const DEFAULT_EMBEDDING_CACHE = { maxEntries: 256, ttlMs: 300_000 } as const;

interface Entry {
  readonly vector: Promise<number[]>;
  readonly expiresAtMs: number;
}

/**
 * Keyed by model, dimension and the exact text; the in-flight promise is cached, so concurrent calls with one text embed once,
 * and a failed embedding is dropped rather than served.
 */
export class EmbeddingCache {
  private readonly entries = new Map<string, Entry>();
  readonly maxEntries: number;
  readonly ttlMs: number;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(options: EmbeddingCacheOptions, private readonly now: () => number) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_EMBEDDING_CACHE.maxEntries));
    this.ttlMs = Math.max(0, options.ttlMs ?? DEFAULT_EMBEDDING_CACHE.ttlMs);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached vector of `text`, or `embed(text)` stored for later calls. */
  get(vector: Pick<SearchVectorConfig, 'modelId' | 'dimension'>, text: string, embed: () => Promise<number[]>): Promise<number[]> {
    const key = `${vector.modelId}\u0000${vector.dimension}\u0000${text}`;
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAtMs > now) {
      // Re-insert: Map iteration order is insertion order, so the first key is always the least recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.hits++;
      return hit.vector;
    }
    if (hit) this.entries.delete(key);
    this.misses++;
    const pending = embed();
    this.entries.set(key, { vector: pending, expiresAtMs: now + this.ttlMs });
    pending.catch(() => {
      if (this.entries.get(key)?.vector === pending) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
      this.evictions++;
    }
    return pending;
  }
}
