// Starts, restarts and stops a Managed Service for Apache Flink application around CloudFormation's create, update and delete; plain functions over the SDK client.
import {
  ApplicationRestoreType,
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  ResourceNotFoundException,
  StartApplicationCommand,
  StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';

export interface StarterProperties {
  readonly ApplicationName: string;
  /** Seconds to wait for RUNNING (or READY on delete) before failing the deployment. */
  readonly TimeoutSeconds?: string;
  /** Changes whenever the code or the configuration changes, so CloudFormation sends an Update. */
  readonly ConfigurationHash?: string;
  /** 'false' when the application is retained with the stack: leave it running on delete. */
  readonly StopOnDelete?: string;
}

export interface StarterEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: StarterProperties & { ServiceToken?: string };
  /** Present in isComplete events: what onEvent returned. */
  readonly Data?: StarterData;
}

export interface StarterData {
  /** What this deployment waits for: RUNNING after create/update, READY (stopped) or gone after delete. */
  readonly Target: 'RUNNING' | 'STOPPED';
  /** Operation started by this deployment (StartApplication / StopApplication), if any. */
  readonly OperationId?: string;
  /** Restore mode used for the start, if one was issued. */
  readonly RestoreType?: string;
  /** Epoch milliseconds when onEvent ran; the wait deadline counts from here. */
  readonly StartedAt: number;
  /** Delete of a retained application: nothing to wait for. */
  readonly Skipped?: boolean;
}

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data: StarterData;
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

/** States in which the service is still working; wait for them to settle before acting. */
const TRANSITIONAL = new Set(['STARTING', 'UPDATING', 'AUTOSCALING', 'STOPPING', 'FORCE_STOPPING', 'ROLLING_BACK', 'MAINTENANCE']);
const DEFAULT_TIMEOUT_SECONDS = 1500;

