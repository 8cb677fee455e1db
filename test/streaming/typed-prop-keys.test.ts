// The keys extraProperties may not set follow the connector configuration: each prop of DebeziumConnectorProps is built with and
// without a non-default value, and every configuration key whose value that changes must be refused in extraProperties, naming the
// prop; typedPropKeys (the hand-kept list the refusal reads) must list exactly those keys, no more and no fewer.
import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  AgentStreamingCluster, CdcEngine, ConnectorCapacity, DatabaseTls, DebeziumConnector, DebeziumConnectorProps, DebeziumPlugin, DebeziumVersion,
  KafkaConnectVersion,
} from '../../constructs/streaming';
import { typedPropKeys } from '../../constructs/streaming/private/connector-validation';
import { testApp, testStack } from '../helpers/app';
import { fakeSource, network } from './fixtures';

interface Context {
  readonly engine: CdcEngine;
  /** databaseTls: DatabaseTls.verifyServer(...) (else the default, encrypted and unverified). */
  readonly verify: boolean;
  /** The source has a signaling table. */
  readonly signal: boolean;
}

const CONTEXTS: Context[] = (['postgres', 'mysql'] as const).flatMap(engine =>
  [false, true].flatMap(verify => [false, true].map(signal => ({ engine, verify, signal }))));

function verifyServer(stack: Stack, engine: CdcEngine, key: string): DatabaseTls {
  return DatabaseTls.verifyServer({
    bucket: s3.Bucket.fromBucketName(stack, `Trust-${key.replace(/\W/g, '-')}`, 'shop-trust'),
    key,
    truststorePassword: engine === 'mysql'
      ? secretsmanager.Secret.fromSecretCompleteArn(stack, `TrustPassword-${key.replace(/\W/g, '-')}`, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:trust-AbCdEf')
      : undefined,
  });
}

/** A non-default value of a prop (or of a prop and what it needs: a Kafka Connect 2.7.1 runtime needs a Debezium 2.7 plugin). */
type Variant = (stack: Stack, c: Context) => Partial<DebeziumConnectorProps>;

/**
 * Every prop of DebeziumConnectorProps (the mapped type makes a new prop fail to compile until it is added here): the non-default
 * values it is built with, or why it is not varied. A prop whose values leave the connector configuration unchanged is still varied,
 * so a later change that makes it write a connector key is caught.
 */
const PROPS: { [K in keyof DebeziumConnectorProps]-?: { variants: Variant[] } | { exempt: string } } = {
  cluster: { exempt: 'the cluster the connector writes to, not a Debezium setting (its bootstrap servers reach the MySQL schema-history clients)' },
  source: { exempt: 'the database captured, not a Debezium setting; column and password keys have their own refusals' },
  plugin: { variants: [(stack, c) => ({ plugin: new DebeziumPlugin(stack, 'OtherPlugin', { engine: c.engine, version: DebeziumVersion.V2_7_4 }) })] },
  topicPrefix: { variants: [() => ({ topicPrefix: 'shop.other' })] },
  connectorName: { variants: [() => ({ connectorName: 'shop-cdc' })] },
  snapshotMode: { variants: [() => ({ snapshotMode: 'initial' })] },
  heartbeatInterval: { variants: [() => ({ heartbeatInterval: Duration.seconds(30) })] },
  schemasEnable: { variants: [() => ({ schemasEnable: true })] },
  decimalHandlingMode: { variants: [() => ({ decimalHandlingMode: 'precise' })] },
  tombstonesOnDelete: { variants: [() => ({ tombstonesOnDelete: false })] },
  topicPartitions: { variants: [() => ({ topicPartitions: 6 })] },
  topicReplicationFactor: { variants: [() => ({ topicReplicationFactor: 2 })] },
  topicRetention: { variants: [() => ({ topicRetention: Duration.days(1) })] },
  createTopics: { variants: [() => ({ createTopics: false })] },
  kafkaConnectVersion: {
    variants: [(stack, c) => ({
      kafkaConnectVersion: KafkaConnectVersion.V2_7_1,
      plugin: new DebeziumPlugin(stack, 'Plugin27', { engine: c.engine, version: DebeziumVersion.V2_7_4 }),
    })],
  },
  capacity: { variants: [() => ({ capacity: ConnectorCapacity.provisioned({ mcuCount: 2 }) })] },
  pollInterval: { variants: [() => ({ pollInterval: Duration.millis(250) })] },
  maxBatchSize: { variants: [() => ({ maxBatchSize: 512 })] },
  producerLinger: { variants: [() => ({ producerLinger: Duration.millis(20) })] },
  producerCompression: { variants: [() => ({ producerCompression: 'zstd' })] },
  mysqlServerId: { variants: [() => ({ mysqlServerId: 1234 })] },
  extraProperties: { exempt: 'the escape hatch under test' },
  vpcSubnets: { variants: [() => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })] },
  databaseTls: {
    variants: [
      () => ({ databaseTls: DatabaseTls.encryptedUnverified() }),
      (stack, c) => ({ databaseTls: verifyServer(stack, c.engine, 'rds/other-ca') }),
    ],
  },
  incrementalSnapshotChunkSize: { variants: [() => ({ incrementalSnapshotChunkSize: 4096 })] },
  logRetention: { variants: [() => ({ logRetention: logs.RetentionDays.ONE_WEEK })] },
};

