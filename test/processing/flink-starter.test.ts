// The start/stop custom resource against mocked Managed Service for Apache Flink, CloudWatch and CloudWatch Logs APIs: create, update with
// snapshot restore, the no-restart soak, delete, failures and timeouts.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeApplicationCommand, DescribeApplicationOperationCommand, KinesisAnalyticsV2Client, ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand, ResourceInUseException, ResourceNotFoundException, StartApplicationCommand, StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { ApplicationLogs, isComplete, onEvent, StarterEvent } from '../../lambda/flink-starter/starter';

const mock = mockClient(KinesisAnalyticsV2Client);
const cwMock = mockClient(CloudWatchClient);
const cloudwatch = new CloudWatchClient({ region: 'us-east-1' });
const client = new KinesisAnalyticsV2Client({ region: 'us-east-1' });
const NAME = 'orders-enrichment';
const T0 = 1_700_000_000_000;
const clock = (ms: number) => () => ms;

function event(RequestType: StarterEvent['RequestType'], extra: Partial<StarterEvent> = {}, props: Record<string, string> = {}): StarterEvent {
  return { RequestType, PhysicalResourceId: RequestType === 'Create' ? undefined : NAME, ResourceProperties: { ApplicationName: NAME, TimeoutSeconds: '600', ...props }, ...extra };
}

/** DescribeApplication answers with this status until told otherwise. */
function status(s: string) {
  mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: s } as any });
}

beforeEach(() => {
  mock.reset();
  cwMock.reset();
});

describe('create', () => {
  test('starts a READY application without restoring a snapshot and waits for RUNNING', async () => {
    status('READY');
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-1' });
    const result = await onEvent(client, event('Create'), clock(T0));
    expect(result).toEqual({ PhysicalResourceId: NAME, Data: { Target: 'RUNNING', StartedAt: T0, FreshJob: true, OperationId: 'op-1', RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' } });
    expect(mock.commandCalls(StartApplicationCommand)[0].args[0].input).toEqual({
      ApplicationName: NAME,
      RunConfiguration: {
        ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' },
        FlinkRunConfiguration: { AllowNonRestoredState: false },
      },
    });
    expect(mock.commandCalls(ListApplicationSnapshotsCommand)).toHaveLength(0);

    status('STARTING');
    expect(await isComplete(client, { ...event('Create'), Data: result.Data }, clock(T0 + 30_000))).toEqual({ IsComplete: false });
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'RUNNING' } as any });
    expect(await isComplete(client, { ...event('Create'), Data: result.Data }, clock(T0 + 60_000)))
      .toEqual({ IsComplete: true, Data: { Status: 'RUNNING', RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' } });
  });

  test('is idempotent: an application already RUNNING or STARTING is not started again', async () => {
    for (const s of ['RUNNING', 'STARTING']) {
      mock.reset();
      status(s);
      const result = await onEvent(client, event('Create'), clock(T0));
      expect(result.Data).toEqual({ Target: 'RUNNING', StartedAt: T0, FreshJob: true });
      expect(mock.commandCalls(StartApplicationCommand)).toHaveLength(0);
    }
  });

  test('fails with the application\'s own error when the start operation fails', async () => {
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'READY' } as any });
    mock.on(DescribeApplicationOperationCommand, { OperationId: 'op-1' }).resolves({
      ApplicationOperationInfoDetails: {
        Operation: 'StartApplication', OperationStatus: 'FAILED', StartTime: new Date(T0), EndTime: new Date(T0 + 1),
        OperationFailureDetails: { ErrorInfo: { ErrorString: 'org.apache.flink.table.api.ValidationException: Could not find any factory for identifier \'kafka\'' } },
      },
    });
    const data = { Target: 'RUNNING' as const, StartedAt: T0, OperationId: 'op-1', RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' };
    await expect(isComplete(client, { ...event('Create'), Data: data }, clock(T0 + 90_000)))
      .rejects.toThrow(`Flink application ${NAME} failed to start: org.apache.flink.table.api.ValidationException: Could not find any factory for identifier 'kafka'`);
  });

  test('fails with a pointer to the logs when the start succeeded but the application fell back to READY', async () => {
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'READY' } as any });
    mock.on(DescribeApplicationOperationCommand).resolves({ ApplicationOperationInfoDetails: { Operation: 'StartApplication', OperationStatus: 'SUCCESSFUL', StartTime: new Date(T0), EndTime: new Date(T0) } });
    const data = { Target: 'RUNNING' as const, StartedAt: T0, OperationId: 'op-1' };
    await expect(isComplete(client, { ...event('Create'), Data: data }, clock(T0 + 1000))).rejects.toThrow(/is READY instead of RUNNING.*CloudWatch log stream/);
  });

  test('times out with the current status when RUNNING never comes', async () => {
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'STARTING' } as any });
    const data = { Target: 'RUNNING' as const, StartedAt: T0, OperationId: 'op-1' };
    expect(await isComplete(client, { ...event('Create'), Data: data }, clock(T0 + 599_000))).toEqual({ IsComplete: false });
    await expect(isComplete(client, { ...event('Create'), Data: data }, clock(T0 + 601_000)))
      .rejects.toThrow(`Flink application ${NAME} did not reach RUNNING within 600s (status STARTING, still settling)`);
  });

  test('fails clearly when the application does not exist', async () => {
    mock.on(DescribeApplicationCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    await expect(onEvent(client, event('Create'), clock(T0))).rejects.toThrow(/does not exist; it should have been created before this resource/);
  });
});

