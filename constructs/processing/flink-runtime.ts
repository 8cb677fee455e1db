// Managed Service for Apache Flink runtimes, the JAR dependencies a SQL application ships, and the Kafka sink delivery guarantee.
import { Token } from 'aws-cdk-lib';
import type { JarClassRelocation } from '../common/deploy-time-artifact';
import { KAFKA_IAM_BUNDLE_FLINK_1_20, KAFKA_IAM_BUNDLE_FLINK_2_2 } from './private/kafka-iam-bundle';

/** A JAR downloaded at deploy time into the application package, verified by checksum. */
export interface FlinkJarProps {
  /** HTTPS URL of the JAR. */
  readonly url: string;
  /** File name inside the package's `lib/` folder. */
  readonly fileName: string;
  /** Pinned SHA-256 (64 hex digits). @default - only `checksumUrl` is checked */
  readonly sha256?: string;
  /** URL of the published checksum file (`.sha1`, `.sha256` or `.sha512`). @default - only `sha256` is checked */
  readonly checksumUrl?: string;
  /**
   * The JARs merged, at deploy time, into this one (see `FlinkJar.merge`).
   * @default - the file is downloaded as is
   */
  readonly parts?: FlinkJarProps[];
  /**
   * As a part of a merged JAR: take only these classes (internal names, with their nested classes) from it.
   * @default - every entry
   */
  readonly classes?: string[];
  /**
   * As a part of a merged JAR: classes renamed in the whole merged JAR (see `ArtifactSource.relocations`).
   * @default - no class is renamed
   */
  readonly relocations?: JarClassRelocation[];
}

/** A JAR dependency of a Flink SQL application (connectors, authentication libraries). */
export class FlinkJar {
  /**
   * A JAR from Maven Central, verified against the `.sha1` Maven Central publishes beside every artifact
   * (and against `sha256` too when you pin one).
   */
  public static fromMavenCentral(
    groupId: string, artifactId: string, version: string,
    options: { readonly sha256?: string; readonly classifier?: string; readonly classes?: string[]; readonly relocations?: JarClassRelocation[] } = {},
  ): FlinkJar {
    const file = `${artifactId}-${version}${options.classifier ? `-${options.classifier}` : ''}.jar`;
    const url = `https://repo1.maven.org/maven2/${groupId.replace(/\./g, '/')}/${artifactId}/${version}/${file}`;
    return new FlinkJar({
      url, fileName: file, checksumUrl: `${url}.sha1`, sha256: options.sha256,
      ...(options.classes ? { classes: options.classes } : {}),
      ...(options.relocations ? { relocations: options.relocations } : {}),
    });
  }

  /** Any HTTPS URL; give `sha256` or `checksumUrl`. */
  public static fromUrl(props: FlinkJarProps): FlinkJar {
    return new FlinkJar(props);
  }

  /**
   * One JAR merged at deploy time from others, as maven-shade does without relocation: classes keep their
   * packages, `META-INF/services` files are concatenated, signature files are dropped. Every part is
   * downloaded and checked against its own checksums first.
   */
  public static merge(fileName: string, parts: FlinkJar[]): FlinkJar {
    if (parts.length === 0) throw new Error(`FlinkJar.merge(${fileName}): parts is empty; give the JARs to merge.`);
    const nested = parts.find(p => p.props.parts);
    if (nested) throw new Error(`FlinkJar.merge(${fileName}): part '${nested.props.fileName}' is itself merged; list its parts instead.`);
    return new FlinkJar({ url: parts[0].props.url, fileName, parts: parts.map(p => p.props) });
  }

  /**
   * Pinned Maven Central artifacts (`groupId:artifactId:version sha256` each) merged into one JAR; each is
   * checked against Maven Central's `.sha1` and the pinned SHA-256.
   */
  public static mergeFromMavenCentral(fileName: string, pins: readonly string[]): FlinkJar {
    return FlinkJar.merge(fileName, pins.map(pin => {
      const m = /^([\w.-]+):([\w.-]+):([\w.-]+)\s+([0-9a-f]{64})$/.exec(pin.trim());
      if (!m) throw new Error(`FlinkJar.mergeFromMavenCentral(${fileName}): '${pin}' is not 'groupId:artifactId:version sha256' (64 lower-case hex digits).`);
      return FlinkJar.fromMavenCentral(m[1], m[2], m[3], { sha256: m[4] });
    }));
  }

  private constructor(public readonly props: FlinkJarProps) {
    if (!Token.isUnresolved(props.fileName) && !/^[A-Za-z0-9._-]+\.jar$/.test(props.fileName)) {
      throw new Error(`FlinkJar: fileName is '${props.fileName}'; use a plain file name ending in .jar (letters, digits, '.', '_', '-').`);
    }
  }
}

/** File name of the merged dependency JAR in the package (`lib/<name>`), the name AWS's PyFlink samples use. */
export const FLINK_DEPENDENCIES_JAR = 'pyflink-dependencies.jar';

