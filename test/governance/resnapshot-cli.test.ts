// `agent-data-stack resnapshot` against mocked AWS: finds the bootstrap function and the connector's log group from the stack, sends the
// signal through a Lambda invoke, follows Debezium's notifications for that signal id until COMPLETED, and refuses what it cannot do.
import { CloudFormationClient, GetTemplateCommand, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { main, resnapshotCommand } from '../../cli/agent-data-stack';
import { parseNotification, type ResnapshotClients } from '../../cli/resnapshot';

const SIGNAL = '5a06aa1f-8dfd-4a28-9ea2-61b20ef7a1a5';
const RESOURCES = [
  { LogicalResourceId: 'SourceReplicationBootstrap706912BA', ResourceType: 'Custom::CdcReplicationBootstrap', PhysicalResourceId: 'cdc-bootstrap:postgresql:db:5432' },
  { LogicalResourceId: 'SourceBootstrapProviderOnEvent79A81812', ResourceType: 'AWS::Lambda::Function', PhysicalResourceId: 'AgentDataStack-SourceBootstrapOnEvent-abc' },
  { LogicalResourceId: 'SourceBootstrapProviderframeworkonEventB943B694', ResourceType: 'AWS::Lambda::Function', PhysicalResourceId: 'framework-fn' },
  { LogicalResourceId: 'CdcSnapshotSignal03AB1B76', ResourceType: 'Custom::CdcSnapshotSignal', PhysicalResourceId: 'cdc-snapshot-signal:x' },
  { LogicalResourceId: 'CdcLogs3D1A5B8E', ResourceType: 'AWS::Logs::LogGroup', PhysicalResourceId: 'AgentDataStack-CdcLogs-xyz' },
  { LogicalResourceId: 'SinkFunction5A215B22', ResourceType: 'AWS::Lambda::Function', PhysicalResourceId: 'sink-fn' },
].map(r => ({ ...r, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) })) as StackResourceSummary[];
const VIEWS = [
  { name: 'customer', format: 'debezium', sourceTable: 'public.customers' },
  { name: 'order_summary', format: 'upsert-kafka', sourceTable: 'order_summary' },
];
const line = (type: string, extra = '') => `2026-12-01 02:00:00,000 INFO || [Notification Service]  {id='${SIGNAL}', aggregateType='Incremental Snapshot', type='${type}', additionalData={connector_name=shop${extra}}, timestamp=1764554400000} [io.debezium.pipeline.notification.channels.LogNotificationChannel]`;

const cfn = mockClient(CloudFormationClient);
const logs = mockClient(CloudWatchLogsClient);
let invocations: Array<{ fn: string; payload: unknown }>;
let out: string[];
let err: string[];

function clients(): ResnapshotClients {
  return {
    cloudformation: new CloudFormationClient({ region: 'us-east-1' }), logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
    invoke: async <T>(fn: string, payload: unknown) => {
      invocations.push({ fn, payload });
      const p = payload as { Tables: string[] };
      return { SignalId: SIGNAL, SignalTable: 'public.debezium_signal', Tables: p.Tables } as T;
    },
    sleep: async () => undefined,
  };
}

async function run(...args: string[]): Promise<number> {
  resnapshotCommand.clients = clients();
  return main(['resnapshot', ...args], { stdout: t => out.push(t), stderr: t => err.push(t), env: {} });
}

beforeEach(() => {
  cfn.reset();
  logs.reset();
  invocations = [];
  out = [];
  err = [];
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: RESOURCES });
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: { SinkFunction5A215B22: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { AGENT_VIEWS: JSON.stringify(VIEWS) } } } } } }) });
});

test('parses the notification line Debezium 3.1.2\'s log channel writes (format as seen in the engine test\'s worker log)', () => {
  expect(parseNotification(line('IN_PROGRESS', ', current_collection_in_progress=shop.public.customers, maximum_key=[1500], last_processed_key=[300]'))).toEqual({
    id: SIGNAL, aggregateType: 'Incremental Snapshot', type: 'IN_PROGRESS', timestampMs: 1764554400000,
    additionalData: { connector_name: 'shop', current_collection_in_progress: 'shop.public.customers', maximum_key: '[1500]', last_processed_key: '[300]' },
  });
  expect(parseNotification('INFO Snapshot step 3')).toBeUndefined();
});

test('--table sends the signal to the bootstrap function and follows the notifications of that signal until COMPLETED', async () => {
  let polls = 0;
  logs.on(FilterLogEventsCommand).callsFake(input => {
    polls += 1;
    expect(input).toEqual(expect.objectContaining({ logGroupName: 'AgentDataStack-CdcLogs-xyz', filterPattern: `"${SIGNAL}"` }));
    const events = [{ eventId: '1', message: line('STARTED', ', data_collections=public.orders') }, { eventId: '2', message: line('IN_PROGRESS', ', current_collection_in_progress=public.orders, maximum_key=[9], last_processed_key=[4]') }];
    if (polls > 1) events.push({ eventId: '3', message: line('TABLE_SCAN_COMPLETED', ', scanned_collection=public.orders, total_rows_scanned=9, status=SUCCEEDED') }, { eventId: '4', message: line('COMPLETED') });
    return { events };
  });
  expect(await run('--stack', 'Shop', '--table', 'public.orders', '--where', "status = 'open'")).toBe(0);
  expect(invocations).toEqual([{ fn: 'AgentDataStack-SourceBootstrapOnEvent-abc', payload: { Action: 'execute-snapshot', Tables: ['public.orders'], Where: "status = 'open'" } }]);
  expect(cfn.commandCalls(ListStackResourcesCommand)[0].args[0].input).toEqual({ StackName: 'Shop', NextToken: undefined });
  expect(out.join('\n')).toMatch(new RegExp(`Signal ${SIGNAL} inserted into public.debezium_signal: incremental snapshot of public.orders where status = 'open'`));
  // Each notification once, in order, although the second poll returns the first two again.
  expect(out.filter(l => /started|in progress|table done|completed$/.test(l)).map(l => l.replace(/^\S+ /, ''))).toEqual([
    'started: public.orders', 'in progress: public.orders up to key [4] of [9]', 'table done: public.orders (9 rows, SUCCEEDED)', 'completed',
  ]);
  expect(out[out.length - 1]).toMatch(new RegExp(`Snapshot ${SIGNAL} completed after \\d+ s`));
});

