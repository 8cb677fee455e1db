// The per-answer byte budget, counted in UTF-8 bytes of JSON: one rule for every tool that returns rows or hits.

/**
 * An answer's byte budget, filled one item at a time: an item is admitted while the UTF-8 JSON array of the items admitted
 * so far stays within `limit`, and the first one always is, so an answer always makes progress. Readers that page through a
 * store (the Athena reader) stop asking for pages once an item is refused; withinBudget applies the same rule to a list.
 */
export class JsonByteBudget {
  /** The JSON array of the items admitted so far: its brackets, then each item and the comma before all but the first. */
  private used = 2;
  private admitted = 0;
  constructor(private readonly limit: number) {}

  /** True when `item` fits (and counts it); false once it would pass the limit, after which the answer is cut. */
  admit(item: unknown): boolean {
    const bytes = Buffer.byteLength(JSON.stringify(item) ?? 'null') + (this.admitted > 0 ? 1 : 0);
    if (this.used + bytes > this.limit && this.admitted > 0) return false;
    this.used += bytes;
    this.admitted += 1;
    return true;
  }
}

/** The leading items whose JSON fits in the answer's byte budget (at least one, so an answer always makes progress). */
export function withinBudget<T>(items: readonly T[], budget: number): T[] {
  const b = new JsonByteBudget(budget);
  const kept: T[] = [];
  for (const item of items) {
    if (!b.admit(item)) break;
    kept.push(item);
  }
  return kept;
}
