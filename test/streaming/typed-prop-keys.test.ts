// The keys extraProperties may not set follow the connector configuration: each prop of DebeziumConnectorProps is built with and
// without a non-default value, and every configuration key whose value that changes must be refused in extraProperties, naming the
// prop; typedPropKeys (the hand-kept list the refusal reads) must list exactly those keys, no more and no fewer. Likewise the
// connector is built with different sources (each field of ICdcSource varied) and different clusters: every key whose value that
// changes must be refused naming the source field or the cluster (sourceDerivedKeys, clusterDerivedKeys), or by the refusal that
// already covers it (a typed prop's, the password's, the column policies'). The keys none of these change are fixed: each must be
// refused with the reason no other value works (engineFixedKeys) or be listed as a valid choice left to extraProperties.
import { CfnWaitConditionHandle, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AgentNetwork } from '../../constructs/common/agent-network';
import {
  AgentStreamingCluster, CdcEngine, CdcSignalChannel, ConnectorCapacity, DatabaseTls, DebeziumConnector, DebeziumConnectorProps, DebeziumPlugin,
  DebeziumVersion, IAgentStreamingCluster, ICdcSource, KafkaConnectVersion,
} from '../../constructs/streaming';
import { clusterDerivedKeys, engineFixedKeys, sourceDerivedKeys, typedPropKeys } from '../../constructs/streaming/private/connector-validation';
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
  cluster: { exempt: 'the cluster the connector writes to, not a Debezium setting: varied below (CLUSTERS), its keys named after the cluster' },
  source: { exempt: 'the database captured, not a Debezium setting: varied below field by field (SOURCE), its keys named after the field' },
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

/** A different source: fields of the context's source replaced. */
type SourceVariant = (stack: Stack, vpc: ec2.IVpc, c: Context) => Partial<ICdcSource>;
/** A different cluster than the context's (a provisioned cluster in the same VPC, `Kafka`). */
type ClusterVariant = (stack: Stack, vpc: ec2.IVpc, c: Context) => IAgentStreamingCluster;

const SIGNAL_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:signal';
const signalChannel = (c: Context, table = 'debezium_signal', serviceToken = SIGNAL_TOKEN): CdcSignalChannel =>
  ({ dataCollection: `${c.engine === 'postgres' ? 'public' : 'shop'}.${table}`, serviceToken });

/**
 * Every field of ICdcSource (the mapped type makes a new field fail to compile until it is added here): the other values it is
 * built with. A field whose values leave the connector configuration unchanged is still varied, so a later change is caught.
 */
