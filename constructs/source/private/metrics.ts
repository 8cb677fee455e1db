// CloudWatch metric names the source database exposes through metric*() (namespace AWS/RDS).

export const RDS_METRIC_NAMESPACE = 'AWS/RDS';

export const SOURCE_METRICS = {
  CPU_UTILIZATION: 'CPUUtilization',
  DATABASE_CONNECTIONS: 'DatabaseConnections',
  FREE_STORAGE_SPACE: 'FreeStorageSpace',
  /** RDS for PostgreSQL: lag of the most lagging logical slot, in bytes. */
  OLDEST_LOGICAL_REPLICATION_SLOT_LAG: 'OldestLogicalReplicationSlotLag',
  /** Aurora PostgreSQL publishes the slot lag under this name. */
  OLDEST_REPLICATION_SLOT_LAG: 'OldestReplicationSlotLag',
  REPLICATION_SLOT_DISK_USAGE: 'ReplicationSlotDiskUsage',
  TRANSACTION_LOGS_DISK_USAGE: 'TransactionLogsDiskUsage',
  BIN_LOG_DISK_USAGE: 'BinLogDiskUsage',
} as const;