/** Current status, or undefined when the application does not exist. */
export async function applicationStatus(client: KinesisAnalyticsV2Client, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeApplicationCommand({ ApplicationName: name }));
    return out.ApplicationDetail?.ApplicationStatus;
  } catch (e) {
    if (e instanceof ResourceNotFoundException || (e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

/** RESTORE_FROM_LATEST_SNAPSHOT when a snapshot exists, else SKIP_RESTORE_FROM_SNAPSHOT (first start, or snapshots deleted). */
export async function restoreTypeFor(client: KinesisAnalyticsV2Client, name: string): Promise<ApplicationRestoreType> {
  const out = await client.send(new ListApplicationSnapshotsCommand({ ApplicationName: name, Limit: 1 }));
  return (out.SnapshotSummaries ?? []).some(s => s.SnapshotStatus === 'READY')
    ? ApplicationRestoreType.RESTORE_FROM_LATEST_SNAPSHOT
    : ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT;
}

/** Starts the application when it is stopped; returns what was done. */
export async function startIfStopped(client: KinesisAnalyticsV2Client, name: string, firstStart: boolean): Promise<{ OperationId?: string; RestoreType?: string }> {
  const status = await applicationStatus(client, name);
  if (status === undefined) throw new Error(`Flink application ${name} does not exist; it should have been created before this resource. Check the stack events for its creation error.`);
  if (status !== 'READY') return {}; // running or settling: isComplete waits for RUNNING
  const restore = firstStart ? ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT : await restoreTypeFor(client, name);
  const out = await client.send(new StartApplicationCommand({
    ApplicationName: name,
    RunConfiguration: {
      ApplicationRestoreConfiguration: { ApplicationRestoreType: restore },
      FlinkRunConfiguration: { AllowNonRestoredState: false },
    },
  }));
  return { OperationId: out.OperationId, RestoreType: restore };
}

export async function onEvent(client: KinesisAnalyticsV2Client, event: StarterEvent, now: () => number = Date.now): Promise<OnEventResult> {
  const name = event.ResourceProperties.ApplicationName;
  const startedAt = now();
  switch (event.RequestType) {
    case 'Create': {
      const started = await startIfStopped(client, name, true);
      return { PhysicalResourceId: name, Data: { Target: 'RUNNING', StartedAt: startedAt, ...started } };
    }
    case 'Update': {
      // CloudFormation has already applied the new configuration; a running application was restarted by
      // the service from its latest snapshot (the application's run configuration says so). A stopped one is started here.
      const started = await startIfStopped(client, name, false);
      return { PhysicalResourceId: name, Data: { Target: 'RUNNING', StartedAt: startedAt, ...started } };
    }
    case 'Delete': {
      const physical = event.PhysicalResourceId ?? name;
      if (event.ResourceProperties.StopOnDelete === 'false') {
        return { PhysicalResourceId: physical, Data: { Target: 'STOPPED', StartedAt: startedAt, Skipped: true } };
      }
      const status = await applicationStatus(client, name);
      if (status === 'RUNNING' || status === 'AUTOSCALING') {
        // Force=false: the service takes a snapshot and stops cleanly.
        const out = await client.send(new StopApplicationCommand({ ApplicationName: name, Force: false }));
        return { PhysicalResourceId: physical, Data: { Target: 'STOPPED', StartedAt: startedAt, OperationId: out.OperationId } };
      }
      return { PhysicalResourceId: physical, Data: { Target: 'STOPPED', StartedAt: startedAt } };
    }
  }
}

async function operationStatus(client: KinesisAnalyticsV2Client, name: string, operationId: string): Promise<string | undefined> {
  const out = await client.send(new DescribeApplicationOperationCommand({ ApplicationName: name, OperationId: operationId }));
  return out.ApplicationOperationInfoDetails?.OperationStatus;
}

/** The error of the most recent failed operation that started at or after `since` (epoch ms), if any. */
export async function latestFailureSince(client: KinesisAnalyticsV2Client, name: string, since: number): Promise<string | undefined> {
  const out = await client.send(new ListApplicationOperationsCommand({ ApplicationName: name, Limit: 10 }));
  const failed = (out.ApplicationOperationInfoList ?? [])
    .filter(op => op.OperationStatus === 'FAILED' && op.OperationId && (op.StartTime?.getTime() ?? 0) >= since)
    .sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0));
  return failed.length > 0 ? operationFailure(client, name, failed[0].OperationId!) : undefined;
}

/** The failure the service recorded for an operation, if it failed. */
export async function operationFailure(client: KinesisAnalyticsV2Client, name: string, operationId: string): Promise<string | undefined> {
  const out = await client.send(new DescribeApplicationOperationCommand({ ApplicationName: name, OperationId: operationId }));
  const info = out.ApplicationOperationInfoDetails;
  if (info?.OperationStatus !== 'FAILED') return undefined;
  return info.OperationFailureDetails?.ErrorInfo?.ErrorString ?? `${info.Operation ?? 'operation'} ${operationId} failed without an error message`;
}

export async function isComplete(client: KinesisAnalyticsV2Client, event: StarterEvent, now: () => number = Date.now): Promise<IsCompleteResult> {
  const name = event.ResourceProperties.ApplicationName;
  const data = event.Data ?? { Target: event.RequestType === 'Delete' ? 'STOPPED' : 'RUNNING', StartedAt: now() };
  const timeoutMs = Number(event.ResourceProperties.TimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const status = await applicationStatus(client, name);

  if (data.Target === 'STOPPED') {
    if (data.Skipped) return { IsComplete: true };
    if (status === undefined || status === 'READY' || status === 'DELETING') return { IsComplete: true };
    if (status === 'RUNNING' && !data.OperationId) {
      // It was settling (UPDATING/AUTOSCALING) when Delete arrived; stop it now that it can be stopped.
      await client.send(new StopApplicationCommand({ ApplicationName: name, Force: false }));
      return { IsComplete: false };
    }
    if (now() - data.StartedAt > timeoutMs) {
      throw new Error(`Flink application ${name} did not stop within ${timeoutMs / 1000}s (status ${status}). Stop it with 'aws kinesisanalyticsv2 stop-application --application-name ${name} --force' and retry the delete.`);
    }
    return { IsComplete: false };
  }

  if (status === undefined) throw new Error(`Flink application ${name} no longer exists.`);
  if (status === 'RUNNING') return { IsComplete: true, Data: { Status: status, RestoreType: data.RestoreType ?? 'NONE' } };
  if (status === 'READY' || status === 'ROLLED_BACK') {
    const failure = data.OperationId
      ? await operationFailure(client, name, data.OperationId)
      : await latestFailureSince(client, name, data.StartedAt);
    if (failure) throw new Error(`Flink application ${name} failed to start: ${failure}`);
    if (!data.OperationId && status === 'READY') {
      // It was settling (UPDATING/AUTOSCALING) when onEvent ran and has stopped since: start it now.
      await startIfStopped(client, name, false);
      return { IsComplete: false };
    }
    if (data.OperationId && (await operationStatus(client, name, data.OperationId)) === 'IN_PROGRESS') return { IsComplete: false };
    throw new Error(`Flink application ${name} is ${status} instead of RUNNING: the start did not hold. Read the application's CloudWatch log stream for the job's exception (SQL errors, missing connector classes, Kafka authorization).`);
  }
  if (now() - data.StartedAt > timeoutMs) {
    throw new Error(`Flink application ${name} did not reach RUNNING within ${timeoutMs / 1000}s (status ${status}${TRANSITIONAL.has(status) ? ', still settling' : ''}). Check its CloudWatch logs; raise startTimeout if the job needs longer to restore state.`);
  }
  return { IsComplete: false };
}
