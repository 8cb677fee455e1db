// Managed Service for Apache Flink runtimes, the JAR dependencies a SQL application ships, and the Kafka sink delivery guarantee.
import { Token } from 'aws-cdk-lib';

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
}

/** A JAR dependency of a Flink SQL application (connectors, authentication libraries). */
export class FlinkJar {
  /**
   * A JAR from Maven Central, verified against the `.sha1` Maven Central publishes beside every artifact
   * (and against `sha256` too when you pin one).
   */
  public static fromMavenCentral(groupId: string, artifactId: string, version: string, options: { readonly sha256?: string; readonly classifier?: string } = {}): FlinkJar {
    const file = `${artifactId}-${version}${options.classifier ? `-${options.classifier}` : ''}.jar`;
    const url = `https://repo1.maven.org/maven2/${groupId.replace(/\./g, '/')}/${artifactId}/${version}/${file}`;
    return new FlinkJar({ url, fileName: file, checksumUrl: `${url}.sha1`, sha256: options.sha256 });
  }

  /** Any HTTPS URL; give `sha256` or `checksumUrl`. */
  public static fromUrl(props: FlinkJarProps): FlinkJar {
    return new FlinkJar(props);
  }

  private constructor(public readonly props: FlinkJarProps) {
    if (!Token.isUnresolved(props.fileName) && !/^[A-Za-z0-9._-]+\.jar$/.test(props.fileName)) {
      throw new Error(`FlinkJar: fileName is '${props.fileName}'; use a plain file name ending in .jar (letters, digits, '.', '_', '-').`);
    }
  }
}

/**
 * A Managed Service for Apache Flink runtime (`RuntimeEnvironment`) with the Kafka SQL connector built for it.
 *
 * `FLINK_2_2` is what AWS recommends for new applications: PyFlink is supported (Python 3.12) and the Kafka
 * connector has a Flink 2.x release (4.0.0-2.0). `FLINK_1_20` (Python 3.11, Kafka connector 3.3.0-1.20) remains for
 * applications that need 1.x state or connectors without a 2.x release.
 */
export class FlinkRuntime {
  /** Flink 2.2 (Java 17, Python 3.12); Kafka SQL connector 4.0.0-2.0. */
  public static readonly FLINK_2_2 = new FlinkRuntime('FLINK-2_2', 2, '4.0.0-2.0');
  /** Flink 1.20 (Python 3.11); Kafka SQL connector 3.3.0-1.20. */
  public static readonly FLINK_1_20 = new FlinkRuntime('FLINK-1_20', 1, '3.3.0-1.20');

  /** A runtime by its `RuntimeEnvironment` name, with the Kafka SQL connector version built for it. */
  public static of(name: string, kafkaConnectorVersion: string): FlinkRuntime {
    const m = /^FLINK-(\d+)_(\d+)$/.exec(name);
    if (!m) throw new Error(`FlinkRuntime.of: '${name}' is not a Flink runtime name; use the form FLINK-<major>_<minor> (e.g. FLINK-2_2).`);
    return new FlinkRuntime(name, Number(m[1]), kafkaConnectorVersion);
  }

  private constructor(
    /** `RuntimeEnvironment` value. */
    public readonly name: string,
    /** Flink major version; decides the CloudWatch metric names (see `FlinkSqlApplication.metricRestarts`). */
    public readonly majorVersion: number,
    /** Version of `org.apache.flink:flink-sql-connector-kafka` built for this runtime. */
    public readonly kafkaConnectorVersion: string,
  ) {}

  /** The Kafka SQL connector JAR for this runtime (Maven Central). */
  public kafkaSqlConnector(): FlinkJar {
    return FlinkJar.fromMavenCentral('org.apache.flink', 'flink-sql-connector-kafka', this.kafkaConnectorVersion);
  }
}

/** Version of `software.amazon.msk:aws-msk-iam-auth` packaged by default. */
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
