// The one JAR the warehouse writer ships: the Kafka/IAM bundle of Flink 1.20, the Iceberg Flink runtime, Iceberg's AWS bundle, Hadoop's client, a relocated HadoopUtils and Hadoop conf package.
import { FLINK_DEPENDENCIES_JAR, FlinkJar } from '../processing/flink-runtime';
import { KAFKA_IAM_BUNDLE_FLINK_1_20 } from '../processing/private/kafka-iam-bundle';

/** Iceberg release of the writer: the newest with a runtime for Flink 1.20 that still targets Java 11 (Managed Flink 1.20). */
export const ICEBERG_VERSION = '1.10.0';

/**
 * Iceberg has no Flink 2.2 runtime (iceberg-flink-runtime-1.20 and -2.1 exist), so the writer runs on Managed Flink's
 * FLINK-1_20. `groupId:artifactId:version sha256`, checked against Maven Central's `.sha1` at deploy time too.
 * Hadoop's client API provides `org.apache.hadoop.conf.Configuration`, which Iceberg's Flink catalog loader needs even
 * with the Glue catalog and S3FileIO (AWS's Managed Flink Iceberg samples package Hadoop's configuration classes too).
 */
export const ICEBERG_WRITER_PINS: readonly string[] = [
  `org.apache.iceberg:iceberg-flink-runtime-1.20:${ICEBERG_VERSION} c950ad6cedde3fe30794e551ffc41f4a72d0733348b5d865c8a9cab0968021ce`,
  // Unrelocated AWS SDK v2 (Glue, S3, STS, SSO, KMS, apache and netty clients): it also serves aws-msk-iam-auth, so the
  // Kafka bundle's own SDK 2.26 modules are left out and one SDK version is on the classpath.
  `org.apache.iceberg:iceberg-aws-bundle:${ICEBERG_VERSION} 172370cfc32a5f1ae5399b210e86fc04a366dc29a112d97ac8ffc74df7525596`,
  'org.apache.hadoop:hadoop-client-api:3.4.1 a964d4daa054c9615bbafb4553efbb140fa7fb9ac6f358a24393f183a5703438',
  'org.apache.hadoop:hadoop-client-runtime:3.4.1 f6a800a159f918670db533606d33560d6c13b7e13f14eda493280ae33b9eeb2f',
];

/** The Kafka/IAM bundle of Flink 1.20 without its AWS SDK modules (Iceberg's AWS bundle carries a newer SDK). */
export function kafkaPinsWithoutSdk(): string[] {
  return KAFKA_IAM_BUNDLE_FLINK_1_20.filter(p => !p.startsWith('software.amazon.awssdk:'));
}

/**
 * Flink's `HadoopUtils`, renamed out of `org.apache.flink` in the merged JAR. Iceberg's `FlinkCatalogFactory.clusterHadoopConf()`
 * calls it; under its own name Flink loads it parent-first (every `org.apache.flink.` class is), where
 * `org.apache.hadoop.conf.Configuration` cannot be resolved (`NoClassDefFoundError`). Renamed, it is loaded from the
 * application JAR like Iceberg itself and finds Hadoop there. AWS's Managed Flink Iceberg samples relocate it with the
 * Maven Shade plugin for this reason (aws-samples/amazon-managed-service-for-apache-flink-examples,
 * java/Iceberg/IcebergSQLSink/README.md, "Known Flink issue: Hadoop library clash").
 */
export const HADOOP_UTILS_RELOCATION = {
  from: 'org/apache/flink/runtime/util/HadoopUtils',
  to: 'org/apache/iceberg/shaded/org/apache/flink/runtime/util/HadoopUtils',
} as const;

/**
 * Hadoop's configuration package, renamed in the merged JAR as AWS's Managed Flink Iceberg samples rename it (Maven Shade
 * `org.apache.hadoop.conf` -> `shaded.org.apache.hadoop.conf`, same README): `org.apache.hadoop.` is parent-first in
 * Flink's class loading, so under its own name a Hadoop `Configuration` on Managed Flink's own classpath (the sample
 * names flink-s3-fs-hadoop's) would be used in place of the one packaged with Hadoop's client; renamed, the packaged one
 * is always loaded. The relocated `HadoopUtils` names it by the new name too.
 */
export const HADOOP_CONF_RELOCATION = { from: 'org/apache/hadoop/conf', to: 'shaded/org/apache/hadoop/conf', package: true } as const;

/** `flink-hadoop-fs` of Flink 1.20.0 (the class's home in the Flink distribution); only `HadoopUtils` is taken from it. */
export const FLINK_HADOOP_FS_PIN = 'org.apache.flink:flink-hadoop-fs:1.20.0 c79fc682f00a9f117779b6199357753330191ba7852cf60b4761238032d37b92';

/** The writer's merged JAR (the `jarfile` of its application): the pins merged, plus the relocated copy of `HadoopUtils`. */
export function icebergWriterJar(): FlinkJar {
  const merged = FlinkJar.mergeFromMavenCentral(FLINK_DEPENDENCIES_JAR, [...kafkaPinsWithoutSdk(), ...ICEBERG_WRITER_PINS]);
  const [coordinates, sha256] = FLINK_HADOOP_FS_PIN.split(' ');
  const [group, artifact, version] = coordinates.split(':');
  const hadoopUtils = FlinkJar.fromMavenCentral(group, artifact, version, {
    sha256, classes: [HADOOP_UTILS_RELOCATION.from], relocations: [{ ...HADOOP_UTILS_RELOCATION }, { ...HADOOP_CONF_RELOCATION }],
  });
  return FlinkJar.merge(FLINK_DEPENDENCIES_JAR, [...merged.props.parts!.map(p => FlinkJar.fromUrl(p)), hadoopUtils]);
}
