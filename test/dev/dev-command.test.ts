// `agent-data-stack dev` through the CLI's main(): it prints where the MCP server is and what is not local, serves the
// example data while running, and cleans up (Redis keys, replication slot, servers) when told to stop.
import { Redis } from 'ioredis';
import { main, type DevCommandIo } from '../../cli/agent-data-stack';
import { partitionViews, toMskEvent, topicPrefixOf, exampleDeclaration } from '../../cli/dev/dev-loop';
import { decodeRecord } from '../../lambda/shared/envelope';

function io(untilStopped?: DevCommandIo['untilStopped']) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: {}, untilStopped } as DevCommandIo };
}

test('dev starts the loop, serves the seed data over MCP, and on a stop signal removes its keys and stops', async () => {
  let served: any;
  let keyPrefix = '';
  let keysWhileRunning = 0;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
  const t = io(async () => {
    const text = t.out.join('\n');
    const url = /MCP server \(local dev\): (\S+)/.exec(text)![1];
    keyPrefix = /Redis keys of this run start with '([^']+)'/.exec(text)![1];
    const call = () => fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'customer_lookup', arguments: { id: 12345 } } }),
    }).then(r => r.json());
    for (let i = 0; i < 200; i++) {
      served = await call();
      if (served.result?.structuredContent?.found) break;
      await new Promise(r => setTimeout(r, 25));
    }
    keysWhileRunning = (await redis.keys(`${keyPrefix}*`)).length;
    return 'SIGTERM';
  });
  try {
    const code = await main(['dev', '--port', '0', '--quiet'], t.io);
    expect(t.err.join('\n')).not.toMatch(/failed|error/i);
    expect(code).toBe(0);
    const text = t.out.join('\n');
    expect(text).toMatch(/MCP server \(local dev\): http:\/\/127\.0\.0\.1:\d+\/mcp/);
    expect(text).toMatch(/customer\s+cache, from public\.customers/);
    expect(text).toMatch(/Not available locally:\n\s+orders\s+.*Flink transforms do not run locally/);
    expect(text).toContain('Flink transforms do not run locally');
    expect(text).toMatch(/npx @modelcontextprotocol\/inspector/);
    expect(text).toMatch(/"mcpServers"/);
    expect(served.result.structuredContent).toMatchObject({ found: true, row: { id: 12345, name: 'Ada Lovelace' }, provenance: { op: 'r', sourceTable: 'public.customers' } });
    expect(keysWhileRunning).toBe(3);
    expect(await redis.keys(`${keyPrefix}*`)).toEqual([]);
    expect(t.err.join('\n')).toMatch(/SIGTERM: stopping[\s\S]*Stopped\. The sink applied 3 change\(s\)/);
  } finally {
    redis.disconnect();
  }
});

test('dev refuses bad flags and an unreachable Redis with a usage error (exit 2)', async () => {
  const port = io();
  expect(await main(['dev', '--port', '70000'], port.io)).toBe(2);
  expect(port.err.join('\n')).toMatch(/--port must be a TCP port \(0-65535, 0 = any free port\), got '70000'/);
  const url = io();
  expect(await main(['dev', '--port', '0', '--redis', 'http://127.0.0.1:6379'], url.io)).toBe(2);
  expect(url.err.join('\n')).toMatch(/--redis 'http:\/\/127\.0\.0\.1:6379' must start with redis:\/\/ or rediss:\/\//);
  const down = io();
  expect(await main(['dev', '--port', '0', '--redis', 'redis://127.0.0.1:1'], down.io)).toBe(2);
  expect(down.err.join('\n')).toMatch(/Redis is not reachable .*pass --redis URL/);
  const unknown = io();
  expect(await main(['dev', '--bogus'], unknown.io)).toBe(2);
  expect(unknown.err.join('\n')).toMatch(/Unknown argument '--bogus'/);
});

test('the example declaration splits into local cache views and views that need Flink or OpenSearch', () => {
  const { views } = exampleDeclaration();
  const { local, unavailable } = partitionViews(views);
  expect(local.map(v => v.name)).toEqual(['customer']);
  expect(topicPrefixOf(local[0])).toBe('agentdata');
  expect(unavailable).toEqual([
    { view: 'orders', store: 'search', reason: expect.stringContaining('Flink transforms do not run locally') },
    { view: 'tickets', store: 'search', reason: 'its search store (OpenSearch) does not run locally' },
    { view: 'order_history', store: 'warehouse', reason: 'its warehouse store (Iceberg through Athena) does not run locally' },
  ]);
  expect(() => topicPrefixOf({ ...local[0], topic: 'other.topic' })).toThrow(/does not end with its source table 'public.customers'/);
  const search = { ...local[0], name: 'c2', store: 'search' as const };
  expect(partitionViews([search]).unavailable[0].reason).toMatch(/search store \(OpenSearch\) does not run locally/);
});

test('captured records become the MSK event the sink decodes (base64 JSON, grouped by topic-partition, tombstones null)', () => {
  const { views } = exampleDeclaration();
  const view = views[0];
  const value = {
    before: null, after: { id: 7, name: 'N', email: 'e', tier: 'gold', balance: '1.50', updated_at: '2026-11-28T00:00:00.000Z' }, op: 'c' as const, ts_ms: 2, transaction: null,
    source: { version: 'v', connector: 'postgresql' as const, name: 'agentdata', ts_ms: 1, snapshot: 'false' as const, db: 'shop', schema: 'public', table: 'customers', txId: 9, lsn: 4096, xmin: null },
  };
  const event = toMskEvent([
    { topic: view.topic, partition: 0, offset: 5, timestamp: 3, key: { id: 7 }, value },
    { topic: view.topic, partition: 0, offset: 6, timestamp: 3, key: { id: 7 }, value: null },
  ]);
  const recs = event.records[`${view.topic}-0`];
  expect(recs.map(r => r.offset)).toEqual([5, 6]);
  expect(recs[1].value).toBeNull();
  const out = decodeRecord(view, recs[0], { nowMs: 10 });
  expect(out).toMatchObject({ kind: 'write', record: { row: { id: 7, balance: 1.5 }, provenance: { op: 'c', version: '4096', position: { kind: 'postgres', lsn: '4096', txId: 9 }, commitTimeMs: 1, sourceDatabase: 'agentdata/shop' } } });
  expect(decodeRecord(view, recs[1], { nowMs: 10 })).toEqual({ kind: 'skip', reason: 'tombstone' });
});
