// Reads what a synthesized stack deploys to MSK Connect (connector, worker configuration, plugin sources, topics, bootstrap, views)
// and maps only its MSK- and RDS-specific references to the local engines, by explicit rules that each say what they change.
import type { ArtifactSourceSpec } from '../../../lambda/artifact-builder/build';
import type { BootstrapProperties } from '../../../contract/replication-bootstrap';
import type { ViewConfig } from '../../../contract/view-config';
import type { TopicSpec } from './kafka';
import { expandJsonValue } from '../../../lambda/shared/views-env';

export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** Values the local engines stand in for: how each `Ref` / `Fn::GetAtt` of the template resolves here. */
export interface LocalReferences {
  readonly bootstrapServers?: string;
  readonly databaseHost?: string;
  readonly databasePort?: number;
  /** The `Data` the replication bootstrap returned (resolves `Fn::GetAtt` on `Custom::CdcReplicationBootstrap`). */
  readonly bootstrapAttributes?: Record<string, string>;
}

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

/** A secret's ARN here: what `Ref` on a secret (or its attachment) returns, with the logical id as name. */
export function localSecretArn(logicalId: string): string {
  return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${logicalId}-AbCdEf`;
}

/** Evaluates the intrinsic functions CDK emits in these properties; a reference nothing here maps is an error, never guessed. */
export function resolveValue(template: CfnTemplate, value: unknown, refs: LocalReferences): any {
  const recurse = (v: unknown): any => resolveValue(template, v, refs);
  if (Array.isArray(value)) return value.map(recurse);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length !== 1 || !(keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    return Object.fromEntries(keys.map(k => [k, recurse(obj[k])]));
  }
  const [fn, arg] = [keys[0], obj[keys[0]] as any];
  const unmapped = () => new Error(`template reference ${JSON.stringify(obj)} has no local mapping (cli/dev/engines/template.ts)`);
  switch (fn) {
    case 'Fn::Join': return (recurse(arg[1]) as unknown[]).join(arg[0]);
    case 'Fn::Split': return String(recurse(arg[1])).split(arg[0]);
    case 'Fn::Select': return (recurse(arg[1]) as unknown[])[Number(recurse(arg[0]))];
    case 'Fn::Base64': return Buffer.from(String(recurse(arg)), 'utf8').toString('base64');
    case 'Ref': {
      const pseudo: Record<string, string> = { 'AWS::Region': LOCAL_REGION, 'AWS::AccountId': LOCAL_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
      if (pseudo[arg]) return pseudo[arg];
      const type = template.Resources[arg]?.Type;
      if (type === 'AWS::SecretsManager::Secret') return localSecretArn(arg);
      if (type === 'AWS::SecretsManager::SecretTargetAttachment') return localSecretArn(String(template.Resources[arg].Properties?.SecretId?.Ref ?? arg));
      throw unmapped();
    }
    case 'Fn::GetAtt': {
      const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.', 2);
      const type = template.Resources[id]?.Type;
      if (attr === 'BootstrapBrokerStringSaslIam' && refs.bootstrapServers) return refs.bootstrapServers;
      if ((type === 'AWS::RDS::DBInstance' || type === 'AWS::RDS::DBCluster') && attr === 'Endpoint.Address' && refs.databaseHost) return refs.databaseHost;
      if ((type === 'AWS::RDS::DBInstance' || type === 'AWS::RDS::DBCluster') && attr === 'Endpoint.Port' && refs.databasePort) return String(refs.databasePort);
      if (type === 'Custom::CdcReplicationBootstrap' && refs.bootstrapAttributes && attr in refs.bootstrapAttributes) return refs.bootstrapAttributes[attr];
      throw unmapped();
    }
    default: throw unmapped();
  }
}

function resourcesOfType(template: CfnTemplate, type: string): Array<[string, Record<string, any>]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r.Properties ?? {}]);
}

function only(template: CfnTemplate, type: string): [string, Record<string, any>] {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type} in the template, found ${found.length}`);
  return found[0];
}

