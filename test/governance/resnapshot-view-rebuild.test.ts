// `agent-data-stack resnapshot --view <derived view>` against mocked AWS: finds the Flink applications on the view's lineage path in the
// deployed template, stops each (Force false) and starts it with SKIP_RESTORE_FROM_SNAPSHOT (or a named snapshot), then re-snapshots the
// captured tables the view traces back to. Request and response shapes as the Managed Flink API reference documents them.
import { CloudFormationClient, GetTemplateCommand, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeApplicationCommand, DescribeApplicationOperationCommand, KinesisAnalyticsV2Client, StartApplicationCommand, StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { main, resnapshotCommand } from '../../cli/agent-data-stack';
import type { ResnapshotClients } from '../../cli/resnapshot';
import { lineageCatalogFromTemplate } from '../../cli/rebuild-view';

const SIGNAL = '0d6b3a52-3f4e-4f63-9d55-2a7c1b9e8f10';
const APP = 'AgentDataStack-Transformorderenrichment-35BD9E56';
const RESOURCES = [
  { LogicalResourceId: 'SourceReplicationBootstrap706912BA', ResourceType: 'Custom::CdcReplicationBootstrap', PhysicalResourceId: 'cdc-bootstrap:postgresql:db:5432' },
  { LogicalResourceId: 'SourceBootstrapProviderOnEvent79A81812', ResourceType: 'AWS::Lambda::Function', PhysicalResourceId: 'AgentDataStack-SourceBootstrapOnEvent-abc' },
  { LogicalResourceId: 'CdcSnapshotSignal03AB1B76', ResourceType: 'Custom::CdcSnapshotSignal', PhysicalResourceId: 'cdc-snapshot-signal:x' },
  { LogicalResourceId: 'CdcLogs3D1A5B8E', ResourceType: 'AWS::Logs::LogGroup', PhysicalResourceId: 'AgentDataStack-CdcLogs-xyz' },
].map(r => ({ ...r, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) })) as StackResourceSummary[];
const VIEWS = [
  { name: 'customer', format: 'debezium', sourceTable: 'public.customers' },
  { name: 'order_enriched', format: 'upsert-kafka', sourceTable: 'orders_enriched' },
];
// The catalog as AgentLineageCatalog stores it: JSON split over SSM parameters, in the template with literal values.
const CATALOG = JSON.stringify({
  version: 1, namespace: 'AgentDataStack', nodes: [], edges: [],
  views: [
    { view: 'customer', store: 'cache', topic: 'agentdata.public.customers', sourceTables: ['public.customers'], pipeline: [], tools: [] },
    { view: 'order_enriched', store: 'cache', topic: 'agentdata.flink.orders_enriched', sourceTables: ['public.orders', 'public.customers'], pipeline: [`${APP}#0`], tools: [] },
  ],
});
const TEMPLATE = {
  Resources: {
    SinkFunction5A215B22: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { AGENT_VIEWS: JSON.stringify(VIEWS) } } } },
    // Listed second part first: the parts are joined by their number, not their order in the template.
    LineagePart15C77A602: { Type: 'AWS::SSM::Parameter', Properties: { Description: 'Lineage catalog of AgentDataStack, part 2 of 2', Type: 'String', Value: CATALOG.slice(100) } },
    Lineage4C4A82D7: { Type: 'AWS::SSM::Parameter', Properties: { Description: 'Lineage catalog of AgentDataStack, part 1 of 2', Type: 'String', Value: CATALOG.slice(0, 100) } },
  },
};
const line = (type: string, extra = '') => `2026-12-01 02:00:00,000 INFO || [Notification Service]  {id='${SIGNAL}', aggregateType='Incremental Snapshot', type='${type}', additionalData={connector_name=shop${extra}}, timestamp=1764554400000} [io.debezium.pipeline.notification.channels.LogNotificationChannel]`;

const cfn = mockClient(CloudFormationClient);
const logs = mockClient(CloudWatchLogsClient);
const kda = mockClient(KinesisAnalyticsV2Client);
let invocations: unknown[];
let out: string[];
let err: string[];
let calls: string[];

function clients(): ResnapshotClients {
  return {
    cloudformation: new CloudFormationClient({ region: 'us-east-1' }), logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
    flink: new KinesisAnalyticsV2Client({ region: 'us-east-1' }),
    invoke: async <T>(_fn: string, payload: unknown) => {
      invocations.push(payload);
      calls.push('signal');
      return { SignalId: SIGNAL, SignalTable: 'public.debezium_signal', Tables: (payload as { Tables: string[] }).Tables } as T;
    },
    sleep: async () => undefined,
  };
}

async function run(...args: string[]): Promise<number> {
  resnapshotCommand.clients = clients();
  return main(['resnapshot', ...args], { stdout: t => out.push(t), stderr: t => err.push(t), env: {} });
}

