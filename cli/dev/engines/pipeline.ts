// The example's CDC path on the real engines, for the sink tests and the engines bench: a private PostgreSQL (wal_level=logical, TLS)
// with the example schema, prepared by the real bootstrap handler, Kafka with the declared topics, and Kafka Connect running the
// synthesized Debezium connector and worker configuration (mapped for the local broker by the template reader's rules only).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Client } from 'pg';
import { defineExampleApp } from '../../../bin/example';
import { startLocalPostgres, type LocalPostgres } from '../embedded-postgres';
import { EXAMPLE_SCHEMA_SQL } from '../dev-loop';
import { stopInOrder, type StopStep } from '../stop-in-order';
import { onEvent, type BootstrapProperties } from '../../../lambda/replication-bootstrap';
import type { ViewConfig } from '../../../contract/view-config';
import { startConnect, type LocalConnect } from './connect';
import { createTopics, kafkaClasspathDir, startKafka, type LocalKafka } from './kafka';
import { installPlugin } from './plugin';
import {
  bootstrapProperties, CfnTemplate, declaredTopics, deployedConnector, deployedViews, mapForLocal, parseProperties, resolveValue, secretFileName,
} from './template';
import { selfSignedCertificate } from './tls';

/** The example stack (development profile) as synthesized, with what the engines need from it. */
export interface SynthesizedExample {
  readonly template: CfnTemplate;
  readonly views: ViewConfig[];
}

/**
 * The App the example is synthesized in: the repository's cdk.json context (feature flags) when there is one, bundling off
 * (the engines run the handlers' code in this process, not their bundles), output in a temp dir.
 */
