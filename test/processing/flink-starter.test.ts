// The start/stop custom resource against a mocked Managed Service for Apache Flink API: create, update with snapshot restore, delete, failures and timeouts.
import {
  DescribeApplicationCommand, DescribeApplicationOperationCommand, KinesisAnalyticsV2Client, ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand, ResourceNotFoundException, StartApplicationCommand, StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { isComplete, onEvent, StarterEvent } from '../../lambda/flink-starter/starter';

const mock = mockClient(KinesisAnalyticsV2Client);
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

beforeEach(() => mock.reset());

describe('create', () => {
  test('starts a READY application without restoring a snapshot and waits for RUNNING', async () => {
    status('READY');
    mock.on(StartApplicationCommand).resolves({ OperationId: 'op-1' });
    const result = await onEvent(client, event('Create'), clock(T0));
    expect(result).toEqual({ PhysicalResourceId: NAME, Data: { Target: 'RUNNING', StartedAt: T0, OperationId: 'op-1', RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' } });
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
      expect(result.Data).toEqual({ Target: 'RUNNING', StartedAt: T0 });
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

describe('delete', () => {
  test('a running application is stopped cleanly (with a snapshot) and waited for', async () => {
    status('RUNNING');
    mock.on(StopApplicationCommand).resolves({ OperationId: 'stop-1' });
    const result = await onEvent(client, event('Delete'), clock(T0));
    expect(result).toEqual({ PhysicalResourceId: NAME, Data: { Target: 'STOPPED', StartedAt: T0, OperationId: 'stop-1' } });
    expect(mock.commandCalls(StopApplicationCommand)[0].args[0].input).toEqual({ ApplicationName: NAME, Force: false });
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

  test('times out with the command that forces the stop', async () => {
    mock.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'STOPPING' } as any });
    const data = { Target: 'STOPPED' as const, StartedAt: T0, OperationId: 'stop-1' };
    await expect(isComplete(client, { ...event('Delete'), Data: data }, clock(T0 + 601_000)))
      .rejects.toThrow(`did not stop within 600s (status STOPPING). Stop it with 'aws kinesisanalyticsv2 stop-application --application-name ${NAME} --force'`);
  });
});
