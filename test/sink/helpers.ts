// Shared test material for the sink: fixture loading as MSK records, view configs, unique Redis key prefixes and a killable TCP proxy.
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { Redis } from 'ioredis';
import type { MskEventRecord, MskEvent } from '../../lambda/shared/envelope';
import type { StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { createCacheClient, type CacheClient } from '../../lambda/shared/cache-client';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'debezium');
export const REDIS_PORT = 6379;

export function b64(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
}

/** Reads a fixture: one Debezium value a line. */
export function fixtureLines(file: string): Record<string, any>[] {
  return fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l));
}

/**
 * The fixture as Kafka would carry it: key = the row's primary key (with the same schema envelope as the
 * value when schemas are on), and a tombstone after each delete. `deleteKeys` supplies the key of deletes
 * whose event has neither before nor after (REPLICA IDENTITY DEFAULT).
 */
export function fixtureRecords(file: string, topic: string, deleteKeys: number[] = []): MskEventRecord[] {
  const out: MskEventRecord[] = [];
  let offset = 0;
  let d = 0;
  for (const value of fixtureLines(file)) {
    const withSchema = 'schema' in value && 'payload' in value;
    const payload = withSchema ? value.payload : value;
    const id = payload.after?.id ?? payload.before?.id ?? deleteKeys[d++];
    const keyPayload = { id };
    const key = withSchema ? { schema: { type: 'struct', fields: [{ type: 'int32', optional: false, field: 'id' }] }, payload: keyPayload } : keyPayload;
    out.push({ topic, partition: 0, offset: offset++, timestamp: payload.ts_ms, key: b64(key), value: b64(value) });
    if (payload.op === 'd') out.push({ topic, partition: 0, offset: offset++, timestamp: payload.ts_ms, key: b64(key), value: null });
  }
  return out;
}

export function mskEvent(records: MskEventRecord[]): MskEvent {
  const grouped: Record<string, MskEventRecord[]> = {};
  for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(r);
  return { eventSource: 'aws:kafka', eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/c/abc', records: grouped };
}

export function uniquePrefix(name: string): string {
  return `test:${name}:${randomBytes(6).toString('hex')}:`;
}

export function productsView(overrides: Partial<ViewConfig> & { keyPrefix: string; topic?: string }): ViewConfig {
  const { keyPrefix, ...rest } = overrides;
  return {
    name: 'products',
    description: 'Products',
    store: 'cache',
    topic: 'dbserver1.inventory.products',
    format: 'debezium',
    key: ['id'],
    fields: [
      { name: 'id', type: 'integer' },
      { name: 'name', type: 'string' },
      { name: 'description', type: 'text' },
      { name: 'weight', type: 'number' },
    ],
    sourceTable: 'inventory.products',
    cache: { keyPrefix, tombstoneTtlSeconds: 3600 },
    ...rest,
  };
}

/** Deletes every key under a prefix (test cleanup). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A TCP proxy in front of Redis whose connections the test can cut, to simulate a store outage. */
/**
 * The real Redis for a test file: a plain connection (to read what was written) and the sink's cache client (to write),
 * opened before the file's tests and closed after them, with every key under `prefixes` deleted.
 */
export function realCache(): { readonly redis: Redis; readonly client: CacheClient; readonly prefixes: string[] } {
  const env = { prefixes: [] as string[] } as { redis: Redis; client: CacheClient; prefixes: string[] };
  beforeAll(() => {
    env.redis = new Redis({ port: REDIS_PORT });
    env.client = createCacheClient({ host: '127.0.0.1', port: REDIS_PORT, tls: false, auth: 'none', serverless: false, clusterMode: false });
  });
  afterAll(async () => {
    for (const p of env.prefixes) await deletePrefix(env.redis, p);
    await env.client.close();
    env.redis.disconnect();
  });
  return env;
}

export class KillableProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = net.createServer(client => {
      const upstream = net.connect(REDIS_PORT, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const close = () => { client.destroy(); upstream.destroy(); };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>(resolve => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stops listening and drops every open connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>(resolve => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/** A private redis-server on a free port, so tests can flush scripts, change ACLs, or stop it, without touching the shared one. */
export class PrivateRedis {
  private proc?: import('child_process').ChildProcess;
  port = 0;

  async start(port?: number): Promise<void> {
    const { spawn } = await import('child_process');
    this.port = port ?? await freePort();
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await canConnect(this.port)) return;
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>(resolve => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
    this.proc = undefined;
  }
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>(resolve => srv.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** A stored change of `public.orders` row `orderId` at `version` (a delete when `row` is null), for the search writer tests. */
export function orderRecord(view: string, orderId: number, version: number, row: Record<string, unknown> | null): StoredRecord {
  return {
    view,
    row: row === null ? null : { order_id: orderId, ...row },
    provenance: {
      sourceDatabase: 'shop', sourceTable: 'public.orders', key: { order_id: orderId }, commitTimeMs: 1, position: { kind: 'postgres', lsn: String(version) },
      version: String(version), op: row === null ? 'd' : 'u', kafka: { topic: 'cdc.public.orders', partition: 0, offset: String(version) }, writtenAtMs: 2,
    },
  };
}