/** The connector in a fresh test stack (same construct paths every time, so resolved references compare equal). */
function build(c: Context, variant?: Variant, extraProperties?: Record<string, string>) {
  const stack = testStack(testApp());
  const vpc = network(stack);
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
  const source = fakeSource(stack, vpc, c.engine, c.signal ? {
    signal: { dataCollection: c.engine === 'postgres' ? 'public.debezium_signal' : 'shop.debezium_signal', serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:signal' },
  } : {});
  const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: c.engine });
  const props: DebeziumConnectorProps = {
    cluster, source, plugin, topicPrefix: 'shop',
    ...(c.verify ? { databaseTls: verifyServer(stack, c.engine, 'rds/ca') } : {}),
    ...variant?.(stack, c),
    ...(extraProperties ? { extraProperties } : {}),
  };
  const connector = new DebeziumConnector(stack, 'Cdc', props);
  return { props, config: stack.resolve(connector.connectorConfiguration) as Record<string, unknown> };
}

interface Derived {
  /** Keys of the context's configuration whose value some prop changes (or removes), with that prop. */
  readonly written: Record<string, string>;
  /** Keys a variant adds that the context's configuration lacks, with the prop and the variant that writes them. */
  readonly added: { key: string; prop: string; variant: Variant }[];
  readonly baseProps: DebeziumConnectorProps;
}

function derive(c: Context): Derived {
  const base = build(c);
  const written: Record<string, string> = {};
  const added: Derived['added'] = [];
  for (const [prop, entry] of Object.entries(PROPS)) {
    if (!('variants' in entry)) continue;
    for (const variant of entry.variants) {
      const { config } = build(c, variant);
      for (const key of new Set([...Object.keys(base.config), ...Object.keys(config)])) {
        if (JSON.stringify(base.config[key]) === JSON.stringify(config[key])) continue;
        if (key in base.config) {
          if (written[key] && written[key] !== prop) throw new Error(`${key} changes with both ${written[key]} and ${prop}; the refusal can name only one`);
          written[key] = prop;
        } else {
          added.push({ key, prop, variant });
        }
      }
    }
  }
  return { written, added, baseProps: base.props };
}

const refusal = (key: string, prop: string) => new RegExp(
  `^DebeziumConnector: extraProperties sets ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which the typed prop ${prop} writes \\(extraProperties would override it silently\\); set ${prop} instead\\.$`);

describe.each(CONTEXTS)('extraProperties keys a typed prop writes ($engine, databaseTls.verify $verify, signaling table $signal)', (c) => {
  let derived: Derived;
  const get = () => (derived ??= derive(c));

  test('typedPropKeys lists exactly the keys whose value a prop changes, each with that prop', () => {
    expect(typedPropKeys(get().baseProps, c.engine)).toEqual(get().written);
  });

  test('each key a prop changes is refused in extraProperties, naming the prop', () => {
    const { written, added } = get();
    expect(Object.keys(written).length).toBeGreaterThan(0);
    for (const [key, prop] of Object.entries(written)) {
      expect(() => build(c, undefined, { [key]: 'x' })).toThrow(refusal(key, prop));
    }
    // A key only a non-default value writes (e.g. the CA reference of databaseTls verification) is refused next to that value.
    for (const { key, prop, variant } of added) {
      expect(() => build(c, variant, { [key]: 'x' })).toThrow(refusal(key, prop));
    }
  });
});
