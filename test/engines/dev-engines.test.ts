// `agent-data-stack dev --engines` end to end: the CLI is started as a user starts it (its own process group, like a terminal),
// and through the MCP SDK's client a change in PostgreSQL appears in all three views: customer_lookup (cache), orders_search and
// orders_aggregate (the Flink join into OpenSearch), tickets_search and tickets_similar (vectors); an update and deletes included,
// each answer with provenance pointing at the change; the warehouse view order_history answers order_history_query from the local
// Iceberg table the synthesized writer job commits to (insert, update, delete). Then Ctrl-C (SIGINT to the group) must leave no process, temp dir or key behind.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from 'pg';
import { createCacheClient, type CacheClient } from '../../lambda/shared/cache-client';

const REPO = path.join(__dirname, '..', '..');
const STEP_MS = 240_000;

let cli: ChildProcess;
let stdout = '';
let stderr = '';
let mcp: McpClient;
let pg: Client;
let keyPrefix: string;
const exited = { code: undefined as number | null | undefined };

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = STEP_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (exited.code !== undefined) throw new Error(`dev --engines exited (${exited.code}) while waiting for ${what}:\n${stderr.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}\n${stderr.slice(-2000)}`);
    await sleep(250);
  }
}

type Answer = Record<string, any>;
async function call(name: string, args: Record<string, unknown>): Promise<Answer> {
  const res = await mcp.callTool({ name, arguments: args }) as { isError?: boolean; structuredContent?: Answer; content: Array<{ text?: string }> };
  if (res.isError) throw new Error(`${name} failed: ${res.content.map(c => c.text).join('\n')}`);
  return res.structuredContent!;
}

/** A tool's answer with the test's clock just before the request and just after the reply (the freshness age's bounds). */
async function ask(name: string, args: Record<string, unknown>): Promise<{ r: Answer; sent: number; at: number }> {
  const sent = Date.now();
  const r = await call(name, args);
  return { r, sent, at: Date.now() };
}

/** The current WAL insert position as a byte number (Debezium reports `lsn` as that number): the next record starts there. */
async function walPosition(): Promise<bigint> {
  return BigInt((await pg.query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS n")).rows[0].n);
}

/** Runs a statement and returns the window its commit falls in: wall time and WAL position before and after. */
async function commit(sql: string, params: unknown[] = []) {
  const lsnBefore = await walPosition();
  const before = Date.now();
  await pg.query(sql, params);
  const after = Date.now();
  return { before, after, lsnBefore, lsnAfter: await walPosition() };
}

/** Provenance of a row answer: the right source position and an age consistent with the commit time. */
function expectProvenance(answer: { provenance: Answer; freshness: Answer }, c: Awaited<ReturnType<typeof commit>>, asked: { sent: number; at: number }, kind: 'postgres' | 'kafka') {
  const p = answer.provenance;
  expect(p.commitTimeMs).toBeGreaterThanOrEqual(c.before - 1000);
  expect(p.commitTimeMs).toBeLessThanOrEqual(c.after + 1000);
  expect(answer.freshness.position.kind).toBe(kind);
  if (kind === 'postgres') {
    // The change's own WAL position (its record starts at or after the insert position read before it), not an older or a later one.
    const lsn = BigInt(p.position.lsn);
    expect({ lsn: p.position.lsn, within: lsn >= c.lsnBefore && lsn < c.lsnAfter }).toEqual({ lsn: p.position.lsn, within: true });
  }
  expect(answer.freshness.commitTime).toBe(new Date(p.commitTimeMs).toISOString());
  // Age = answer time - commit time, and the server (this machine's clock) answered between the request and its reply:
  // ordering only, no bound on how long the request took.
  const age = answer.freshness.ageMs;
  expect({ age, within: age >= asked.sent - p.commitTimeMs && age <= asked.at - p.commitTimeMs })
    .toEqual({ age, within: true });
}

/** Every process below `pid` (by parent links in /proc), with its working directory. */
function descendants(pid: number): Array<{ pid: number; cmd: string; cwd?: string }> {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc').filter(e => /^\d+$/.test(e))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch { /* gone */ }
  }
  const out: Array<{ pid: number; cmd: string; cwd?: string }> = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      let cmd = '';
      let cwd: string | undefined;
      try { cmd = fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 160); } catch { /* gone */ }
      try { cwd = fs.readlinkSync(`/proc/${c}/cwd`); } catch { /* gone */ }
      out.push({ pid: c, cmd, cwd });
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(\S+\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie has exited
  } catch {
    return false;
  }
};

