// The search store's side of the sink router. The OpenSearch writer (`writeSearchBatch` in lambda/shared/search-writer.ts)
// is built separately; until it is bound here, a sink configured with search views refuses to start (see checkWriters).
import type { BatchWriter } from './process';

/** Returns the search writer for this function's environment, or undefined when this build has none bound. */
export async function searchWriterFromEnvironment(): Promise<BatchWriter | undefined> {
  return undefined;
}
