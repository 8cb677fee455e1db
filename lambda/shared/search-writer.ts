// Writes a batch of stored records to a search view's index with `_bulk` and external versions, so replays and reordering never roll a document back.
import type { Client } from '@opensearch-project/opensearch';
import type { ViewConfig } from '../../contract/view-config';
import { documentId, type StoredRecord } from '../../contract/stored-record';
import { StoreUnavailableError, type RecordFailure, type WriteResult } from './write-result';
import { PROVENANCE_FIELD } from '../../contract/search-mapping';
import { embeddingProviderFor, embeddingText, EmbeddingError, type EmbeddingProvider } from './embeddings';
import { blockOf, writeBlockFix } from './search-blocks';

/** Largest external version OpenSearch accepts (a Java long). */
const MAX_VERSION = (1n << 63n) - 1n;

export interface SearchWriteOptions {
  /** Attempts per record for retryable failures (429, 5xx, connection errors), first included. @default 4 */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles each attempt, with jitter. @default 200 */
  readonly baseDelayMs?: number;
  /** Cap of one backoff delay. @default 5000 */
  readonly maxDelayMs?: number;
  /** Injected in tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Computes vectors for views with `search.vector`. @default - `embeddingProviderFor(view.search.vector)` (Bedrock, or the local embedder with AGENT_EMBEDDINGS=local) */
  readonly embeddings?: EmbeddingProvider;
}

/** One document of the batch, ready to be sent. */
interface Pending {
  readonly record: StoredRecord;
  readonly id: string;
  readonly version: bigint;
  /** The `_bulk` action metadata with the version as a JSON number literal. */
  readonly meta: string;
  /** The document source; null for a delete. */
  readonly doc: Record<string, unknown> | null;
}

/** Counts of the embedding step, for metrics and tests. */
export interface EmbeddingStats {
  readonly embedded: number;
  readonly reused: number;
}

interface ItemOutcome {
  readonly status: number;
  readonly error?: string;
  /** OpenSearch's error type (`cluster_block_exception`, `version_conflict_engine_exception`, ...). */
  readonly type?: string;
}

/**
 * Writes `records` (all of `view`) to the view's index. Each document carries `version_type=external` with
 * `provenance.version`, so OpenSearch applies it only when newer than what it holds; a 409 is a stale skip.
 * Deletes are external-versioned too: OpenSearch keeps the deleted document's version for `index.gc_deletes`
 * (set per view at deploy, longer than the sink's retry horizon), so a late older update is refused.
 *
 * - Within the batch only the newest version of each document is sent; older ones count as stale.
 * - 429 / 5xx (whole request or per item) and connection errors are retried with exponential backoff.
 * - A write block (`cluster_block_exception`, 403 or 429: `index.blocks.write`, `read_only_allow_delete`, a read-only cluster)
 *   is retried like a 429; when it outlasts the attempts the batch fails with `StoreUnavailableError` naming the block, so the
 *   event source retries it once the block lifts instead of dead-lettering rows that are fine.
 * - Per-item errors that retrying cannot fix (mapping errors, a missing alias) are returned in `failed` at once;
 *   retryable ones that exhaust their attempts are returned in `failed` too.
 * - When the domain stays unreachable, rejects our credentials, or accepts no item of the batch in any attempt,
 *   `StoreUnavailableError` is thrown so the event source retries the batch instead of dead-lettering it.
 */
