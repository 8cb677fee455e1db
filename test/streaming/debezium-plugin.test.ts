// DebeziumPlugin: deploy-time build from Maven Central with the config provider, immutable naming, alternative sources, validation, gate.
import * as path from 'path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  CdcEngine, DEFAULT_CONFIG_PROVIDER, DebeziumPlugin, DebeziumPluginProps, DebeziumPluginSource, DebeziumVersion, KafkaConnectVersion, mavenCentralPluginUrl,
  PINNED_PLUGIN_SHA256,
} from '../../constructs/streaming';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

function build(props: Partial<DebeziumPluginProps> = {}, gate = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', ...props });
  return { app, stack, plugin, t: () => Template.fromStack(stack) };
}

const PG_URL = 'https://repo1.maven.org/maven2/io/debezium/debezium-connector-postgres/3.1.2.Final/debezium-connector-postgres-3.1.2.Final-plugin.tar.gz';
/** sha256sum of that archive as downloaded from repo1.maven.org (its SHA-1 matched Central's .sha1). */
const PG_312_SHA256 = '83d7103e2bd6e268844e5225bcb5137d4b1d48fe6c435041b457e6c3310b2bdf';

describe('DebeziumPlugin', () => {
  test('default: Debezium PostgreSQL 3.1.2.Final from Maven Central, verified by its published .sha1 and the library\'s pinned SHA-256, re-packed with the pinned config provider', () => {
    const { t, plugin } = build();
    expect(plugin.version.version).toBe('3.1.2.Final');
    t().hasResourceProperties('Custom::DeployTimeArtifact', {
      Sources: [
        { url: PG_URL, checksumUrl: `${PG_URL}.sha1`, sha256: PG_312_SHA256, extract: 'tar.gz', targetPath: '' },
        {
          url: 'https://github.com/aws-samples/msk-config-providers/releases/download/r0.4.0/msk-config-providers-0.4.0-all.jar',
          sha256: DEFAULT_CONFIG_PROVIDER.sha256,
          extract: 'none',
          targetPath: 'msk-config-providers/msk-config-providers-0.4.0-all.jar',
        },
      ],
      ObjectKey: Match.stringLikeRegexp('^debezium-plugins/[0-9a-f]{64}\\.zip$'),
    });
  });

  test.each<[CdcEngine, string]>([
    ['postgres', 'V3_1_2'], ['mysql', 'V3_1_2'], ['postgres', 'V2_7_4'], ['mysql', 'V2_7_4'],
  ])('the archive of each release the library names (%s, DebeziumVersion.%s) is checked against a SHA-256 the library pins, not only the .sha1 of the same host', (engine, name) => {
    const version = (DebeziumVersion as unknown as Record<string, DebeziumVersion>)[name];
    const { t } = build({ engine, version });
    const url = mavenCentralPluginUrl(engine, version);
    t().hasResourceProperties('Custom::DeployTimeArtifact', {
      Sources: Match.arrayWith([{ url, checksumUrl: `${url}.sha1`, sha256: Match.stringLikeRegexp('^[0-9a-f]{64}$'), extract: 'tar.gz', targetPath: '' }]),
    });
    expect(Object.keys(PINNED_PLUGIN_SHA256).sort()).toEqual([DebeziumVersion.V2_7_4.version, DebeziumVersion.V3_1_2.version].sort());
  });

  test('a caller\'s sha256 wins over the pin; another release is checked by .sha1 only and synth says so', () => {
    const own = 'ab'.repeat(32);
    build({ source: DebeziumPluginSource.mavenCentral({ sha256: own }) }).t().hasResourceProperties('Custom::DeployTimeArtifact', {
      Sources: Match.arrayWith([Match.objectLike({ url: PG_URL, sha256: own })]),
    });
    const { stack, t } = build({ version: DebeziumVersion.of('3.0.7.Final') });
    const sources = (Object.values(t().findResources('Custom::DeployTimeArtifact'))[0] as any).Properties.Sources;
    expect(sources[0].sha256).toBeUndefined();
    expect(sources[0].checksumUrl).toMatch(/3\.0\.7\.Final-plugin\.tar\.gz\.sha1$/);
    Annotations.fromStack(stack).hasInfo('*', Match.stringLikeRegexp('Debezium 3\\.0\\.7\\.Final has no SHA-256 pinned'));
  });

  test('creates the custom plugin from the built object version, named with the content fingerprint', () => {
    const { t, plugin } = build();
    expect(plugin.pluginName).toMatch(new RegExp(`-${plugin.fingerprint.slice(0, 12)}$`));
    t().hasResourceProperties('AWS::KafkaConnect::CustomPlugin', {
      Name: plugin.pluginName,
      ContentType: 'ZIP',
      Location: { S3Location: {
        BucketArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PluginBucket'), 'Arn'] },
        FileKey: plugin.objectKey,
        ObjectVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PluginArtifact'), 'ObjectVersion'] },
      } },
    });
  });

  test('the plugin bucket is versioned, encrypted, TLS-only and retained', () => {
    build().t().hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' }, LoggingConfiguration: Match.anyValue() }),
      DeletionPolicy: 'Retain',
    });
  });

  test('a version change gives a new object key and a new plugin name; the same inputs keep them', () => {
    const a = build().plugin;
    const b = build().plugin;
    const c = build({ version: DebeziumVersion.of('3.0.7.Final') }).plugin;
    expect(b.pluginName).toBe(a.pluginName);
    expect(c.pluginName).not.toBe(a.pluginName);
    expect(c.objectKey).not.toBe(a.objectKey);
  });

  test('MySQL uses the MySQL connector archive and a caller-pinned sha256 is checked as well', () => {
    const sha = 'a'.repeat(64);
    const { t } = build({ engine: 'mysql', source: DebeziumPluginSource.mavenCentral({ sha256: sha }) });
    const url = mavenCentralPluginUrl('mysql', DebeziumVersion.V3_1_2);
    expect(url).toBe('https://repo1.maven.org/maven2/io/debezium/debezium-connector-mysql/3.1.2.Final/debezium-connector-mysql-3.1.2.Final-plugin.tar.gz');
    t().hasResourceProperties('Custom::DeployTimeArtifact', {
      Sources: Match.arrayWith([{ url, checksumUrl: `${url}.sha1`, sha256: sha, extract: 'tar.gz', targetPath: '' }]),
    });
  });

  test('a config provider ZIP is unpacked into its own folder', () => {
    const { t } = build({ source: DebeziumPluginSource.mavenCentral({ configProvider: {
      url: 'https://github.com/aws-samples/msk-config-providers/releases/download/r0.4.0/msk-config-providers-0.4.0-with-dependencies.zip',
      sha256: 'b'.repeat(64), extract: 'zip',
    } }) });
    t().hasResourceProperties('Custom::DeployTimeArtifact', {
      Sources: Match.arrayWith([Match.objectLike({ extract: 'zip', targetPath: 'msk-config-providers', sha256: 'b'.repeat(64) })]),
    });
  });

  test('the ZIP can go to a bucket you already have', () => {
    const app = testApp();
    const stack = testStack(app);
    const bucket = new (require('../../constructs/common/deploy-time-artifact').ArtifactBucket)(stack, 'Shared').bucket;
    new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', source: DebeziumPluginSource.mavenCentral({ bucket }) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 2);
    t.hasResourceProperties('Custom::DeployTimeArtifact', { BucketName: { Ref: Match.stringLikeRegexp('^Shared') } });
  });

  test('an existing S3 object: no build, the plugin points at the given key and version', () => {
    const app = testApp();
    const stack = testStack(app);
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'my-plugins');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', source: DebeziumPluginSource.s3Object(bucket, 'debezium/pg-3.1.2.zip', 'v123') });
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::DeployTimeArtifact', 0);
    t.hasResourceProperties('AWS::KafkaConnect::CustomPlugin', {
      Location: { S3Location: { BucketArn: Match.stringLikeRegexp('my-plugins'), FileKey: 'debezium/pg-3.1.2.zip', ObjectVersion: 'v123' } },
    });
    expect(plugin.artifact).toBeUndefined();
  });

  test('an existing S3 object in another bucket under the same key is another plugin name (Location is create-only, the name custom)', () => {
    const plugin = (bucketName: string, key = 'debezium/pg-3.1.2.zip', version?: string) => {
      const stack = testStack(testApp());
      const bucket = s3.Bucket.fromBucketName(stack, 'Existing', bucketName);
      return new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', source: DebeziumPluginSource.s3Object(bucket, key, version) }).pluginName;
    };
    expect(plugin('my-plugins-eu')).not.toBe(plugin('my-plugins'));
    expect(plugin('my-plugins', 'debezium/pg-3.1.3.zip')).not.toBe(plugin('my-plugins'));
    expect(plugin('my-plugins', undefined, 'v2')).not.toBe(plugin('my-plugins', undefined, 'v1'));
    expect(plugin('my-plugins')).toBe(plugin('my-plugins'));
  });

  test('a local ZIP becomes a CDK asset', () => {
    const app = testApp();
    const stack = testStack(app);
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', source: DebeziumPluginSource.localFile(path.join(__dirname, 'empty-plugin.zip')) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::DeployTimeArtifact', 0);
    t.hasResourceProperties('AWS::KafkaConnect::CustomPlugin', { Location: { S3Location: { FileKey: Match.stringLikeRegexp('\\.zip$') } } });
    expect(plugin.pluginName).toMatch(new RegExp(`-${plugin.fingerprint.slice(0, 12)}$`));
  });

  test('fails when the local file is not a ZIP', () => {
    expect(() => build({ source: DebeziumPluginSource.localFile(__filename) })).toThrow(/is not a \.zip/);
  });

  test('Debezium 2.7.x is a supported choice: its Maven Central archive, Java 11, runs on Kafka Connect 3.7.x and 2.7.1', () => {
    const { plugin } = build({ version: DebeziumVersion.V2_7_4 });
    expect(plugin.version.version).toBe('2.7.4.Final');
    expect(plugin.version.javaVersion).toBe(11);
    expect(plugin.version.kafkaConnectVersions.map(v => v.version)).toEqual(['3.7.x', '2.7.1']);
    expect(mavenCentralPluginUrl('postgres', DebeziumVersion.of('2.7.3.Final')))
      .toBe('https://repo1.maven.org/maven2/io/debezium/debezium-connector-postgres/2.7.3.Final/debezium-connector-postgres-2.7.3.Final-plugin.tar.gz');
  });

  test('Debezium 3.x needs Java 17, so only Kafka Connect 3.7.x (the default) runs it', () => {
    expect(DebeziumVersion.V3_1_2.javaVersion).toBe(17);
    expect(DebeziumVersion.V3_1_2.kafkaConnectVersions.map(v => v.version)).toEqual(['3.7.x']);
    expect(KafkaConnectVersion.V3_7_X).toMatchObject({ version: '3.7.x', javaVersion: 17 });
    expect(KafkaConnectVersion.V2_7_1).toMatchObject({ version: '2.7.1', javaVersion: 11 });
  });

  test('fails when the version is neither a Debezium 3.x nor a 2.7.x Final release', () => {
    expect(() => build({ version: DebeziumVersion.of('2.6.2.Final') })).toThrow(/version '2.6.2.Final' is not a Debezium 3.x or 2.7.x Final release; use DebeziumVersion.V3_1_2/);
    expect(() => build({ version: DebeziumVersion.of('3.1.2.CR1') })).toThrow(/not a Debezium 3.x or 2.7.x Final release/);
  });

  test('fails when the engine is unsupported', () => {
    expect(() => build({ engine: 'sqlserver' as any })).toThrow(/engine 'sqlserver' is not supported/);
  });

  test('passes the validation gate', () => {
    const { app } = build({}, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});
