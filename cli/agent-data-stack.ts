#!/usr/bin/env node
// The ops CLI: `agent-data-stack status [--stack NAME] [--json]` says whether each layer of a deployed stack is healthy; `connect` serves
// the deployed MCP endpoint on stdio for local agents; `dev` runs the example locally. Commands live in a map so more can be added.
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeReplicationGroupsCommand, DescribeServerlessCachesCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeClusterV2Command, KafkaClient } from '@aws-sdk/client-kafka';
import { DescribeConnectorCommand, KafkaConnectClient } from '@aws-sdk/client-kafkaconnect';
import { DescribeApplicationCommand, KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { DescribeDomainHealthCommand, OpenSearchClient } from '@aws-sdk/client-opensearch';
import { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_AGENT_METRICS_NAMESPACE, SINK_METRIC_NAMES } from '../contract/metric-names';
import type { MskEvent } from '../lambda/shared/envelope';
import type { BatchSummary } from '../lambda/sink/process';
import { replayDeadLetters } from '../lambda/sink/replay';
import { findSinkResources, lambdaDeliver } from './replay-dead-letters';

// ---------------------------------------------------------------- model

export type LayerName = 'kafka' | 'connector' | 'flink' | 'cache' | 'search' | 'consumer-lag' | 'cdc-lag' | 'freshness';

export interface LayerStatus {
  readonly layer: LayerName;
  readonly resource: string;
  readonly state: string;
  readonly healthy: boolean;
  readonly detail?: string;
}

export interface StatusReport {
  readonly stack: string;
  readonly healthy: boolean;
  readonly checkedAt: string;
  readonly layers: LayerStatus[];
}

export interface StatusClients {
  readonly cloudformation: CloudFormationClient;
  readonly kafka: KafkaClient;
  readonly kafkaConnect: KafkaConnectClient;
  readonly flink: KinesisAnalyticsV2Client;
  readonly elastiCache: ElastiCacheClient;
  readonly openSearch: OpenSearchClient;
  readonly cloudWatch: CloudWatchClient;
}

export interface StatusOptions {
  /** Freshness objective in milliseconds (p99 of `FreshnessLag`, max of `CdcLag`). @default 5000 */
  readonly freshnessSloMs?: number;
  /** Highest acceptable MSK `EstimatedMaxTimeLag` in seconds. @default 30 */
  readonly maxConsumerLagSeconds?: number;
  /** Namespace of the sink metrics. @default - the stack output ending in `MetricsNamespace`, else 'AgentDataStack' */
  readonly metricsNamespace?: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/** Resources of the stack, found from its outputs (values that are ARNs of the services below). */
export interface StackResources {
  readonly kafkaClusters: string[];
  readonly connectors: string[];
  readonly flinkApplications: string[];
  readonly serverlessCaches: string[];
  readonly replicationGroups: string[];
  readonly searchDomains: string[];
  readonly metricsNamespace?: string;
}

export class UserError extends Error {}

// ---------------------------------------------------------------- discovery

/** Reads the stack's outputs and sorts the ARNs it recognizes by service. */
export async function discoverResources(cfn: CloudFormationClient, stackName: string): Promise<StackResources> {
  let outputs: Output[];
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if (/does not exist/.test(String((e as Error).message))) {
      throw new UserError(`Stack '${stackName}' does not exist in this account and region. Pass --stack NAME, or set AWS_REGION / AWS_PROFILE to where it is deployed.`);
    }
    throw e;
  }
  return classifyOutputs(outputs);
}

export function classifyOutputs(outputs: Output[]): StackResources {
  const r = {
    kafkaClusters: [] as string[], connectors: [] as string[], flinkApplications: [] as string[],
    serverlessCaches: [] as string[], replicationGroups: [] as string[], searchDomains: [] as string[],
  };
  let metricsNamespace: string | undefined;
  for (const o of outputs) {
    const v = o.OutputValue ?? '';
    if (o.OutputKey?.endsWith('MetricsNamespace')) metricsNamespace = v;
    const arn = /^arn:[^:]+:([^:]+):[^:]*:[^:]*:(.+)$/.exec(v);
    if (!arn) continue;
    const [, service, resource] = arn;
    const add = (list: string[], value: string) => { if (!list.includes(value)) list.push(value); };
    if (service === 'kafka' && resource.startsWith('cluster/')) add(r.kafkaClusters, v);
    else if (service === 'kafkaconnect' && resource.startsWith('connector/')) add(r.connectors, v);
    else if (service === 'kinesisanalytics' && resource.startsWith('application/')) add(r.flinkApplications, resource.slice('application/'.length));
    else if (service === 'elasticache' && resource.startsWith('serverlesscache:')) add(r.serverlessCaches, resource.slice('serverlesscache:'.length));
    else if (service === 'elasticache' && resource.startsWith('replicationgroup:')) add(r.replicationGroups, resource.slice('replicationgroup:'.length));
    else if (service === 'es' && resource.startsWith('domain/')) add(r.searchDomains, resource.slice('domain/'.length));
  }
  return { ...r, metricsNamespace };
}

// ---------------------------------------------------------------- checks

type Check = () => Promise<LayerStatus>;

/** Runs one check; an API error marks that layer unhealthy instead of stopping the report (credential errors still stop it). */
async function guarded(layer: LayerName, resource: string, check: Check): Promise<LayerStatus> {
  try {
    return await check();
  } catch (e) {
    if (isCredentialsError(e)) throw e;
    return { layer, resource, state: 'ERROR', healthy: false, detail: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

function kafkaCheck(c: StatusClients, arn: string): Check {
  return async () => {
    const out = await c.kafka.send(new DescribeClusterV2Command({ ClusterArn: arn }));
    const info = out.ClusterInfo;
    const state = info?.State ?? 'UNKNOWN';
    return {
      layer: 'kafka', resource: info?.ClusterName ?? arn, state,
      // MAINTENANCE is routine patching: brokers keep serving.
      healthy: state === 'ACTIVE' || state === 'MAINTENANCE',
      detail: info?.StateInfo?.Message,
    };
  };
}

function connectorCheck(c: StatusClients, arn: string): Check {
  return async () => {
    const out = await c.kafkaConnect.send(new DescribeConnectorCommand({ connectorArn: arn }));
    const state = out.connectorState ?? 'UNKNOWN';
    return {
      layer: 'connector', resource: out.connectorName ?? arn, state, healthy: state === 'RUNNING',
      detail: out.stateDescription?.message,
    };
  };
}

function flinkCheck(c: StatusClients, name: string): Check {
  return async () => {
    const out = await c.flink.send(new DescribeApplicationCommand({ ApplicationName: name }));
    const state = out.ApplicationDetail?.ApplicationStatus ?? 'UNKNOWN';
    return { layer: 'flink', resource: name, state, healthy: state === 'RUNNING', detail: out.ApplicationDetail?.RuntimeEnvironment };
  };
}

function serverlessCacheCheck(c: StatusClients, name: string): Check {
  return async () => {
    const out = await c.elastiCache.send(new DescribeServerlessCachesCommand({ ServerlessCacheName: name }));
    const state = out.ServerlessCaches?.[0]?.Status ?? 'UNKNOWN';
    return { layer: 'cache', resource: name, state, healthy: state === 'available' };
  };
}

function replicationGroupCheck(c: StatusClients, id: string): Check {
  return async () => {
    const out = await c.elastiCache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
    const state = out.ReplicationGroups?.[0]?.Status ?? 'UNKNOWN';
    return { layer: 'cache', resource: id, state, healthy: state === 'available' };
  };
}

function searchCheck(c: StatusClients, domain: string): Check {
  return async () => {
    const out = await c.openSearch.send(new DescribeDomainHealthCommand({ DomainName: domain }));
    const health = out.ClusterHealth ?? 'NotAvailable';
    // Yellow means replicas are unassigned: reads and writes still work.
    return {
      layer: 'search', resource: domain, state: `${health} (${out.DomainState ?? 'unknown'})`,
      healthy: health === 'Green' || health === 'Yellow', detail: health === 'Yellow' ? 'replica shards unassigned' : undefined,
    };
  };
}

/** Latest value of MAX(SEARCH(...)) over the last 10 minutes, or undefined when nothing was published. */
async function latestMax(cw: CloudWatchClient, search: string, stat: string, now: Date): Promise<number | undefined> {
  const out = await cw.send(new GetMetricDataCommand({
    StartTime: new Date(now.getTime() - 10 * 60_000),
    EndTime: now,
    ScanBy: 'TimestampDescending',
    MetricDataQueries: [{ Id: 'q', Expression: `MAX(SEARCH('${search}', '${stat}', 60))`, ReturnData: true }],
  }));
  const values = out.MetricDataResults?.[0]?.Values ?? [];
  return values.length > 0 ? values[0] : undefined;
}

function metricCheck(
  c: StatusClients, layer: LayerName, resource: string, search: string, stat: string, limit: number, unit: string, now: Date,
  missing: { healthy: boolean; detail: string } = { healthy: true, detail: 'nothing published in the last 10 minutes' },
): Check {
  return async () => {
    const value = await latestMax(c.cloudWatch, search, stat, now);
    if (value === undefined) return { layer, resource, state: 'no data', ...missing };
    const rounded = Math.round(value * 10) / 10;
    return { layer, resource, state: `${rounded} ${unit}`, healthy: value <= limit, detail: `limit ${limit} ${unit}` };
  };
}

/** Checks every resource the stack outputs name, and the lag and freshness CloudWatch reports. */
export async function collectStatus(c: StatusClients, stackName: string, options: StatusOptions = {}): Promise<StatusReport> {
  const now = (options.clock ?? (() => new Date()))();
  const res = await discoverResources(c.cloudformation, stackName);
  const slo = options.freshnessSloMs ?? 5000;
  const maxLag = options.maxConsumerLagSeconds ?? 30;
  const ns = options.metricsNamespace ?? res.metricsNamespace ?? DEFAULT_AGENT_METRICS_NAMESPACE;
  const checks: [LayerName, string, Check][] = [
    ...res.kafkaClusters.map(a => ['kafka', a, kafkaCheck(c, a)] as [LayerName, string, Check]),
    ...res.connectors.map(a => ['connector', a, connectorCheck(c, a)] as [LayerName, string, Check]),
    ...res.flinkApplications.map(n => ['flink', n, flinkCheck(c, n)] as [LayerName, string, Check]),
    ...res.serverlessCaches.map(n => ['cache', n, serverlessCacheCheck(c, n)] as [LayerName, string, Check]),
    ...res.replicationGroups.map(n => ['cache', n, replicationGroupCheck(c, n)] as [LayerName, string, Check]),
    ...res.searchDomains.map(n => ['search', n, searchCheck(c, n)] as [LayerName, string, Check]),
    ...res.kafkaClusters.map(a => {
      const name = a.split('/')[1];
      return ['consumer-lag', name, metricCheck(c, 'consumer-lag', name,
        `Namespace="AWS/Kafka" MetricName="EstimatedMaxTimeLag" "Cluster Name"="${name}"`, 'Maximum', maxLag, 's', now)] as [LayerName, string, Check];
    }),
    // Heartbeats flow without table changes, so no CdcLag at all means the path is stuck (the CdcLag alarm treats missing data the same way).
    ['cdc-lag', ns, metricCheck(c, 'cdc-lag', ns, `Namespace="${ns}" MetricName="${SINK_METRIC_NAMES.cdcLag}"`, 'Maximum', slo, 'ms', now,
      { healthy: false, detail: 'no heartbeat lag in 10 minutes: the connector, its topic or the sinks are stuck' })],
    ['freshness', ns, metricCheck(c, 'freshness', ns, `Namespace="${ns}" MetricName="${SINK_METRIC_NAMES.freshnessLag}"`, 'p99', slo, 'ms', now)],
  ];
  const layers = await Promise.all(checks.map(([layer, resource, check]) => guarded(layer, resource, check)));
  if (layers.filter(l => !['cdc-lag', 'freshness'].includes(l.layer)).length === 0) {
    throw new UserError(`Stack '${stackName}' has no outputs naming an MSK cluster, connector, Flink application, cache or OpenSearch domain. Deploy a stack built from cdk-agent-data-stack, or pass --stack NAME.`);
  }
  return { stack: stackName, healthy: layers.every(l => l.healthy), checkedAt: now.toISOString(), layers };
}

// ---------------------------------------------------------------- output

export function formatTable(report: StatusReport): string {
  const rows = [['LAYER', 'RESOURCE', 'STATE', 'HEALTHY', 'DETAIL'], ...report.layers.map(l => [l.layer, l.resource, l.state, l.healthy ? 'yes' : 'NO', l.detail ?? ''])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  const lines = rows.map(r => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
  lines.push('', `${report.stack}: ${report.healthy ? 'healthy' : 'UNHEALTHY'} (${report.layers.filter(l => !l.healthy).length} of ${report.layers.length} checks failing)`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- commands

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Record<string, string | undefined>;
  /** @default - real SDK clients with the default credential chain */
  readonly clients?: StatusClients;
  readonly clock?: () => Date;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export function defaultClients(): StatusClients {
  return {
    cloudformation: new CloudFormationClient({}), kafka: new KafkaClient({}), kafkaConnect: new KafkaConnectClient({}),
    flink: new KinesisAnalyticsV2Client({}), elastiCache: new ElastiCacheClient({}), openSearch: new OpenSearchClient({}), cloudWatch: new CloudWatchClient({}),
  };
}

/** Parses `--flag value`, `--flag=value` and boolean `--flag`. */
export function parseFlags(args: string[], known: Record<string, 'string' | 'boolean'>): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m || !(m[1] in known)) throw new UserError(`Unknown argument '${args[i]}'.`);
    const [, name, inline] = m;
    if (known[name] === 'boolean') {
      flags[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value.startsWith('--')) throw new UserError(`--${name} needs a value.`);
    flags[name] = value;
  }
  return flags;
}

function numberFlag(flags: Record<string, string | boolean>, name: string): number | undefined {
  if (flags[name] === undefined) return undefined;
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--${name} must be a positive number, got '${flags[name]}'.`);
  return n;
}

export const statusCommand: Command = {
  summary: 'Say whether each layer of a deployed stack is healthy (exit 1 when one is not).',
  usage: 'status [--stack NAME] [--json] [--slo-ms 5000] [--max-lag-seconds 30] [--namespace AgentDataStack]',
  async run(args, io) {
    const flags = parseFlags(args, { 'stack': 'string', 'json': 'boolean', 'slo-ms': 'string', 'max-lag-seconds': 'string', 'namespace': 'string' });
    const stack = (flags.stack as string | undefined) ?? io.env.AGENT_DATA_STACK_NAME ?? 'AgentDataStack';
    const report = await collectStatus(io.clients ?? defaultClients(), stack, {
      freshnessSloMs: numberFlag(flags, 'slo-ms'),
      maxConsumerLagSeconds: numberFlag(flags, 'max-lag-seconds'),
      metricsNamespace: flags.namespace as string | undefined,
      clock: io.clock,
    });
    io.stdout(flags.json ? JSON.stringify(report, null, 2) : formatTable(report));
    return report.healthy ? 0 : 1;
  },
};

export interface DevCommandIo extends CliIo {
  /** Resolves when the dev loop should stop. @default - the first SIGINT, SIGTERM or SIGHUP, or the parent process's exit */
  readonly untilStopped?: () => Promise<string>;
}

export const devCommand: Command = {
  summary: 'Run the example locally: private PostgreSQL -> change capture -> sink code -> Redis -> MCP server on 127.0.0.1.',
  usage: 'dev [--port 8787] [--redis redis://127.0.0.1:6379] [--pg-port N] [--keep-keys] [--quiet]',
  async run(args, io: DevCommandIo) {
    const flags = parseFlags(args, { 'port': 'string', 'redis': 'string', 'pg-port': 'string', 'keep-keys': 'boolean', 'quiet': 'boolean' });
    const portFlag = (name: string): number | undefined => {
      if (flags[name] === undefined) return undefined;
      const n = Number(flags[name]);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UserError(`--${name} must be a TCP port (0-65535, 0 = any free port), got '${flags[name]}'.`);
      return n;
    };
    const port = portFlag('port') ?? 8787;
    const pgPort = portFlag('pg-port') || undefined;
    // Listen before starting: a stop request during start-up lets start-up finish, then stops everything it started.
    const watch = io.untilStopped ? undefined : await import('./dev/stop-signals').then(m => m.watchForStop({
      onRepeat: reason => io.stderr(`${reason}: already stopping, clean-up in progress...`),
    }));
    if (watch) {
      // A closed terminal or a dead parent leaves stdout/stderr unwritable (EIO, EPIPE): clean-up must go on regardless.
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    }
    try {
      return await runDevLoop(flags, port, pgPort, io, watch ? () => watch.stopped : io.untilStopped!);
    } finally {
      watch?.dispose();
    }
  },
};

async function runDevLoop(
  flags: Record<string, string | boolean>, port: number, pgPort: number | undefined, io: DevCommandIo, untilStopped: () => Promise<string>,
): Promise<number> {
  // Loaded on demand: `status` should not pay for aws-cdk-lib and the example declaration.
  const { startDevLoop, describeDevLoop } = await import('./dev/dev-loop');
  io.stderr('Starting the local dev loop (PostgreSQL, change capture, sink, MCP server)...');
  let loop;
  try {
    loop = await startDevLoop({
      port, pgPort, redisUrl: (flags.redis as string | undefined) ?? io.env.AGENT_DEV_REDIS_URL, keepKeys: flags['keep-keys'] === true,
      log: flags.quiet ? undefined : line => io.stderr(line),
    });
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    if (message.startsWith('--redis ')) throw new UserError(message);
    if (/EADDRINUSE/.test(message)) throw new UserError(`Port ${port} is in use. Pass --port N (or --port 0 for any free port).`);
    if (/ECONNREFUSED|Connection is closed|connect ETIMEDOUT/.test(message)) {
      throw new UserError(`Redis is not reachable (${message}). Start one (e.g. \`redis-server\` or \`docker run -p 6379:6379 valkey/valkey\`) or pass --redis URL.`);
    }
    throw e;
  }
  io.stdout(describeDevLoop(loop));
  const reason = await untilStopped();
  io.stderr(`\n${reason}: stopping (capture, replication slot, MCP server, Redis keys, PostgreSQL)...`);
  const stats = loop.stats();
  try {
    await loop.stop();
  } catch (e) {
    io.stderr(`Stopped with an error: ${(e as Error).message}. Check for a leftover replication slot or Redis keys under '${loop.keyPrefix}'.`);
    return 1;
  }
  io.stderr(`Stopped. The sink applied ${stats.written} change(s) in ${stats.batches} batch(es); ${stats.deadLettered} dead-lettered.`);
  return 0;
}

export interface ConnectCommandIo extends CliIo {
  /** @default process.stdin */
  readonly input?: import('stream').Readable;
  /** @default process.stdout (the MCP protocol only: diagnostics go to stderr) */
  readonly output?: import('stream').Writable;
  /** @default - credentials from the default AWS chain (env, profile, SSO, container, instance) */
  readonly credentials?: import('@smithy/types').AwsCredentialIdentityProvider;
}

export const connectCommand: Command = {
  summary: 'Serve MCP on stdio for a local agent, relaying to the deployed endpoint with SigV4-signed requests.',
  usage: 'connect (--stack NAME [--output KEY] | --url URL) [--region REGION]',
  async run(args, io: ConnectCommandIo) {
    const flags = parseFlags(args, { stack: 'string', url: 'string', output: 'string', region: 'string' });
    const { ConnectError, endpointFromStack, regionOfUrl, runProxy } = await import('./connect/proxy');
    try {
      if (flags.url !== undefined && flags.stack !== undefined) throw new UserError('Pass either --stack NAME or --url URL, not both.');
      const stackName = (flags.stack as string | undefined) ?? (flags.url === undefined ? io.env.AGENT_DATA_STACK_NAME ?? 'AgentDataStack' : undefined);
      let raw = flags.url as string | undefined;
      if (stackName) {
        raw = await endpointFromStack(io.clients?.cloudformation ?? new CloudFormationClient({}), stackName, flags.output as string | undefined);
      }
      let url: URL;
      try {
        url = new URL(raw!);
      } catch {
        throw new UserError(`--url '${raw}' is not a URL. Pass the MCP endpoint, e.g. https://abc123.lambda-url.us-east-1.on.aws/mcp.`);
      }
      const region = (flags.region as string | undefined) ?? regionOfUrl(url) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
      if (!region) throw new UserError(`Cannot tell the region of ${url.origin}. Pass --region REGION.`);
      if (/\.execute-api\./.test(url.hostname)) {
        throw new UserError(`${url.origin} is the JWT-authorized endpoint (McpAuthorization.jwt()); connect signs with SigV4 for IAM function URLs. Point an OAuth-capable MCP client at it instead.`);
      }
      const credentials = io.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
      io.stderr(`agent-data-stack connect: relaying stdio to ${url.href} (region ${region}, SigV4).`);
      await runProxy({
        url, region, credentials, input: io.input ?? process.stdin, output: io.output ?? process.stdout, log: line => io.stderr(line),
      });
      return 0;
    } catch (e) {
      if (e instanceof ConnectError) throw new UserError(e.message);
      throw e;
    }
  },
};

export interface ReplayClients {
  readonly cloudformation: CloudFormationClient;
  readonly s3: S3Client;
  /** Runs one batch through the sink. @default - Lambda Invoke of the deployed sink function */
  readonly deliver?: (functionName: string) => (event: MskEvent) => Promise<BatchSummary>;
}

export const replayDeadLettersCommand: Command & { clients?: ReplayClients } = {
  summary: 'Replay a sink\'s dead letters (S3) through the deployed sink function after the cause is fixed.',
  usage: 'replay-dead-letters [--stack NAME] [--view V] [--sink-id Sink] [--bucket B --function F] [--batch-size 100]',
  async run(args, io) {
    const flags = parseFlags(args, { 'stack': 'string', 'view': 'string', 'sink-id': 'string', 'bucket': 'string', 'function': 'string', 'batch-size': 'string' });
    const stack = (flags.stack as string | undefined) ?? io.env.AGENT_DATA_STACK_NAME ?? 'AgentDataStack';
    const clients = this.clients ?? { cloudformation: new CloudFormationClient({}), s3: new S3Client({}) };
    let target: { bucket: string; functionName: string };
    if (flags.bucket && flags.function) target = { bucket: flags.bucket as string, functionName: flags.function as string };
    else {
      try {
        target = await findSinkResources(clients.cloudformation, stack, flags['sink-id'] as string | undefined);
      } catch (e) {
        if (/does not exist|has no/.test((e as Error).message)) throw new UserError((e as Error).message);
        throw e;
      }
    }
    const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? await clients.s3.config.region();
    const deliver = (clients.deliver ?? ((fn: string) => lambdaDeliver(fn, region)))(target.functionName);
    const summary = await replayDeadLetters(clients.s3, {
      bucket: target.bucket, view: flags.view as string | undefined, batchSize: numberFlag(flags, 'batch-size'), deliver,
    });
    io.stdout(`Replayed ${summary.letters} dead letter(s) from s3://${target.bucket} through ${target.functionName} in ${summary.batches} batch(es): `
      + `${summary.written} written, ${summary.stale} already newer in the store, ${summary.skipped} skipped, ${summary.deadLettered} dead-lettered again.`);
    return summary.deadLettered > 0 ? 1 : 0;
  },
};

/** Subcommands by name. */
export const COMMANDS: Record<string, Command> = {
  'status': statusCommand, 'dev': devCommand, 'connect': connectCommand, 'replay-dead-letters': replayDeadLettersCommand,
};

function usage(): string {
  return ['Usage: agent-data-stack <command> [options]', '', 'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}\n           agent-data-stack ${c.usage}`)].join('\n');
}

export function isCredentialsError(e: unknown): boolean {
  const err = e as { name?: string; message?: string };
  return err?.name === 'CredentialsProviderError'
    || /Could not load credentials|Unable to locate credentials|security token included in the request is (invalid|expired)/i.test(err?.message ?? '')
    || err?.name === 'ExpiredTokenException' || err?.name === 'UnrecognizedClientException';
}

/** Exit codes: 0 healthy, 1 unhealthy, 2 usage or environment problem (credentials, unknown stack). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`Unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (isCredentialsError(e)) {
      io.stderr('No usable AWS credentials. Set AWS_PROFILE (and run `aws sso login` if it is an SSO profile), or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, then retry.');
      return 2;
    }
    if (e instanceof UserError) {
      io.stderr(e.message);
      return 2;
    }
    if (/Region is missing/i.test(String((e as Error).message))) {
      io.stderr('No AWS region configured. Set AWS_REGION (or a region in your AWS profile), then retry.');
      return 2;
    }
    io.stderr(`agent-data-stack ${name} failed: ${(e as Error).name}: ${(e as Error).message}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    stdout: t => process.stdout.write(`${t}\n`),
    stderr: t => process.stderr.write(`${t}\n`),
    env: process.env,
  }).then(code => { process.exitCode = code; }, (e: unknown) => { process.stderr.write(`${String(e)}\n`); process.exitCode = 2; });
}