export async function writeSearchBatch(
  client: Client,
  view: ViewConfig,
  records: StoredRecord[],
  options: SearchWriteOptions = {},
): Promise<WriteResult> {
  if (view.store !== 'search' || !view.search) throw new Error(`view '${view.name}' is not a search view`);
  const index = view.search.index;
  const maxAttempts = options.maxAttempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)));

  let stale = 0;
  const failed: RecordFailure[] = [];
  const newest = new Map<string, Pending>();
  for (const record of records) {
    let pending: Pending;
    try {
      pending = prepare(view, record);
    } catch (e) {
      failed.push({ record, error: errorMessage(e) });
      continue;
    }
    const held = newest.get(pending.id);
    if (held && held.version >= pending.version) {
      stale++;
      continue;
    }
    if (held) stale++;
    newest.set(pending.id, pending);
  }

  const vector = view.search.vector;
  if (vector) {
    const outcome = await attachVectors(client, view, newest, options);
    stale += outcome.stale;
    failed.push(...outcome.failed);
  }

  let written = 0;
  let settledTotal = 0;
  let todo = [...newest.values()];
  for (let attempt = 1; todo.length > 0; attempt++) {
    const last = attempt >= maxAttempts;
    let outcomes: ItemOutcome[];
    try {
      outcomes = await sendBulk(client, index, todo);
    } catch (e) {
      const status = statusOf(e);
      const block = blockOf(errorTypeOf(e), errorMessage(e));
      if (block) {
        if (!last) {
          await sleep(backoff(attempt, options));
          continue;
        }
        throw new StoreUnavailableError(writeBlockedMessage(index, attempt, block), e);
      }
      if (status === 401 || status === 403) {
        throw new StoreUnavailableError(`search index '${index}' refused the sink's credentials (HTTP ${status}): check AgentSearch.grantWrite and the FGAC role mapping`, e);
      }
      if (isRetryable(status) && !last) {
        await sleep(backoff(attempt, options));
        continue;
      }
      if (isRetryable(status)) {
        throw new StoreUnavailableError(`search index '${index}' unavailable after ${attempt} attempts: ${errorMessage(e)}`, e);
      }
      // A request the domain rejects as a whole (400, 404) will not succeed on redelivery either.
      for (const p of todo) failed.push({ record: p.record, error: `bulk request rejected (HTTP ${status ?? 'unknown'}): ${errorMessage(e)}` });
      break;
    }

    const retry: Pending[] = [];
    let settledThisAttempt = 0;
    let lastRetryError = '';
    let lastBlock: string | undefined;
    outcomes.forEach((outcome, i) => {
      const p = todo[i];
      if ((outcome.status >= 200 && outcome.status < 300) || (outcome.status === 404 && p.record.row === null)) {
        // A versioned delete of a missing document still records its version: it is applied.
        written++;
        settledThisAttempt++;
      } else if (outcome.status === 409) {
        stale++;
        settledThisAttempt++;
      } else if (blockOf(outcome.type, outcome.error)) {
        // A write block answers 403 on AWS (FORBIDDEN/8 index write, FORBIDDEN/12 read-only / allow delete) or 429 (flood stage):
        // the documents are fine, the index is not taking writes yet.
        lastBlock = blockOf(outcome.type, outcome.error);
        lastRetryError = `HTTP ${outcome.status}: ${outcome.error}`;
        retry.push(p);
      } else if (isRetryable(outcome.status)) {
        lastRetryError = `HTTP ${outcome.status}: ${outcome.error}`;
        retry.push(p);
      } else {
        settledThisAttempt++;
        failed.push({ record: p.record, error: `HTTP ${outcome.status}: ${outcome.error}` });
      }
    });
    settledTotal += settledThisAttempt;
    if (retry.length === 0) break;
    if (last) {
      if (lastBlock) throw new StoreUnavailableError(writeBlockedMessage(index, attempt, lastBlock));
      if (settledTotal === 0) {
        throw new StoreUnavailableError(`search index '${index}' accepted no item of the batch in ${attempt} attempts (${lastRetryError})`);
      }
      for (const p of retry) failed.push({ record: p.record, error: `after ${attempt} attempts, ${lastRetryError}` });
      break;
    }
    todo = retry;
    await sleep(backoff(attempt, options));
  }
  return { written, stale, failed };
}

/** The document a row becomes: its declared fields (dynamic mapping is strict) plus `_provenance`. */
export function searchDocument(view: ViewConfig, record: StoredRecord): Record<string, unknown> {
  const row = record.row ?? {};
  const doc: Record<string, unknown> = {};
  for (const field of view.fields) {
    const value = row[field.name];
    if (value === undefined) continue;
    doc[field.name] = field.type === 'timestamp' ? timestampValue(value) : value;
  }
  doc[PROVENANCE_FIELD] = record.provenance;
  return doc;
}

