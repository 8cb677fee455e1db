// What a store writer reports for one batch: the sink handler turns `failed` into dead-letter records and metrics.
import type { StoredRecord } from '../../contract/stored-record';

export interface RecordFailure {
  readonly record: StoredRecord;
  readonly error: string;
}

export interface WriteResult {
  /** Records applied (their version was newer than the stored one). */
  readonly written: number;
  /** Records skipped because the store already held an equal or newer version (replays, reordering). */
  readonly stale: number;
  /** Records that could not be written after retries: they go to the dead-letter destination. */
  readonly failed: RecordFailure[];
}

/** Thrown by a writer when the store itself is unavailable: the batch must fail so the event source retries it. */
export class StoreUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