describe('update', () => {
  test('a stopped application is started from its latest snapshot', async () => {
    status('READY');
    mock.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 's1', SnapshotStatus: 'READY' } as any] });
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-2' });
    const result = await onEvent(client, event('Update'), clock(T0));
    expect(result.Data).toMatchObject({ RestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT', OperationId: 'op-2' });
    expect(mock.commandCalls(StartApplicationCommand)[0].args[0].input.RunConfiguration?.ApplicationRestoreConfiguration)
      .toEqual({ ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' });
  });

  test('with snapshots off (snapshots: false) a stopped application starts without restoring the snapshots taken before', async () => {
    status('READY');
    mock.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 'before-off', SnapshotStatus: 'READY' } as any] });
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-5' });
    const result = await onEvent(client, event('Update', {}, { Snapshots: 'false' }), clock(T0));
    expect(result.Data).toMatchObject({ RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT', OperationId: 'op-5' });
    expect(mock.commandCalls(StartApplicationCommand)[0].args[0].input.RunConfiguration?.ApplicationRestoreConfiguration)
      .toEqual({ ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' });
    // The same when the application settled into READY after UPDATING (isComplete starts it).
    mock.reset();
    status('READY');
    mock.on(ListApplicationOperationsCommand).resolves({ ApplicationOperationInfoList: [] });
    mock.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 'before-off', SnapshotStatus: 'READY' } as any] });
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-6' });
    const data = { Target: 'RUNNING' as const, StartedAt: T0 };
    expect(await isComplete(client, { ...event('Update', {}, { Snapshots: 'false' }), Data: data }, clock(T0 + 5_000))).toEqual({ IsComplete: false });
    expect(mock.commandCalls(StartApplicationCommand)[0].args[0].input.RunConfiguration?.ApplicationRestoreConfiguration?.ApplicationRestoreType).toBe('SKIP_RESTORE_FROM_SNAPSHOT');
  });

  test('without any snapshot the start skips the restore', async () => {
    status('READY');
    mock.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [] });
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-3' });
    expect((await onEvent(client, event('Update'), clock(T0))).Data.RestoreType).toBe('SKIP_RESTORE_FROM_SNAPSHOT');
  });

  test('an application that is UPDATING or AUTOSCALING is waited for, not started', async () => {
    for (const s of ['UPDATING', 'AUTOSCALING']) {
      mock.reset();
      status(s);
      const result = await onEvent(client, event('Update'), clock(T0));
      expect(mock.commandCalls(StartApplicationCommand)).toHaveLength(0);
      mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: s } as any });
      expect(await isComplete(client, { ...event('Update'), Data: result.Data }, clock(T0 + 10_000))).toEqual({ IsComplete: false });
      mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'RUNNING' } as any });
      expect((await isComplete(client, { ...event('Update'), Data: result.Data }, clock(T0 + 20_000))).IsComplete).toBe(true);
    }
  });

  test('an application that settled into READY after UPDATING is started; a failed update surfaces its error', async () => {
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'READY' } as any });
    mock.on(ListApplicationOperationsCommand).resolves({ ApplicationOperationInfoList: [] });
    mock.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 's', SnapshotStatus: 'READY' } as any] });
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-4' });
    const data = { Target: 'RUNNING' as const, StartedAt: T0 };
    expect(await isComplete(client, { ...event('Update'), Data: data }, clock(T0 + 5_000))).toEqual({ IsComplete: false });
    expect(mock.commandCalls(StartApplicationCommand)[0].args[0].input.RunConfiguration?.ApplicationRestoreConfiguration?.ApplicationRestoreType).toBe('RESTORE_FROM_LATEST_SNAPSHOT');

    mock.on(ListApplicationOperationsCommand).resolves({ ApplicationOperationInfoList: [
      { OperationId: 'old', OperationStatus: 'FAILED', StartTime: new Date(T0 - 60_000) },
      { OperationId: 'op-4', OperationStatus: 'FAILED', StartTime: new Date(T0 + 5_000) },
    ] });
    mock.on(DescribeApplicationOperationCommand, { OperationId: 'op-4' }).resolves({ ApplicationOperationInfoDetails: {
      Operation: 'StartApplication', OperationStatus: 'FAILED', StartTime: new Date(T0 + 5_000), EndTime: new Date(T0 + 9_000),
      OperationFailureDetails: { ErrorInfo: { ErrorString: 'Kafka: Not authorized to access group' } },
    } });
    await expect(isComplete(client, { ...event('Update'), Data: data }, clock(T0 + 30_000))).rejects.toThrow(`Flink application ${NAME} failed to start: Kafka: Not authorized to access group`);
  });
});

