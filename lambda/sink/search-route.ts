// The search store's side of the sink router: the search writer bound to the sink's own small OpenSearch client, built from the function's environment.
import { SEARCH_ENV } from '../../contract/search-env';
import { writeSearchBatch } from '../shared/search-writer';
import type { BatchWriter } from './process';
import { asWriterClient, createSinkSearchClient, type SinkSearchClient } from './search-http';

/** The client for the domain the environment names (`AgentSearch.clientEnvironment()`). */
export function sinkSearchClientFromEnv(env: NodeJS.ProcessEnv = process.env): SinkSearchClient {
  const endpoint = env[SEARCH_ENV.endpoint];
  const region = env[SEARCH_ENV.region] ?? env.AWS_REGION;
  if (!endpoint || !region) {
    throw new Error(`${SEARCH_ENV.endpoint} and ${SEARCH_ENV.region} must be set: wire the function with AgentSearch.clientEnvironment()`);
  }
  return createSinkSearchClient({ endpoint, region });
}

/** The search writer for this function's environment (one client per container, SigV4-signed). */
export async function searchWriterFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<BatchWriter | undefined> {
  const client = asWriterClient(sinkSearchClientFromEnv(env));
  return (view, records) => writeSearchBatch(client, view, records);
}
