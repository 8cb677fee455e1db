// A local stand-in for the Lambda MSK event source mapping: reads the real topics with the mapping's consumer group, batch size and
// batching window (from the synthesized AWS::Lambda::EventSourceMapping), hands the handler the event shape Lambda delivers, and commits
// offsets only after the handler succeeds, so a poller killed mid-batch delivers that batch again when it restarts.
//
// What it reproduces (AWS Lambda developer guide):
// - the event: `eventSource: aws:kafka`, `eventSourceArn`, `bootstrapServers`, `records` keyed by `<topic>-<partition>`, each record
//   with topic, partition, offset, timestamp, timestampType, base64 key and value, and headers as arrays of byte values
//   (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html, "Example event");
// - "After Lambda processes each batch, it commits the offsets of the messages in that batch. If your function returns an error for
//   any of the messages in a batch, Lambda retries the whole batch" (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html);
// - BatchSize (default 100, at most 10,000), MaximumBatchingWindowInSeconds (default 500 ms for Amazon MSK), the consumer group id
//   of AmazonManagedKafkaEventSourceConfig and StartingPosition (https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html);
//   a batch also stays under the 6 MB synchronous-invocation payload limit.
// What it does not: several pollers per mapping (one poller reads every partition here), and MaximumRetryAttempts/on-failure
// destinations (the template leaves retries infinite, so a failing batch is retried until it succeeds, which is what happens here).
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import type { MskEvent, MskEventRecord } from '../../../lambda/shared/envelope';
import { reapWithThisProcess } from './jvm';
import { kafkaClasspathDir } from './kafka';
import { classpathOf, ENGINE_CACHE_DIR, engineAsset, EngineUnavailableError, javaCommand } from './maven';
import { CfnTemplate, LOCAL_ACCOUNT, LOCAL_REGION, resolveValue } from './template';

/** Lambda's batching window for Amazon MSK when MaximumBatchingWindowInSeconds is not set (msk-esm-parameters.html). */
export const DEFAULT_MSK_BATCHING_WINDOW_MS = 500;
/** Lambda's BatchSize for Amazon MSK when not set (msk-esm-parameters.html). */
export const DEFAULT_MSK_BATCH_SIZE = 100;

/** One `AWS::Lambda::EventSourceMapping` on MSK, as synthesized. */
export interface EventSourceMappingSpec {
  readonly logicalId: string;
  readonly topics: string[];
  readonly batchSize: number;
  /** MaximumBatchingWindowInSeconds in ms, or Lambda's 500 ms default when the template leaves it out. */
  readonly batchingWindowMs: number;
  /** Whether the window is the template's own setting (false: Lambda's default). */
  readonly batchingWindowFromTemplate: boolean;
  readonly consumerGroupId: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

/** The MSK event source mappings of a template (topics resolved; a mapping without a consumer group id is an error here). */
export function deployedEventSources(template: CfnTemplate): EventSourceMappingSpec[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties?.Topics)
    .map(([logicalId, r]) => {
      const p = resolveValue(template, { ...r.Properties, EventSourceArn: undefined, FunctionName: undefined, DestinationConfig: undefined }, {});
      const groupId = p.AmazonManagedKafkaEventSourceConfig?.ConsumerGroupId;
      if (!groupId) throw new Error(`${logicalId}: no AmazonManagedKafkaEventSourceConfig.ConsumerGroupId (Lambda would make up a random one)`);
      const window = p.MaximumBatchingWindowInSeconds;
      return {
        logicalId,
        topics: p.Topics,
        batchSize: p.BatchSize ?? DEFAULT_MSK_BATCH_SIZE,
        batchingWindowMs: window === undefined ? DEFAULT_MSK_BATCHING_WINDOW_MS : Number(window) * 1000,
        batchingWindowFromTemplate: window !== undefined,
        consumerGroupId: groupId,
        startingPosition: p.StartingPosition ?? 'LATEST',
      };
    });
}

/** The mapping that reads `topic`. */
export function eventSourceFor(template: CfnTemplate, topic: string): EventSourceMappingSpec {
  const found = deployedEventSources(template).filter(m => m.topics.includes(topic));
  if (found.length !== 1) throw new Error(`expected one MSK event source mapping for topic ${topic}, found ${found.length}`);
  return found[0];
}

const KAFKA_TOOL_SOURCE = engineAsset('java', 'KafkaTool.java');

