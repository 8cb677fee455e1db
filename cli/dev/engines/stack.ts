// `agent-data-stack dev --engines`: the whole example on the real engines, from the synthesized template. A private PostgreSQL
// (logical WAL, TLS, the example schema, the real bootstrap), Kafka, Kafka Connect with the synthesized Debezium connector, the
// order-enrichment Flink job on PyFlink, OpenSearch with the indexes the index handler creates, Redis, the sink's processBatch fed
// by a local MSK event source per synthesized mapping, and the MCP handler on 127.0.0.1 serving every cache and search view.
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client as SearchClient } from '@opensearch-project/opensearch';
import { Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_TRANSFORM_NAME } from '../../../constructs/processing/example';
import { viewToolNames } from '../../../contract/tool-names';
import type { ViewConfig } from '../../../contract/view-config';
import type { McpServerDeps, SearchReader, ToolCallEvent } from '../../../lambda/mcp/context';
import { functionUrlHandler, startLocalServer } from '../../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../../lambda/mcp/server';
import { onEvent as onSearchIndexEvent } from '../../../lambda/search-index/index';
import { HashingEmbedder } from '../../../lambda/shared/embeddings';
import { writeSearchBatch } from '../../../lambda/shared/search-writer';
import { cacheBatchWriter } from '../../../lambda/sink/cache-route';
import type { DeadLetter } from '../../../lambda/sink/dead-letter';
import { processBatch, type BatchWriter } from '../../../lambda/sink/process';
import { deleteKeys, DEV_KEY_NAMESPACE, exampleDeclaration, InMemoryDecisionStore, noMetrics, redisFromUrl } from '../dev-loop';
import { stopInOrder, type StopStep } from '../stop-in-order';
import { ENGINE_EXTENSIONS, type EngineContext, type EngineExtension, type StartedExtension } from './extensions';
import { assertStarted, cachedMavenGet, pyflinkPython, requireTool, startApplication, transformApplicationId, unpackForLocalBroker } from './flink';
import { deployedEventSources, LocalMskEventSource } from './msk-event-source';
import { deployedSearchIndexes, localSearchClient, startOpenSearch, withLuceneVectors } from './opensearch';
import { startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase } from './pipeline';

export interface EngineStackOptions {
  /** Port of the MCP server on 127.0.0.1. @default 0 (any free port) */
  readonly port?: number;
  /** Redis for the cache views. @default 'redis://127.0.0.1:6379' */
  readonly redisUrl?: string;
  /** Progress lines. @default - silent */
  readonly log?: (line: string) => void;
  /** Log every MCP tool call and sink batch. @default false */
  readonly verbose?: boolean;
  /** Asked before each start-up step; a reason makes start-up stop what it started and throw. @default - never */
  readonly stopRequested?: () => string | undefined;
  /** Serve views of other stores (the warehouse view plugs in here). @default ENGINE_EXTENSIONS */
  readonly extensions?: readonly EngineExtension[];
}

export interface EngineStack {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  /** `postgresql://postgres:<password>@127.0.0.1:<port>/shop` (the private source database; TLS available). */
  readonly postgresUrl: string;
  readonly source: SourceDatabase;
  readonly pipeline: EnginePipeline;
  readonly openSearchUrl: string;
  /** Served views (cache key prefixes with this run's prefix). */
  readonly views: readonly ViewConfig[];
  /** Declared views no engine serves, and why. */
  readonly unavailable: ReadonlyArray<{ view: string; reason: string }>;
  /** Start-up per component, in start order (ms). */
  readonly timings: ReadonlyArray<{ component: string; ms: number }>;
  /** Prefix of every Redis key of this run (removed on stop). */
  readonly keyPrefix: string;
  readonly deadLetters: readonly DeadLetter[];
  /** Sink totals so far. */
  stats(): { batches: number; written: number; stale: number; deadLettered: number };
  /** Stops everything started, newest first; throws the first error after trying every step. */
  stop(): Promise<void>;
}