test('--view resolves the view\'s captured table from the deployed sink configuration; --no-wait returns after the signal', async () => {
  expect(await run('--view', 'customer', '--no-wait')).toBe(0);
  expect(invocations[0].payload).toEqual({ Action: 'execute-snapshot', Tables: ['public.customers'] });
  expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
});

test('a derived view, an unknown view, both or neither of --table and --view are usage errors (exit 2) that say what to do', async () => {
  expect(await run('--view', 'order_summary')).toBe(2);
  // Without a lineage catalog naming its Flink application (resnapshot-view-rebuild.test.ts covers the rebuild itself).
  expect(err.pop()).toMatch(/output of a Flink transform \(order_summary\), but the stack's lineage catalog names no Flink application for it/);
  expect(await run('--view', 'nope')).toBe(2);
  expect(err.pop()).toMatch(/no view 'nope'; views: customer, order_summary/);
  expect(await run('--table', 'public.orders', '--view', 'customer')).toBe(2);
  expect(await run()).toBe(2);
  expect(err.pop()).toMatch(/Pass either --table/);
  expect(invocations).toHaveLength(0);
});

test('a refused signal (an uncaptured table) is reported with the function\'s reason', async () => {
  resnapshotCommand.clients = { ...clients(), invoke: async () => { throw new Error("The bootstrap function refused the signal: 'public.secrets' is not captured by this source"); } };
  expect(await main(['resnapshot', '--table', 'public.secrets'], { stdout: t => out.push(t), stderr: t => err.push(t), env: {} })).toBe(2);
  expect(err.pop()).toMatch(/'public.secrets' is not captured/);
});

test('a snapshot that does not complete in time says it goes on in the connector', async () => {
  let t = 0;
  resnapshotCommand.clients = { ...clients(), now: () => (t += 60_000) };
  logs.on(FilterLogEventsCommand).resolves({ events: [] });
  expect(await main(['resnapshot', '--table', 'public.orders', '--timeout', '120'], { stdout: t2 => out.push(t2), stderr: t2 => err.push(t2), env: {} })).toBe(2);
  expect(err.pop()).toMatch(/did not complete within 120 s \(no notification yet: is the connector RUNNING\?.*it goes on in the connector/);
});

test('several sources need --source', async () => {
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [...RESOURCES, { LogicalResourceId: 'BillingReplicationBootstrap0A1B2C3D', ResourceType: 'Custom::CdcReplicationBootstrap', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) }] });
  expect(await run('--table', 'public.orders', '--no-wait')).toBe(2);
  expect(err.pop()).toMatch(/several sources \(Source, Billing\); pass --source ID/);
  expect(await run('--table', 'public.orders', '--no-wait', '--source', 'Source')).toBe(0);
});

test('with several sources and connectors, --source X follows the snapshot in the connector log group that reports it', async () => {
  const billing = [
    { LogicalResourceId: 'BillingReplicationBootstrap0A1B2C3D', ResourceType: 'Custom::CdcReplicationBootstrap', PhysicalResourceId: 'cdc-bootstrap:postgresql:billing:5432' },
    { LogicalResourceId: 'BillingBootstrapProviderOnEvent1A2B3C4D', ResourceType: 'AWS::Lambda::Function', PhysicalResourceId: 'AgentDataStack-BillingBootstrapOnEvent-def' },
    { LogicalResourceId: 'BillingCdcSnapshotSignal5E6F7A8B', ResourceType: 'Custom::CdcSnapshotSignal', PhysicalResourceId: 'cdc-snapshot-signal:y' },
    { LogicalResourceId: 'BillingCdcLogs9C0D1E2F', ResourceType: 'AWS::Logs::LogGroup', PhysicalResourceId: 'AgentDataStack-BillingCdcLogs-uvw' },
  ].map(r => ({ ...r, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date(0) })) as StackResourceSummary[];
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [...RESOURCES, ...billing] });
  // The signal's notifications are in the connector of the Billing source only; the filter (the signal id) matches nothing elsewhere.
  logs.on(FilterLogEventsCommand).callsFake(input => ({
    events: input.logGroupName === 'AgentDataStack-BillingCdcLogs-uvw' ? [{ eventId: '1', message: line('STARTED', ', data_collections=billing.invoices') }, { eventId: '2', message: line('COMPLETED') }] : [],
  }));
  expect(await run('--table', 'billing.invoices', '--source', 'Billing')).toBe(0);
  expect(invocations.map(i => i.fn)).toEqual(['AgentDataStack-BillingBootstrapOnEvent-def']);
  expect(out[out.length - 1]).toMatch(new RegExp(`Snapshot ${SIGNAL} completed`));
  expect(err).toEqual([]);
});
