// Errors a tool may show the agent, the timeout every store call runs under, and the mapping of everything else to a safe message.

/** An error whose message is written for the agent (no internals): bad key, unknown view, missing store. */
export class ToolInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolInputError';
  }
}

/**
 * A refusal the agent can act on, with a stable machine-readable code as the first word of the message
 * (`row_scope_missing: ...`, `cursor_invalid: ...`, `too_many_buckets: ...`). The SDK clients validate any structured
 * content against the tool's output schema even on errors, so the code travels in the text.
 */
export class ToolRefusal extends ToolInputError {
  constructor(readonly code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = 'ToolRefusal';
  }
}

/** A store call that did not answer in time. */
export class StoreTimeoutError extends Error {
  constructor(readonly store: string, readonly timeoutMs: number) {
    super(`the ${store} did not answer within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** Runs a store call under a deadline; the late result is dropped (its error swallowed) once the deadline passed. */
export async function withTimeout<T>(store: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const pending = call();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(store, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([pending, deadline]);
  } finally {
    clearTimeout(timer);
    pending.catch(() => undefined);
  }
}

/**
 * The message an agent sees for a failed call. Store errors carry hostnames, addresses and stack traces:
 * they are logged with the correlation id and replaced by a short, stable description.
 */
export function agentMessage(error: unknown, correlationId: string): string {
  if (error instanceof ToolInputError) return error.message;
  if (error instanceof StoreTimeoutError) return `${error.message}; retry later (correlation id ${correlationId}).`;
  return `The store request failed (${errorKind(error)}); the failure was logged under correlation id ${correlationId}.`;
}

/** A short class name for logs and messages: never the message itself, which may hold an address. */
export function errorKind(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; code?: unknown; statusCode?: unknown };
    const name = typeof e.name === 'string' && /^[A-Za-z]{1,64}$/.test(e.name) ? e.name : 'Error';
    if (typeof e.statusCode === 'number') return `${name} ${e.statusCode}`;
    if (typeof e.code === 'string' && /^[A-Z_]{1,32}$/.test(e.code)) return `${name} ${e.code}`;
    return name;
  }
  return 'Error';
}
