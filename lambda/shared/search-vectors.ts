// The embedding step of a vector view's batch: each upsert gets its vector before the `_bulk` write, reusing a stored vector
// whose text is unchanged and skipping documents the index already holds at an equal or newer version.
import type { Client } from '@opensearch-project/opensearch';
import type { ViewConfig } from '../../contract/view-config';
import { embeddingProviderFor, embeddingText, EmbeddingError } from './embeddings';
import type { EmbeddingStats, Pending, SearchWriteOptions } from './search-writer';
import { StoreUnavailableError, type RecordFailure } from './write-result';

/**
 * Gives every upsert of a vector view its vector before the write. The stored documents are fetched with one
 * `_mget`: a document whose stored version is already as new is a stale skip (no embedding paid for); one whose
 * embedded text is unchanged keeps its stored vector; the rest are embedded in one provider call. A record whose
 * text cannot be embedded is returned as failed and not written (never written without its vector); when the
 * provider fails for every text with a retryable error, the batch fails with `StoreUnavailableError`.
 * Rows whose source fields are all empty have nothing to embed and are written without a vector.
 */
export async function attachVectors(
  client: Client,
  view: ViewConfig,
  newest: Map<string, Pending>,
  options: SearchWriteOptions,
): Promise<{ stale: number; failed: RecordFailure[] } & EmbeddingStats> {
  const vector = view.search!.vector!;
  const provider = options.embeddings ?? embeddingProviderFor(vector);
  if (provider.dimension !== vector.dimension) {
    throw new Error(`view '${view.name}' declares vector.dimension ${vector.dimension} but the embedding provider returns ${provider.dimension}`);
  }
  const upserts = [...newest.values()].filter(p => p.doc !== null);
  const texts = new Map<string, string>();
  for (const p of upserts) texts.set(p.id, embeddingText(p.record.row!, vector.sourceFields));
  const candidates = upserts.filter(p => texts.get(p.id) !== '');
  const stored = await storedDocuments(client, view.search!.index, candidates.map(p => p.id), [...vector.sourceFields, vector.field]);

  let stale = 0;
  let reused = 0;
  const toEmbed: Pending[] = [];
  for (const p of candidates) {
    const held = stored.get(p.id);
    if (held && held.version !== undefined && held.version >= p.version) {
      // OpenSearch would answer 409: skip the write and the embedding.
      newest.delete(p.id);
      stale++;
      continue;
    }
    const heldVector = held?.source?.[vector.field];
    if (held?.source && Array.isArray(heldVector) && heldVector.length === vector.dimension
      && embeddingText(held.source, vector.sourceFields) === texts.get(p.id)) {
      p.doc![vector.field] = heldVector;
      reused++;
      continue;
    }
    toEmbed.push(p);
  }

  const failed: RecordFailure[] = [];
  if (toEmbed.length > 0) {
    let vectors: Array<number[] | EmbeddingError>;
    try {
      vectors = await provider.embed(toEmbed.map(p => texts.get(p.id)!));
    } catch {
      // Isolate the texts that fail, so one bad row does not fail the others.
      vectors = await Promise.all(toEmbed.map(async p => {
        try {
          return (await provider.embed([texts.get(p.id)!]))[0];
        } catch (e) {
          return e instanceof EmbeddingError ? e : new EmbeddingError(String((e as Error)?.message ?? e), true, e);
        }
      }));
    }
    const errors = vectors.filter((v): v is EmbeddingError => v instanceof EmbeddingError);
    if (errors.length === toEmbed.length && errors.every(e => e.retryable)) {
      // The provider is down (throttled or unavailable for every text): retry the batch later rather than dead-letter it.
      throw new StoreUnavailableError(`embedding provider unavailable for view '${view.name}': ${errors[0].message}`, errors[0]);
    }
    toEmbed.forEach((p, i) => {
      const v = vectors[i];
      if (v instanceof EmbeddingError) {
        failed.push({ record: p.record, error: `embedding failed: ${v.message}` });
        newest.delete(p.id);
      } else if (!Array.isArray(v) || v.length !== vector.dimension) {
        failed.push({ record: p.record, error: `embedding failed: provider returned ${Array.isArray(v) ? v.length : typeof v} dimensions, expected ${vector.dimension}` });
        newest.delete(p.id);
      } else {
        p.doc![vector.field] = v;
      }
    });
  }
  return { stale, failed, embedded: toEmbed.length - failed.length, reused };
}

interface StoredDoc {
  readonly version?: bigint;
  readonly source?: Record<string, unknown>;
}

/** Stored versions and sources by id; an empty map when the lookup fails (every text is then embedded). */
async function storedDocuments(client: Client, index: string, ids: string[], fields: string[]): Promise<Map<string, StoredDoc>> {
  const out = new Map<string, StoredDoc>();
  if (ids.length === 0) return out;
  try {
    const response = await client.mget({ index, body: { ids }, _source_includes: fields } as never);
    const docs = (response.body as { docs?: Array<{ _id: string; found?: boolean; _version?: number; _source?: Record<string, unknown> }> }).docs ?? [];
    for (const d of docs) {
      if (!d.found) continue;
      // Versions past 2^53 are not exact in JSON numbers: then only the vector is reused, the version is left to OpenSearch.
      const version = typeof d._version === 'number' && Number.isSafeInteger(d._version) ? BigInt(d._version) : undefined;
      out.set(d._id, { version, source: d._source });
    }
  } catch {
    // Reuse is an optimisation: without it the rows are embedded again, never written without a vector.
  }
  return out;
}
