// The HTTP side of the search writer's `_bulk` requests: sending one, reading its per-item outcomes, and classifying errors for retry.
import type { Client } from '@opensearch-project/opensearch';
import { writeBlockFix } from './search-blocks';
import type { Action, ItemOutcome, SearchWriteOptions } from './search-writer';

export async function sendBulk(client: Client, index: string, todo: Action[]): Promise<ItemOutcome[]> {
  const response = await client.bulk({
    index,
    body: todo.map(a => a.lines).join(''),
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

export function writeBlockedMessage(index: string, attempts: number, block: string): string {
  return `search index '${index}' is write-blocked (${block}) after ${attempts} attempts; the batch is retried, not dead-lettered. ${writeBlockFix(block)}`;
}

export function errorTypeOf(e: unknown): string | undefined {
  return (e as { meta?: { body?: { error?: { type?: string } } } })?.meta?.body?.error?.type;
}

export function isRetryable(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

/** HTTP status of a client error; undefined for connection errors and timeouts (retryable). */
export function statusOf(e: unknown): number | undefined {
  const err = e as { statusCode?: number; meta?: { statusCode?: number } };
  return err?.meta?.statusCode ?? err?.statusCode ?? undefined;
}

export function backoff(attempt: number, options: SearchWriteOptions): number {
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 5000;
  const exp = Math.min(cap, base * 2 ** (attempt - 1));
  // Equal jitter: at least half the exponential delay, so concurrent sinks spread out without retrying instantly.
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const body = (e as { meta?: { body?: unknown } }).meta?.body;
    const reason = body && typeof body === 'object' ? JSON.stringify((body as { error?: unknown }).error ?? body) : undefined;
    return reason ? `${e.message} ${reason}`.slice(0, 1000) : e.message;
  }
  return String(e);
}