/** KafkaTool compiled once into the engine cache (a poller restarted many times should not recompile its source each time). */
export function compiledKafkaTool(): string {
  const source = fs.readFileSync(KAFKA_TOOL_SOURCE);
  const dir = path.join(ENGINE_CACHE_DIR, 'classes', `kafka-tool-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(dir, 'KafkaTool.class'))) return dir;
  const javac = path.join(path.dirname(javaCommand()), 'javac');
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    execFileSync(fs.existsSync(javac) ? javac : 'javac', ['-d', tmp, '-cp', classpathOf(kafkaClasspathDir()), KAFKA_TOOL_SOURCE], { stdio: 'pipe' });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const err = e as Error & { stderr?: Buffer };
    throw new EngineUnavailableError(`javac could not compile ${KAFKA_TOOL_SOURCE} (a JDK, not only a JRE, is needed: apt-get install openjdk-17-jdk-headless): ${err.stderr?.toString() ?? err.message}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}

export interface LocalMskEventSourceOptions {
  readonly bootstrapServers: string;
  readonly mapping: EventSourceMappingSpec;
  /** The function: Lambda invokes it with each batch; a rejection makes the whole batch come again. */
  readonly handler: (event: MskEvent) => Promise<unknown>;
  /** @default - an MSK cluster ARN in the local account */
  readonly eventSourceArn?: string;
  /** Wait before a failed batch is retried. @default 100 */
  readonly retryDelayMs?: number;
  /**
   * Commit each batch's offsets before the handler runs (at-most-once), which the event source never does: only for the
   * negative control that shows a test of redelivery can fail. @default false
   */
  readonly commitBeforeHandler?: boolean;
}

export interface EventSourceStats {
  /** Batches handed to the handler (deliveries, retries included). */
  readonly invocations: number;
  /** Batches whose offsets were committed. */
  readonly committedBatches: number;
  /** Records whose offsets were committed. */
  readonly committedRecords: number;
  /** Handler rejections (each followed by a retry of the same batch). */
  readonly failures: number;
  /** Poller processes started (1 + restarts). */
  readonly starts: number;
  /** Poller processes killed (SIGKILL) by `kill()`. */
  readonly kills: number;
}

/**
 * One event source mapping's poller. `start()` runs it; `kill()` ends it at once as a crash would (an in-flight batch is never
 * committed); `start()` again resumes from the group's committed offsets.
 */
export class LocalMskEventSource {
  private child?: ChildProcess;
  private generation = 0;
  private stderr = '';
  private readonly counts = { invocations: 0, committedBatches: 0, committedRecords: 0, failures: 0, starts: 0, kills: 0 };
  private readonly eventSourceArn: string;
  private lastError?: Error;

  constructor(private readonly o: LocalMskEventSourceOptions) {
    this.eventSourceArn = o.eventSourceArn ?? `arn:aws:kafka:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/local/00000000-0000-0000-0000-000000000000-1`;
  }

  public get stats(): EventSourceStats {
    return { ...this.counts };
  }

  public get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the poller; resolves once it has its partitions. */
  public async start(): Promise<void> {
    if (this.running) throw new Error('the event source poller is already running');
    const m = this.o.mapping;
    const generation = ++this.generation;
    this.counts.starts += 1;
    this.stderr = '';
    const child = spawn(javaCommand(), [
      '-Xmx96m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', '-Dlog4j.configuration=file:/dev/null',
      '-cp', [compiledKafkaTool(), classpathOf(kafkaClasspathDir())].join(path.delimiter),
      'KafkaTool', 'event-source', this.o.bootstrapServers, m.consumerGroupId, m.topics.join(','), String(m.batchSize), String(m.batchingWindowMs), m.startingPosition,
    ], { stdio: ['pipe', 'pipe', 'pipe'], detached: true }); // own process group, like the engines (jvm.ts)
    reapWithThisProcess(child, 2000);
    this.child = child;
    child.stdin!.on('error', () => undefined); // writes after a kill
    child.stderr!.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString()).slice(-4000); });
    const lines = readline.createInterface({ input: child.stdout! });
    let chain = Promise.resolve();
    await new Promise<void>((resolve, reject) => {
      child.once('exit', code => reject(new Error(`event source poller exited (${code ?? child.signalCode}) before it was ready: ${this.stderr}`)));
      lines.on('line', line => {
        let msg: { ready?: boolean; batch?: MskEventRecord[] };
        try {
          msg = JSON.parse(line);
        } catch (e) {
          // The half-written last line of a poller killed while printing a batch: that batch was never delivered.
          if (generation !== this.generation) return;
          throw new Error(`event source poller printed a line that is not JSON (${(e as Error).message}): ${line.slice(0, 200)}`, { cause: e });
        }
        if (msg.ready) resolve();
        // One batch at a time: the poller waits for the answer before it reads on.
        else if (msg.batch) chain = chain.then(() => this.deliver(generation, child, msg.batch!));
      });
    });
  }

  private async deliver(generation: number, child: ChildProcess, records: MskEventRecord[]): Promise<void> {
    const alive = () => generation === this.generation && child.exitCode === null && child.signalCode === null;
    if (!alive()) return;
    this.counts.invocations += 1;
    if (this.o.commitBeforeHandler) {
      this.counts.committedBatches += 1;
      this.counts.committedRecords += records.length;
      child.stdin!.write('commit\n');
      await this.o.handler(this.toEvent(records)).catch(e => { this.lastError = e as Error; });
      return;
    }
    let ok = true;
    try {
      await this.o.handler(this.toEvent(records));
    } catch (e) {
      ok = false;
      this.lastError = e as Error;
    }
    // A poller killed while the function ran: its answer goes nowhere, as a crashed poller's would.
    if (!alive()) return;
    if (ok) {
      this.counts.committedBatches += 1;
      this.counts.committedRecords += records.length;
      child.stdin!.write('commit\n');
    } else {
      this.counts.failures += 1;
      await new Promise(r => setTimeout(r, this.o.retryDelayMs ?? 100));
      if (alive()) child.stdin!.write('retry\n');
    }
  }

  /** The Lambda MSK event for one batch: records grouped by `<topic>-<partition>`, in offset order. */
  public toEvent(records: readonly MskEventRecord[]): MskEvent {
    const grouped: Record<string, MskEventRecord[]> = {};
    for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(r);
    return { eventSource: 'aws:kafka', eventSourceArn: this.eventSourceArn, bootstrapServers: this.o.bootstrapServers, records: grouped };
  }

  /** The handler's last error (the batch was retried), for test messages. */
  public get lastHandlerError(): Error | undefined {
    return this.lastError;
  }

  /** Ends the poller with SIGKILL: no commit, no goodbye. Resolves when it has exited. */
  public async kill(): Promise<void> {
    const child = this.child;
    this.generation += 1;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.counts.kills += 1;
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the poller (SIGTERM; a batch in flight is not committed and comes again on the next start). */
  public async stop(): Promise<void> {
    const child = this.child;
    this.generation += 1;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
