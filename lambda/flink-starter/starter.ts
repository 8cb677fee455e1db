// Starts, restarts and stops a Managed Service for Apache Flink application around CloudFormation's create, update and delete, and holds the
// deploy until the job runs without restarting; plain functions over the SDK clients.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  ApplicationRestoreType,
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  StartApplicationCommand,
  StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { FLINK_STARTER_METRIC_GRACE_SECONDS } from '../../contract/flink-starter';
import { ApplicationLogs, fixFor, jobError } from './job-log';

export type { ApplicationLogs, FilteredLogEvent } from './job-log';
export { jobError } from './job-log';

export interface StarterProperties {
  readonly ApplicationName: string;
  /** Seconds to wait for RUNNING (or READY on delete) before failing the deployment. */
  readonly TimeoutSeconds?: string;
  /** Hash of the package key, runtime and parallelism (what this resource compared before `Configuration`). */
  readonly ConfigurationHash?: string;
  /** The runtime and ApplicationConfiguration as CloudFormation resolved them: changes exactly when UpdateApplication restarts the job. */
  readonly Configuration?: string;
  /** 'false' when the application is retained with the stack: leave it running on delete. */
  readonly StopOnDelete?: string;
  /** 'false' when the application's snapshots are off (`snapshots: false`): a start never restores one. */
  readonly Snapshots?: string;
  /** 'true' to let a start skip snapshot state that maps to no operator of the new program (`AllowNonRestoredState`). */
  readonly AllowNonRestoredState?: string;
  /** Seconds the job must run without a restart before the deploy succeeds; '0' succeeds on RUNNING. */
  readonly SoakSeconds?: string;
  /** CloudWatch metric counting job restarts: `numRestarts` (Flink 2.x) or `fullRestarts` (1.x). */
  readonly RestartsMetric?: string;
  /** The application's log group and stream, read for the job's own error when it restarts. */
  readonly LogGroupName?: string;
  readonly LogStreamName?: string;
}

export interface StarterEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: StarterProperties & { ServiceToken?: string };
  /** Update only: the properties of the previous deployment. */
  readonly OldResourceProperties?: StarterProperties & { ServiceToken?: string };
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
  /**
   * The job was (re)submitted by this deployment (create, a start, or an update that changed the application),
   * so its restart counter starts at 0 and any restart seen during the soak is this deployment's.
   */
  readonly FreshJob?: boolean;
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
export const TRANSITIONAL: ReadonlySet<string> = new Set(['STARTING', 'UPDATING', 'AUTOSCALING', 'STOPPING', 'FORCE_STOPPING', 'ROLLING_BACK', 'MAINTENANCE']);
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

/** The most snapshots one ListApplicationSnapshots page returns (the API's maximum `Limit`). */
const SNAPSHOT_PAGE = 50;

/**
 * RESTORE_FROM_LATEST_SNAPSHOT when any snapshot is READY, else SKIP_RESTORE_FROM_SNAPSHOT (first start, or
 * snapshots deleted or still being created). Pages through every snapshot: the list is not ordered by status,
 * so the first page alone can hold only CREATING or DELETING ones.
 */
export async function restoreTypeFor(client: KinesisAnalyticsV2Client, name: string): Promise<ApplicationRestoreType> {
  let nextToken: string | undefined;
  do {
    const out = await client.send(new ListApplicationSnapshotsCommand({ ApplicationName: name, Limit: SNAPSHOT_PAGE, NextToken: nextToken }));
    if ((out.SnapshotSummaries ?? []).some(s => s.SnapshotStatus === 'READY')) return ApplicationRestoreType.RESTORE_FROM_LATEST_SNAPSHOT;
    nextToken = out.NextToken;
  } while (nextToken);
  return ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT;
}

/**
 * Starts the application when it is stopped; returns what was done. `skipRestore` on the first start and when the
 * application's snapshots are off (`snapshots: false` promises a start from the sources' startup positions, and the
 * service keeps the snapshots taken before it was turned off).
 */