const SOURCE: { [K in keyof ICdcSource]-?: { variants: SourceVariant[] } | { exempt: string } } = {
  engine: { exempt: 'the context: keys are compared within one engine (another engine needs its own plugin, and its keys are that engine\'s)' },
  endpointAddress: { variants: [() => ({ endpointAddress: 'other-db.cluster-xyz.us-east-1.rds.amazonaws.com' })] },
  endpointPort: { variants: [(_s, _v, c) => ({ endpointPort: c.engine === 'postgres' ? 6432 : 3307 })] },
  // A qualified MySQL table must name the source's database, so the MySQL variant lists its tables unqualified (Debezium reads them qualified with 'other').
  databaseName: { variants: [(_s, _v, c) => ({ databaseName: 'other', ...(c.engine === 'mysql' ? { tables: ['orders', 'customers'] } : {}) })] },
  tables: { variants: [(_s, _v, c) => ({ tables: c.engine === 'postgres' ? ['public.orders', 'public.refunds'] : ['orders', 'shop.refunds'] })] },
  replicationUsername: { variants: [() => ({ replicationUsername: 'debezium_other' })] },
  replicationSecret: {
    variants: [stack => ({
      replicationSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'OtherReplicationSecret', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf'),
    })],
  },
  publicationName: { variants: [() => ({ publicationName: 'other_publication' })] },
  slotName: { variants: [() => ({ slotName: 'other_slot' })] },
  heartbeatActionQuery: { variants: [() => ({ heartbeatActionQuery: 'INSERT INTO other_heartbeat (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = now()' })] },
  columns: {
    variants: [(_s, _v, c) => ({
      columns: { [c.engine === 'postgres' ? 'public.customers' : 'orders']: { exclude: ['email'], hash: ['name'], mask: ['phone'], maskChars: 4 } },
      columnHashSalt: 'salt-0123456789abcdef',
    })],
  },
  columnHashSalt: { variants: [() => ({ columnHashSalt: 'other-salt-0123456789' })] },
  dependable: { variants: [stack => ({ dependable: new CfnWaitConditionHandle(stack, 'OtherBootstrap') })] },
  connections: {
    variants: [(stack, vpc) => ({ connections: new ec2.Connections({ securityGroups: [new ec2.SecurityGroup(stack, 'OtherDbSecurityGroup', { vpc, allowAllOutbound: false })] }) })],
  },
  signal: {
    variants: [
      (_s, _v, c) => ({ signal: c.signal ? undefined : signalChannel(c) }),
      (_s, _v, c) => ({ signal: signalChannel(c, 'other_signal') }),
      (_s, _v, c) => ({ signal: signalChannel(c, 'debezium_signal', 'arn:aws:lambda:us-east-1:123456789012:function:other-signal') }),
    ],
  },
};

/** Other clusters: another one in the same VPC, one in a two-AZ VPC (two brokers), a serverless one, an imported one. */
const CLUSTERS: ClusterVariant[] = [
  (stack, vpc) => new AgentStreamingCluster(stack, 'OtherKafka', { vpc }),
  stack => new AgentStreamingCluster(stack, 'TwoAzKafka', { vpc: new AgentNetwork(stack, 'TwoAzNet', { maxAzs: 2 }).vpc }),
  (stack, vpc) => new AgentStreamingCluster(stack, 'ServerlessKafka', { vpc, serverless: true }),
  (stack, vpc) => AgentStreamingCluster.fromClusterAttributes(stack, 'ImportedKafka', {
    clusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/other/11111111-2222-3333-4444-555555555555-1',
    securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'ImportedKafkaSecurityGroup', 'sg-0123456789abcdef0'),
    bootstrapBrokersSaslIam: 'b-1.other.kafka.us-east-1.amazonaws.com:9098,b-2.other.kafka.us-east-1.amazonaws.com:9098',
    vpc,
  }),
];

/** A different source or cluster to build the connector with. */
interface Other { readonly source?: SourceVariant; readonly cluster?: ClusterVariant }