describe('snapshots and non-restored state', () => {
  test('pages through every snapshot: a READY one on a later page still restores', async () => {
    status('READY');
    mock.on(ListApplicationSnapshotsCommand)
      .resolves({ SnapshotSummaries: [] })
      .on(ListApplicationSnapshotsCommand, { NextToken: undefined })
      .resolves({ SnapshotSummaries: [{ SnapshotName: 'being-made', SnapshotStatus: 'CREATING' } as any, { SnapshotName: 'going', SnapshotStatus: 'DELETING' } as any], NextToken: 'page-2' })
      .on(ListApplicationSnapshotsCommand, { NextToken: 'page-2' })
      .resolves({ SnapshotSummaries: [{ SnapshotName: 'older', SnapshotStatus: 'READY' } as any] });
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-5' });
    const result = await onEvent(client, event('Update'), clock(T0));
    expect(result.Data.RestoreType).toBe('RESTORE_FROM_LATEST_SNAPSHOT');
    expect(mock.commandCalls(ListApplicationSnapshotsCommand).map(c => c.args[0].input)).toEqual([
      { ApplicationName: NAME, Limit: 50, NextToken: undefined },
      { ApplicationName: NAME, Limit: 50, NextToken: 'page-2' },
    ]);
  });

  test('allowNonRestoredState reaches StartApplication on update (and stays false by default)', async () => {
    for (const [allow, expected] of [['true', true], [undefined, false]] as const) {
      mock.reset();
      status('READY');
      mock.on(ListApplicationSnapshotsCommand).resolves({ SnapshotSummaries: [{ SnapshotName: 's', SnapshotStatus: 'READY' } as any] });
      mock.on(StartApplicationCommand).resolves({ OperationId: 'op-6' });
      await onEvent(client, event('Update', {}, allow ? { AllowNonRestoredState: allow } : {}), clock(T0));
      expect(mock.commandCalls(StartApplicationCommand)[0].args[0].input.RunConfiguration).toEqual({
        ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' },
        FlinkRunConfiguration: { AllowNonRestoredState: expected },
      });
    }
  });

  test('an update that changed the application resubmitted the job; one that changed nothing did not', async () => {
    status('RUNNING');
    const changed = await onEvent(client, event('Update', { OldResourceProperties: { ApplicationName: NAME, ConfigurationHash: 'a' } }, { ConfigurationHash: 'b' }), clock(T0));
    expect(changed.Data.FreshJob).toBe(true);
    const same = await onEvent(client, event('Update', { OldResourceProperties: { ApplicationName: NAME, ConfigurationHash: 'a' } }, { ConfigurationHash: 'a' }), clock(T0));
    expect(same.Data.FreshJob).toBe(false);
  });

  test('a changed configuration (sqlVariables, checkpoints, log levels) resubmitted the job even when the hash stayed; a first Configuration did not', async () => {
    status('RUNNING');
    const update = (old: Record<string, string>, now: Record<string, string>) =>
      onEvent(client, event('Update', { OldResourceProperties: { ApplicationName: NAME, ConfigurationHash: 'a', ...old } }, { ConfigurationHash: 'a', ...now }), clock(T0));
    expect((await update({ Configuration: '{"logLevel":"INFO"}' }, { Configuration: '{"logLevel":"WARN"}' })).Data.FreshJob).toBe(true);
    expect((await update({ Configuration: '{"logLevel":"INFO"}' }, { Configuration: '{"logLevel":"INFO"}' })).Data.FreshJob).toBe(false);
    // The first deploy of this release adds the property to a starter that never had it: the job kept running.
    expect((await update({}, { Configuration: '{"logLevel":"INFO"}' })).Data.FreshJob).toBe(false);
  });
});

