// The local dev loop: a private PostgreSQL with the example schema, its changes captured as Debezium envelopes, fed through the
// sink Lambda's own batch code (processBatch) into Redis, and the MCP Lambda's own HTTP handler served on 127.0.0.1.
// Kafka, MSK Connect, Flink and OpenSearch do not run here: views that need them are reported as unavailable.
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Client, ClientConfig } from 'pg';
import { defineExampleApp } from '../../bin/example';
import { createCacheClient, type CacheClient, type CacheConnection } from '../../lambda/shared/cache-client';
import { assertDecisionFits, type DecisionInput, type DecisionRecord, type DecisionStore } from '../../contract/decision-store';
import type { MskEvent, MskEventRecord } from '../../lambda/shared/envelope';
import type { LineageCatalog } from '../../contract/lineage';
import { viewToolNames } from '../../contract/tool-names';
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps, ToolCallEvent } from '../../lambda/mcp/context';
import { functionUrlHandler, startLocalServer, type LocalServer } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import type { DeadLetter, DeadLetterSink } from '../../lambda/sink/dead-letter';
import { processBatch, type BatchSummary, type SinkMetrics } from '../../lambda/sink/process';
import { startLocalPostgres, type LocalPostgres } from './embedded-postgres';
import { stopInOrder, type StopStep } from './stop-in-order';
import { PgChangeCapture, type CapturedRecord } from './pg-capture';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Every Redis key a dev loop run writes starts with `agent-data-stack-dev:<run id>:`. */
export const DEV_KEY_NAMESPACE = 'agent-data-stack-dev';
/** The example schema and seed: beside this file, or (compiled to dist/cli/dev) in the package's cli/dev folder. */
export const EXAMPLE_SCHEMA_SQL = [path.join(__dirname, 'example-schema.sql'), path.join(__dirname, '..', '..', '..', 'cli', 'dev', 'example-schema.sql')]
  .find(p => fs.existsSync(p)) ?? path.join(__dirname, 'example-schema.sql');

export interface DevLoopOptions {
  /** Port of the MCP server on 127.0.0.1. @default 0 (any free port) */
  readonly port?: number;
  /** Redis the sink writes to and the MCP server reads from (`redis://[user:password@]host:port`, `rediss://` for TLS). @default 'redis://127.0.0.1:6379' */
  readonly redisUrl?: string;
  /** Port of the private PostgreSQL. @default - a free port */
  readonly pgPort?: number;
  /** Run id in the Redis key prefix. @default - a random id */
  readonly runId?: string;
  /** Load `cli/dev/example-schema.sql` (customers and orders, with seed rows) before capture starts. @default true */
  readonly seed?: boolean;
  /** Leave this run's Redis keys in place on stop. @default false (they are deleted) */
  readonly keepKeys?: boolean;
  /** The views to serve. @default - the views of the example declaration (`bin/example.ts`) */
  readonly views?: readonly ViewConfig[];
  /** Lineage catalog served by the MCP tools. @default - the example declaration's catalog */
  readonly catalog?: LineageCatalog;
  /** Progress lines (batches, dead letters, tool calls). @default - silent */
  readonly log?: (line: string) => void;
}

export interface UnavailableView {
  readonly view: string;
  readonly store: ViewConfig['store'];
  readonly reason: string;
}

export interface DevLoopStats {
  readonly batches: number;
  readonly received: number;
  readonly written: number;
  readonly stale: number;
  readonly skipped: number;
  readonly deadLettered: number;
}

