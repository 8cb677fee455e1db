// Kafka Connect 3.7.x in distributed mode (MSK Connect's runtime) on 127.0.0.1, with a REST client for validate, create, status and delete.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freePort } from '../embedded-postgres';
import { JvmProcess, startJvm, waitUntil } from './jvm';
import { kafkaClasspathDir, writeLog4j } from './kafka';
import { classpathOf } from './maven';

export interface ConnectOptions {
  readonly bootstrapServers: string;
  /** `plugin.path` entries (each holds one folder per plugin). */
  readonly pluginPath: string[];
  /**
   * The worker configuration under test (for example a construct's worker configuration, mapped for the local broker).
   * Applied over the harness's local settings (broker address, group, internal topics, REST listener, plugin.path).
   */
  readonly workerProperties?: Record<string, string>;
  /** Working directory of the worker (relative paths in config-provider references resolve against it). @default - a temp dir */
  readonly cwd?: string;
  /** @default 448 */
  readonly heapMb?: number;
  /** @default 90_000 */
  readonly startTimeoutMs?: number;
}

export interface LocalConnect {
  readonly url: string;
  /** The worker's working directory (config-provider file references resolve against it). */
  readonly cwd: string;
  /** Milliseconds from spawn to the REST API answering `GET /connectors`. */
  readonly startupMs: number;
  readonly jvm: JvmProcess;
  /** The worker properties file as started. */
  readonly workerProperties: Record<string, string>;
  readonly rest: ConnectRest;
  stop(): Promise<void>;
}

/**
 * The local settings MSK Connect supplies itself on AWS (cluster address, worker group, internal topics with MSK's
 * naming, REST). Everything else comes from the worker configuration under test.
 */
function localWorkerProperties(o: ConnectOptions, restPort: number): Record<string, string> {
  const group = `engine-connect-${restPort}`;
  return {
    'bootstrap.servers': o.bootstrapServers,
    'group.id': group,
    'offset.storage.topic': `__amazon_msk_connect_offsets_${group}`,
    'config.storage.topic': `__amazon_msk_connect_configs_${group}`,
    'status.storage.topic': `__amazon_msk_connect_status_${group}`,
    'offset.storage.replication.factor': '1',
    'config.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    'offset.storage.partitions': '1',
    'status.storage.partitions': '1',
    'offset.flush.interval.ms': '1000',
    'listeners': `http://127.0.0.1:${restPort}`,
    'rest.advertised.host.name': '127.0.0.1',
    'plugin.path': o.pluginPath.join(','),
    'scheduled.rebalance.max.delay.ms': '0',
  };
}

/** Starts a distributed Connect worker; fails with the worker's own error when it refuses its configuration. */
export async function startConnect(o: ConnectOptions): Promise<LocalConnect> {
  const classpath = classpathOf(kafkaClasspathDir());
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-connect-'));
  const restPort = await freePort();
  const properties = { ...localWorkerProperties(o, restPort), ...(o.workerProperties ?? {}) };
  const file = path.join(workDir, 'worker.properties');
  fs.writeFileSync(file, Object.entries(properties).map(([k, v]) => `${k}=${escapeProperty(v)}`).join('\n') + '\n');
  const log4j = writeLog4j(workDir);
  const started = Date.now();
  const jvm = startJvm({
    name: 'kafka-connect', classpath, mainClass: 'org.apache.kafka.connect.cli.ConnectDistributed', args: [file], heapMb: o.heapMb ?? 448,
    cwd: o.cwd ?? workDir, logFile: path.join(workDir, 'connect.log'), jvmOptions: [`-Dlog4j.configuration=file:${log4j}`],
  });
  const url = `http://127.0.0.1:${restPort}`;
  const rest = new ConnectRest(url);
  try {
    await waitUntil(jvm, 'its REST API answered GET /connectors', async () => (await fetch(`${url}/connectors`)).status === 200, o.startTimeoutMs ?? 90_000);
  } catch (e) {
    await jvm.stop();
    throw e;
  }
  return {
    url, cwd: o.cwd ?? workDir, startupMs: Date.now() - started, jvm, workerProperties: properties, rest,
    async stop() {
      await jvm.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Java properties-file escaping of a value (backslashes and leading spaces; newlines never appear in our values). */
function escapeProperty(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/^ /, '\\ ');
}

/** One config value's result from the validate endpoint. */
export interface ValidatedValue {
  readonly name: string;
  readonly value: string | null;
  readonly errors: string[];
}

export interface ValidateResult {
  readonly name: string;
  readonly error_count: number;
  readonly configs: Array<{ value: ValidatedValue }>;
}

export interface ConnectorStatus {
  readonly name: string;
  readonly connector: { state: string; trace?: string };
  readonly tasks: Array<{ id: number; state: string; trace?: string }>;
}

export class ConnectRest {
  constructor(public readonly url: string) {}

  /**
   * `PUT /connector-plugins/{class}/config/validate`: every property with its errors. The connector's name is added as
   * `name`, as `PUT /connectors/{name}/config` (and MSK Connect, from `ConnectorName`) does.
   */
  public async validate(name: string, config: Record<string, string>): Promise<ValidateResult> {
    return this.call('PUT', `/connector-plugins/${encodeURIComponent(config['connector.class'])}/config/validate`, { ...config, name });
  }

  public async plugins(): Promise<Array<{ class: string; type: string; version: string }>> {
    return this.call('GET', '/connector-plugins?connectorsOnly=false');
  }

  public async create(name: string, config: Record<string, string>): Promise<void> {
    await this.call('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
  }

  public async status(name: string): Promise<ConnectorStatus | undefined> {
    const res = await fetch(`${this.url}/connectors/${encodeURIComponent(name)}/status`);
    if (res.status === 404) return undefined;
    return res.json() as Promise<ConnectorStatus>;
  }

  public async delete(name: string): Promise<void> {
    const res = await fetch(`${this.url}/connectors/${encodeURIComponent(name)}`, { method: 'DELETE' });
    if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE connector ${name}: HTTP ${res.status} ${await res.text()}`);
  }

  /** Waits until the connector and all its tasks are RUNNING; fails with Connect's trace when one FAILED. */
  public async waitRunning(name: string, timeoutMs = 60_000): Promise<ConnectorStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(name);
      const failed = s && [s.connector, ...s.tasks].find(x => x.state === 'FAILED');
      if (failed) throw new Error(`connector ${name} FAILED:\n${failed.trace ?? '(no trace)'}`);
      if (s && s.connector.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every(t => t.state === 'RUNNING')) return s;
      if (Date.now() > deadline) throw new Error(`connector ${name} not RUNNING within ${timeoutMs / 1000}s: ${JSON.stringify(s)}`);
      await new Promise(r => setTimeout(r, 500));
    }
  }

  private async call<T>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${p}`, {
      method, headers: { 'content-type': 'application/json', 'accept': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** Only the properties whose validation reported errors, as `name: error` lines. */
export function validationErrors(result: ValidateResult): string[] {
  return result.configs.flatMap(c => c.value.errors.map(e => `${c.value.name}=${c.value.value}: ${e}`));
}