beforeAll(async () => {
  cli = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', 'cli/agent-data-stack.ts', 'dev', '--engines', '--port', '0'], {
    cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  cli.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  cli.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); process.stdout.write(`dev --engines: ${c.toString()}`); });
  cli.once('exit', code => { exited.code = code; });
  const url = await eventually('the readiness line', async () => /MCP server \(local engines\): (\S+)/.exec(stdout)?.[1], 20 * 60_000);
  const pgUrl = /Source:\s+(postgresql:\/\/\S+)/.exec(stdout)![1];
  keyPrefix = /Redis keys of this run start with '([^']+)'/.exec(stdout)![1];
  pg = new Client({ connectionString: pgUrl });
  pg.on('error', () => undefined); // the server goes away when the CLI stops
  await pg.connect();
  mcp = new McpClient({ name: 'dev-engines-e2e', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(url)));
}, 25 * 60_000);

afterAll(async () => {
  await mcp?.close().catch(() => undefined);
  await pg?.end().catch(() => undefined);
  if (cli && exited.code === undefined) {
    // A failed test left it running: stop it as the last test would, then make sure.
    const left = descendants(cli.pid!);
    try { process.kill(-cli.pid!, 'SIGINT'); } catch { /* gone */ }
    for (let i = 0; i < 240 && exited.code === undefined; i++) await sleep(500);
    for (const p of [cli.pid!, ...left.map(d => d.pid)]) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
}, 180_000);

test('the MCP server offers every declared view\'s tools, lineage and decisions', async () => {
  const names = (await mcp.listTools()).tools.map(t => t.name);
  expect(names).toEqual(expect.arrayContaining([
    'customer_lookup', 'customer_lookup_many', 'orders_search', 'orders_aggregate', 'tickets_search', 'tickets_aggregate', 'tickets_similar',
    'order_history_query', 'list_sources', 'describe_source', 'get_lineage', 'record_decision', 'get_decision',
  ]));
  expect(stdout).not.toMatch(/Not served:/);
  expect(stdout).toMatch(/order_history\s+warehouse .*order_history_query/);
});

test('inserts, an update and deletes in PostgreSQL reach all three views, with provenance pointing at each change', async () => {
  // A new customer: the cache view, with the change's own WAL position and commit time.
  const created = await commit("INSERT INTO public.customers (id, name, email, tier) VALUES (12399, 'Edsger Dijkstra', 'ewd@example.com', 'standard')");
  const found = await eventually('customer_lookup sees the insert', async () => {
    const a = await ask('customer_lookup', { id: 12399 });
    return a.r.found ? a : undefined;
  });
  expect(found.r.row).toMatchObject({ id: 12399, name: 'Edsger Dijkstra', tier: 'standard' });
  expectProvenance(found.r as never, created, found, 'postgres');

  // A completed order: through Debezium, the Flink join (customer name and tier) and the sink into OpenSearch.
  const ordered = await commit("INSERT INTO public.orders (id, customer_id, status, total) VALUES (900, 12399, 'completed', 77.70)");
  const hit = await eventually('orders_search sees the new order with the joined name', async () => {
    const a = await ask('orders_search', { text: 'Dijkstra' });
    const h = a.r.hits.find((x: Answer) => x.row.order_id === 900);
    return h ? { ...a, h } : undefined;
  });
  expect(hit.h.row).toMatchObject({ order_id: 900, customer_id: 12399, customer_name: 'Edsger Dijkstra', customer_tier: 'standard', total: 77.7 });
  // The order's commit time is carried through Flink (source_commit_ts); the position is the enriched topic's offset.
  expectProvenance(hit.h, ordered, hit, 'kafka');
  expect(hit.h.provenance.position.topic).toMatch(/orders_enriched$/);
  const stats = await call('orders_aggregate', { filters: { customer_id: 12399 }, aggregation: { type: 'stats', field: 'total' } });
  expect(stats).toMatchObject({ matched: 1, stats: { count: 1, sum: 77.7 } });

  // A rename: the cache view at once, the search view once Flink re-joins the order.
  const renamed = await commit("UPDATE public.customers SET name = 'E. W. Dijkstra', tier = 'gold' WHERE id = 12399");
  const lookedUp = await eventually('customer_lookup sees the rename', async () => {
    const a = await ask('customer_lookup', { id: 12399 });
    return a.r.row?.name === 'E. W. Dijkstra' ? a : undefined;
  });
  expectProvenance(lookedUp.r as never, renamed, lookedUp, 'postgres');
  await eventually('orders_search sees the rename through the join', async () => {
    const r = await call('orders_search', { filters: { customer_id: 12399 } });
    return r.hits.length === 1 && r.hits[0].row.customer_name === 'E. W. Dijkstra' && r.hits[0].row.customer_tier === 'gold';
  });

  // A ticket: text search and similarity (the local deterministic embedder), then an update of its status.
  const filed = await commit(`INSERT INTO public.support_tickets (id, customer_id, subject, body) VALUES
    (901, 12399, 'Invoice in the wrong currency', 'My invoice was charged in dollars instead of euros')`);
  const ticket = await eventually('tickets_search sees the new ticket', async () => {
    const a = await ask('tickets_search', { text: 'currency' });
    const h = a.r.hits.find((x: Answer) => x.row.id === 901);
    return h ? { ...a, h } : undefined;
  });
  expectProvenance(ticket.h, filed, ticket, 'postgres');
  const similar = await call('tickets_similar', { text: 'charged in the wrong currency on my invoice', k: 2 });
  expect(similar.hits[0].row.id).toBe(901);
  await commit("UPDATE public.support_tickets SET status = 'closed' WHERE id = 901");
  await eventually('tickets_search sees the status update', async () => (await call('tickets_search', { filters: { status: 'closed' } })).hits.some((h: Answer) => h.row.id === 901));

  // Deletes disappear everywhere.
  await commit('DELETE FROM public.support_tickets WHERE id = 901');
  await commit('DELETE FROM public.orders WHERE id = 900');
  await commit('DELETE FROM public.customers WHERE id = 12399');
  await eventually('the ticket is gone from search and similar', async () =>
    !(await call('tickets_search', { text: 'currency' })).hits.some((h: Answer) => h.row.id === 901)
    && !(await call('tickets_similar', { text: 'charged in the wrong currency on my invoice', k: 5 })).hits.some((h: Answer) => h.row.id === 901));
  await eventually('the order is gone from search and aggregate', async () =>
    (await call('orders_search', { filters: { customer_id: 12399 } })).hits.length === 0
    && (await call('orders_aggregate', { filters: { customer_id: 12399 }, aggregation: { type: 'stats', field: 'total' } })).matched === 0);
  const gone = await eventually('the customer is gone from the cache', async () => {
    const r = await call('customer_lookup', { id: 12399 });
    return r.found === false ? r : undefined;
  });
  expect(gone).toMatchObject({ found: false, deleted: true, row: null });
  // Seed rows are untouched.
  expect((await call('customer_lookup', { id: 12345 })).row).toMatchObject({ name: 'Ada Lovelace' });
}, 20 * 60_000);

test('order_history_query answers from the local Iceberg table after an insert, an update and a delete in PostgreSQL', async () => {
  // The writer commits at each checkpoint (the application's interval, 60 s); its first commit follows PyFlink 1.20's start.
  const WAREHOUSE_MS = 15 * 60_000;
  const sql = 'SELECT id, customer_id, status, total FROM order_history ORDER BY id';
  const rows = async () => {
    const r = await call('order_history_query', { sql });
    return { rows: r.rows as Answer[], provenance: r.provenance as Answer[], at: Date.now() };
  };
  const inserted = await commit("INSERT INTO public.orders (id, customer_id, status, total) VALUES (950, 12345, 'pending', 19.90)");
  const seen = await eventually('order_history_query sees the inserted order', async () => {
    const r = await rows();
    return r.rows.some(x => x.id === 950) ? r : undefined;
  }, WAREHOUSE_MS);
  expect(seen.rows.find(x => x.id === 950)).toEqual({ id: 950, customer_id: 12345, status: 'pending', total: 19.9 });
  // The seed orders from the connector's snapshot are there too (order 3 is never touched by these tests).
  expect(seen.rows.find(x => x.id === 3)).toEqual({ id: 3, customer_id: 12346, status: 'completed', total: 12.99 });
  // Freshness is the Iceberg snapshot that holds the change: committed after the PostgreSQL commit.
  expect(seen.provenance[0]).toMatchObject({ table: 'order_history', snapshotId: expect.any(String) });
  expect(Date.parse(seen.provenance[0].committedAt)).toBeGreaterThanOrEqual(inserted.before - 1000);

  await commit("UPDATE public.orders SET status = 'completed', total = 21.50 WHERE id = 950");
  await eventually('order_history_query sees the update', async () => {
    const r = await rows();
    const o = r.rows.find(x => x.id === 950);
    return o?.status === 'completed' && o.total === 21.5;
  }, WAREHOUSE_MS);
  // Structured mode on the same table: customer 12345's orders per status (seed orders 1 and 2, and 950 once, under its new status).
  const structured = await call('order_history_query', {
    groupBy: ['status'], metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total' }], filters: [{ field: 'customer_id', op: 'in', values: [12345] }], orderBy: { by: 'status' },
  });
  expect((structured.rows as Answer[]).map(r => [r.status, r.count, r.sum_total])).toEqual([['completed', 2, 63.5], ['pending', 1, 310.5]]);

  await commit('DELETE FROM public.orders WHERE id = 950');
  await eventually('order_history_query no longer has the deleted order', async () => {
    const r = await rows();
    return r.rows.length > 0 && !r.rows.some(x => x.id === 950);
  }, WAREHOUSE_MS);
}, 50 * 60_000);

test('Ctrl-C (SIGINT to its process group) stops everything it started: no process, temp dir or Redis key is left', async () => {
  await mcp.close();
  await pg.end();
  const started = descendants(cli.pid!);
  const engines = started.filter(d => /java|postgres|python/.test(d.cmd));
  expect(engines.filter(d => /java/.test(d.cmd)).length).toBeGreaterThanOrEqual(6); // Kafka, Connect, OpenSearch, Flink, the warehouse writer, pollers
  expect(engines.some(d => /postgres/.test(d.cmd))).toBe(true);
  expect(engines.some(d => /python/.test(d.cmd))).toBe(true);
  // Temp dirs it made: working directories under the OS temp dir, except the checkout itself (a CI clone may live under /tmp).
  const checkout = path.resolve(__dirname, '..', '..');
  const inCheckout = (c: string) => c === checkout || c.startsWith(checkout + path.sep);
  const tmpDirs = [...new Set(started.map(d => d.cwd).filter((c): c is string => !!c && c.startsWith(os.tmpdir()) && c !== os.tmpdir() && !inCheckout(c)))];
  expect(tmpDirs.length).toBeGreaterThanOrEqual(2);

  process.kill(-cli.pid!, 'SIGINT');
  for (let i = 0; i < 240 && exited.code === undefined; i++) await sleep(500);
  expect(exited.code).toBe(0);
  expect(stderr).toMatch(/SIGINT: stopping in order/);
  expect(stderr).toMatch(/Stopped\. The sink applied \d+ change\(s\)/);
  // Every process it started has exited (a stopped child may take a moment to be reaped by init).
  await eventually('every engine process to exit', async () => started.every(d => !alive(d.pid)), 30_000)
    .catch(() => { throw new Error(`left running: ${started.filter(d => alive(d.pid)).map(d => `${d.pid} ${d.cmd}`).join('\n')}`); });
  expect(tmpDirs.filter(d => fs.existsSync(d))).toEqual([]);
  const redis: CacheClient = createCacheClient({ host: '127.0.0.1', port: 6379, tls: false, auth: 'none', serverless: false, clusterMode: false });
  try {
    const conn = await redis.ready();
    const [, keys] = await conn.scan('0', 'MATCH', `${keyPrefix}*`, 'COUNT', 10_000);
    expect(keys).toEqual([]);
  } finally {
    await redis.close();
  }
}, 180_000);
