// Apache Kafka in KRaft mode, one combined broker/controller node on 127.0.0.1, plus topic admin and a record reader through KafkaTool.java.
import { ChildProcess, execFile, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { promisify } from 'util';
import { freePort } from '../embedded-postgres';
import { JvmProcess, logContains, startJvm, waitUntil } from './jvm';
import { classpathOf, engineAsset, javaCommand, resolveDependencies } from './maven';

/**
 * Kafka and Kafka Connect version: MSK Connect runs Kafka Connect 3.7.x (the connector's `kafkaConnectVersion`), and MSK
 * offers 3.7.x brokers, so both come from the 3.7 line (3.7.2, the last 3.7 release on Maven Central).
 */
export const KAFKA_VERSION = '3.7.2';

/** The Kafka 3.7.2 broker and Connect runtime jars (one classpath, like the distribution's `libs/`). */
export function kafkaClasspathDir(): string {
  return resolveDependencies({ pom: 'kafka.pom.xml', properties: { 'kafka.version': KAFKA_VERSION } });
}

export interface LocalKafka {
  /** `127.0.0.1:<port>` (PLAINTEXT). */
  readonly bootstrapServers: string;
  readonly workDir: string;
  /** Milliseconds from spawn to "Kafka Server started" (format excluded). */
  readonly startupMs: number;
  readonly jvm: JvmProcess;
  stop(): Promise<void>;
}

export interface KafkaOptions {
  /** @default 320 */
  readonly heapMb?: number;
  /** @default 60_000 */
  readonly startTimeoutMs?: number;
}

/** Log4j 1 (reload4j) configuration: INFO to stdout, which goes to the process log file. */
export function writeLog4j(dir: string): string {
  const file = path.join(dir, 'log4j.properties');
  fs.writeFileSync(file, [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.org.apache.kafka.clients=WARN',
    'log4j.logger.org.reflections=ERROR',
    'log4j.logger.org.eclipse.jetty=WARN',
    '',
  ].join('\n'));
  return file;
}

/** Starts a single-node KRaft Kafka with MSK's default of no automatic topic creation. */
export async function startKafka(options: KafkaOptions = {}): Promise<LocalKafka> {
  const classpath = classpathOf(kafkaClasspathDir());
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-kafka-'));
  const port = await freePort();
  const controllerPort = await freePort();
  const log4j = writeLog4j(workDir);
  const serverProperties = path.join(workDir, 'server.properties');
  fs.writeFileSync(serverProperties, [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${path.join(workDir, 'data')}`,
    // MSK's default configuration: topics are created explicitly (by the constructs or by Debezium's topic.creation.*).
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=2',
    'log.flush.interval.ms=1000',
    '',
  ].join('\n'));
  // base64url of 16 bytes, as Kafka's own ids; one starting with '-' would be read as an option by the storage tool's parser.
  const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
  // The storage tool calls System.exit, so it gets its own JVM.
  await promisify(execFile)(javaCommand(), [
    '-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${log4j}`, '-cp', classpath,
    'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', serverProperties,
  ], { cwd: workDir }).catch((e: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`Kafka storage format failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  });
  const started = Date.now();
  const jvm = startJvm({
    name: 'kafka', classpath, mainClass: 'kafka.Kafka', args: [serverProperties], heapMb: options.heapMb ?? 320, cwd: workDir,
    logFile: path.join(workDir, 'kafka.log'), jvmOptions: [`-Dlog4j.configuration=file:${log4j}`],
  });
  try {
    await waitUntil(jvm, 'the broker started', () => logContains(jvm, 'Kafka Server started'), options.startTimeoutMs ?? 60_000);
  } catch (e) {
    await jvm.stop();
    throw e;
  }
  const startupMs = Date.now() - started;
  return {
    bootstrapServers: `127.0.0.1:${port}`,
    workDir,
    startupMs,
    jvm,
    async stop() {
      await jvm.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** A topic to create, as an `AWS::MSK::Topic` declares it. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Record<string, string>;
}

/** What the broker reports for a topic: partitions and the configs set on it. */
export interface TopicDescription {
  readonly topic: string;
  readonly partitions: number;
  readonly configs: Record<string, string>;
}

const KAFKA_TOOL = engineAsset('java', 'KafkaTool.java');

function runKafkaTool(args: string[]): Promise<string> {
  return promisify(execFile)(javaCommand(), ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpathOf(kafkaClasspathDir()),
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-Dlog4j.configuration=file:/dev/null', KAFKA_TOOL, ...args],
  { maxBuffer: 16 * 1024 * 1024 }).then(r => r.stdout).catch((e: Error & { stderr?: string }) => {
    throw new Error(`KafkaTool ${args[0]} failed: ${e.message}\n${e.stderr ?? ''}`);
  });
}

export async function createTopics(bootstrapServers: string, topics: readonly TopicSpec[]): Promise<void> {
  for (const t of topics) {
    for (const [k, v] of Object.entries(t.configs)) {
      if (/[|,=]/.test(k) || /[|,]/.test(v)) throw new Error(`topic ${t.name}: config ${k}=${v} cannot be passed to KafkaTool`);
    }
  }
  await runKafkaTool(['create-topics', bootstrapServers,
    ...topics.map(t => `${t.name}|${t.partitions}|${t.replicationFactor}|${Object.entries(t.configs).map(([k, v]) => `${k}=${v}`).join(',')}`)]);
}

export async function describeTopics(bootstrapServers: string, names: readonly string[]): Promise<TopicDescription[]> {
  const out = await runKafkaTool(['describe-topics', bootstrapServers, ...names]);
  return out.trim().split('\n').filter(Boolean).map(l => JSON.parse(l) as TopicDescription);
}

/** A record as the Lambda MSK event source delivers it (key and value base64, null for absent). */
export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
}

/** Reads every record of the topics matching a regex, from the beginning, into `records` as they arrive. */
export class TopicReader {
  public readonly records: ReadRecord[] = [];
  private child?: ChildProcess;
  private stderr = '';

  constructor(private readonly bootstrapServers: string, private readonly topicPattern: string) {}

  public async start(): Promise<void> {
    const child = spawn(javaCommand(), ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpathOf(kafkaClasspathDir()),
      '-Dlog4j.configuration=file:/dev/null', KAFKA_TOOL, 'consume', this.bootstrapServers, this.topicPattern], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString()).slice(-4000); });
    await new Promise<void>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      lines.on('line', line => {
        const parsed = JSON.parse(line) as ReadRecord & { ready?: boolean };
        if (parsed.ready) resolve();
        else this.records.push(parsed);
      });
      child.once('exit', code => reject(new Error(`topic reader exited with ${code}: ${this.stderr}`)));
    });
  }

  /** Waits until `predicate` holds for the records read so far. */
  public async waitFor(what: string, predicate: (records: ReadRecord[]) => boolean, timeoutMs = 60_000): Promise<ReadRecord[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.records)) {
      if (this.child?.exitCode !== null) throw new Error(`topic reader exited: ${this.stderr}`);
      if (Date.now() > deadline) {
        const topics = [...new Set(this.records.map(r => r.topic))];
        throw new Error(`${what}: not seen within ${timeoutMs / 1000}s; ${this.records.length} records read so far on ${topics.join(', ') || 'no topic'}`);
      }
      await new Promise(r => setTimeout(r, 200));
    }
    return this.records;
  }

  public async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
}
