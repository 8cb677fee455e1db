// End to end through the local dev loop: rows changed in a real PostgreSQL reach an MCP client (the SDK's real Client over
// Streamable HTTP) through the replication slot, the sink's processBatch and a real Redis, with their provenance.
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DevLoop, startDevLoop } from '../../cli/dev/dev-loop';

let loop: DevLoop;
let pg: Client;
let mcp: McpClient;
let redis: Redis;

type Served = {
  view: string; key: Record<string, unknown>; found: boolean; deleted: boolean; row: Record<string, any> | null;
  provenance: Record<string, any> | null; freshness: { commitTime: string; ageMs: number } | null;
};

beforeAll(async () => {
  loop = await startDevLoop({ port: 0, runId: `e2e${process.pid}${Date.now().toString(36)}` });
  pg = new Client(loop.postgres);
  await pg.connect();
  mcp = new McpClient({ name: 'e2e-agent', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(loop.url)));
  redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await mcp?.close();
  await pg?.end();
  const prefix = loop?.keyPrefix;
  await loop?.stop();
  if (prefix) {
    // stop() removed this run's keys.
    expect(await redis.keys(`${prefix}*`)).toEqual([]);
  }
  redis?.disconnect();
});

async function lookup(id: number): Promise<Served> {
  const res = await mcp.callTool({ name: 'customer_lookup', arguments: { id } });
  expect(res.isError).toBeFalsy();
  return res.structuredContent as Served;
}

/** Polls the MCP tool until the answer satisfies `done` (the pipeline is asynchronous), failing after 15 s. */
async function lookupUntil(id: number, done: (s: Served) => boolean): Promise<Served> {
  const deadline = Date.now() + 15_000;
  let last: Served | undefined;
  while (Date.now() < deadline) {
    last = await lookup(id);
    if (done(last)) return last;
    await new Promise(r => setTimeout(r, 25));
  }
  throw new Error(`customer ${id} never reached the expected state; last answer: ${JSON.stringify(last)}`);
}

async function currentLsn(): Promise<number> {
  return Number((await pg.query(`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS n`)).rows[0].n);
}

test('serves exactly the locally runnable views of the example declaration and says why the others are missing', async () => {
  expect(loop.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  expect(loop.views.map(v => v.name)).toEqual(['customer']);
  expect(loop.views[0].cache!.keyPrefix).toBe(`${loop.keyPrefix}customer:`);
  expect(loop.unavailable).toEqual([
    { view: 'orders', store: 'search', reason: expect.stringMatching(/Flink transforms do not run locally.*OpenSearch/) },
    { view: 'tickets', store: 'search', reason: expect.stringMatching(/OpenSearch\) does not run locally/) },
    { view: 'order_history', store: 'warehouse', reason: expect.stringMatching(/Iceberg through Athena\) does not run locally/) },
  ]);
  const tools = (await mcp.listTools()).tools.map(t => t.name);
  expect(tools).toEqual(expect.arrayContaining(['customer_lookup', 'customer_lookup_many', 'list_sources']));
  expect(tools.some(t => t.startsWith('orders_'))).toBe(false);
});

test('the seed rows arrive as snapshot reads', async () => {
  const ada = await lookupUntil(12345, s => s.found);
  expect(ada.row).toMatchObject({ id: 12345, name: 'Ada Lovelace', tier: 'gold', balance: 1520.75 });
  expect(ada.provenance).toMatchObject({
    sourceDatabase: 'agentdata/shop', sourceTable: 'public.customers', op: 'r', key: { id: 12345 },
    position: { kind: 'postgres' }, kafka: { topic: 'agentdata.public.customers', partition: 0 },
  });
});

test('an update of a snapshot row is served, even when it is the first change after the snapshot', async () => {
  // The first WAL record after the slot's consistent point can sit exactly at it: the snapshot read and this update
  // then share an LSN, and the sink must still rank the update above the read.
  const snapshot = await lookupUntil(12346, s => s.found);
  const before = await currentLsn();
  const commitFloor = Date.now() - 60_000;
  await pg.query(`UPDATE public.customers SET tier = 'gold', balance = 99.5 WHERE id = 12346`);
  const after = await currentLsn();
  const grace = await lookupUntil(12346, s => s.row?.tier === 'gold');
  expect(grace.row).toMatchObject({ id: 12346, name: 'Grace Hopper', tier: 'gold', balance: 99.5 });
  expect(grace.provenance!.op).toBe('u');
  expect(grace.provenance!.sourceTable).toBe('public.customers');
  const lsn = Number(grace.provenance!.position.lsn);
  expect(lsn).toBeGreaterThanOrEqual(before);
  expect(lsn).toBeLessThan(after);
  expect(lsn).toBeGreaterThanOrEqual(Number(snapshot.provenance!.position.lsn));
  expect(grace.provenance!.version).toBe(String(lsn));
  expect(grace.provenance!.commitTimeMs).toBeGreaterThan(commitFloor);
  expect(typeof grace.provenance!.position.txId).toBe('number');
  expect(new Date(grace.freshness!.commitTime).getTime()).toBe(grace.provenance!.commitTimeMs);
});