/** Parses Java properties-file lines (`key=value`, no continuation lines: the constructs write none). */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || /^\s*[#!]/.test(line)) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`properties line without '=': ${line}`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** What the stack deploys to MSK Connect, read from its template. */
export interface DeployedConnector {
  readonly connectorLogicalId: string;
  /** `ConnectorConfiguration`, intrinsics unresolved. */
  readonly connectorConfiguration: Record<string, unknown>;
  /** The worker configuration's `PropertiesFileContent` (the value inside `Fn::Base64`), unresolved. */
  readonly workerPropertiesContent: unknown;
  /** `Sources` of the deploy-time artifact the custom plugin's S3 object comes from. */
  readonly pluginSources: ArtifactSourceSpec[];
  readonly kafkaConnectVersion: string;
  /** Client authentication the connector uses to reach MSK (`IAM` for this library). */
  readonly clientAuthentication: string;
}

export function deployedConnector(template: CfnTemplate): DeployedConnector {
  const [connectorLogicalId, connector] = only(template, 'AWS::KafkaConnect::Connector');
  const workerId = connector.WorkerConfiguration?.WorkerConfigurationArn?.['Fn::GetAtt']?.[0];
  const worker = template.Resources[workerId];
  if (worker?.Type !== 'AWS::KafkaConnect::WorkerConfiguration') throw new Error('the connector names no AWS::KafkaConnect::WorkerConfiguration');
  const content = worker.Properties?.PropertiesFileContent;
  if (!content || !('Fn::Base64' in content)) throw new Error(`worker PropertiesFileContent is not Fn::Base64: ${JSON.stringify(content)}`);
  const pluginId = connector.Plugins?.[0]?.CustomPlugin?.CustomPluginArn?.['Fn::GetAtt']?.[0];
  const fileKey = template.Resources[pluginId]?.Properties?.Location?.S3Location?.FileKey;
  const artifact = resourcesOfType(template, 'Custom::DeployTimeArtifact').find(([, p]) => p.ObjectKey === fileKey);
  if (!artifact) throw new Error(`no Custom::DeployTimeArtifact builds the custom plugin object ${fileKey}`);
  return {
    connectorLogicalId,
    connectorConfiguration: connector.ConnectorConfiguration,
    workerPropertiesContent: content['Fn::Base64'],
    pluginSources: artifact[1].Sources,
    kafkaConnectVersion: connector.KafkaConnectVersion,
    clientAuthentication: connector.KafkaClusterClientAuthentication?.AuthenticationType,
  };
}

/** `AWS::MSK::Topic.Configs` as the construct encodes it: base64 of a JSON object of strings (docs/streaming.md). */
function decodeTopicConfigs(value: string): Record<string, string> {
  const decoded: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)
    || Object.values(decoded).some(v => typeof v !== 'string')) {
    throw new Error(`AWS::MSK::Topic Configs is not base64 of a JSON object of strings: ${JSON.stringify(decoded)}`);
  }
  return decoded as Record<string, string>;
}

/** The `AWS::MSK::Topic` resources as topics to create (`Configs` decoded from base64 JSON). */
export function declaredTopics(template: CfnTemplate): TopicSpec[] {
  return resourcesOfType(template, 'AWS::MSK::Topic').map(([, p]) => ({
    name: p.TopicName,
    partitions: p.PartitionCount,
    replicationFactor: p.ReplicationFactor,
    configs: p.Configs ? decodeTopicConfigs(resolveValue(template, p.Configs, {})) : {},
  }));
}

/** The replication bootstrap's resource properties, resolved against the local database. */
export function bootstrapProperties(template: CfnTemplate, refs: LocalReferences): BootstrapProperties {
  const [, props] = only(template, 'Custom::CdcReplicationBootstrap');
  const { ServiceToken: _serviceToken, ...rest } = props;
  return resolveValue(template, rest, refs) as BootstrapProperties;
}

/**
 * The views the sink reads: `AGENT_VIEWS` of the sink function (the one with a dead-letter target; the MCP server and the
 * warehouse freshness probe carry views too, but not the sink's).
 */
