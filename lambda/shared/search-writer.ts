// Writes a batch of stored records to a search view's index with `_bulk` and external versions, so replays and reordering never roll a document back.
import type { Client } from '@opensearch-project/opensearch';
import type { ViewConfig } from '../../contract/view-config';
import { documentId, type StoredRecord } from '../../contract/stored-record';
import { StoreUnavailableError, type RecordFailure, type WriteResult } from './write-result';
import { PROVENANCE_FIELD } from '../../contract/search-mapping';
import type { EmbeddingProvider } from './embeddings';
import { blockOf } from './search-blocks';
import { attachVectors } from './search-vectors';
import { backoff, errorMessage, errorTypeOf, isRetryable, sendBulk, statusOf, writeBlockedMessage } from './search-bulk-requests';

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
  /**
   * Largest `_bulk` request body sent, in UTF-8 bytes; a batch is sent in as many requests, in order. One document larger than
   * this is sent alone. @default DEFAULT_MAX_BULK_BYTES (5 MiB)
   */
  readonly maxBulkBytes?: number;
}

/**
 * Default bound of one `_bulk` request body: half of the smallest HTTP request payload limit of Amazon OpenSearch Service
 * (10 MiB on small instance types, 100 MiB on larger ones; see PAYLOAD_LIMITS_URL), so a batch of 500 vector documents fits any domain.
 */
export const DEFAULT_MAX_BULK_BYTES = 5 * 1024 * 1024;

/** Where AWS lists the HTTP request payload limit per instance type (named in the reason of a document refused with 413). */
export const PAYLOAD_LIMITS_URL = 'https://docs.aws.amazon.com/opensearch-service/latest/developerguide/limits.html#network-limits';

/** One document of the batch, ready to be sent. */
export interface Pending {
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

/** A document's `_bulk` lines and their size. */
export interface Action {
  readonly p: Pending;
  readonly lines: string;
  readonly bytes: number;
}

export interface ItemOutcome {
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
 * - Requests are bounded by size (`maxBulkBytes`, default 5 MiB), in order. A request the domain refuses as too large (413) is
 *   split in halves, recursively, in order; a document refused with 413 on its own is returned in `failed` with the limit named.
 * - 429 / 5xx (whole request or per item) and connection errors are retried with exponential backoff.
 * - A write block (`cluster_block_exception`, 403 or 429: `index.blocks.write`, `read_only_allow_delete`, a read-only cluster)
 *   is retried like a 429; when it outlasts the attempts the batch fails with `StoreUnavailableError` naming the block, so the
 *   event source retries it once the block lifts instead of dead-lettering rows that are fine.
 * - Per-item errors that retrying cannot fix (mapping errors, a missing alias) are returned in `failed` at once; a per-item
 *   500 that exhausts its attempts is returned in `failed` too (an error of that document).
 * - Store problems fail the batch with `StoreUnavailableError`, so the event source retries it instead of dead-lettering it:
 *   the domain stays unreachable; it rejects our credentials or authorization (401/403, whole request or per item, such as a
 *   `security_exception` when the sink's role is not mapped to an OpenSearch role with write on the index); a per-item 429
 *   (`es_rejected_execution_exception`, `circuit_breaking_exception`) or 502/503/504 (`unavailable_shards_exception`) outlasts the
 *   attempts; or no item of the batch is accepted in any attempt.
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
  const maxBulkBytes = options.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES;
  if (!Number.isInteger(maxBulkBytes) || maxBulkBytes <= 0) throw new Error(`maxBulkBytes must be a positive integer, got ${maxBulkBytes}`);

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

  const actions = [...newest.values()].map((p): Action => {
    const lines = bulkLines(p);
    return { p, lines, bytes: Buffer.byteLength(lines, 'utf8') };
  });
  const run = new BulkRun(client, index, options, maxAttempts, sleep, maxBulkBytes);
  await run.writeAll(actions);
  return { written: run.written, stale: stale + run.stale, failed: [...failed, ...run.failed] };
}

/** The `_bulk` requests of one batch: sized, split on 413, retried, with the outcomes counted. */
class BulkRun {
  written = 0;
  stale = 0;
  readonly failed: RecordFailure[] = [];
  /** Items the domain answered for good (applied, stale or refused for the document's own reason): the batch is not all refused. */
  private settled = 0;
  /** Size of the smallest request refused as too large (413, or a 429 over the indexing pressure limit): one as large is split unsent. */
  private refusedBytes = Number.POSITIVE_INFINITY;
  /** The domain's answer to that request, for the reason of a document refused on its own. */
  private refusal: Refusal = { status: 413, message: '' };

