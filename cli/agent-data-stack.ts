#!/usr/bin/env node
// The ops CLI: `agent-data-stack status [--stack NAME] [--json] [--doctor]` (cli/status/) says whether each layer of a deployed stack is healthy; `connect` serves
// the deployed MCP endpoint on stdio for local agents; `dev` runs the example locally. Commands live in a map so more can be added.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import type { MskEvent } from '../lambda/shared/envelope';
import type { BatchSummary } from '../lambda/sink/process';
import { replayDeadLetters } from '../lambda/sink/replay';
import { type Command, type CliIo, isCredentialsError, numberFlag, parseFlags, UserError } from './command';
import { findSinkResources, lambdaDeliver, reportQueueReplay, type SinkResources, tooOldAdvice } from './replay-dead-letters';
import { statusCommand } from './status/command';

// Re-exported: scripts and tests import the CLI's pieces from here.
export { isCredentialsError, numberFlag, parseFlags, UserError } from './command';
export type { Command, CliIo } from './command';
export { defaultClients } from './status/clients';
export type { StatusClients } from './status/clients';
export { classifyOutputs, discoverResources } from './status/discovery';
export type { StackResources } from './status/discovery';
export { collectStatus, formatTable } from './status/status';
export type { LayerName, LayerStatus, StatusOptions, StatusReport } from './status/status';
export { collectDoctorReport, formatDoctorTable } from './status/doctor';
export type { DoctorCheck, DoctorReport } from './status/doctor';
export { statusCommand } from './status/command';

// ---------------------------------------------------------------- commands

export interface DevCommandIo extends CliIo {
  /** Resolves when the dev loop should stop. @default - the first SIGINT, SIGTERM or SIGHUP, or the parent process's exit */
  readonly untilStopped?: () => Promise<string>;
}