/** The connector in a fresh test stack (same construct paths every time, so resolved references compare equal). */
function build(c: Context, variant?: Variant, extraProperties?: Record<string, string>, other: Other = {}) {
  const stack = testStack(testApp());
  const vpc = network(stack);
  const cluster = other.cluster?.(stack, vpc, c) ?? new AgentStreamingCluster(stack, 'Kafka', { vpc });
  const source = fakeSource(stack, vpc, c.engine, { ...(c.signal ? { signal: signalChannel(c) } : {}), ...other.source?.(stack, vpc, c) });
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

/** Each context's derivations, built once: the fixed keys' tests below read both. */
const derivedByContext = new Map<Context, Derived>();
const derivedFor = (c: Context) => derivedByContext.get(c) ?? derivedByContext.set(c, derive(c)).get(c)!;

describe.each(CONTEXTS)('extraProperties keys a typed prop writes ($engine, databaseTls.verify $verify, signaling table $signal)', (c) => {
  const get = () => derivedFor(c);

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

/** Where a key's value comes from: a field of the source, or the cluster. */
type Origin = `source.${keyof ICdcSource}` | 'cluster';

interface DerivedOrigins {
  /** Keys of the context's configuration whose value a different source or cluster changes (or removes), with what changes them. */
  readonly written: Record<string, Origin[]>;
  /** Keys a different source or cluster adds that the context's configuration lacks, with what adds them and how to build it. */
  readonly added: { key: string; origin: Origin; other: Other }[];
  readonly baseProps: DebeziumConnectorProps;
}

function deriveOrigins(c: Context): DerivedOrigins {
  const base = build(c);
  const written: Record<string, Origin[]> = {};
  const added: DerivedOrigins['added'] = [];
  const others: [Origin, Other][] = [
    ...Object.entries(SOURCE).flatMap(([field, entry]) => ('variants' in entry
      ? entry.variants.map((source): [Origin, Other] => [`source.${field as keyof ICdcSource}`, { source }]) : [])),
    ...CLUSTERS.map((cluster): [Origin, Other] => ['cluster', { cluster }]),
  ];
  for (const [origin, other] of others) {
    const { config } = build(c, undefined, undefined, other);
    for (const key of new Set([...Object.keys(base.config), ...Object.keys(config)])) {
      if (JSON.stringify(base.config[key]) === JSON.stringify(config[key])) continue;
      if (key in base.config) {
        written[key] = [...new Set([...(written[key] ?? []), origin])];
      } else if (!added.some(a => a.key === key && a.origin === origin)) {
        added.push({ key, origin, other });
      }
    }
  }
  return { written, added, baseProps: base.props };
}

/** Keys a different source changes that extraProperties may still set, and why. */
const NOT_REFUSED: Record<string, string> = {
  transforms: 'the signal filter\'s list: extraProperties\' transforms are added after it, not in its place (snapshot-signal.test.ts)',
  predicates: 'the signal filter\'s list: extraProperties\' predicates are added after it, not in its place (snapshot-signal.test.ts)',
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * How extraProperties setting `key` is refused, given what changes the key: by the refusal that already covers it (a typed prop's,
 * the password's, the column policies'), else naming a source field that changes it or the cluster. Undefined: not refused.
 */
function originRefusal(key: string, origins: Origin[], props: DebeziumConnectorProps, engine: CdcEngine): RegExp | undefined {
  const typed = typedPropKeys(props, engine)[key];
  if (typed) return refusal(key, typed);
  if (key === 'database.password') {
    return /^DebeziumConnector: extraProperties sets database\.password; the password comes from the source's replication secret through the config provider and cannot be overridden\.$/;
  }
  if (key.startsWith('column.')) {
    return new RegExp(`^DebeziumConnector: extraProperties sets ${escape(key)}, but the source declares column policies \\(columns\\), which set Debezium's column properties; `);
  }
  if (key in NOT_REFUSED) return undefined;
  const named = origins.map(o => (o === 'cluster'
    ? 'the cluster\'s \\w+ \\(extraProperties would override it silently, and .+\\); change the connector\'s cluster instead'
    : `the source's ${o.slice('source.'.length)} \\(extraProperties would override it silently, and .+\\); change the source's ${o.slice('source.'.length)} instead`));
  return new RegExp(`^DebeziumConnector: extraProperties sets ${escape(key)}, which the connector derives from (${named.join('|')})\\.$`);
}

/** The keys sourceDerivedKeys and clusterDerivedKeys list for these props, with their origin. */
function listedOrigins(props: DebeziumConnectorProps, engine: CdcEngine): Record<string, Origin> {
  return {
    ...Object.fromEntries(Object.entries(sourceDerivedKeys(props.source, engine)).map(([k, f]) => [k, `source.${f}` as Origin])),
    ...Object.fromEntries(Object.keys(clusterDerivedKeys(engine)).map(k => [k, 'cluster' as Origin])),
  };
}

const originsByContext = new Map<Context, DerivedOrigins>();
const originsFor = (c: Context) => originsByContext.get(c) ?? originsByContext.set(c, deriveOrigins(c)).get(c)!;

describe.each(CONTEXTS)('extraProperties keys derived from the source or the cluster ($engine, databaseTls.verify $verify, signaling table $signal)', (c) => {
  const get = () => originsFor(c);

  test('sourceDerivedKeys and clusterDerivedKeys list exactly the keys a different source or cluster changes that no other refusal covers, each with a field that changes it', () => {
    const { written, baseProps } = get();
    const typed = typedPropKeys(baseProps, c.engine);
    const uncovered = Object.fromEntries(Object.entries(written).filter(([key]) =>
      !typed[key] && key !== 'database.password' && !key.startsWith('column.') && !(key in NOT_REFUSED)));
    const listed = listedOrigins(baseProps, c.engine);
    expect(Object.keys(listed).sort()).toEqual(Object.keys(uncovered).sort());
    for (const [key, origin] of Object.entries(listed)) expect({ key, origins: uncovered[key] }).toEqual({ key, origins: expect.arrayContaining([origin]) });
  });

  test('each key a different source or cluster changes is refused in extraProperties, naming the source field or the cluster it comes from', () => {
    const { written, added, baseProps } = get();
    expect(Object.keys(written)).toEqual(expect.arrayContaining(['database.hostname', 'table.include.list']));
    const check = (key: string, origins: Origin[], other: Other, props: DebeziumConnectorProps) => {
      const expected = originRefusal(key, origins, props, c.engine);
      if (expected) {
        expect(() => build(c, undefined, { [key]: 'x' }, other)).toThrow(expected);
      } else {
        expect(() => build(c, undefined, { [key]: 'x' }, other)).not.toThrow();
      }
    };
    for (const [key, origins] of Object.entries(written)) check(key, origins, {}, baseProps);
    // A key only another source writes (e.g. the signal keys when the context has no signaling table) is refused next to that source.
    for (const { key, origin, other } of added) check(key, [origin], other, build(c, undefined, undefined, other).props);
  });
});

/** Keys no prop, source field or cluster changes that extraProperties may still set: another value is a valid choice. */
const FIXED_NOT_REFUSED: Record<string, string> = {
  'topic.creation.default.cleanup.policy': 'applies only to topics Debezium creates itself (createTopics: false); compacted CDC topics are a choice',
  'schema.history.internal.store.only.captured.tables.ddl': 'MySQL: false keeps every table\'s DDL in the schema history, which only makes the topic larger',
};

describe.each(CONTEXTS)('extraProperties keys the connector fixes ($engine, databaseTls.verify $verify, signaling table $signal)', (c) => {
  /** The context's keys whose value no prop, no source field and no cluster changes. */
  const fixed = () => {
    const { written, added } = derivedFor(c);
    const origins = originsFor(c);
    const base = build(c).config;
    return Object.keys(base).filter(key => !(key in written) && !added.some(a => a.key === key)
      && !(key in origins.written) && !origins.added.some(a => a.key === key));
  };

  test('engineFixedKeys lists exactly the fixed keys, less those listed as a valid choice', () => {
    const keys = fixed();
    expect(keys).toEqual(expect.arrayContaining(['connector.class', 'tasks.max']));
    expect(Object.keys(engineFixedKeys(c.engine)).sort()).toEqual(keys.filter(k => !(k in FIXED_NOT_REFUSED)).sort());
  });

  test('each fixed key is refused in extraProperties with the reason no other value works; the valid choices are not', () => {
    for (const key of fixed()) {
      if (key in FIXED_NOT_REFUSED) {
        expect(() => build(c, undefined, { [key]: 'x' })).not.toThrow();
        continue;
      }
      const reason = engineFixedKeys(c.engine)[key];
      expect(reason).toEqual(expect.any(String));
      expect(() => build(c, undefined, { [key]: 'x' })).toThrow(new RegExp(
        `^DebeziumConnector: extraProperties sets ${escape(key)}, which the connector fixes \\(${escape(reason)}\\); remove it from extraProperties\\.$`));
    }
  });
});
