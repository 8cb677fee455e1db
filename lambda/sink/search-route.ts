// The search store's side of the sink router. The OpenSearch writer (`writeSearchBatch` in lambda/shared/search-writer.ts)
// is built on another branch; until it is bound here, a sink configured with search views refuses to start (see checkWriters).
//
// Binding, once lambda/shared/search-writer.ts and search-client.ts are merged:
//   import { searchClientFromEnv } from '../shared/search-client';
//   import { writeSearchBatch } from '../shared/search-writer';
//   export async function searchWriterFromEnvironment(): Promise<BatchWriter | undefined> {
//     const client = searchClientFromEnv();
//     return (view, records) => writeSearchBatch(client, view, records);
//   }
import type { BatchWriter } from './process';

/** Returns the search writer for this function's environment, or undefined when this build has none bound. */
export async function searchWriterFromEnvironment(): Promise<BatchWriter | undefined> {
  return undefined;
}