test('an insert is served with its commit time and LSN', async () => {
  const before = await currentLsn();
  const committed = await pg.query(`INSERT INTO public.customers (id, name, email, tier, balance) VALUES (50001, 'Barbara Liskov', 'barbara@example.com', 'silver', 10) RETURNING (extract(epoch from now()) * 1000)::bigint AS ms`);
  const after = await currentLsn();
  const s = await lookupUntil(50001, x => x.found);
  expect(s.row).toMatchObject({ id: 50001, name: 'Barbara Liskov', email: 'barbara@example.com', tier: 'silver', balance: 10 });
  expect(s.provenance).toMatchObject({ op: 'c', sourceTable: 'public.customers', key: { id: 50001 } });
  const lsn = Number(s.provenance!.position.lsn);
  expect(lsn).toBeGreaterThanOrEqual(before);
  expect(lsn).toBeLessThan(after);
  // Commit time is the source transaction's, which is at or after the transaction's now().
  expect(s.provenance!.commitTimeMs).toBeGreaterThanOrEqual(Number(committed.rows[0].ms) - 1);
});

test('a delete is served as deleted with the delete\'s provenance (the tombstone after it is skipped)', async () => {
  await pg.query(`INSERT INTO public.customers (id, name, email) VALUES (50002, 'Edsger Dijkstra', 'edsger@example.com')`);
  const live = await lookupUntil(50002, x => x.found);
  await pg.query(`DELETE FROM public.customers WHERE id = 50002`);
  const gone = await lookupUntil(50002, x => x.deleted);
  expect(gone).toMatchObject({ found: false, deleted: true, row: null });
  expect(gone.provenance).toMatchObject({ op: 'd', sourceTable: 'public.customers', key: { id: 50002 } });
  expect(BigInt(gone.provenance!.version)).toBeGreaterThan(BigInt(live.provenance!.version));
  expect(loop.stats().skipped).toBeGreaterThanOrEqual(1);
});

test('a rapid sequence of updates to one row ends in the last committed state', async () => {
  await pg.query(`INSERT INTO public.customers (id, name, email, balance) VALUES (50003, 'Ken Thompson', 'ken@example.com', 0)`);
  for (let i = 1; i <= 40; i++) await pg.query(`UPDATE public.customers SET balance = $1 WHERE id = 50003`, [i]);
  const last = await currentLsn();
  const s = await lookupUntil(50003, x => x.row?.balance === 40);
  expect(s.provenance!.op).toBe('u');
  expect(Number(s.provenance!.position.lsn)).toBeLessThan(last);
  // Nothing newer is pending: the answer stays at the final state.
  await new Promise(r => setTimeout(r, 300));
  expect((await lookup(50003)).row).toMatchObject({ balance: 40 });
  // Several updates in one transaction: the last statement wins too.
  await pg.query(`BEGIN; UPDATE public.customers SET tier = 'silver' WHERE id = 50003; UPDATE public.customers SET tier = 'platinum' WHERE id = 50003; COMMIT`);
  const t = await lookupUntil(50003, x => x.row?.tier === 'platinum');
  expect(t.row).toMatchObject({ balance: 40, tier: 'platinum' });
  expect(loop.deadLetters).toEqual([]);
});

test('a primary-key change: the old key answers not found (deleted), the new key answers the row', async () => {
  await pg.query(`INSERT INTO public.customers (id, name, email, tier) VALUES (5000, 'Frances Allen', 'frances@example.com', 'gold')`);
  const old = await lookupUntil(5000, x => x.found);
  await pg.query(`UPDATE public.customers SET id = 5001 WHERE id = 5000`);
  const moved = await lookupUntil(5001, x => x.found);
  expect(moved.row).toMatchObject({ id: 5001, name: 'Frances Allen', email: 'frances@example.com', tier: 'gold' });
  expect(moved.provenance).toMatchObject({ op: 'c', key: { id: 5001 }, sourceTable: 'public.customers' });
  const gone = await lookupUntil(5000, x => !x.found);
  expect(gone).toMatchObject({ found: false, deleted: true, row: null });
  expect(gone.provenance).toMatchObject({ op: 'd', key: { id: 5000 } });
  expect(BigInt(gone.provenance!.version)).toBeGreaterThan(BigInt(old.provenance!.version));
  // Moving the key back: 5001 is deleted and 5000 is live again, with the later position winning over the old delete.
  await pg.query(`UPDATE public.customers SET id = 5000, tier = 'platinum' WHERE id = 5001`);
  const back = await lookupUntil(5000, x => x.found);
  expect(back.row).toMatchObject({ id: 5000, tier: 'platinum' });
  expect((await lookupUntil(5001, x => !x.found)).deleted).toBe(true);
  expect(loop.deadLetters).toEqual([]);
});

test('a lookup of a key that never existed is not found, not deleted', async () => {
  expect(await lookup(99999)).toMatchObject({ found: false, deleted: false, row: null, provenance: null });
});