  constructor(
    private readonly client: Client,
    private readonly index: string,
    private readonly options: SearchWriteOptions,
    private readonly maxAttempts: number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly maxBytes: number,
  ) {}

  /** Sends the actions in order, in requests of at most `maxBytes` (and under the smallest refused size); a larger action goes alone. */
  async writeAll(actions: Action[]): Promise<void> {
    for (let at = 0; at < actions.length;) {
      const limit = Math.min(this.maxBytes, this.refusedBytes - 1);
      let end = at + 1;
      let bytes = actions[at].bytes;
      while (end < actions.length && bytes + actions[end].bytes <= limit) bytes += actions[end++].bytes;
      await this.writeSized(actions.slice(at, end));
      at = end;
    }
  }

  /** One request; when the domain refuses it as too large (or refused one as large already), its halves in order, recursively. */
  private async writeSized(actions: Action[]): Promise<void> {
    let tooLarge: Action[] | undefined = actions;
    if (totalBytes(actions) < this.refusedBytes) {
      tooLarge = await this.writeWithRetries(actions);
      if (!tooLarge) return;
      this.refusedBytes = Math.min(this.refusedBytes, totalBytes(tooLarge));
    }
    if (tooLarge.length === 1) {
      const [a] = tooLarge;
      this.failed.push({ record: a.p.record, error: tooLargeReason(a.bytes, this.refusal) });
      this.settled++;
      return;
    }
    const half = Math.ceil(tooLarge.length / 2);
    await this.writeSized(tooLarge.slice(0, half));
    await this.writeSized(tooLarge.slice(half));
  }