export interface DevLoop {
  /** The MCP endpoint: `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** Connection settings of the private PostgreSQL (user postgres, trust auth, database `shop`). */
  readonly postgres: ClientConfig;
  /** Views served locally, with the run's Redis key prefix applied. */
  readonly views: readonly ViewConfig[];
  /** Declared views that do not run locally, and why. */
  readonly unavailable: readonly UnavailableView[];
  /** Prefix of every Redis key of this run. */
  readonly keyPrefix: string;
  /** Records the sink dead-lettered (they are also logged). */
  readonly deadLetters: readonly DeadLetter[];
  /** Totals of the sink batches so far. */
  stats(): DevLoopStats;
  /** Stops the MCP server and the capture (dropping its slot and publication), removes this run's Redis keys, stops PostgreSQL. */
  stop(): Promise<void>;
}

/** The example declaration's views and lineage catalog, built without synthesizing or bundling anything. */
export function exampleDeclaration(): { views: ViewConfig[]; catalog: LineageCatalog; database: string } {
  const stack = defineExampleApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
  return { views: stack.views.map(v => v.toConfig()), catalog: stack.lineage.catalog, database: stack.source.databaseName ?? 'shop' };
}

/** Splits declared views into those the dev loop serves (cache views read straight from a CDC topic) and the rest. */
export function partitionViews(views: readonly ViewConfig[]): { local: ViewConfig[]; unavailable: UnavailableView[] } {
  const local: ViewConfig[] = [];
  const unavailable: UnavailableView[] = [];
  for (const v of views) {
    const reasons: string[] = [];
    if (v.format !== 'debezium') reasons.push(`it is fed by a Flink transform (${v.sourceTable}), and Flink transforms do not run locally`);
    if (v.store === 'search') reasons.push('its search store (OpenSearch) does not run locally');
    if (v.store === 'warehouse') reasons.push('its warehouse store (Iceberg through Athena) does not run locally');
    if (reasons.length === 0) local.push(v);
    else unavailable.push({ view: v.name, store: v.store, reason: reasons.join('; ') });
  }
  return { local, unavailable };
}

/** Debezium's `topic.prefix`, recovered from a CDC view's topic `<prefix>.<schema>.<table>`. */
export function topicPrefixOf(view: ViewConfig): string {
  const suffix = `.${view.sourceTable}`;
  if (!view.topic.endsWith(suffix)) throw new Error(`view '${view.name}': topic '${view.topic}' does not end with its source table '${view.sourceTable}'`);
  return view.topic.slice(0, -suffix.length);
}

/** The Lambda MSK event for captured records: base64 JSON key and value, grouped by `topic-partition`. */
export function toMskEvent(records: readonly CapturedRecord[]): MskEvent {
  const grouped: Record<string, MskEventRecord[]> = {};
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    (grouped[id] ??= []).push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: 'CREATE_TIME',
      key: Buffer.from(JSON.stringify(r.key)).toString('base64'),
      value: r.value === null ? null : Buffer.from(JSON.stringify(r.value)).toString('base64'),
      headers: [],
    });
  }
  return { eventSource: 'aws:kafka', eventSourceArn: 'local:agent-data-stack-dev', bootstrapServers: 'local', records: grouped };
}

/** Local only: keeps decisions in memory for the life of the dev loop (the deployed stack uses DynamoDB). */
export class InMemoryDecisionStore implements DecisionStore {
  private readonly records = new Map<string, DecisionRecord>();

  async record(input: DecisionInput): Promise<DecisionRecord> {
    const record: DecisionRecord = { ...input, decisionId: randomUUID(), recordedAt: new Date().toISOString() };
    // The deployed store's limit (DynamoDB's item size), so the dev loop refuses what a deployed stack would.
    assertDecisionFits(record);
    this.records.set(record.decisionId, record);
    return record;
  }

  async get(decisionId: string): Promise<DecisionRecord | undefined> {
    return this.records.get(decisionId);
  }

  async listByAgent(agentId: string, options: { readonly sinceIso?: string; readonly limit?: number } = {}): Promise<DecisionRecord[]> {
    return [...this.records.values()]
      .filter(r => r.agentId === agentId && (!options.sinceIso || r.recordedAt >= options.sinceIso))
      .sort((a, b) => b.recordedAt.localeCompare(a.recordedAt))
      .slice(0, options.limit ?? 100);
  }
}

