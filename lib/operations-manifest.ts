// The OperationsManifest stack output: what `agent-data-stack status --doctor` checks, built from the constructs' own metric*() definitions.
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { AGENT_METRIC_DIMENSIONS, AGENT_SERVICE_NAMES } from '../contract/metric-names';
import { ManifestMetric, ManifestSource, OPERATIONS_MANIFEST_OUTPUT, OperationsManifest } from '../contract/operations-manifest';
import type { AgentView } from '../constructs/stores/view';
import type { ICdcSourceDatabase } from '../constructs/source/cdc-source-database';
import { SourceEngineFamily } from '../constructs/source/engine';

/** A captured database and the connector that reads it. */
export interface ManifestSourceInput {
  readonly name: string;
  readonly source: ICdcSourceDatabase;
  readonly connectorName: string;
  readonly heartbeatTopic: string;
}

/** A Flink application of the stack. */
export interface ManifestFlinkInput {
  readonly applicationName: string;
  readonly runtime: string;
  /**
   * The application's `checkpointInterval`: `status` judges its consumer groups against it, as their alarms do.
   * @default - none: `status` checks the cluster's groups against the plain limit in one row
   */
  readonly checkpointInterval?: Duration;
  /** @default - none: the groups of the application's `consumedTopics()` are not listed */
  readonly consumerGroups?: string[];
}

export interface OperationsManifestInput {
  readonly sources: ManifestSourceInput[];
  readonly flink: ManifestFlinkInput[];
  readonly views: readonly AgentView[];
  readonly sinkNamespace: string;
  /** @default Duration.seconds(5) (AgentObservability's default freshness SLO) */
  readonly freshnessSlo?: Duration;
}

function metricOf(m: cloudwatch.Metric): ManifestMetric {
  return { namespace: m.namespace, metricName: m.metricName, dimensions: { ...(m.dimensions as Record<string, string>) } };
}

export function operationsManifest(input: OperationsManifestInput): OperationsManifest {
  const sources: ManifestSource[] = input.sources.map(({ name, source, connectorName, heartbeatTopic }) => {
    const postgres = source.engine.family === SourceEngineFamily.POSTGRESQL;
    return {
      name, engine: postgres ? 'postgres' : 'mysql', connectorName, heartbeatTopic,
      ...(source.maxSlotWalKeepSizeBytes !== undefined ? { slotWalKeepBytes: source.maxSlotWalKeepSizeBytes } : {}),
      ...(postgres ? { slotLag: metricOf(source.metricOldestReplicationSlotLag()) } : { binLogDiskUsage: metricOf(source.metricBinLogDiskUsage()) }),
      // Aurora's cluster volume grows by itself and publishes no FreeStorageSpace.
      ...(source.engine.isAurora ? {} : { freeStorage: metricOf(source.metricFreeStorageSpace()) }),
    };
  });
  return {
    version: 1,
    freshnessSloMs: (input.freshnessSlo ?? Duration.seconds(5)).toMilliseconds(),
    sinkMetrics: { namespace: input.sinkNamespace, dimensions: { [AGENT_METRIC_DIMENSIONS.service]: AGENT_SERVICE_NAMES.sink } },
    sources,
    flink: input.flink.map(f => ({
      applicationName: f.applicationName, runtime: f.runtime,
      ...(f.checkpointInterval ? { checkpointIntervalMs: f.checkpointInterval.toMilliseconds() } : {}),
      ...(f.consumerGroups ? { consumerGroups: [...f.consumerGroups] } : {}),
    })),
    views: input.views.map(v => v.toConfig()).map(v => ({ name: v.name, ...(v.maxStalenessMs !== undefined ? { maxStalenessMs: v.maxStalenessMs } : {}) })),
  };
}

/** Adds the `OperationsManifest` output (JSON; tokens such as the database identifier resolve at deploy time). */
export function addOperationsManifestOutput(scope: Construct, input: OperationsManifestInput): CfnOutput {
  return new CfnOutput(scope, OPERATIONS_MANIFEST_OUTPUT, {
    value: Stack.of(scope).toJsonString(operationsManifest(input)),
    description: 'What `agent-data-stack status --doctor` checks: sources, Flink applications, views and their limits',
  });
}