  /**
   * Sends the actions, retrying what is retryable; returns the actions still unsent when the domain refuses the request as too large:
   * 413, or a 429 whose request alone exceeds the node's indexing pressure limit (retrying the same request could never pass).
   */
  private async writeWithRetries(actions: Action[]): Promise<Action[] | undefined> {
    const index = this.index;
    let todo = actions;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.maxAttempts;
      let outcomes: ItemOutcome[];
      try {
        outcomes = await sendBulk(this.client, index, todo);
      } catch (e) {
        const status = statusOf(e);
        if (status === 413 || (status === 429 && overIndexingPressure(errorMessage(e)))) {
          this.refusal = { status, message: errorMessage(e) };
          return todo;
        }
        const block = blockOf(errorTypeOf(e), errorMessage(e));
        if (block) {
          if (!last) {
            await this.sleep(backoff(attempt, this.options));
            continue;
          }
          throw new StoreUnavailableError(writeBlockedMessage(index, attempt, block), e);
        }
        if (status === 401 || status === 403) {
          throw new StoreUnavailableError(`search index '${index}' refused the sink's credentials (HTTP ${status}): check AgentSearch.grantWrite and the FGAC role mapping`, e);
        }
        if (isRetryable(status) && !last) {
          await this.sleep(backoff(attempt, this.options));
          continue;
        }
        if (isRetryable(status)) {
          throw new StoreUnavailableError(`search index '${index}' unavailable after ${attempt} attempts: ${errorMessage(e)}`, e);
        }
        // A request the domain rejects as a whole (400, 404) will not succeed on redelivery either.
        for (const a of todo) this.failed.push({ record: a.p.record, error: `bulk request rejected (HTTP ${status ?? 'unknown'}): ${errorMessage(e)}` });
        this.settled += todo.length;
        return undefined;
      }

      const retry: Array<{ a: Action; error: string; storeSide: boolean }> = [];
      let lastBlock: string | undefined;
      let denied: string | undefined;
      outcomes.forEach((outcome, i) => {
        const a = todo[i];
        const error = `HTTP ${outcome.status}: ${outcome.error}`;
        if ((outcome.status >= 200 && outcome.status < 300) || (outcome.status === 404 && a.p.record.row === null)) {
          // A versioned delete of a missing document still records its version: it is applied.
          this.written++;
          this.settled++;
        } else if (outcome.status === 409) {
          this.stale++;
          this.settled++;
        } else if (blockOf(outcome.type, outcome.error)) {
          // A write block answers 403 on AWS (FORBIDDEN/8 index write, FORBIDDEN/12 read-only / allow delete) or 429 (flood stage):
          // the documents are fine, the index is not taking writes yet.
          lastBlock = blockOf(outcome.type, outcome.error);
          retry.push({ a, error, storeSide: true });
        } else if (outcome.status === 401 || outcome.status === 403) {
          // Authorization (a `security_exception`: the role may bulk but not write this index): every record would fail the same way.
          denied ??= error;
        } else if (isRetryable(outcome.status)) {
          retry.push({ a, error, storeSide: isStoreSide(outcome.status) });
        } else {
          this.settled++;
          this.failed.push({ record: a.p.record, error });
        }
      });
      if (denied) throw new StoreUnavailableError(deniedMessage(index, denied));
      if (retry.length === 0) return undefined;
      if (last) {
        if (lastBlock) throw new StoreUnavailableError(writeBlockedMessage(index, attempt, lastBlock));
        const lastError = retry[retry.length - 1].error;
        if (this.settled === 0) {
          throw new StoreUnavailableError(`search index '${index}' accepted no item of the batch in ${attempt} attempts (${lastError})`);
        }
        const held = retry.filter(r => r.storeSide);
        if (held.length > 0) {
          // Throttling and unavailable shards are the domain's state, not the documents': never dead-letter for them.
          throw new StoreUnavailableError(`search index '${index}' still refused ${held.length} item${held.length === 1 ? '' : 's'} after ${attempt} attempts `
            + `(${held[held.length - 1].error}); the batch is retried, not dead-lettered`);
        }
        for (const r of retry) this.failed.push({ record: r.a.p.record, error: `after ${attempt} attempts, ${r.error}` });
        this.settled += retry.length;
        return undefined;
      }
      todo = retry.map(r => r.a);
      await this.sleep(backoff(attempt, this.options));
    }
  }
}

function totalBytes(actions: Action[]): number {
  return actions.reduce((n, a) => n + a.bytes, 0);
}

function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Why the domain refused a request as too large. */
interface Refusal {
  readonly status: 413 | 429;
  readonly message: string;
}

function tooLargeReason(bytes: number, refusal: Refusal): string {
  const size = `the document's _bulk request (${formatBytes(bytes)})`;
  if (refusal.status === 429) {
    return `HTTP 429: ${size} exceeds the node's indexing pressure limit (${refusal.message}). OpenSearch refuses a request larger than `
      + 'indexing_pressure.memory.limit (10% of the JVM heap by default) however idle the node is. Make the row smaller or move the domain '
      + 'to an instance type with more memory, then replay this dead letter';
  }
  return `HTTP 413: ${size} exceeds the domain's HTTP request payload limit (${refusal.message}). `
    + `Amazon OpenSearch Service sets the limit by instance type (10 MiB on small instance types, 100 MiB on larger ones: ${PAYLOAD_LIMITS_URL}); `
    + 'self-managed OpenSearch sets it with http.max_content_length (default 100mb). Make the row smaller or move the domain to a larger '
    + 'instance type, then replay this dead letter';
}

/**
 * Whether a 429 is OpenSearch's indexing pressure refusing a request that alone is larger than the limit
 * (`coordinating_operation_bytes=52785676, max_coordinating_and_primary_bytes=51897958`), rather than a busy node.
 */
function overIndexingPressure(message: string): boolean {
  const m = /(?:coordinating|primary)_operation_bytes=(\d+), max_coordinating_and_primary_bytes=(\d+)/.exec(message);
  return !!m && Number(m[1]) > Number(m[2]);
}

function deniedMessage(index: string, error: string): string {
  return `search index '${index}' refused the sink's writes (${error.slice(0, 500)}): map the sink's role to an OpenSearch role with write `
    + `on the index ('${index}' and '${index}-v*'): AgentSearch.grantWrite(sink, '${index}') does it on a domain this stack created (AgentSink calls it); `
    + `on an imported domain its owner maps the role's ARN as a backend role. The batch is retried, not dead-lettered`;
}

/** Per-item statuses that say the domain, not the document, is the problem (throttling, unavailable shards). */
function isStoreSide(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
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

function parseVersion(v: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,19}$/.test(v)) throw new Error(`provenance.version must be a decimal integer string, got ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n > MAX_VERSION) throw new Error(`provenance.version ${v} exceeds OpenSearch's external version maximum (2^63-1)`);
  return n;
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
