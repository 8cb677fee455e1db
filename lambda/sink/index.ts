// Sink Lambda: MSK batches -> per-view store writes (cache or search), dead letters to S3 or SQS, EMF metrics and structured logs.
import type { CacheClient } from '../shared/cache-client';
import type { MskEvent } from '../shared/envelope';
import { VIEWS_ENV, type ViewConfig } from '../../contract/view-config';
import { readViewsEnv } from '../shared/views-env';
import { S3DeadLetterSink, sdk, SqsDeadLetterSink, type DeadLetterSink } from './dead-letter';
import { EmfSinkMetrics } from './metrics';
import { checkWriters, processBatch, type BatchSummary, type SinkDependencies } from './process';
import { EmfMetrics, JsonLogger, xrayTraceId } from '../shared/telemetry';

/** Environment variables AgentSink sets besides the views and the store clients' own. */
export const SINK_ENV = {
  /** `s3` or `sqs`. */
  deadLetterKind: 'AGENT_SINK_DLQ_KIND',
  /** Bucket name (s3) or queue URL (sqs). */
  deadLetterTarget: 'AGENT_SINK_DLQ_TARGET',
  heartbeatTopicPrefix: 'AGENT_SINK_HEARTBEAT_TOPIC_PREFIX',
} as const;

// Logs and EMF in Powertools' shapes, without Powertools in the bundle (a smaller, faster-loading sink).
const logger = JsonLogger.fromEnv();
const sinkMetrics = new EmfSinkMetrics(EmfMetrics.fromEnv());

interface Runtime {
  readonly deps: SinkDependencies;
  readonly cache?: CacheClient;
}

let runtime: Promise<Runtime> | undefined;

/** The dead-letter destination; only its own SDK client is loaded (on the first invocation, not when the bundle loads). */
async function deadLetterSinkFromEnv(env: NodeJS.ProcessEnv): Promise<DeadLetterSink> {
  const kind = env[SINK_ENV.deadLetterKind];
  const target = env[SINK_ENV.deadLetterTarget];
  if (!target) throw new Error(`${SINK_ENV.deadLetterTarget} is not set: the sink has no dead-letter destination`);
  if (kind === 's3') return new S3DeadLetterSink(new (sdk.s3()).S3Client({}), target);
  if (kind === 'sqs') return new SqsDeadLetterSink(new (sdk.sqs()).SQSClient({}), target);
  throw new Error(`${SINK_ENV.deadLetterKind} is '${kind}'; expected s3 or sqs`);
}

async function init(env: NodeJS.ProcessEnv): Promise<Runtime> {
  const views: ViewConfig[] = readViewsEnv(env[VIEWS_ENV]);
  let cache: CacheClient | undefined;
  const writers: { cache?: SinkDependencies['writers']['cache']; search?: SinkDependencies['writers']['search'] } = {};
  // Each store's client (ioredis, the search client) is loaded only when a view needs it, on the first invocation.
  if (views.some(v => v.store === 'cache')) {
    const [{ cacheClientFromEnv }, { cacheBatchWriter }] = await Promise.all([import('../shared/cache-client'), import('./cache-route')]);
    cache = await cacheClientFromEnv(env);
    writers.cache = cacheBatchWriter(cache);
  }
  if (views.some(v => v.store === 'search')) writers.search = await (await import('./search-route')).searchWriterFromEnvironment();
  checkWriters(views, writers);
  return {
    cache,
    deps: {
      views,
      writers,
      deadLetters: await deadLetterSinkFromEnv(env),
      metrics: sinkMetrics,
      log: { info: (m, e) => logger.info(m, e ?? {}), warn: (m, e) => logger.warn(m, e ?? {}) },
      heartbeatTopicPrefix: env[SINK_ENV.heartbeatTopicPrefix],
    },
  };
}

/** The part of the Lambda context the sink reads. */
export interface SinkContext {
  readonly awsRequestId?: string;
}

export async function handler(event: MskEvent, context?: SinkContext): Promise<BatchSummary> {
  // Every log line of this invocation names it; every record it writes carries the same ids as provenance.writer.
  logger.requestId = context?.awsRequestId;
  const invocation = context?.awsRequestId ? { requestId: context.awsRequestId, traceId: xrayTraceId() } : undefined;
  runtime ??= init(process.env).catch(e => {
    runtime = undefined;
    throw e;
  });
  const { deps } = await runtime;
  try {
    return await processBatch(event, deps, invocation);
  } catch (e) {
    logger.error('batch failed; the event source will retry it', e as Error);
    throw e;
  } finally {
    sinkMetrics.flush();
  }
}

/** Closes the cached store connections (tests, and runtimes that signal shutdown). */
export async function close(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  if (current) await (await current.catch(() => undefined))?.cache?.close();
}