/** DescribeApplication answers walking through `states`, one per call (the last one repeats); StopApplication/StartApplication are recorded. */
function application(states: string[]) {
  let i = 0;
  kda.on(DescribeApplicationCommand).callsFake(() => {
    const s = states[Math.min(i++, states.length - 1)];
    calls.push(`describe:${s}`);
    // DescribeApplication response: ApplicationDetail with ApplicationStatus (and the run configuration it was started with).
    return { ApplicationDetail: { ApplicationARN: `arn:aws:kinesisanalytics:us-east-1:123456789012:application/${APP}`, ApplicationName: APP, RuntimeEnvironment: 'FLINK-1_20', ApplicationStatus: s, ApplicationVersionId: 3 } };
  });
  // StopApplication and StartApplication return an OperationId (API_StopApplication.html, API_StartApplication.html).
  kda.on(StopApplicationCommand).callsFake(() => { calls.push('stop'); return { OperationId: 'op-stop' }; });
  kda.on(StartApplicationCommand).callsFake(() => { calls.push('start'); return { OperationId: 'op-start' }; });
}

beforeEach(() => {
  cfn.reset();
  logs.reset();
  kda.reset();
  invocations = [];
  out = [];
  err = [];
  calls = [];
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: RESOURCES });
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify(TEMPLATE) });
  logs.on(FilterLogEventsCommand).resolves({ events: [{ eventId: '1', message: line('STARTED', ', data_collections=public.orders,public.customers') }, { eventId: '2', message: line('COMPLETED') }] });
});

test('the lineage catalog is joined from its SSM parameter parts in part order', () => {
  expect(lineageCatalogFromTemplate(TEMPLATE)?.views.map(v => v.view)).toEqual(['customer', 'order_enriched']);
  expect(lineageCatalogFromTemplate({ Resources: {} })).toBeUndefined();
});

test('a derived view: its Flink application is stopped with a snapshot, started without restoring state, then its captured tables are re-snapshotted', async () => {
  application(['RUNNING', 'STOPPING', 'READY', 'STARTING', 'RUNNING']);
  expect(await run('--view', 'order_enriched')).toBe(0);
  expect(kda.commandCalls(StopApplicationCommand).map(c => c.args[0].input)).toEqual([{ ApplicationName: APP, Force: false }]);
  expect(kda.commandCalls(StartApplicationCommand).map(c => c.args[0].input)).toEqual([{
    ApplicationName: APP,
    RunConfiguration: { ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' }, FlinkRunConfiguration: { AllowNonRestoredState: false } },
  }]);
  // Started only once READY, the signal only once RUNNING again.
  expect(calls).toEqual(['describe:RUNNING', 'stop', 'describe:STOPPING', 'describe:READY', 'start', 'describe:STARTING', 'describe:RUNNING', 'signal']);
  expect(invocations).toEqual([{ Action: 'execute-snapshot', Tables: ['public.orders', 'public.customers'] }]);
  expect(out.join('\n')).toMatch(/starting without state: its Kafka sources start from their declared scan.startup.mode/);
  expect(out.join('\n')).toMatch(/can step back to older results until the job has caught up/);
  expect(out[out.length - 1]).toMatch(new RegExp(`Snapshot ${SIGNAL} completed`));
});

test('--from-snapshot restores the named snapshot (RESTORE_FROM_CUSTOM_SNAPSHOT) of a stopped application and sends no signal', async () => {
  application(['READY', 'STARTING', 'RUNNING']);
  expect(await run('--view', 'order_enriched', '--from-snapshot', 'before-backfill')).toBe(0);
  expect(kda.commandCalls(StopApplicationCommand)).toHaveLength(0);
  expect(kda.commandCalls(StartApplicationCommand)[0].args[0].input.RunConfiguration).toEqual({
    ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_CUSTOM_SNAPSHOT', SnapshotName: 'before-backfill' }, FlinkRunConfiguration: { AllowNonRestoredState: false },
  });
  expect(invocations).toEqual([]);
});

test('a view of a captured table is re-snapshotted without touching Flink; --from-snapshot on it is a usage error', async () => {
  application(['RUNNING']);
  expect(await run('--view', 'customer', '--no-wait')).toBe(0);
  expect(invocations).toEqual([{ Action: 'execute-snapshot', Tables: ['public.customers'] }]);
  expect(kda.calls()).toHaveLength(0);
  expect(await run('--view', 'customer', '--from-snapshot', 'x')).toBe(2);
  expect(err.pop()).toMatch(/--from-snapshot applies to a view computed by Flink/);
});

test('an application that never comes back to RUNNING fails the command with what to check', async () => {
  application(['RUNNING', 'STOPPING', 'READY', 'STARTING']);
  let t = 0;
  resnapshotCommand.clients = { ...clients(), now: () => (t += 60_000) };
  expect(await main(['resnapshot', '--view', 'order_enriched', '--timeout', '300'], { stdout: l => out.push(l), stderr: l => err.push(l), env: {} })).toBe(2);
  expect(err.pop()).toMatch(new RegExp(`Flink application ${APP} is STARTING, not RUNNING, after the timeout`));
  expect(invocations).toEqual([]);
});

test('a derived view of a stack without a lineage catalog says to redeploy', async () => {
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: { SinkFunction5A215B22: TEMPLATE.Resources.SinkFunction5A215B22 } }) });
  expect(await run('--view', 'order_enriched')).toBe(2);
  expect(err.pop()).toMatch(/lineage catalog names no Flink application for it: deploy the stack/);
  expect(kda.calls()).toHaveLength(0);
});