export async function startIfStopped(
  client: KinesisAnalyticsV2Client, name: string, skipRestore: boolean, allowNonRestoredState = false,
): Promise<{ OperationId?: string; RestoreType?: string }> {
  const status = await applicationStatus(client, name);
  if (status === undefined) throw new Error(`Flink application ${name} does not exist; it should have been created before this resource. Check the stack events for its creation error.`);
  if (status !== 'READY') return {}; // running or settling: isComplete waits for RUNNING
  const restore = skipRestore ? ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT : await restoreTypeFor(client, name);
  const out = await client.send(new StartApplicationCommand({
    ApplicationName: name,
    RunConfiguration: {
      ApplicationRestoreConfiguration: { ApplicationRestoreType: restore },
      FlinkRunConfiguration: { AllowNonRestoredState: allowNonRestoredState },
    },
  }));
  return { OperationId: out.OperationId, RestoreType: restore };
}

/**
 * Whether CloudFormation's UpdateApplication restarted the job in this deploy (its restart counter then starts at 0).
 * A previous deploy without `Configuration` (an older release) is compared by the hash alone, so adding the property
 * does not count as a restart of a job that kept running.
 */
function restartedByUpdate(event: StarterEvent): boolean {
  const old = event.OldResourceProperties;
  const now = event.ResourceProperties;
  return old?.ConfigurationHash !== now.ConfigurationHash || (old?.Configuration !== undefined && old.Configuration !== now.Configuration);
}

function snapshotsOff(event: StarterEvent): boolean {
  return event.ResourceProperties.Snapshots === 'false';
}

