// Worker capacity of a DebeziumConnector on MSK Connect: a fixed worker count, or CPU-based autoscaling.
import * as kafkaconnect from 'aws-cdk-lib/aws-kafkaconnect';

/** Worker capacity of the connector. */
export class ConnectorCapacity {
  /**
   * A fixed number of workers.
   * @param workerCount @default 1
   * @param mcuCount MSK Connect units per worker (1, 2, 4 or 8) @default 1
   */
  public static provisioned(options: { workerCount?: number; mcuCount?: number } = {}): ConnectorCapacity {
    return new ConnectorCapacity({ provisionedCapacity: { workerCount: options.workerCount ?? 1, mcuCount: options.mcuCount ?? 1 } });
  }
  /** Workers scaled on CPU. Debezium runs one task, so this only adds cost; refused for MySQL. */
  public static autoScaling(options: { minWorkers: number; maxWorkers: number; mcuCount?: number; scaleInCpuPercent?: number; scaleOutCpuPercent?: number }): ConnectorCapacity {
    return new ConnectorCapacity({
      autoScaling: {
        minWorkerCount: options.minWorkers,
        maxWorkerCount: options.maxWorkers,
        mcuCount: options.mcuCount ?? 1,
        scaleInPolicy: { cpuUtilizationPercentage: options.scaleInCpuPercent ?? 20 },
        scaleOutPolicy: { cpuUtilizationPercentage: options.scaleOutCpuPercent ?? 80 },
      },
    });
  }
  private constructor(public readonly config: kafkaconnect.CfnConnector.CapacityProperty) {}
  public get isAutoScaling(): boolean {
    return this.config.autoScaling !== undefined;
  }
}
