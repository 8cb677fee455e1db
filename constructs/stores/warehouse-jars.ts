// The one JAR the warehouse writer ships: the Kafka/IAM bundle of Flink 1.20 plus the Iceberg Flink runtime, Iceberg's AWS bundle and Hadoop's client API.
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

/** The writer's merged JAR (the `jarfile` of its application). */
export function icebergWriterJar(): FlinkJar {
  return FlinkJar.mergeFromMavenCentral(FLINK_DEPENDENCIES_JAR, [...kafkaPinsWithoutSdk(), ...ICEBERG_WRITER_PINS]);
}
