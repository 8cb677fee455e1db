// The shared search client: configuration from the environment, one instance per container, signed requests with timeouts.
import { createSearchClient, searchClientFromEnv, SEARCH_ENV } from '../../lambda/shared/search-client';
import { SearchStandIn } from '../stores/search-stand-in';

test('searchClientFromEnv refuses to start without the endpoint', () => {
  expect(() => searchClientFromEnv({ AGENT_SEARCH_REGION: 'us-east-1' })).toThrow(/AGENT_SEARCH_ENDPOINT and AGENT_SEARCH_REGION must be set/);
});

test('searchClientFromEnv reuses one client per endpoint across invocations', async () => {
  const a = searchClientFromEnv({ [SEARCH_ENV.endpoint]: 'vpc-a.us-east-1.es.amazonaws.com', [SEARCH_ENV.region]: 'us-east-1' });
  const again = searchClientFromEnv({ [SEARCH_ENV.endpoint]: 'vpc-a.us-east-1.es.amazonaws.com', [SEARCH_ENV.region]: 'us-east-1' });
  const other = searchClientFromEnv({ [SEARCH_ENV.endpoint]: 'vpc-b.us-east-1.es.amazonaws.com', AWS_REGION: 'us-east-1' });
  expect(again).toBe(a);
  expect(other).not.toBe(a);
  await Promise.all([a.close(), other.close()]);
});

test('a hostname endpoint is reached over HTTPS; a failed request is not retried by the transport (callers own retries)', async () => {
  const hostClient = createSearchClient({ endpoint: 'vpc-x.us-east-1.es.amazonaws.com', region: 'us-east-1', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) });
  expect(hostClient.connectionPool.connections[0].url.href).toBe('https://vpc-x.us-east-1.es.amazonaws.com/');
  await hostClient.close();

  const standIn = new SearchStandIn();
  const url = await standIn.start();
  standIn.bulkFaults.push('drop-connection');
  const client = createSearchClient({ endpoint: url, region: 'us-east-1', requestTimeoutMs: 2000, credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) });
  await expect(client.bulk({ index: 'x', body: '{"delete":{"_id":"1"}}\n' } as never)).rejects.toThrow();
  expect(standIn.bulkRequests()).toHaveLength(1);
  await client.close();
  await standIn.stop();
});