export async function onEvent(client: KinesisAnalyticsV2Client, event: StarterEvent, now: () => number = Date.now): Promise<OnEventResult> {
  const name = event.ResourceProperties.ApplicationName;
  const allowNonRestored = event.ResourceProperties.AllowNonRestoredState === 'true';
  const startedAt = now();
  switch (event.RequestType) {
    case 'Create': {
      const started = await startIfStopped(client, name, true);
      return { PhysicalResourceId: name, Data: { Target: 'RUNNING', StartedAt: startedAt, FreshJob: true, ...started } };
    }
    case 'Update': {
      // CloudFormation has already applied the new configuration; a running application was restarted by
      // the service from its latest snapshot (the application's run configuration says so). A stopped one is started here.
      const started = await startIfStopped(client, name, snapshotsOff(event), allowNonRestored);
      const changed = restartedByUpdate(event);
      return { PhysicalResourceId: name, Data: { Target: 'RUNNING', StartedAt: startedAt, FreshJob: changed || started.OperationId !== undefined, ...started } };
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

/** Statuses StopApplication accepts with `Force: true` (API_StopApplication). */
const FORCE_STOPPABLE: ReadonlySet<string> = new Set(['STARTING', 'UPDATING', 'STOPPING', 'AUTOSCALING', 'RUNNING']);

/** StopApplication; a ResourceInUseException (a stop already under way) is not an error: the next poll sees it. */
async function stopApplication(client: KinesisAnalyticsV2Client, name: string, force: boolean): Promise<void> {
  try {
    await client.send(new StopApplicationCommand({ ApplicationName: name, Force: force }));
  } catch (e) {
    if (!(e instanceof ResourceInUseException || (e as Error).name === 'ResourceInUseException')) throw e;
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

/** The clients isComplete reads: the application API, CloudWatch metrics (restarts) and the application's logs. */
export interface StarterClients {
  readonly flink: KinesisAnalyticsV2Client;
  readonly cloudwatch?: CloudWatchClient;
  readonly logs?: ApplicationLogs;
}

const MINUTE = 60_000;
/** How long past the soak the starter waits for CloudWatch to publish the restart metric's datapoints. */
const METRIC_GRACE_MS = FLINK_STARTER_METRIC_GRACE_SECONDS * 1000;

/** Restarts counted in one-minute datapoints of the restart metric from `from` to `to`, oldest first. */
export async function restartDatapoints(cloudwatch: CloudWatchClient, name: string, metricName: string, from: number, to: number): Promise<number[]> {
  const points: Array<[number, number]> = [];
  let nextToken: string | undefined;
  do {
    const out = await cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date(from),
      EndTime: new Date(to),
      ScanBy: 'TimestampAscending',
      NextToken: nextToken,
      MetricDataQueries: [{
        Id: 'restarts',
        MetricStat: {
          Metric: { Namespace: 'AWS/KinesisAnalytics', MetricName: metricName, Dimensions: [{ Name: 'Application', Value: name }] },
          Period: 60,
          Stat: 'Maximum',
        },
        ReturnData: true,
      }],
    }));
    const result = (out.MetricDataResults ?? []).find(r => r.Id === 'restarts');
    (result?.Timestamps ?? []).forEach((t, i) => points.push([t.getTime(), result!.Values?.[i] ?? 0]));
    nextToken = out.NextToken;
  } while (nextToken);
  return points.sort((a, b) => a[0] - b[0]).map(p => p[1]);
}

/** Restarts in the datapoints: the rise of the counter, plus its first value when the job started in this deployment. */
export function restartsIn(values: number[], freshJob: boolean): number {
  if (values.length === 0) return 0;
  const rise = Math.max(...values) - values[0];
  return rise + (freshJob ? values[0] : 0);
}

/** RUNNING: succeeds once the job has run `SoakSeconds` without a restart; fails with the job's own error when it restarts. */
async function soak(clients: StarterClients, event: StarterEvent, data: StarterData, now: number, timeoutMs: number): Promise<IsCompleteResult> {
  const props = event.ResourceProperties;
  const name = props.ApplicationName;
  const soakMs = Number(props.SoakSeconds ?? 0) * 1000;
  const done: IsCompleteResult = { IsComplete: true, Data: { Status: 'RUNNING', RestoreType: data.RestoreType ?? 'NONE' } };
  if (soakMs <= 0) return done;
  if (!clients.cloudwatch) throw new Error('flink-starter: SoakSeconds is set but isComplete was given no CloudWatch client.');
  // Datapoints from the first whole minute after this deployment began: earlier minutes may hold the previous job.
  const from = Math.ceil(data.StartedAt / MINUTE) * MINUTE;
  const values = await restartDatapoints(clients.cloudwatch, name, props.RestartsMetric ?? 'numRestarts', from, now);
  const restarts = restartsIn(values, data.FreshJob ?? false);
  if (restarts > 0) {
    const error = clients.logs && props.LogGroupName ? await jobError(clients.logs, props.LogGroupName, props.LogStreamName, data.StartedAt) : undefined;
    throw new Error(`Flink application ${name} is RUNNING but its job restarted ${restarts} time(s) since the deploy began `
      + `(CloudWatch AWS/KinesisAnalytics ${props.RestartsMetric ?? 'numRestarts'}): `
      + `${error ?? `no exception found in the application's log${props.LogGroupName ? ` group ${props.LogGroupName}` : 's (logging is off)'}`}.${fixFor(error)}`);
  }
  if (values.length * MINUTE >= soakMs) return done;
  if (now - data.StartedAt > timeoutMs + soakMs + METRIC_GRACE_MS) {
    throw new Error(`Flink application ${name} is RUNNING, but CloudWatch published ${values.length} of the ${Math.ceil(soakMs / MINUTE)} one-minute `
      + `${props.RestartsMetric ?? 'numRestarts'} datapoints the ${soakMs / 1000}s soak needs, so the job's health is unknown. `
      + 'Check the application\'s metrics and logs; set soakPeriod to Duration.seconds(0) to succeed on RUNNING alone.');
  }
  return { IsComplete: false };
}

export async function isComplete(clientOrClients: KinesisAnalyticsV2Client | StarterClients, event: StarterEvent, now: () => number = Date.now): Promise<IsCompleteResult> {
  const clients: StarterClients = clientOrClients instanceof KinesisAnalyticsV2Client ? { flink: clientOrClients } : clientOrClients;
  const client = clients.flink;
  const name = event.ResourceProperties.ApplicationName;
  const data = event.Data ?? { Target: event.RequestType === 'Delete' ? 'STOPPED' : 'RUNNING', StartedAt: now() };
  const timeoutMs = Number(event.ResourceProperties.TimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  const status = await applicationStatus(client, name);

  if (data.Target === 'STOPPED') {
    if (data.Skipped) return { IsComplete: true };
    if (status === undefined || status === 'READY' || status === 'DELETING') return { IsComplete: true };
    const elapsed = now() - data.StartedAt;
    if (elapsed > timeoutMs) {
      throw new Error(`Flink application ${name} did not stop within ${timeoutMs / 1000}s (status ${status}). Stop it with 'aws kinesisanalyticsv2 stop-application --application-name ${name} --force' and retry the delete.`);
    }
    // A stop with a snapshot fails or hangs when the job cannot snapshot (a restart loop, a restore that never finished,
    // an application stuck UPDATING); the service documents Force for those. Force once the graceful stop failed, or
    // once half the wait is spent, so a rollback or stack delete does not fail on it.
    const stopFailed = data.OperationId !== undefined && (await operationStatus(client, name, data.OperationId)) === 'FAILED';
    if (FORCE_STOPPABLE.has(status) && (stopFailed || elapsed > timeoutMs / 2)) {
      await stopApplication(client, name, true);
      return { IsComplete: false };
    }
    if (status === 'RUNNING' && !data.OperationId) {
      // It was settling (UPDATING/AUTOSCALING) when Delete arrived; stop it now that it can be stopped.
      await stopApplication(client, name, false);
    }
    return { IsComplete: false };
  }

  if (status === undefined) throw new Error(`Flink application ${name} no longer exists.`);
  if (status === 'RUNNING') return soak(clients, event, data, now(), timeoutMs);
  if (status === 'READY' || status === 'ROLLED_BACK') {
    const failure = data.OperationId
      ? await operationFailure(client, name, data.OperationId)
      : await latestFailureSince(client, name, data.StartedAt);
    if (failure) throw new Error(`Flink application ${name} failed to start: ${failure}`);
    if (!data.OperationId && status === 'READY') {
      // It was settling (UPDATING/AUTOSCALING) when onEvent ran and has stopped since: start it now.
      await startIfStopped(client, name, snapshotsOff(event), event.ResourceProperties.AllowNonRestoredState === 'true');
      return { IsComplete: false };
    }
    if (data.OperationId && (await operationStatus(client, name, data.OperationId)) === 'IN_PROGRESS') return { IsComplete: false };
    throw new Error(`Flink application ${name} is ${status} instead of RUNNING: the start did not hold. Read the application's CloudWatch log stream for the job's exception (SQL errors, missing connector classes, Kafka authorization).`);
  }
  if (now() - data.StartedAt > timeoutMs) {
    if ((status === 'UPDATING' || status === 'STARTING') && restoresSnapshot(event, data)) throw await stuckRestoring(clients, event, data, status, timeoutMs);
    throw new Error(`Flink application ${name} did not reach RUNNING within ${timeoutMs / 1000}s (status ${status}${TRANSITIONAL.has(status) ? ', still settling' : ''}). Check its CloudWatch logs; raise startTimeout if the job needs longer to restore state.`);
  }
  return { IsComplete: false };
}

/** An update that restores the latest snapshot: CloudFormation's (RESTORE_FROM_LATEST_SNAPSHOT unless snapshots are off) or the starter's start. */
function restoresSnapshot(event: StarterEvent, data: StarterData): boolean {
  return event.RequestType === 'Update' && !snapshotsOff(event) && data.RestoreType !== ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT;
}

/**
 * The timeout of an update that restores a snapshot and never reaches RUNNING. AWS documents that restoring a snapshot whose
 * state does not correspond to the program's operators fails the application and leaves it stuck in UPDATING or STOPPING
 * (https://docs.aws.amazon.com/managed-flink/latest/java/how-snapshots.html, "Restoring from a snapshot that contains
 * incompatible state data"), so a longer startTimeout would not help: name that cause, with the job's own error when it logged one.
 */
async function stuckRestoring(clients: StarterClients, event: StarterEvent, data: StarterData, status: string, timeoutMs: number): Promise<Error> {
  const props = event.ResourceProperties;
  const error = clients.logs && props.LogGroupName ? await jobError(clients.logs, props.LogGroupName, props.LogStreamName, data.StartedAt) : undefined;
  return new Error(`Flink application ${props.ApplicationName} did not reach RUNNING within ${timeoutMs / 1000}s (status ${status}) after an update `
    + `that restores its latest snapshot. ${error ? `The job logged: ${error}.` : `The job logged no exception${props.LogGroupName ? '' : ' (logging is off)'}.`} `
    + 'An application whose snapshot holds state the new program cannot map fails and stays UPDATING or STOPPING '
    + '(https://docs.aws.amazon.com/managed-flink/latest/java/how-snapshots.html): if this deploy changed the SQL, deploy it once with '
    + 'allowNonRestoredState: true (the state of operators that no longer exist is dropped) or snapshots: false (a fresh start from the '
    + 'sources\' startup positions). Raise startTimeout only if the log shows the job still restoring a large state.');
}