function prepare(view: ViewConfig, record: StoredRecord): Pending {
  if (record.view !== view.name) throw new Error(`record of view '${record.view}' sent to view '${view.name}'`);
  const version = parseVersion(record.provenance.version);
  const id = documentId(view.key, record.provenance.key);
  // The version is spliced in as a JSON number literal: JSON.stringify of a JS number loses precision past 2^53.
  const meta = `{"_id":${JSON.stringify(id)},"version":${version.toString()},"version_type":"external"}`;
  return { record, id, version, meta, doc: record.row === null ? null : searchDocument(view, record) };
}

function bulkLines(p: Pending): string {
  return p.doc === null
    ? `{"delete":${p.meta}}\n`
    : `{"index":${p.meta}}\n${JSON.stringify(p.doc, jsonReplacer)}\n`;
}

/**
 * Gives every upsert of a vector view its vector before the write. The stored documents are fetched with one
 * `_mget`: a document whose stored version is already as new is a stale skip (no embedding paid for); one whose
 * embedded text is unchanged keeps its stored vector; the rest are embedded in one provider call. A record whose
 * text cannot be embedded is returned as failed and not written (never written without its vector); when the
 * provider fails for every text with a retryable error, the batch fails with `StoreUnavailableError`.
 * Rows whose source fields are all empty have nothing to embed and are written without a vector.
 */
async function attachVectors(
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

function parseVersion(v: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,19}$/.test(v)) throw new Error(`provenance.version must be a decimal integer string, got ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n > MAX_VERSION) throw new Error(`provenance.version ${v} exceeds OpenSearch's external version maximum (2^63-1)`);
  return n;
}

async function sendBulk(client: Client, index: string, todo: Pending[]): Promise<ItemOutcome[]> {
  const response = await client.bulk({
    index,
    body: todo.map(bulkLines).join(''),
    // Writes go through the view's alias; without it OpenSearch would auto-create an index with dynamic mappings.
    require_alias: true,
  } as never);
  const items = (response.body as { items?: Array<Record<string, { status: number; error?: { type?: string; reason?: string } }>> }).items ?? [];
  if (items.length !== todo.length) {
    throw Object.assign(new Error(`bulk response has ${items.length} items for ${todo.length} actions`), { statusCode: 502 });
  }
  return items.map(item => {
    const result = Object.values(item)[0];
    const error = result.error ? `${result.error.type ?? 'error'}: ${result.error.reason ?? ''}`.trim() : undefined;
    return { status: result.status, error, type: result.error?.type };
  });
}

function writeBlockedMessage(index: string, attempts: number, block: string): string {
  return `search index '${index}' is write-blocked (${block}) after ${attempts} attempts; the batch is retried, not dead-lettered. ${writeBlockFix(block)}`;
}

function errorTypeOf(e: unknown): string | undefined {
  return (e as { meta?: { body?: { error?: { type?: string } } } })?.meta?.body?.error?.type;
}

function isRetryable(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

/** HTTP status of a client error; undefined for connection errors and timeouts (retryable). */
function statusOf(e: unknown): number | undefined {
  const err = e as { statusCode?: number; meta?: { statusCode?: number } };
  return err?.meta?.statusCode ?? err?.statusCode ?? undefined;
}

function backoff(attempt: number, options: SearchWriteOptions): number {
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 5000;
  const exp = Math.min(cap, base * 2 ** (attempt - 1));
  // Equal jitter: at least half the exponential delay, so concurrent sinks spread out without retrying instantly.
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/** Debezium sends timestamps as epoch micro- or nanoseconds; the index's date format is epoch millis or ISO-8601. */
function timestampValue(v: unknown): unknown {
  if (typeof v === 'number' && Number.isFinite(v)) {
    const abs = Math.abs(v);
    if (abs >= 1e17) return Math.trunc(v / 1e6);
    if (abs >= 1e14) return Math.trunc(v / 1e3);
    return Math.trunc(v);
  }
  return v;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const body = (e as { meta?: { body?: unknown } }).meta?.body;
    const reason = body && typeof body === 'object' ? JSON.stringify((body as { error?: unknown }).error ?? body) : undefined;
    return reason ? `${e.message} ${reason}`.slice(0, 1000) : e.message;
  }
  return String(e);
}
