// The search store's side of the sink router: the OpenSearch writer bound to the client built from the function's environment.
import { searchClientFromEnv } from '../shared/search-client';
import { writeSearchBatch } from '../shared/search-writer';
import type { BatchWriter } from './process';

/** The search writer for this function's environment (one client per container, SigV4-signed). */
export async function searchWriterFromEnvironment(): Promise<BatchWriter | undefined> {
  const client = searchClientFromEnv();
  return (view, records) => writeSearchBatch(client, view, records);
}