/** Starts the example on the engines; on a failure part-way everything already started is stopped before the error is thrown. */
export async function startEngineStack(options: EngineStackOptions = {}): Promise<EngineStack> {
  const log = options.log ?? (() => undefined);
  const timings: Array<{ component: string; ms: number }> = [];
  const cleanups: StopStep[] = [];
  const onStop = (what: string, run: () => Promise<unknown>) => cleanups.push({ what, run });
  const stopAll = () => stopInOrder(cleanups.splice(0), { log, timings: true });
  const step = async <T>(component: string, fn: () => Promise<T> | T): Promise<T> => {
    const stop = options.stopRequested?.();
    if (stop) throw new StartupStopped(stop);
    log(`${component}...`);
    const t0 = Date.now();
    const out = await fn();
    const ms = Date.now() - t0;
    timings.push({ component, ms });
    log(`${component}: ready in ${(ms / 1000).toFixed(1)} s`);
    return out;
  };
  const runId = randomUUID().slice(0, 8);
  const keyPrefix = `${DEV_KEY_NAMESPACE}:${runId}:`;
  try {
    requireTool('java', ['-version'], 'a Java 17 JDK, e.g. apt-get install openjdk-17-jdk-headless');
    requireTool('mvn', ['-v'], 'Apache Maven, e.g. apt-get install maven');
    const example = await step('synthesize the example (development profile)', () => synthesizeExample());
    const python = await step('PyFlink virtualenv (first run: pip install apache-flink, about 500 MB)', () => pyflinkPython());

    const cache = redisFromUrl(options.redisUrl ?? 'redis://127.0.0.1:6379');
    onStop('Redis connection', () => cache.close());
    const redis = await step('Redis', () => cache.ready());
    onStop(`Redis keys under ${keyPrefix}`, () => deleteKeys(redis, keyPrefix));

    const source = await step('PostgreSQL (private, wal_level=logical, TLS, example schema)', () => startSourceDatabase());
    onStop('PostgreSQL', () => source.stop());

    // OpenSearch starts beside Kafka and Connect: its JVM mostly waits on its own start-up, which overlaps theirs.
    const openSearchStart = Date.now();
    const openSearch = startOpenSearch({ heapMb: 512 });
    openSearch.then(os => onStop('OpenSearch', () => os.stop()), () => undefined);
    let pipeline: EnginePipeline;
    try {
      pipeline = await step('Kafka, Kafka Connect and the Debezium connector RUNNING', () => startEnginePipeline({
        example, source, log: line => log(`  ${line}`),
      }));
    } catch (e) {
      await openSearch.catch(() => undefined);
      throw e;
    }
    onStop('Kafka Connect and Kafka', () => pipeline.stop());
    const engine = await openSearch;
    timings.push({ component: 'OpenSearch (alongside Kafka)', ms: Date.now() - openSearchStart });
    log(`OpenSearch ${engine.version} with k-NN: ready at ${engine.url} (${((Date.now() - openSearchStart) / 1000).toFixed(1)} s since it started)`);
    const search = localSearchClient(engine.url);
    onStop('OpenSearch client', () => search.close());
    await step('search indexes (the index handler, the template\'s mappings; k-NN on lucene)', () => createIndexes(search, example.template, engine.url));

    await step('Flink order-enrichment job (PyFlink mini-cluster)', async () => {
      const { dir } = await unpackForLocalBroker(Template.fromJSON(example.template), pipeline.kafka.bootstrapServers,
        { get: cachedMavenGet, application: transformApplicationId(EXAMPLE_TRANSFORM_NAME) });
      onStop('Flink package dir', async () => fs.rmSync(dir, { recursive: true, force: true }));
      const job = startApplication(python, dir);
      onStop('Flink job', () => job.stop());
      // The runner submits and returns control to the mini-cluster; a job that dies at once (bad JAR, SQL) is reported here.
      await assertStarted(job, 'the Flink job');
    });

    const declared = exampleDeclaration();
    const extensionStarts: StartedExtension[] = [];
    const known = new Set(['cache', 'search']);
    const views = example.views.filter(v => known.has(v.store))
      .map(v => (v.store === 'cache' ? { ...v, cache: { ...v.cache!, keyPrefix: `${keyPrefix}${v.cache!.keyPrefix}` } } : v));
    const embedder = new HashingEmbedder(views.find(v => v.search?.vector)?.search?.vector?.dimension ?? 1024);
    const context: EngineContext = { template: example.template, source, pipeline, openSearchUrl: engine.url, redis, keyPrefix, log };
    for (const extension of options.extensions ?? ENGINE_EXTENSIONS) {
      const started = await step(extension.name, () => extension.start(context));
      onStop(extension.name, () => started.stop());
      extensionStarts.push(started);
    }
    const servedStores = new Set([...known, ...extensionStarts.flatMap(e => (e.views ?? []).map(v => v.store))]);
    const unavailable = example.views.filter(v => !servedStores.has(v.store))
      .map(v => ({ view: v.name, reason: `its ${v.store} store has no local engine (add an EngineExtension in cli/dev/engines/extensions.ts)` }));

    const deadLetters: DeadLetter[] = [];
    const totals = { batches: 0, written: 0, stale: 0, deadLettered: 0 };
    const writers: { cache: BatchWriter; search: BatchWriter } = {
      cache: cacheBatchWriter(cache),
      search: (view, records) => writeSearchBatch(search, view, records, { embeddings: embedder }),
    };
    for (const mapping of deployedEventSources(example.template)) {
      const mapped = views.filter(v => mapping.topics.includes(v.topic));
      if (mapped.length === 0) continue;
      const poller = new LocalMskEventSource({
        bootstrapServers: pipeline.kafka.bootstrapServers, mapping,
        handler: async event => {
          const summary = await processBatch(event, {
            views: mapped, writers,
            deadLetters: { send: async letters => { for (const l of letters) { deadLetters.push(l); log(`dead letter (${l.stage}) view=${l.view}: ${l.error}`); } } },
            metrics: noMetrics,
            log: { info: () => undefined, warn: (m, extra) => log(`sink: ${m} ${JSON.stringify(extra ?? {})}`) },
          });
          totals.batches += 1;
          totals.written += summary.written;
          totals.stale += summary.stale;
          totals.deadLettered += summary.deadLettered;
          if (options.verbose) log(`sink ${mapping.logicalId}: ${summary.received} record(s), ${summary.written} written, ${summary.stale} stale, ${summary.deadLettered} dead-lettered`);
        },
      });
      await step(`sink poller ${mapping.logicalId} (${mapped.map(v => v.name).join(', ')}; BatchSize ${mapping.batchSize}, window ${mapping.batchingWindowMs} ms)`, () => poller.start());
      onStop(`sink poller ${mapping.logicalId}`, () => poller.stop());
    }

    const served = [...views, ...extensionStarts.flatMap(e => e.views ?? [])];
    const deps: McpServerDeps = Object.assign({
      views: served, redis, search: search as unknown as SearchReader, embeddings: embedder,
      decisions: new InMemoryDecisionStore(), catalog: declared.catalog, now: () => Date.now(),
      serverName: 'cdk-agent-data-stack (local engines)',
      observer: options.verbose ? { onToolCall: (e: ToolCallEvent) => log(`mcp: ${e.tool} ${e.outcome} ${e.latencyMs.toFixed(1)} ms`) } : undefined,
    } satisfies McpServerDeps, ...extensionStarts.map(e => e.mcpDeps ?? {}), { views: served });
    const server = await step('MCP server', () => startLocalServer(functionUrlHandler(request => handleHttpRequest(request, deps)), { port: options.port ?? 0 }));
    onStop('MCP server', () => server.close());

    const pg = source.db.connection;
    return {
      url: `${server.url}/mcp`,
      postgresUrl: `postgresql://${pg.user}:${encodeURIComponent(source.password)}@${pg.host}:${pg.port}/${pg.database}`,
      source, pipeline, openSearchUrl: engine.url, views: served, unavailable, timings, keyPrefix, deadLetters,
      stats: () => ({ ...totals }),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll().catch(() => undefined);
    throw e;
  }
}

/** Start-up ended early because a stop was requested (everything started was stopped). */
export class StartupStopped extends Error {
  constructor(readonly reason: string) {
    super(`${reason} during start-up`);
    this.name = 'StartupStopped';
  }
}

/** Creates every `Custom::AgentSearchIndex` of the template with the real index handler; the one local change is faiss -> lucene. */
async function createIndexes(client: SearchClient, template: EngineContext['template'], endpoint: string): Promise<void> {
  for (const i of deployedSearchIndexes(template)) {
    await onSearchIndexEvent(client, {
      RequestType: 'Create', ResourceType: 'Custom::AgentSearchIndex', ServiceToken: 'local', ResponseURL: 'http://127.0.0.1/unused', StackId: 'local',
      RequestId: 'dev-engines', LogicalResourceId: i.logicalId,
      ResourceProperties: { ServiceToken: 'local', ...i.properties, Mappings: withLuceneVectors(i.properties.Mappings).mappings, Endpoint: endpoint },
    } as unknown as CloudFormationCustomResourceEvent);
  }
}

/** What `agent-data-stack dev --engines` prints once everything is up. */
export function describeEngineStack(stack: EngineStack): string {
  const total = stack.timings.filter(t => !t.component.includes('alongside')).reduce((n, t) => n + t.ms, 0);
  const mcpJson = JSON.stringify({ mcpServers: { 'agent-data-engines': { type: 'http', url: stack.url } } });
  const via = (v: ViewConfig) => (v.store === 'warehouse' ? ' (Iceberg writer on Flink 1.20)' : v.format === 'debezium' ? '' : ' (Flink)');
  return [
    `Ready in ${(total / 1000).toFixed(0)} s. MCP server (local engines): ${stack.url}`,
    '',
    'Served views:',
    ...stack.views.map(v => `  ${v.name.padEnd(10)} ${v.store.padEnd(7)} from ${v.sourceTable}${via(v)}: ${viewToolNames(v).join(', ')}`),
    '  plus describe_source / lineage and record_decision / get_decision (decisions kept in memory)',
    ...(stack.unavailable.length > 0 ? ['', 'Not served:', ...stack.unavailable.map(u => `  ${u.view.padEnd(10)} ${u.reason}`)] : []),
    '',
    `Source:     ${stack.postgresUrl}`,
    `Kafka:      ${stack.pipeline.kafka.bootstrapServers}   Connect REST: ${stack.pipeline.connect.url}   OpenSearch: ${stack.openSearchUrl}`,
    'Vectors:    the local deterministic embedder (hashed character 3-grams) stands in for Bedrock Titan; k-NN uses lucene, not faiss.',
    '',
    'Connect a client:',
    `  Claude Code:   claude mcp add --transport http agent-data-engines ${stack.url}`,
    `  Inspector:     npx @modelcontextprotocol/inspector   (Streamable HTTP, ${stack.url})`,
    `  mcp.json:      ${mcpJson}`,
    '',
    'Try it:',
    `  psql "${stack.postgresUrl}" -c "UPDATE customers SET name = 'Ada King' WHERE id = 12345"`,
    '  then customer_lookup {"id": 12345}, and a moment later orders_search {"text": "Ada"} (the Flink join re-emits her orders)',
    '  (the Flink job emits its first enriched orders about a minute after this line on 2 cores)',
    ...(stack.views.some(v => v.store === 'warehouse') ? ['  order_history_query {"groupBy": ["status"], "metrics": [{"fn": "count"}]} answers from the local Iceberg table after the '
      + 'writer\'s next commit (its checkpoint interval, 60 s; the first one a few minutes after start on 2 cores)'] : []),
    '',
    `Redis keys of this run start with '${stack.keyPrefix}'; every engine's data is in a temp dir. All of it is removed on exit.`,
    'Press Ctrl-C to stop everything (MCP server, pollers, the warehouse writer and catalog, Flink, the connector, Connect, Kafka, OpenSearch, PostgreSQL, Redis keys).',
  ].join('\n');
}
