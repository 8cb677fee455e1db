// The MCP server's read-only cache user on the real Redis: the access string AgentCache gives it (ACL SETUSER on a throwaway
// user) serves every cache tool through the handler, and refuses writes, deletes, scripts, enumeration and other prefixes.
import { randomBytes } from 'crypto';
import { Redis } from 'ioredis';
import { readerAccessString } from '../../constructs/stores/agent-cache';
import { createCacheClient, type CacheClient } from '../../lambda/shared/cache-client';
import { CACHE_FIELDS, cacheKey, paddedVersion } from '../../contract/stored-record';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { functionUrlHandler, startLocalServer, type LocalServer } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { COMMIT, connectClient, McpClient, ToolResult } from './harness';
import { NOW_MS, record, testViews, uniquePrefix } from './support';

const admin = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
const user = `mcp-reader-test-${randomBytes(4).toString('hex')}`;
const password = randomBytes(24).toString('hex');
const prefix = uniquePrefix();
const otherPrefix = uniquePrefix();
const views = testViews(prefix).filter(v => v.store === 'cache');
let reader: CacheClient;
let local: LocalServer;
let client: McpClient;

beforeAll(async () => {
  await admin.connect();
  const rules = readerAccessString(views.map(v => v.cache!.keyPrefix)).split(' ');
  await admin.call('ACL', 'SETUSER', user, 'reset', `>${password}`, ...rules);
  const customers = views.find(v => v.name === 'customers')!;
  const rec = record('customers', 'public.customers', { customer_id: '42' }, { customer_id: 42, name: 'Ada' }, COMMIT, 17);
  await admin.hset(cacheKey(customers.cache!.keyPrefix, customers.key, { customer_id: 42 }), CACHE_FIELDS.version, paddedVersion('17'), CACHE_FIELDS.record, JSON.stringify(rec));
  await admin.hset(`${otherPrefix}secret`, 'r', 'another view\'s row');

  reader = createCacheClient(
    { host: '127.0.0.1', port: 6379, tls: false, auth: 'password', user, serverless: false, clusterMode: false },
    { passwordSource: { password: async () => password }, redisOptions: { maxRetriesPerRequest: 0 } },
  );
  await reader.ready();
  const deps: McpServerDeps = { views, redis: reader.redis, now: () => NOW_MS };
  local = await startLocalServer(functionUrlHandler(req => handleHttpRequest(req, deps)));
  client = await connectClient(local.url, '2026-07-28');
});

afterAll(async () => {
  await client?.close();
  await local?.close();
  await reader?.close();
  const keys = [...await admin.keys(`${prefix}*`), ...await admin.keys(`${otherPrefix}*`)];
  if (keys.length) await admin.del(...keys);
  await admin.call('ACL', 'DELUSER', user);
  await admin.quit();
});

test('the connection authenticates as the reader, not as the default user', async () => {
  await reader.redis.ping();
  const clients = String(await admin.call('CLIENT', 'LIST'));
  expect(clients).toMatch(new RegExp(`user=${user} `));
});

test('every cache tool answers through the read-only connection', async () => {
  const one = await client.callTool({ name: 'customers_lookup', arguments: { customer_id: 42 } }) as ToolResult;
  expect(one.isError).toBeFalsy();
  expect(one.structuredContent).toMatchObject({ found: true, row: { name: 'Ada' }, provenance: { version: '17' } });
  const many = await client.callTool({ name: 'customers_lookup_many', arguments: { keys: [{ customer_id: 42 }, { customer_id: 7 }] } }) as ToolResult;
  expect(many.structuredContent).toMatchObject({ found: 1, missing: 1 });
  const items = await client.callTool({ name: 'order_items_lookup', arguments: { order_id: 1, sku: 'x' } }) as ToolResult;
  expect(items.structuredContent.found).toBe(false);
});

test.each([
  ['HSET on its own prefix', ['HSET', `${prefix}customers:"42"`, 'r', '{}']],
  ['DEL on its own prefix', ['DEL', `${prefix}customers:"42"`]],
  ['EXPIRE on its own prefix', ['EXPIRE', `${prefix}customers:"42"`, '1']],
  ['HGETALL under another prefix', ['HGETALL', `${otherPrefix}secret`]],
  ['GET under another prefix', ['GET', 'anything']],
  ['KEYS', ['KEYS', '*']],
  ['SCAN', ['SCAN', '0']],
  ['EVAL', ['EVAL', "return redis.call('FLUSHALL')", '0']],
  ['FUNCTION LOAD', ['FUNCTION', 'LOAD', '#!lua name=x\nredis.register_function("f", function() return 1 end)']],
  ['FLUSHALL', ['FLUSHALL']],
  ['CONFIG GET', ['CONFIG', 'GET', '*']],
  ['ACL SETUSER', ['ACL', 'SETUSER', user, '+@all']],
  ['CLIENT KILL', ['CLIENT', 'KILL', 'TYPE', 'normal']],
])('refuses %s', async (_name, command) => {
  const [cmd, ...args] = command;
  await expect(reader.redis.call(cmd, ...args)).rejects.toThrow(/NOPERM/);
});

test('nothing was changed by the refused commands', async () => {
  const stored = await admin.hgetall(`${prefix}customers:"42"`);
  expect(JSON.parse(stored.r).provenance.version).toBe('17');
  expect(await admin.hget(`${otherPrefix}secret`, 'r')).toBe('another view\'s row');
});