/** DescribeApplicationOperation response (API_DescribeApplicationOperation.html): the operation's status and, when FAILED, its error. */
function operations(byId: Record<string, { status: string; error?: string }>) {
  kda.on(DescribeApplicationOperationCommand).callsFake(input => {
    const op = byId[input.OperationId];
    calls.push(`operation:${input.OperationId}:${op.status}`);
    return {
      ApplicationOperationInfoDetails: {
        Operation: input.OperationId === 'op-start' ? 'StartApplication' : 'StopApplication', OperationStatus: op.status,
        StartTime: new Date(0), ...(op.error ? { OperationFailureDetails: { ErrorInfo: { ErrorString: op.error } } } : {}),
      },
    };
  });
}

test('an application caught STARTING is waited on until it settles, then stopped and restarted (it had waited for READY until the timeout)', async () => {
  application(['STARTING', 'STARTING', 'RUNNING', 'STOPPING', 'READY', 'STARTING', 'RUNNING']);
  expect(await run('--view', 'order_enriched', '--no-wait')).toBe(0);
  expect(calls).toEqual(['describe:STARTING', 'describe:STARTING', 'describe:RUNNING', 'stop', 'describe:STOPPING', 'describe:READY', 'start',
    'describe:STARTING', 'describe:RUNNING', 'signal']);
});

test('a start that fails ends the command at once with the service\'s error, and no signal is sent', async () => {
  // Managed Flink puts an application whose start failed back in READY (troubleshooting-system-rollback.html).
  application(['RUNNING', 'STOPPING', 'READY', 'STARTING', 'READY']);
  operations({ 'op-start': { status: 'FAILED', error: 'Could not find artifact com.example:missing:1.0' } });
  let t = 0;
  resnapshotCommand.clients = { ...clients(), now: () => (t += 1_000) };
  expect(await main(['resnapshot', '--view', 'order_enriched'], { stdout: l => out.push(l), stderr: l => err.push(l), env: {} })).toBe(2);
  expect(err.pop()).toMatch(new RegExp(`StartApplication of Flink application ${APP} failed: Could not find artifact com.example:missing:1.0. It is READY`));
  expect(invocations).toEqual([]);
  // The failure is seen on the first settled state after the start, not after polling until the one-hour timeout.
  expect(calls).toEqual(['describe:RUNNING', 'stop', 'describe:STOPPING', 'describe:READY', 'start', 'describe:STARTING', 'describe:READY',
    'operation:op-start:FAILED', 'operation:op-start:FAILED']);
});

test('READY read just after StartApplication, while the operation is still IN_PROGRESS, is waited past', async () => {
  application(['READY', 'READY', 'STARTING', 'RUNNING']);
  operations({ 'op-start': { status: 'IN_PROGRESS' } });
  expect(await run('--view', 'order_enriched', '--no-wait')).toBe(0);
  expect(calls).toEqual(['describe:READY', 'start', 'describe:READY', 'operation:op-start:IN_PROGRESS', 'describe:STARTING', 'describe:RUNNING', 'signal']);
});

test('an application that settles in a state it cannot be restarted from is refused with what to check', async () => {
  application(['ROLLING_BACK', 'ROLLED_BACK']);
  expect(await run('--view', 'order_enriched')).toBe(2);
  expect(err.pop()).toMatch(new RegExp(`Flink application ${APP} is ROLLED_BACK; it can be restarted only from RUNNING or READY`));
  expect(kda.commandCalls(StopApplicationCommand)).toHaveLength(0);
  expect(kda.commandCalls(StartApplicationCommand)).toHaveLength(0);
});

test('--from-snapshot is refused for a view computed by more than one application (a snapshot belongs to one)', async () => {
  const catalog = JSON.parse(CATALOG);
  catalog.views[1].pipeline = [`${APP}#0`, 'AgentDataStack-Transformorderrollup-0A1B2C3D#0'];
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: {
    SinkFunction5A215B22: TEMPLATE.Resources.SinkFunction5A215B22,
    Lineage4C4A82D7: { Type: 'AWS::SSM::Parameter', Properties: { Description: 'Lineage catalog of AgentDataStack, part 1 of 1', Type: 'String', Value: JSON.stringify(catalog) } },
  } }) });
  application(['READY']);
  expect(await run('--view', 'order_enriched', '--from-snapshot', 'before-backfill')).toBe(2);
  expect(err.pop()).toMatch(/--from-snapshot names one application's snapshot, but view 'order_enriched' is computed by 2 Flink applications/);
  expect(kda.calls()).toHaveLength(0);
});
