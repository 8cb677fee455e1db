// Which AWS/RDS metric and dimensions a source variant publishes, for CdcSourceDatabase's metric*() methods. Names come from the one metric-name module.
import { AURORA_WRITER_ROLE, AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, RDS_METRIC_NAMES } from '../../../contract/metric-names';

export const RDS_METRIC_NAMESPACE = AWS_METRIC_NAMESPACES.rds;

export const SOURCE_METRICS = {
  CPU_UTILIZATION: RDS_METRIC_NAMES.cpuUtilization,
  DATABASE_CONNECTIONS: RDS_METRIC_NAMES.databaseConnections,
  FREE_STORAGE_SPACE: RDS_METRIC_NAMES.freeStorageSpace,
  REPLICATION_SLOT_DISK_USAGE: RDS_METRIC_NAMES.replicationSlotDiskUsage,
  TRANSACTION_LOGS_DISK_USAGE: RDS_METRIC_NAMES.transactionLogsDiskUsage,
} as const;

/**
 * The slot lag of a PostgreSQL source. RDS publishes `OldestReplicationSlotLag` ("Amazon CloudWatch metrics for Amazon RDS").
 * Aurora's metric page lists no slot-lag metric; its writer's `TransactionLogsDiskUsage` is the WAL kept for logical
 * replication ("generated only when Aurora PostgreSQL is using logical replication"), which is what a stuck slot grows.
 */
export function slotLagMetricName(aurora: boolean): string {
  return aurora ? RDS_METRIC_NAMES.transactionLogsDiskUsage : RDS_METRIC_NAMES.oldestReplicationSlotLag;
}

/** Binary log size of a MySQL source: `BinLogDiskUsage` on RDS, `SumBinaryLogSize` on Aurora MySQL (which lists no `BinLogDiskUsage`). */
export function binLogMetricName(aurora: boolean): string {
  return aurora ? RDS_METRIC_NAMES.sumBinaryLogSize : RDS_METRIC_NAMES.binLogDiskUsage;
}

/** An RDS instance's metrics. */
export function instanceDimensions(instanceIdentifier: string): Record<string, string> {
  return { [AWS_METRIC_DIMENSIONS.rdsInstance]: instanceIdentifier };
}

/**
 * An Aurora cluster's writer: `DBClusterIdentifier` with `Role` = `WRITER` ("Amazon CloudWatch dimensions for Aurora"). The slot,
 * WAL and binlog figures live on the writer, and the role follows it across failovers (an instance identifier would not).
 */
export function auroraWriterDimensions(clusterIdentifier: string): Record<string, string> {
  return { [AWS_METRIC_DIMENSIONS.rdsCluster]: clusterIdentifier, [AWS_METRIC_DIMENSIONS.rdsRole]: AURORA_WRITER_ROLE };
}