export const devCommand: Command = {
  summary: 'Run the example locally: private PostgreSQL -> change capture -> sink code -> Redis -> MCP server on 127.0.0.1.',
  usage: 'dev [--port 8787] [--redis redis://127.0.0.1:6379] [--pg-port N] [--keep-keys] [--quiet] | dev --engines [--port 8787] [--redis URL] [--no-warehouse-writer] [--verbose]',
  async run(args, io: DevCommandIo) {
    const flags = parseFlags(args, { 'port': 'string', 'redis': 'string', 'pg-port': 'string', 'keep-keys': 'boolean', 'quiet': 'boolean', 'engines': 'boolean', 'verbose': 'boolean', 'no-warehouse-writer': 'boolean' });
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
      if (flags.engines) {
        const { runDevEngines } = await import('./dev/engines/command');
        return await runDevEngines({ port, redisUrl: (flags.redis as string | undefined) ?? io.env.AGENT_DEV_REDIS_URL, quiet: flags.quiet === true, verbose: flags.verbose === true,
          warehouseWriter: flags['no-warehouse-writer'] !== true }, io, watch ? () => watch.stopped : io.untilStopped!);
      }
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
  /** For a sink that dead-letters to a queue. @default - a new SQSClient */
  readonly sqs?: import('@aws-sdk/client-sqs').SQSClient;
  /** Runs one batch through the sink. @default - Lambda Invoke of the deployed sink function */
  readonly deliver?: (functionName: string) => (event: MskEvent) => Promise<BatchSummary>;
}

export const replayDeadLettersCommand: Command & { clients?: ReplayClients } = {
  summary: 'Replay a sink\'s dead letters (S3 bucket or SQS queue) through the deployed sink function after the cause is fixed.',
  usage: 'replay-dead-letters [--stack NAME] [--view V] [--sink-id Sink] [--bucket B | --queue URL] [--function F] [--batch-size 100] [--max-age HOURS (24)] [--sink-timeout SECONDS (900, queue only)]',
  async run(args, io) {
    const flags = parseFlags(args, {
      'stack': 'string', 'view': 'string', 'sink-id': 'string', 'bucket': 'string', 'queue': 'string', 'function': 'string', 'batch-size': 'string', 'max-age': 'string',
      'sink-timeout': 'string',
    });
    if (flags.bucket !== undefined && flags.queue !== undefined) throw new UserError('Pass either --bucket B or --queue URL, not both.');
    const maxAgeHours = numberFlag(flags, 'max-age') ?? 24;
    const stack = (flags.stack as string | undefined) ?? io.env.AGENT_DATA_STACK_NAME ?? 'AgentDataStack';
    const clients = this.clients ?? { cloudformation: new CloudFormationClient({}), s3: new S3Client({}) };
    let target: SinkResources;
    if ((flags.bucket || flags.queue) && flags.function) {
      target = { functionName: flags.function as string, ...(flags.bucket ? { bucket: flags.bucket as string } : { queueUrl: flags.queue as string }) };
    } else {
      try {
        target = await findSinkResources(clients.cloudformation, stack, flags['sink-id'] as string | undefined);
      } catch (e) {
        if (/does not exist|has no/.test((e as Error).message)) throw new UserError((e as Error).message);
        throw e;
      }
    }
    const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? await clients.s3.config.region();
    const deliver = (clients.deliver ?? ((fn: string) => lambdaDeliver(fn, region)))(target.functionName);
    const common = { view: flags.view as string | undefined, batchSize: numberFlag(flags, 'batch-size'), maxAgeMs: maxAgeHours * 3600_000, deliver };
    if (target.queueUrl !== undefined) {
      const [{ replayQueueDeadLetters }, { SQSClient }] = await Promise.all([import('../lambda/sink/replay-queue'), import('@aws-sdk/client-sqs')]);
      const sinkTimeout = numberFlag(flags, 'sink-timeout');
      const summary = await replayQueueDeadLetters(clients.sqs ?? new SQSClient({}), {
        ...common, queueUrl: target.queueUrl, ...(sinkTimeout !== undefined ? { sinkTimeoutSeconds: sinkTimeout } : {}),
      });
      return reportQueueReplay(summary, { queueUrl: target.queueUrl, functionName: target.functionName }, maxAgeHours, io);
    }
    const summary = await replayDeadLetters(clients.s3, { ...common, bucket: target.bucket! });
    io.stdout(`Replayed ${summary.letters - summary.tooOld} of ${summary.letters} dead letter(s) from s3://${target.bucket} through ${target.functionName} in ${summary.batches} batch(es): `
      + `${summary.written} written, ${summary.stale} already newer in the store, ${summary.skipped} skipped, ${summary.deadLettered} dead-lettered again.`);
    if (summary.tooOld > 0) io.stderr(tooOldAdvice(summary, maxAgeHours, 'left in the bucket'));
    return summary.deadLettered > 0 || summary.tooOld > 0 ? 1 : 0;
  },
};

export const resnapshotCommand: Command & { clients?: import('./resnapshot').ResnapshotClients } = {
  summary: 'Re-read captured tables (or a view\'s table) as a Debezium incremental snapshot while changes keep streaming, and follow its progress.',
  usage: 'resnapshot [--stack NAME] (--table schema.table[,...] [--where SQL] | --view NAME [--from-snapshot SNAPSHOT]) [--source ID] [--no-wait] [--timeout SECONDS]',
  async run(args, io) {
    const flags = parseFlags(args, { 'stack': 'string', 'table': 'string', 'view': 'string', 'where': 'string', 'source': 'string', 'no-wait': 'boolean', 'timeout': 'string', 'from-snapshot': 'string' });
    const { resnapshot } = await import('./resnapshot');
    if ((flags.table === undefined) === (flags.view === undefined)) throw new UserError('Pass either --table schema.table[,...] or --view NAME.');
    const stack = (flags.stack as string | undefined) ?? io.env.AGENT_DATA_STACK_NAME ?? 'AgentDataStack';
    const timeout = numberFlag(flags, 'timeout');
    let clients = this.clients;
    if (!clients) {
      const [{ CloudWatchLogsClient }, { KinesisAnalyticsV2Client }, { lambdaInvoke }] = await Promise.all([
        import('@aws-sdk/client-cloudwatch-logs'), import('@aws-sdk/client-kinesis-analytics-v2'), import('./resnapshot')]);
      const logs = new CloudWatchLogsClient({});
      const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? await logs.config.region();
      clients = { cloudformation: new CloudFormationClient({}), logs, invoke: lambdaInvoke(region), flink: new KinesisAnalyticsV2Client({}) };
    }
    try {
      const result = await resnapshot({
        stackName: stack, tables: (flags.table as string | undefined)?.split(',').map(t => t.trim()).filter(Boolean), view: flags.view as string | undefined,
        where: flags.where as string | undefined, sourceId: flags.source as string | undefined, wait: flags['no-wait'] !== true,
        fromSnapshot: flags['from-snapshot'] as string | undefined,
        ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      }, clients, io.stdout);
      if (result.last && result.signal) io.stdout(`Snapshot ${result.signal.SignalId} ${result.last.type === 'COMPLETED' ? 'completed' : result.last.type.toLowerCase()} after ${Math.round(result.elapsedMs / 1000)} s.`);
      return result.last?.type === 'ABORTED' ? 1 : 0;
    } catch (e) {
      if (/does not exist|has no|several sources|not captured|refused the signal|no view|output of a Flink|--from-snapshot applies|--from-snapshot names one/.test((e as Error).message)) throw new UserError((e as Error).message);
      throw e;
    }
  },
};

/** Subcommands by name. */
export const COMMANDS: Record<string, Command> = {
  'status': statusCommand, 'dev': devCommand, 'connect': connectCommand, 'replay-dead-letters': replayDeadLettersCommand, 'resnapshot': resnapshotCommand,
};

function usage(): string {
  return ['Usage: agent-data-stack <command> [options]', '', 'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}\n           agent-data-stack ${c.usage}`)].join('\n');
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
  // `agent-data-stack <command> --help`: that command's summary and usage, before its flags are parsed.
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.summary}\n\nUsage: agent-data-stack ${command.usage}`);
    return 0;
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