export function deployedViews(template: CfnTemplate): ViewConfig[] {
  const fns = resourcesOfType(template, 'AWS::Lambda::Function')
    .filter(([, p]) => p.Environment?.Variables?.AGENT_VIEWS !== undefined && p.Environment?.Variables?.AGENT_SINK_DLQ_KIND !== undefined);
  if (fns.length === 0) throw new Error('no sink function (AGENT_VIEWS and AGENT_SINK_DLQ_KIND) in the template');
  return JSON.parse(expandJsonValue(resolveValue(template, fns[0][1].Environment.Variables.AGENT_VIEWS, {})));
}

/** One change the local mapping made, for the test log and the report. */
export interface MappingNote {
  readonly property: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly rule: string;
}

/** The MSK IAM client settings (aws-msk-iam-auth), which the local PLAINTEXT broker replaces. */
const MSK_IAM_VALUES = new Set([
  'AWS_MSK_IAM',
  'software.amazon.msk.auth.iam.IAMLoginModule required;',
  'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
]);
const MSK_SECRETS_PROVIDER = 'com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider';
/** Kafka's own provider: `${<name>:<file path>:<key>}` reads `<key>` from the properties file at `<file path>`. */
export const LOCAL_FILE_PROVIDER = 'org.apache.kafka.common.config.provider.FileConfigProvider';

/**
 * Maps resolved properties for the local engines. The only rules:
 * - IAM SASL to PLAINTEXT: `*security.protocol=SASL_SSL` becomes `PLAINTEXT`; the IAM `sasl.*` settings are dropped.
 * - The MSK Secrets Manager config provider becomes Kafka's FileConfigProvider under the same provider name; its `param.*`
 *   (region) is dropped. References stay as they are: `${secretsmanager:<encoded ARN>:password}` reads key `password` of the
 *   file named like the encoded ARN in the worker's working directory (see `writeSecretFiles`).
 * Broker addresses, database host and port and the bootstrap's attributes were resolved from the template's references.
 */
/** Kafka Connect's internal topics: the worker sets their replication factor from the MSK cluster's broker count. */
const INTERNAL_TOPIC_REPLICATION = /^(config|offset|status)\.storage\.replication\.factor$/;

export function mapForLocal(properties: Record<string, string>): { properties: Record<string, string>; notes: MappingNote[] } {
  const out: Record<string, string> = {};
  const notes: MappingNote[] = [];
  const secretsProviders = Object.entries(properties)
    .filter(([k, v]) => /^config\.providers\.[^.]+\.class$/.test(k) && v === MSK_SECRETS_PROVIDER)
    .map(([k]) => k.split('.')[2]);
  for (const [key, value] of Object.entries(properties)) {
    if (MSK_IAM_VALUES.has(value)) {
      notes.push({ property: key, from: value, to: undefined, rule: 'IAM SASL -> PLAINTEXT' });
      continue;
    }
    if (key.endsWith('security.protocol') && value === 'SASL_SSL') {
      out[key] = 'PLAINTEXT';
      notes.push({ property: key, from: value, to: 'PLAINTEXT', rule: 'IAM SASL -> PLAINTEXT' });
      continue;
    }
    const provider = secretsProviders.find(p => key.startsWith(`config.providers.${p}.`));
    if (provider && key === `config.providers.${provider}.class`) {
      out[key] = LOCAL_FILE_PROVIDER;
      notes.push({ property: key, from: value, to: LOCAL_FILE_PROVIDER, rule: 'Secrets Manager config provider -> FileConfigProvider' });
      continue;
    }
    if (provider && key.startsWith(`config.providers.${provider}.param.`)) {
      notes.push({ property: key, from: value, to: undefined, rule: 'Secrets Manager config provider -> FileConfigProvider' });
      continue;
    }
    if (INTERNAL_TOPIC_REPLICATION.test(key) && value !== '1') {
      out[key] = '1';
      notes.push({ property: key, from: value, to: '1', rule: 'replication factor -> 1 (one local broker)' });
      continue;
    }
    out[key] = value;
  }
  return { properties: out, notes };
}

/**
 * Writes each secret where the mapped config provider reads it: a properties file named like the ARN as the reference
 * spells it (colons URL-encoded, as the constructs write it), holding the secret's JSON keys.
 */
export function secretFileName(secretArn: string): string {
  return secretArn.replace(/:/g, '%3A');
}