/**
 * A Managed Service for Apache Flink runtime (`RuntimeEnvironment`) with the Kafka connector built for it.
 *
 * `FLINK_2_2` is what AWS recommends for new applications: PyFlink is supported (Python 3.12) and the Kafka
 * connector has a Flink 2.x release (4.0.0-2.0). `FLINK_1_20` (Python 3.11, Kafka connector 3.3.0-1.20) remains for
 * applications that need 1.x state or connectors without a 2.x release.
 */
export class FlinkRuntime {
  /** Flink 2.2 (Java 17, Python 3.12); Kafka connector 4.0.0-2.0 with kafka-clients 3.9.0 and aws-msk-iam-auth 2.2.0. */
  public static readonly FLINK_2_2 = new FlinkRuntime('FLINK-2_2', 2, '4.0.0-2.0', KAFKA_IAM_BUNDLE_FLINK_2_2);
  /** Flink 1.20 (Python 3.11); Kafka connector 3.3.0-1.20 with kafka-clients 3.4.0 and aws-msk-iam-auth 2.2.0. */
  public static readonly FLINK_1_20 = new FlinkRuntime('FLINK-1_20', 1, '3.3.0-1.20', KAFKA_IAM_BUNDLE_FLINK_1_20);

  /**
   * A runtime by its `RuntimeEnvironment` name and the version of `flink-connector-kafka` built for it.
   * Without `kafkaIamBundle` (pinned `groupId:artifactId:version sha256` lines, see `kafkaIamJar()`),
   * applications on it must list their JARs in `dependencies`.
   */
  public static of(name: string, kafkaConnectorVersion: string, kafkaIamBundle?: readonly string[]): FlinkRuntime {
    const m = /^FLINK-(\d+)_(\d+)$/.exec(name);
    if (!m) throw new Error(`FlinkRuntime.of: '${name}' is not a Flink runtime name; use the form FLINK-<major>_<minor> (e.g. FLINK-2_2).`);
    return new FlinkRuntime(name, Number(m[1]), kafkaConnectorVersion, kafkaIamBundle);
  }

  private constructor(
    /** `RuntimeEnvironment` value. */
    public readonly name: string,
    /** Flink major version; decides the CloudWatch metric names (see `FlinkSqlApplication.metricRestarts`). */
    public readonly majorVersion: number,
    /** Version of `org.apache.flink:flink-connector-kafka` built for this runtime. */
    public readonly kafkaConnectorVersion: string,
    /** Pinned artifacts of `kafkaIamJar()` (`groupId:artifactId:version sha256`), when known. */
    public readonly kafkaIamBundle?: readonly string[],
  ) {}

  /**
   * The one JAR a Flink SQL application on this runtime ships (`jarfile`): the non-SQL `flink-connector-kafka`
   * (its table factories serve `'connector' = 'kafka'` and `'upsert-kafka'`), `kafka-clients` and
   * `aws-msk-iam-auth` with the AWS SDK modules it needs, merged at deploy time without relocation, so the IAM
   * callback handler implements the same `org.apache.kafka` interface the connector's clients load.
   */
  public kafkaIamJar(): FlinkJar {
    if (!this.kafkaIamBundle) {
      throw new Error(`FlinkRuntime ${this.name}: no pinned Kafka/IAM bundle; pass FlinkRuntime.of(name, version, pins) or give FlinkSqlApplication dependencies.`);
    }
    return FlinkJar.mergeFromMavenCentral(FLINK_DEPENDENCIES_JAR, this.kafkaIamBundle);
  }

  /**
   * The shaded Kafka SQL connector JAR (Maven Central).
   * @deprecated it relocates `org.apache.kafka`, so the stock MSK IAM callback handler cannot be used with it
   * (aws/aws-msk-iam-auth#129, #190); use `kafkaIamJar()`.
   */
  public kafkaSqlConnector(): FlinkJar {
    return FlinkJar.fromMavenCentral('org.apache.flink', 'flink-sql-connector-kafka', this.kafkaConnectorVersion);
  }
}

/** Version of `software.amazon.msk:aws-msk-iam-auth` in the pinned bundles. */
export const MSK_IAM_AUTH_VERSION = '2.2.0';

/** How Kafka sinks deliver records (`sink.delivery-guarantee`). */
export class DeliveryGuarantee {
  /**
   * Records are flushed at every checkpoint and may be written twice after a restart. Consumers see results
   * as soon as they are produced; upsert-kafka sinks and key-based stores converge on duplicates.
   */
  public static readonly AT_LEAST_ONCE = new DeliveryGuarantee('at-least-once');
  /**
   * Kafka transactions committed on checkpoints: no duplicates for `read_committed` consumers, but results
   * become visible only after the checkpoint that covers them (adds up to one checkpoint interval of latency).
   */
  public static readonly EXACTLY_ONCE = new DeliveryGuarantee('exactly-once');
  /** No guarantee: records may be lost on failure. */
  public static readonly NONE = new DeliveryGuarantee('none');

  private constructor(public readonly value: string) {}
}