/** Connects to Redis from a URL; a password in the URL is sent with AUTH. */
export function redisFromUrl(url: string): CacheClient {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis '${url}' is not a URL; expected redis://host:port`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis '${url}' must start with redis:// or rediss://`);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  return createCacheClient({
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    tls: u.protocol === 'rediss:',
    auth: password ? 'password' : 'none',
    user: u.username ? decodeURIComponent(u.username) : undefined,
    serverless: false,
    clusterMode: false,
  }, password ? { passwordSource: { password: async () => password } } : {});
}

/** Deletes every key under `prefix` (SCAN + UNLINK); returns how many were removed. */
export async function deleteKeys(redis: CacheConnection, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, c => `\\${c}`)}*`;
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

class LocalDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  constructor(private readonly log: (line: string) => void) {}
  async send(letters: readonly DeadLetter[]): Promise<void> {
    for (const l of letters) {
      this.letters.push(l);
      this.log(`dead letter (${l.stage}) view=${l.view} ${l.topic}/${l.partition}@${l.offset}: ${l.error}`);
    }
  }
}

/** Sink metrics that go nowhere: the local loops count batches themselves. */
export const noMetrics: SinkMetrics = { count: () => undefined, freshnessLag: () => undefined, cdcLag: () => undefined };

/** Starts the whole local loop; call `stop()` to tear it down (also on failure part-way, everything started is stopped). */
export async function startDevLoop(options: DevLoopOptions = {}): Promise<DevLoop> {
  const log = options.log ?? (() => undefined);
  const runId = options.runId ?? randomUUID().slice(0, 8);
  const keyPrefix = `${DEV_KEY_NAMESPACE}:${runId}:`;
  const declared = options.views && options.catalog ? undefined : exampleDeclaration();
  const views = options.views ?? declared!.views;
  const catalog = options.catalog ?? declared?.catalog;
  const { local, unavailable } = partitionViews(views);
  const served = local.map(v => ({ ...v, cache: { ...v.cache!, keyPrefix: `${keyPrefix}${v.cache!.keyPrefix}` } }));
  const tables = [...new Set(served.map(v => v.sourceTable))];
  const prefixes = [...new Set(served.map(topicPrefixOf))];
  if (prefixes.length > 1) throw new Error(`the served views read topics of several connectors (${prefixes.join(', ')}); the dev loop emulates one`);

  const cleanups: StopStep[] = [];
  const stopAll = () => stopInOrder(cleanups.splice(0));
  try {
    const cache = redisFromUrl(options.redisUrl ?? DEFAULT_REDIS_URL);
    cleanups.push({ what: 'Redis connection', run: () => cache.close() });
    const redis = await cache.ready();
    if (!options.keepKeys) cleanups.push({ what: `Redis keys under ${keyPrefix}`, run: () => deleteKeys(redis, keyPrefix) });

    const pg: LocalPostgres = await startLocalPostgres({ port: options.pgPort, database: declared?.database ?? 'shop' });
    cleanups.push({ what: 'PostgreSQL', run: () => pg.stop() });
    if (options.seed ?? true) {
      const c = new Client(pg.connection);
      await c.connect();
      try {
        await c.query(fs.readFileSync(EXAMPLE_SCHEMA_SQL, 'utf8'));
      } finally {
        await c.end();
      }
    }


    const deadLetters = new LocalDeadLetters(log);
    const totals = { batches: 0, received: 0, written: 0, stale: 0, skipped: 0, deadLettered: 0 };
    const writer = cacheBatchWriter(cache);
    const capture = new PgChangeCapture({
      connection: pg.connection,
      topicPrefix: prefixes[0] ?? 'agentdata',
      tables,
      slotName: `agent_dev_${runId.replace(/\W/g, '_')}`.toLowerCase(),
      publicationName: `agent_dev_${runId.replace(/\W/g, '_')}`.toLowerCase(),
      onRecords: async records => {
        // The same batch code the sink Lambda runs on each MSK event.
        const summary: BatchSummary = await processBatch(toMskEvent(records), {
          views: served, writers: { cache: writer }, deadLetters, metrics: noMetrics,
          log: { info: () => undefined, warn: (m, extra) => log(`sink: ${m} ${JSON.stringify(extra ?? {})}`) },
        });
        totals.batches += 1;
        for (const k of ['received', 'written', 'stale', 'skipped', 'deadLettered'] as const) totals[k] += summary[k];
        log(`sink: ${summary.received} record(s) from ${[...new Set(records.map(r => r.topic))].join(', ')}: `
          + `${summary.written} written, ${summary.stale} stale, ${summary.skipped} skipped, ${summary.deadLettered} dead-lettered`);
      },
    });
    if (tables.length > 0) {
      await capture.start();
      cleanups.push({ what: 'change capture', run: () => capture.stop() });
    }

    const deps: McpServerDeps = {
      views: served,
      redis,
      decisions: new InMemoryDecisionStore(),
      catalog,
      now: () => Date.now(),
      serverName: 'cdk-agent-data-stack (local dev)',
      observer: {
        onToolCall: (e: ToolCallEvent) => log(`mcp: ${e.tool} ${e.outcome} ${e.latencyMs.toFixed(1)} ms${e.errorDetail ? `: ${e.errorDetail}` : ''}`),
      },
    };
    const server: LocalServer = await startLocalServer(functionUrlHandler(request => handleHttpRequest(request, deps)), { port: options.port ?? 0 });
    cleanups.push({ what: 'MCP server', run: () => server.close() });

    return {
      url: `${server.url}/mcp`,
      postgres: pg.connection,
      views: served,
      unavailable,
      keyPrefix,
      deadLetters: deadLetters.letters,
      stats: () => ({ ...totals }),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}

/** What `agent-data-stack dev` prints once the loop is up. */
export function describeDevLoop(loop: DevLoop): string {
  const pg = loop.postgres;
  const mcpJson = JSON.stringify({ mcpServers: { 'agent-data-local': { type: 'http', url: loop.url } } }, null, 2);
  const lines = [
    `MCP server (local dev): ${loop.url}`,
    '',
    'Served views (PostgreSQL -> local change capture -> sink processBatch -> Redis -> MCP):',
    ...loop.views.map(v => `  ${v.name.padEnd(12)} ${v.store}, from ${v.sourceTable}, tools ${viewToolNames(v).join(', ')}`),
    ...(loop.unavailable.length > 0 ? ['', 'Not available locally:', ...loop.unavailable.map(u => `  ${u.view.padEnd(12)} ${u.reason}`)] : []),
    '',
    'Flink transforms do not run locally, and neither do Kafka, MSK Connect or OpenSearch: changes go straight from',
    'the replication slot to the sink code. Decisions recorded with record_decision are kept in memory only.',
    '',
    'Point an MCP client at it:',
    `  MCP Inspector:   npx @modelcontextprotocol/inspector   (transport "Streamable HTTP", URL ${loop.url})`,
    `  Claude Code:     claude mcp add --transport http agent-data-local ${loop.url}`,
    '  mcp.json (Cursor, VS Code, and other clients that take a URL):',
    ...mcpJson.split('\n').map(l => `    ${l}`),
    '',
    'Change a row and look it up again:',
    `  psql "postgresql://${pg.user}@${pg.host}:${pg.port}/${pg.database}" -c "UPDATE customers SET tier = 'platinum' WHERE id = 12345"`,
    '  then call customer_lookup with {"id": 12345}',
    '',
    `Redis keys of this run start with '${loop.keyPrefix}' and are removed on exit. Press Ctrl-C to stop.`,
  ];
  return lines.join('\n');
}