export function exampleApp(context: Record<string, unknown> = {}): App {
  const cdkJson = path.join(__dirname, '..', '..', '..', 'cdk.json');
  const repoContext = fs.existsSync(cdkJson) ? (JSON.parse(fs.readFileSync(cdkJson, 'utf8')).context ?? {}) : {};
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'agent-engines-synth-')),
    context: { ...repoContext, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

/** The example synthesized as a deploy would (the tests pass their own App; the CLI uses `exampleApp()`). */
export function synthesizeExample(profile = 'development', app?: App): SynthesizedExample {
  const own = app ?? exampleApp();
  const template = Template.fromStack(defineExampleApp(own, { profile })).toJSON() as CfnTemplate;
  // Only the template is needed: the cloud assembly of our own App is removed at once.
  if (!app) fs.rmSync(own.outdir, { recursive: true, force: true });
  return { template, views: deployedViews(template) };
}

/** The source database: a private PostgreSQL with the decisive RDS settings (logical WAL, TLS) and the example schema. */
export interface SourceDatabase {
  readonly db: LocalPostgres;
  readonly password: string;
  /** A client connected as the admin user (kept open for the caller). */
  readonly admin: Client;
  stop(): Promise<void>;
}

export async function startSourceDatabase(): Promise<SourceDatabase> {
  const password = `engine-${crypto.randomBytes(6).toString('hex')}`;
  const db = await startLocalPostgres({ walLevel: 'logical', password, database: 'shop' });
  const admin = new Client({ ...db.connection });
  try {
    await admin.connect();
    const stat = fs.statSync(db.dataDir);
    const cert = selfSignedCertificate(db.dataDir, { uid: stat.uid, gid: stat.gid });
    await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${cert.certFile}'`);
    await admin.query(`ALTER SYSTEM SET ssl_key_file = '${cert.keyFile}'`);
    await admin.query('ALTER SYSTEM SET ssl = on');
    await admin.query('SELECT pg_reload_conf()');
    await admin.query(fs.readFileSync(EXAMPLE_SCHEMA_SQL, 'utf8'));
  } catch (e) {
    await admin.end().catch(() => undefined);
    await db.stop();
    throw e;
  }
  return {
    db, password, admin,
    async stop() {
      await admin.end().catch(() => undefined);
      await db.stop();
    },
  };
}

export interface EnginePipeline {
  readonly kafka: LocalKafka;
  readonly connect: LocalConnect;
  readonly connectorName: string;
  /** The connector configuration as created (resolved and mapped). */
  readonly connectorConfig: Record<string, string>;
  /**
   * Secrets Manager, locally: serves GetSecretValue for the secrets the bootstrap was given (the admin and replication users), so a
   * later bootstrap Update or direct invocation in the same run reads the same credentials.
   */
  readonly secrets: SecretsManagerClient;
  /** Start-up figures (ms). */
  readonly timings: Record<string, number>;
  stop(): Promise<void>;
}

/** Any source the pipeline can bootstrap and capture (PostgreSQL or MySQL, as the template's connector says): 127.0.0.1:port and its admin user. */
export interface PipelineSource {
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

export interface EnginePipelineOptions {
  readonly example: SynthesizedExample;
  /** The private PostgreSQL of `startSourceDatabase()`, or any source by port and admin user (a MySQL stack's MariaDB). */
  readonly source: SourceDatabase | PipelineSource;
  /** Progress lines. @default - silent */
  readonly log?: (line: string) => void;
}

/**
 * Starts Kafka and Kafka Connect, creates the declared topics, runs the real bootstrap handler against the source (Secrets Manager
 * served locally, the secrets also written as files for the worker's mapped config provider) and creates the synthesized connector;
 * resolves when it is RUNNING. The plugin (PostgreSQL or MySQL) follows the template's connector. Everything started is stopped on
 * failure.
 */
export async function startEnginePipeline(o: EnginePipelineOptions): Promise<EnginePipeline> {
  const log = o.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const cleanups: StopStep[] = [];
  // Every step is tried; a step that fails to stop is ignored, so the pipeline's stop() never throws.
  const stop = () => stopInOrder(cleanups.splice(0), { onError: () => undefined });
  const time = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[what] = Date.now() - t0;
      log(`${what}: ${timings[what]} ms`);
    }
  };
  try {
    const { template } = o.example;
    const deployed = deployedConnector(template);
    const src: PipelineSource = 'db' in o.source ? { port: o.source.db.port, username: 'postgres', password: o.source.password } : o.source;
    const engine = /mysql/i.test(String(deployed.connectorConfiguration['connector.class'])) ? 'MySQL' : 'PostgreSQL';
    kafkaClasspathDir();
    const plugin = await time(`install ${engine} plugin`, () => installPlugin({
      name: `debezium-${engine.toLowerCase()}`, sources: deployed.pluginSources, substitute: s => s.url.includes('/msk-config-providers/'),
    }));
    const kafka = await time('start Kafka', () => startKafka());
    cleanups.push({ what: 'Kafka', run: () => kafka.stop() });
    await time('create declared topics', () => createTopics(kafka.bootstrapServers, declaredTopics(template).map(t => ({ ...t, replicationFactor: 1 }))));

    const secretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-secrets-'));
    cleanups.push({ what: 'secrets dir', run: () => fs.rmSync(secretsDir, { recursive: true, force: true }) });
    const localSecrets = localSecretsManager(secretsDir);

    const worker = mapForLocal(parseProperties(Buffer.from(resolveValue(template, { 'Fn::Base64': deployed.workerPropertiesContent }, {}), 'base64').toString('utf8')));
    const connect = await time('start Kafka Connect', () => startConnect({
      bootstrapServers: kafka.bootstrapServers, pluginPath: [plugin.pluginPath], cwd: secretsDir,
      // MSK Connect does not let a worker configuration set the override policy (FACTS.md): the connector must not need one.
      workerProperties: { 'connector.client.config.override.policy': 'None', ...worker.properties },
    }));
    cleanups.push({ what: 'Kafka Connect', run: () => connect.stop() });

    const refs = { bootstrapServers: kafka.bootstrapServers, databaseHost: '127.0.0.1', databasePort: src.port };
    const props: BootstrapProperties = bootstrapProperties(template, refs);
    localSecrets.put(props.AdminSecretArn, { username: src.username, password: src.password });
    localSecrets.put(props.ReplicationSecretArn, {
      username: props.ReplicationUsername, password: `Repl-${crypto.randomBytes(8).toString('hex')}`, engine: props.Engine, host: '127.0.0.1', port: String(src.port),
    });
    const event = {
      RequestType: 'Create', ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ResponseURL: 'https://example.invalid/response',
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Engines/guid', RequestId: 'engines', LogicalResourceId: 'Bootstrap',
      ResourceType: 'Custom::CdcReplicationBootstrap', ResourceProperties: { ServiceToken: 'provider', ...props },
    } as unknown as CloudFormationCustomResourceEvent;
    // The real bootstrap handler, as CloudFormation would call it (TLS verification off: the local server's certificate is throwaway).
    const response = await time('bootstrap (replication user, publication, slot, heartbeat table)', () =>
      onEvent(event, { secrets: localSecrets.client, tls: false }));
    const resolved = resolveValue(template, deployed.connectorConfiguration, { ...refs, bootstrapAttributes: { ...response.Data } }) as Record<string, string>;
    const { properties: connectorConfig } = mapForLocal(resolved);
    const [, connector] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::KafkaConnect::Connector')!;
    const connectorName = String(resolveValue(template, connector.Properties!.ConnectorName, refs));
    await connect.rest.create(connectorName, connectorConfig);
    cleanups.push({ what: `connector ${connectorName}`, run: () => connect.rest.delete(connectorName) });
    await time('connector RUNNING', () => connect.rest.waitRunning(connectorName, 120_000));
    return { kafka, connect, connectorName, connectorConfig, secrets: localSecrets.client, timings, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Secrets Manager, locally: GetSecretValue served from the secrets `put` here (the bootstrap handler only reads secrets), each also
 * written under `dir` as the file the worker's mapped config provider reads.
 */
function localSecretsManager(dir: string): { client: SecretsManagerClient; put(arn: string, value: Record<string, string>): void } {
  const secrets = new Map<string, Record<string, string>>();
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof GetSecretValueCommand)) throw new Error(`local secrets: only GetSecretValue is served, got ${(command as object)?.constructor?.name}`);
      const value = secrets.get(String(command.input.SecretId));
      if (!value) throw Object.assign(new Error(`ResourceNotFoundException: ${command.input.SecretId}`), { name: 'ResourceNotFoundException' });
      return { SecretString: JSON.stringify(value) };
    },
  } as unknown as SecretsManagerClient;
  return {
    client,
    put(arn, value) {
      secrets.set(arn, value);
      fs.writeFileSync(path.join(dir, secretFileName(arn)), Object.entries(value).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    },
  };
}

/** A connector setting as it runs: the configured value, else the default Kafka Connect's validate endpoint reports for it. */
export async function effectiveConnectorSetting(p: EnginePipeline, name: string): Promise<{ value: string; fromTemplate: boolean }> {
  if (p.connectorConfig[name] !== undefined) return { value: p.connectorConfig[name], fromTemplate: true };
  const res = await fetch(`${p.connect.url}/connector-plugins/${encodeURIComponent(p.connectorConfig['connector.class'])}/config/validate`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...p.connectorConfig, name: p.connectorName }),
  });
  const body = await res.json() as { configs: Array<{ definition: { name: string; default_value: string | null } }> };
  const def = body.configs.find(c => c.definition.name === name)?.definition;
  if (!def || def.default_value === null) throw new Error(`connector setting ${name}: not configured and no default reported`);
  return { value: def.default_value, fromTemplate: false };
}
