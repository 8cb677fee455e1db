// The cache store's side of the sink router: connect (or wait for a reconnect), then write the view's records; any connection trouble fails the batch.
import type { CacheClient } from '../shared/cache-client';
import { writeCacheBatch } from '../shared/cache-writer';
import { StoreUnavailableError } from '../shared/write-result';
import type { BatchWriter } from './process';

export function cacheBatchWriter(client: CacheClient): BatchWriter {
  return async (view, records) => {
    let redis;
    try {
      redis = await client.ready();
    } catch (e) {
      throw new StoreUnavailableError(`cache unreachable: ${(e as Error).message}`, e);
    }
    return writeCacheBatch(redis, view, records);
  };
}