describe('soak: RUNNING is not enough, the job must run without restarts', () => {
  const SOAK = { SoakSeconds: '180', RestartsMetric: 'numRestarts', LogGroupName: '/flink/orders', LogStreamName: 'app' };
  const data = { Target: 'RUNNING' as const, StartedAt: T0, FreshJob: true, OperationId: 'op-1', RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' };
  /** CloudWatch answers GetMetricData with these per-minute Maximum values of the restart metric. */
  const restarts = (...values: number[]) => cwMock.on(GetMetricDataCommand).resolves({
    MetricDataResults: [{ Id: 'restarts', StatusCode: 'Complete', Timestamps: values.map((_, i) => new Date(T0 + (i + 1) * 60_000)), Values: values }],
  });
  /** FilterLogEvents answers, as CloudWatch Logs returns the JSON records Managed Service for Apache Flink writes. */
  const logRecords = (...records: object[]): ApplicationLogs & { calls: any[] } => {
    const calls: any[] = [];
    return {
      calls,
      async filterLogEvents(input) {
        calls.push(input);
        return { events: records.map((r, i) => ({ timestamp: T0 + 60_000 + i * 1000, message: JSON.stringify(r), logStreamName: 'app', eventId: String(i) })) };
      },
    };
  };
  const record = (messageType: string, message: string, throwableInformation?: string) => ({
    locationInformation: 'org.apache.flink.runtime.executiongraph.ExecutionGraph.transitionState(ExecutionGraph.java:1100)',
    logger: 'org.apache.flink.runtime.executiongraph.ExecutionGraph', message, ...(throwableInformation ? { throwableInformation } : {}),
    threadName: 'flink-pekko.actor.default-dispatcher-5', applicationARN: `arn:aws:kinesisanalytics:us-east-1:123456789012:application/${NAME}`,
    applicationVersionId: '3', messageSchemaVersion: '1', messageType,
  });

  test('a job that restarts while the application is RUNNING fails the deploy with the job\'s first exception', async () => {
    status('RUNNING');
    restarts(0, 1, 3);
    const logs = logRecords(
      record('INFO', 'Job insert-into_default_catalog.default_database.orders_enriched (ab12) switched from state RUNNING to RESTARTING.',
        'org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x\nCaused by: org.apache.flink.kafka.shaded.org.apache.kafka.common.KafkaException: Failed to create new KafkaAdminClient\nCaused by: java.lang.ClassCastException: class software.amazon.msk.auth.iam.IAMClientCallbackHandler cannot be cast to class org.apache.flink.kafka.shaded.org.apache.kafka.common.security.auth.AuthenticateCallbackHandler'),
      record('ERROR', 'a later repetition', 'java.lang.IllegalStateException: later'),
    );
    await expect(isComplete({ flink: client, cloudwatch, logs }, { ...event('Create', {}, SOAK), Data: data }, clock(T0 + 4 * 60_000)))
      .rejects.toThrow(`Flink application ${NAME} is RUNNING but its job restarted 3 time(s) since the deploy began (CloudWatch AWS/KinesisAnalytics numRestarts): `
        + 'Job insert-into_default_catalog.default_database.orders_enriched (ab12) switched from state RUNNING to RESTARTING.: java.lang.ClassCastException: class software.amazon.msk.auth.iam.IAMClientCallbackHandler cannot be cast to class');
    expect(logs.calls[0]).toEqual({ logGroupName: '/flink/orders', logStreamNames: ['app'], startTime: T0, filterPattern: '?ERROR ?Exception ?Error', nextToken: undefined, limit: 100 });
    expect(cwMock.commandCalls(GetMetricDataCommand)[0].args[0].input).toEqual({
      StartTime: new Date(Math.ceil(T0 / 60_000) * 60_000),
      EndTime: new Date(T0 + 4 * 60_000),
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
      MetricDataQueries: [{
        Id: 'restarts',
        MetricStat: { Metric: { Namespace: 'AWS/KinesisAnalytics', MetricName: 'numRestarts', Dimensions: [{ Name: 'Application', Value: NAME }] }, Period: 60, Stat: 'Maximum' },
        ReturnData: true,
      }],
    });
  });

  test('a healthy job completes only after the soak\'s datapoints are in, all without restarts', async () => {
    status('RUNNING');
    const logs = logRecords();
    restarts(0, 0);
    expect(await isComplete({ flink: client, cloudwatch, logs }, { ...event('Create', {}, SOAK), Data: data }, clock(T0 + 3 * 60_000))).toEqual({ IsComplete: false });
    restarts(0, 0, 0);
    expect(await isComplete({ flink: client, cloudwatch, logs }, { ...event('Create', {}, SOAK), Data: data }, clock(T0 + 4 * 60_000)))
      .toEqual({ IsComplete: true, Data: { Status: 'RUNNING', RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' } });
    expect(logs.calls).toEqual([]);
  });

  test('a job this deploy did not resubmit counts only new restarts; a fresh one counts its first value too', async () => {
    status('RUNNING');
    restarts(2, 2, 2);
    const logs = logRecords();
    expect((await isComplete({ flink: client, cloudwatch, logs }, { ...event('Update', {}, SOAK), Data: { ...data, FreshJob: false } }, clock(T0 + 4 * 60_000))).IsComplete).toBe(true);
    await expect(isComplete({ flink: client, cloudwatch, logs }, { ...event('Update', {}, SOAK), Data: data }, clock(T0 + 4 * 60_000))).rejects.toThrow(/restarted 2 time\(s\)/);
  });

  test('a changed SQL that cannot restore the snapshot names allowNonRestoredState as the fix', async () => {
    status('RUNNING');
    restarts(1);
    const logs = logRecords(record('INFO', 'Job orders (cd34) switched from state RUNNING to RESTARTING.',
      'java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint s3://snap. Cannot map checkpoint/savepoint state for operator 8f3a to the new program, because the operator is not available in the new program. If you want to allow to skip this, you can set the --allowNonRestoredState option on the CLI.'));
    await expect(isComplete({ flink: client, cloudwatch, logs }, { ...event('Update', {}, SOAK), Data: data }, clock(T0 + 2 * 60_000)))
      .rejects.toThrow(/Cannot map checkpoint\/savepoint state for operator 8f3a.*Deploy it once with allowNonRestoredState: true/);
  });

  test('without the metric\'s datapoints the deploy fails after the soak and its grace, saying how to proceed', async () => {
    status('RUNNING');
    restarts();
    const logs = logRecords();
    expect(await isComplete({ flink: client, cloudwatch, logs }, { ...event('Create', {}, SOAK), Data: data }, clock(T0 + 600_000 + 180_000 + 299_000))).toEqual({ IsComplete: false });
    await expect(isComplete({ flink: client, cloudwatch, logs }, { ...event('Create', {}, SOAK), Data: data }, clock(T0 + 600_000 + 180_000 + 301_000)))
      .rejects.toThrow(/CloudWatch published 0 of the 3 one-minute numRestarts datapoints the 180s soak needs.*soakPeriod to Duration.seconds\(0\)/);
  });

  test('an update that restores a snapshot and stays UPDATING or STARTING past startTimeout names the snapshot as the likely cause, not a longer startTimeout', async () => {
    const updated = { Target: 'RUNNING' as const, StartedAt: T0, FreshJob: true };
    const logs = logRecords(record('INFO', 'Job orders (cd34) switched from state INITIALIZING to FAILED.',
      'java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint s3://snap. Cannot map checkpoint/savepoint state for operator 8f3a to the new program, because the operator is not available in the new program.'));
    status('UPDATING');
    expect(await isComplete({ flink: client, cloudwatch, logs }, { ...event('Update', {}, SOAK), Data: updated }, clock(T0 + 599_000))).toEqual({ IsComplete: false });
    const stuck = isComplete({ flink: client, cloudwatch, logs }, { ...event('Update', {}, SOAK), Data: updated }, clock(T0 + 601_000));
    await expect(stuck).rejects.toThrow(`Flink application ${NAME} did not reach RUNNING within 600s (status UPDATING) after an update that restores its latest snapshot. `
      + 'The job logged: Job orders (cd34) switched from state INITIALIZING to FAILED.: java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint s3://snap. Cannot map checkpoint/savepoint state');
    await expect(isComplete({ flink: client, cloudwatch, logs }, { ...event('Update', {}, SOAK), Data: updated }, clock(T0 + 601_000))).rejects.toThrow(
      /stays UPDATING or STOPPING \(https:\/\/docs\.aws\.amazon\.com\/managed-flink\/latest\/java\/how-snapshots\.html\): if this deploy changed the SQL, deploy it once with allowNonRestoredState: true .* or snapshots: false .*Raise startTimeout only if the log shows the job still restoring a large state\.$/);
    // A stopped application the starter started from its snapshot, stuck STARTING, without logging.
    status('STARTING');
    const started = { ...updated, OperationId: 'op-1', RestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' };
    await expect(isComplete({ flink: client, cloudwatch }, { ...event('Update'), Data: started }, clock(T0 + 601_000)))
      .rejects.toThrow(/\(status STARTING\) after an update that restores its latest snapshot\. The job logged no exception \(logging is off\)\. .*allowNonRestoredState: true/);
    // No snapshot restored (a create, snapshots off, a start that skipped the restore): the timeout says what it said.
    for (const [ev, data] of [
      [event('Create', {}, SOAK), updated],
      [event('Update', {}, { ...SOAK, Snapshots: 'false' }), updated],
      [event('Update', {}, SOAK), { ...started, RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' }],
    ] as const) {
      await expect(isComplete({ flink: client, cloudwatch, logs }, { ...ev, Data: data }, clock(T0 + 601_000)))
        .rejects.toThrow(/still settling\)\. Check its CloudWatch logs; raise startTimeout if the job needs longer to restore state\./);
    }
  });

  test('with the soak off (SoakSeconds 0) RUNNING completes at once, reading no metric', async () => {
    status('RUNNING');
    expect((await isComplete({ flink: client, cloudwatch }, { ...event('Create', {}, { SoakSeconds: '0' }), Data: data }, clock(T0))).IsComplete).toBe(true);
    expect(cwMock.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

describe('delete', () => {
  test('a running application is stopped cleanly (with a snapshot) and waited for', async () => {
    status('RUNNING');
    mock.on(StopApplicationCommand).resolves({ OperationId: 'stop-1' });
    const result = await onEvent(client, event('Delete'), clock(T0));
    expect(result).toEqual({ PhysicalResourceId: NAME, Data: { Target: 'STOPPED', StartedAt: T0, OperationId: 'stop-1' } });
    expect(mock.commandCalls(StopApplicationCommand)[0].args[0].input).toEqual({ ApplicationName: NAME, Force: false });
    mock.on(DescribeApplicationOperationCommand, { OperationId: 'stop-1' }).resolves({ ApplicationOperationInfoDetails: { Operation: 'StopApplication', OperationStatus: 'IN_PROGRESS', StartTime: new Date(T0) } as any });
    status('STOPPING');
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0 + 10_000))).toEqual({ IsComplete: false });
    status('READY');
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0 + 20_000))).toEqual({ IsComplete: true });
  });

  test('an application already gone or stopped needs nothing', async () => {
    mock.on(DescribeApplicationCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    const result = await onEvent(client, event('Delete'), clock(T0));
    expect(mock.commandCalls(StopApplicationCommand)).toHaveLength(0);
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0))).toEqual({ IsComplete: true });
  });

  test('an application UPDATING when delete arrives is stopped once it is RUNNING', async () => {
    status('UPDATING');
    const result = await onEvent(client, event('Delete'), clock(T0));
    expect(mock.commandCalls(StopApplicationCommand)).toHaveLength(0);
    status('RUNNING');
    mock.on(StopApplicationCommand).resolves({ OperationId: 'stop-2' });
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0 + 10_000))).toEqual({ IsComplete: false });
    expect(mock.commandCalls(StopApplicationCommand)).toHaveLength(1);
  });

  test('a retained application is left running', async () => {
    const result = await onEvent(client, event('Delete', {}, { StopOnDelete: 'false' }), clock(T0));
    expect(mock.commandCalls(DescribeApplicationCommand)).toHaveLength(0);
    expect(mock.commandCalls(StopApplicationCommand)).toHaveLength(0);
    status('RUNNING');
    expect(await isComplete(client, { ...event('Delete', {}, { StopOnDelete: 'false' }), Data: result.Data }, clock(T0))).toEqual({ IsComplete: true });
  });

  test('a graceful stop that failed (the job could not snapshot) is forced, once, and the delete completes', async () => {
    status('RUNNING');
    mock.on(StopApplicationCommand).resolves({ OperationId: 'stop-1' });
    const result = await onEvent(client, event('Delete'), clock(T0));
    // StopApplication without Force snapshots first; a job in a restart loop cannot, the operation fails and the application stays RUNNING.
    mock.on(DescribeApplicationOperationCommand, { OperationId: 'stop-1' }).resolves({ ApplicationOperationInfoDetails: {
      Operation: 'StopApplication', OperationStatus: 'FAILED', StartTime: new Date(T0), EndTime: new Date(T0 + 20_000),
      OperationFailureDetails: { ErrorInfo: { ErrorString: 'Snapshot creation failed' } },
    } });
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0 + 30_000))).toEqual({ IsComplete: false });
    expect(mock.commandCalls(StopApplicationCommand).map(c => c.args[0].input)).toEqual([
      { ApplicationName: NAME, Force: false }, { ApplicationName: NAME, Force: true },
    ]);
    status('FORCE_STOPPING');
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0 + 45_000))).toEqual({ IsComplete: false });
    expect(mock.commandCalls(StopApplicationCommand)).toHaveLength(2);
    status('READY');
    expect(await isComplete(client, { ...event('Delete'), Data: result.Data }, clock(T0 + 60_000))).toEqual({ IsComplete: true });
  });

  test('an application that stays UPDATING or STOPPING is forced after half the wait; a stop already under way is not an error', async () => {
    for (const [s, data] of [['UPDATING', { Target: 'STOPPED' as const, StartedAt: T0 }], ['STOPPING', { Target: 'STOPPED' as const, StartedAt: T0, OperationId: 'stop-1' }]] as const) {
      mock.reset();
      status(s);
      mock.on(DescribeApplicationOperationCommand).resolves({ ApplicationOperationInfoDetails: { Operation: 'StopApplication', OperationStatus: 'IN_PROGRESS', StartTime: new Date(T0) } as any });
      expect(await isComplete(client, { ...event('Delete'), Data: data }, clock(T0 + 299_000))).toEqual({ IsComplete: false });
      expect(mock.commandCalls(StopApplicationCommand)).toHaveLength(0);
      mock.on(StopApplicationCommand).rejects(new ResourceInUseException({ message: 'in use', $metadata: {} }));
      expect(await isComplete(client, { ...event('Delete'), Data: data }, clock(T0 + 301_000))).toEqual({ IsComplete: false });
      expect(mock.commandCalls(StopApplicationCommand).map(c => c.args[0].input)).toEqual([{ ApplicationName: NAME, Force: true }]);
    }
  });

  test('times out with the command that forces the stop', async () => {
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'STOPPING' } as any });
    const data = { Target: 'STOPPED' as const, StartedAt: T0, OperationId: 'stop-1' };
    await expect(isComplete(client, { ...event('Delete'), Data: data }, clock(T0 + 601_000)))
      .rejects.toThrow(`did not stop within 600s (status STOPPING). Stop it with 'aws kinesisanalyticsv2 stop-application --application-name ${NAME} --force'`);
  });
});
