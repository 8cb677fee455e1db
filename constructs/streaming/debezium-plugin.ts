// DebeziumPlugin: the Debezium connector archive (plus the Secrets Manager config provider) as an MSK Connect custom plugin, built at deploy time.
import { createHash } from 'crypto';
import { Annotations, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kafkaconnect from 'aws-cdk-lib/aws-kafkaconnect';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { ArtifactBucket, ArtifactSource, DeployTimeArtifact } from '../common/deploy-time-artifact';
import { CdcEngine } from './cdc-source';

/**
 * An MSK Connect Kafka Connect runtime. AWS's "Java runtime version used for each supported Apache Kafka Connect
 * version" table (msk-connect-plugins.html): 3.7.x runs Java 17, 2.7.1 runs Java 11.
 */
export class KafkaConnectVersion {
  /** Kafka Connect 3.7.x on Java 17: runs Debezium 3.x and 2.7.x. */
  public static readonly V3_7_X = new KafkaConnectVersion('3.7.x', 17);
  /** Kafka Connect 2.7.1 on Java 11: runs Debezium 2.7.x only (Debezium 3.x needs Java 17). */
  public static readonly V2_7_1 = new KafkaConnectVersion('2.7.1', 11);
  private constructor(public readonly version: string, public readonly javaVersion: number) {}
}

/** A Debezium release on Maven Central (`io.debezium:debezium-connector-<engine>:<version>`). */
export class DebeziumVersion {
  /**
   * 3.1.2.Final: needs Java 17 ("All Debezium connectors require a runtime baseline of Java 17", Debezium 3.0), so
   * Kafka Connect 3.7.x on MSK Connect, which AWS documents as Java 17.
   */
  public static readonly V3_1_2 = new DebeziumVersion('3.1.2.Final');
  /** 2.7.4.Final: the last 2.x line, Java 11, so it runs on both Kafka Connect 3.7.x and 2.7.1. */
  public static readonly V2_7_4 = new DebeziumVersion('2.7.4.Final');
  /** Any published 3.x or 2.7.x Final release, for example `3.0.7.Final` or `2.7.3.Final`. */
  public static of(version: string): DebeziumVersion {
    return new DebeziumVersion(version);
  }
  private constructor(public readonly version: string) {}

  /** Java release the connector needs: 17 for 3.x, 11 for 2.7.x. */
  public get javaVersion(): number {
    return this.version.startsWith('2.') ? 11 : 17;
  }

  /** The MSK Connect runtimes whose Java can run this release. */
  public get kafkaConnectVersions(): KafkaConnectVersion[] {
    return [KafkaConnectVersion.V3_7_X, KafkaConnectVersion.V2_7_1].filter(v => v.javaVersion >= this.javaVersion);
  }
}

/**
 * SHA-256 of the Maven Central `-plugin.tar.gz` of each release the library names, so the deploy-time build checks the
 * archive against a value the library holds and not only against the `.sha1` served by the same host as the archive.
 * Computed from the archives downloaded from repo1.maven.org, whose SHA-1 matched Central's published `.sha1`.
 */
export const PINNED_PLUGIN_SHA256: Readonly<Record<string, Readonly<Record<CdcEngine, string>>>> = {
  '3.1.2.Final': {
    postgres: '83d7103e2bd6e268844e5225bcb5137d4b1d48fe6c435041b457e6c3310b2bdf',
    mysql: '2dfecec003e1fd8e2e569b43361aedfe5a2b385e6de0536232ebb0f57f7051bd',
  },
  '2.7.4.Final': {
    postgres: '2a6eb678533e05537b58ee3cb698c3b42299d11b4ed574e7306c9bba22aaf061',
    mysql: '29c518325af7facc201aad51e87caf244e442bea13d1818bdcbef925bcca14f3',
  },
};

/** The MSK config provider that resolves `${secretsmanager:...}` references (aws-samples/msk-config-providers). */
export interface ConfigProviderSource {
  /** HTTPS URL of the provider jar (or ZIP with `extract: 'zip'`). */
  readonly url: string;
  /** SHA-256 of the file (GitHub releases publish no checksum file, so it is pinned). */
  readonly sha256: string;
  /** @default 'none' (a single jar) */
  readonly extract?: 'zip' | 'none';
}

/** The default config provider: msk-config-providers 0.4.0 uber jar (targets Kafka 3.7.x, the MSK Connect runtime). */
export const DEFAULT_CONFIG_PROVIDER: ConfigProviderSource = {
  url: 'https://github.com/aws-samples/msk-config-providers/releases/download/r0.4.0/msk-config-providers-0.4.0-all.jar',
  sha256: '45dc671c2cec8412c436371abddff644598d00035a73487ab6db191db3563911',
  extract: 'none',
};

/** Options of the deploy-time build from Maven Central. */
export interface MavenCentralPluginOptions {
  /**
   * SHA-256 the Debezium archive must also match (besides Maven Central's published `.sha1`).
   * @default - the library's pinned SHA-256 (`PINNED_PLUGIN_SHA256`) for the releases it names (`DebeziumVersion.V3_1_2`,
   * `V2_7_4`); for another release only Maven Central's `.sha1` is checked, and synth says so
   */
  readonly sha256?: string;
  /**
   * The config provider added to the ZIP.
   * @default DEFAULT_CONFIG_PROVIDER (msk-config-providers 0.4.0)
   */
  readonly configProvider?: ConfigProviderSource;
  /**
   * Versioned bucket the ZIP is stored in.
   * @default - a new ArtifactBucket in the plugin construct
   */
  readonly bucket?: s3.IBucket;
}

/** Where the plugin ZIP comes from. */
export abstract class DebeziumPluginSource {
  /** Built at deploy time from Maven Central, checked against the published `.sha1` and a SHA-256 (pinned in the library for the releases it names, or `sha256`). */
  public static mavenCentral(options: MavenCentralPluginOptions = {}): DebeziumPluginSource {
    return new MavenCentralSource(options.sha256, options.configProvider ?? DEFAULT_CONFIG_PROVIDER, options.bucket);
  }
  /** A ZIP you already uploaded (it must contain the Debezium connector and a Secrets Manager config provider). */
  public static s3Object(bucket: s3.IBucket, key: string, objectVersion?: string): DebeziumPluginSource {
    return new ExistingObjectSource(bucket, key, objectVersion);
  }
  /** A local ZIP uploaded as a CDK asset (same content rules as `s3Object`). */
  public static localFile(path: string): DebeziumPluginSource {
    return new LocalFileSource(path);
  }
  /** @internal */
  public abstract _bind(scope: Construct, engine: CdcEngine, version: DebeziumVersion): BoundPluginSource;
}

/** @internal */
export interface BoundPluginSource {
  readonly bucket: s3.IBucket;
  readonly key: string;
  readonly objectVersion?: string;
  /** Identifies the content; part of the plugin name because plugins cannot be updated in place. */
  readonly fingerprint: string;
  readonly artifact?: DeployTimeArtifact;
}

class MavenCentralSource extends DebeziumPluginSource {
  constructor(private readonly sha256: string | undefined, private readonly configProvider: ConfigProviderSource, private readonly bucket?: s3.IBucket) { super(); }
  public _bind(scope: Construct, engine: CdcEngine, version: DebeziumVersion): BoundPluginSource {
    const bucket = this.bucket ?? new ArtifactBucket(scope, 'Bucket').bucket;
    const url = mavenCentralPluginUrl(engine, version);
    const sha256 = this.sha256 ?? PINNED_PLUGIN_SHA256[version.version]?.[engine];
    if (!sha256) {
      Annotations.of(scope).addInfo(`DebeziumPlugin: Debezium ${version.version} has no SHA-256 pinned in the library, so the archive is checked only against the .sha1 Maven Central serves beside it; pass DebeziumPluginSource.mavenCentral({ sha256 }) to pin it.`);
    }
    const sources: ArtifactSource[] = [
      { url, checksumUrl: `${url}.sha1`, sha256, extract: 'tar.gz', targetPath: '' },
      {
        url: this.configProvider.url,
        sha256: this.configProvider.sha256,
        extract: this.configProvider.extract ?? 'none',
        targetPath: (this.configProvider.extract ?? 'none') === 'none'
          ? `msk-config-providers/${this.configProvider.url.split('/').pop()}`
          : 'msk-config-providers',
      },
    ];
    const artifact = new DeployTimeArtifact(scope, 'Artifact', { bucket, sources, objectKeyPrefix: 'debezium-plugins/' });
    return { bucket, key: artifact.objectKey, objectVersion: artifact.objectVersion, fingerprint: artifact.inputHash, artifact };
  }
}

class ExistingObjectSource extends DebeziumPluginSource {
  constructor(private readonly bucket: s3.IBucket, private readonly key: string, private readonly objectVersion?: string) { super(); }
  public _bind(scope: Construct): BoundPluginSource {
    // The whole Location (bucket, key, version) is create-only and the plugin name custom: each part goes into the name.
    // The bucket is hashed as its resolved form, stable across synths whether it is a literal name or a reference.
    const bucketName = JSON.stringify(Stack.of(scope).resolve(this.bucket.bucketName));
    const fingerprint = sha256(`${bucketName}|${this.key}|${this.objectVersion ?? ''}`);
    return { bucket: this.bucket, key: this.key, objectVersion: this.objectVersion, fingerprint };
  }
}

class LocalFileSource extends DebeziumPluginSource {
  constructor(private readonly path: string) { super(); }
  public _bind(scope: Construct): BoundPluginSource {
    if (!this.path.toLowerCase().endsWith('.zip')) {
      throw new Error(`DebeziumPlugin: local plugin file '${this.path}' is not a .zip; MSK Connect custom plugins are ZIP or JAR files holding the connector and a config provider.`);
    }
    const asset = new s3assets.Asset(scope, 'Asset', { path: this.path });
    return { bucket: asset.bucket, key: asset.s3ObjectKey, fingerprint: asset.assetHash };
  }
}

/** Maven Central URL of the Debezium `-plugin.tar.gz` for an engine and version. */
export function mavenCentralPluginUrl(engine: CdcEngine, version: DebeziumVersion): string {
  const artifactId = engine === 'postgres' ? 'debezium-connector-postgres' : 'debezium-connector-mysql';
  return `https://repo1.maven.org/maven2/io/debezium/${artifactId}/${version.version}/${artifactId}-${version.version}-plugin.tar.gz`;
}

export interface DebeziumPluginProps {
  /** Which Debezium connector the plugin holds. */
  readonly engine: CdcEngine;
  /**
   * Debezium release.
   * @default DebeziumVersion.V3_1_2
   */
  readonly version?: DebeziumVersion;
  /**
   * Where the plugin ZIP comes from.
   * @default DebeziumPluginSource.mavenCentral() (downloaded, verified and re-packed at deploy time with the config provider)
   */
  readonly source?: DebeziumPluginSource;
}

/** An MSK Connect custom plugin holding a Debezium connector and the Secrets Manager config provider. */
export class DebeziumPlugin extends Construct {
  public readonly engine: CdcEngine;
  public readonly version: DebeziumVersion;
  public readonly customPluginArn: string;
  public readonly customPluginRevision: number;
  public readonly pluginName: string;
  /** Content fingerprint (changes whenever the ZIP would change). */
  public readonly fingerprint: string;
  public readonly bucket: s3.IBucket;
  public readonly objectKey: string;
  /** The deploy-time artifact (Maven Central source only). */
  public readonly artifact?: DeployTimeArtifact;
  public readonly resource: kafkaconnect.CfnCustomPlugin;

  constructor(scope: Construct, id: string, props: DebeziumPluginProps) {
    super(scope, id);
    if (props.engine !== 'postgres' && props.engine !== 'mysql') {
      throw new Error(`DebeziumPlugin: engine '${props.engine}' is not supported; use 'postgres' or 'mysql'.`);
    }
    this.engine = props.engine;
    this.version = props.version ?? DebeziumVersion.V3_1_2;
    if (!Token.isUnresolved(this.version.version) && !/^(3\.\d+|2\.7)\.\d+\.Final$/.test(this.version.version)) {
      throw new Error(`DebeziumPlugin: version '${this.version.version}' is not a Debezium 3.x or 2.7.x Final release; use DebeziumVersion.V3_1_2 (Kafka Connect 3.7.x, Java 17) or DebeziumVersion.V2_7_4 (Kafka Connect 3.7.x or 2.7.1), or another 3.x / 2.7.x Final release.`);
    }
    const bound = (props.source ?? DebeziumPluginSource.mavenCentral())._bind(this, this.engine, this.version);
    this.bucket = bound.bucket;
    this.objectKey = bound.key;
    this.artifact = bound.artifact;
    this.fingerprint = bound.fingerprint;
    // Custom plugins are immutable: a new ZIP means a new plugin, so the name carries the content fingerprint.
    this.pluginName = `${Names.uniqueResourceName(this, { maxLength: 100, separator: '-' })}-${bound.fingerprint.slice(0, 12)}`;
    this.resource = new kafkaconnect.CfnCustomPlugin(this, 'Resource', {
      name: this.pluginName,
      contentType: 'ZIP',
      description: `Debezium ${this.engine} connector ${this.version.version} with the MSK Secrets Manager config provider`,
      location: {
        s3Location: {
          bucketArn: bound.bucket.bucketArn,
          fileKey: bound.key,
          ...(bound.objectVersion ? { objectVersion: bound.objectVersion } : {}),
        },
      },
    });
    this.customPluginArn = this.resource.attrCustomPluginArn;
    this.customPluginRevision = this.resource.attrRevision;
  }

  /** Read access to the plugin object. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [this.bucket.arnForObjects(this.objectKey)],
    });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
