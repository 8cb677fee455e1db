// `agent-data-stack resnapshot`: asks a deployed stack's bootstrap function for an incremental snapshot of captured tables (or of a view's
// table) and follows it through Debezium's notifications in the connector's CloudWatch log group.
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { listStackResources } from './stack-resources';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SnapshotSignalRequest, SnapshotSignalResponse } from '../contract/replication-bootstrap';
import { VIEWS_ENV, type ViewConfig } from '../contract/view-config';
import { readViewsEnv } from '../lambda/shared/views-env';
import { derivedViewPlan, restartWithoutState, type DerivedViewPlan } from './rebuild-view';

/** One Debezium notification, as its log channel prints it (`[Notification Service] Notification{id='...', ...}`). */
export interface SnapshotNotification {
  readonly id: string;
  readonly aggregateType: string;
  /** STARTED, PAUSED, RESUMED, ABORTED, IN_PROGRESS, TABLE_SCAN_COMPLETED, COMPLETED, SKIPPED. */
  readonly type: string;
  readonly additionalData: Record<string, string>;
  readonly timestampMs?: number;
}

const NOTIFICATION = /\[Notification Service\]\s*\w*\{id='([^']*)', aggregateType='([^']*)', type='([^']*)', additionalData=\{(.*)\}, timestamp=(\d+)\}/;

/** Parses a worker log line carrying a Debezium notification; undefined for any other line. */
export function parseNotification(line: string): SnapshotNotification | undefined {
  const m = NOTIFICATION.exec(line);
  if (!m) return undefined;
  const additionalData: Record<string, string> = {};
  // Map.toString: `k1=v1, k2=v2`; values (key bounds, table lists) may hold ', ' themselves, so split only before a `key=`.
  for (const part of m[4].split(/, (?=[a-z_]+=)/)) {
    const eq = part.indexOf('=');
    if (eq > 0) additionalData[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { id: m[1], aggregateType: m[2], type: m[3], additionalData, timestampMs: Number(m[5]) };
}

/** A one-line account of a notification for the terminal. */
export function describeNotification(n: SnapshotNotification): string {
  const d = n.additionalData;
  switch (n.type) {
    case 'STARTED': return `started: ${d.data_collections ?? ''}`;
    case 'IN_PROGRESS': return `in progress: ${d.current_collection_in_progress ?? ''} up to key ${d.last_processed_key ?? '?'} of ${d.maximum_key ?? '?'}`;
    case 'TABLE_SCAN_COMPLETED': return `table done: ${d.scanned_collection ?? ''} (${d.total_rows_scanned ?? '?'} rows, ${d.status ?? ''})`;
    case 'COMPLETED': return 'completed';
    default: return n.type.toLowerCase();
  }
}

/** The resources `resnapshot` uses in a stack composed by AgentDataStack (or any stack with one CdcSourceDatabase and DebeziumConnector). */
export interface ResnapshotTargets {
  /** The bootstrap provider's onEvent function (it holds the signal path). */
  readonly functionName: string;
  /**
   * The worker log groups (Debezium's notifications) of the stack's connectors. With several sources, every connector's:
   * nothing in the stack's resource list ties a connector to its source, and the signal id each is searched for is unique.
   */
  readonly logGroupNames: string[];
}

const HASH = /^[0-9A-F]{8}$/;

/** Logical id minus its 8-hex hash and a known tail: the construct path prefix of its owner. */
function ownerPrefix(logicalId: string, tail: string): string | undefined {
  const body = logicalId.slice(0, -8);
  return HASH.test(logicalId.slice(-8)) && body.endsWith(tail) ? body.slice(0, -tail.length) : undefined;
}

/**
 * Finds the bootstrap function (`<source>BootstrapProviderOnEvent`) of the stack's Custom::CdcReplicationBootstrap and the log
 * group (`<connector>Logs`) of the connector whose Custom::CdcSnapshotSignal exists. With several sources, `sourceId` names one.
 */
export async function findResnapshotTargets(cfn: CloudFormationClient, stackName: string, sourceId?: string): Promise<ResnapshotTargets> {
  const resources = await listStackResources(cfn, stackName);
  const bootstraps = resources.filter(r => r.ResourceType === 'Custom::CdcReplicationBootstrap')
    .map(r => ownerPrefix(r.LogicalResourceId ?? '', 'ReplicationBootstrap')).filter((p): p is string => p !== undefined)
    .filter(p => sourceId === undefined || p === sourceId);
  if (bootstraps.length !== 1) {
    throw new Error(bootstraps.length === 0
      ? `Stack '${stackName}' has no CdcSourceDatabase${sourceId ? ` with construct id '${sourceId}'` : ''} (no Custom::CdcReplicationBootstrap resource).`
      : `Stack '${stackName}' has several sources (${bootstraps.join(', ')}); pass --source ID.`);
  }
  const fn = resources.find(r => r.ResourceType === 'AWS::Lambda::Function' && ownerPrefix(r.LogicalResourceId ?? '', 'BootstrapProviderOnEvent') === bootstraps[0]);
  if (!fn?.PhysicalResourceId) throw new Error(`Stack '${stackName}' has no bootstrap function for source '${bootstraps[0]}'.`);
  const connectors = new Set(resources.filter(r => r.ResourceType === 'Custom::CdcSnapshotSignal')
    .map(r => ownerPrefix(r.LogicalResourceId ?? '', 'SnapshotSignal')).filter((p): p is string => p !== undefined));
  const logGroupNames = resources.filter(r => r.ResourceType === 'AWS::Logs::LogGroup' && r.PhysicalResourceId
    && connectors.has(ownerPrefix(r.LogicalResourceId ?? '', 'Logs') ?? '')).map(r => r.PhysicalResourceId!);
  return { functionName: fn.PhysicalResourceId, logGroupNames };
}

/** The source table of a Debezium view, from the views the stack's sink function was deployed with. */
export async function viewSourceTable(cfn: CloudFormationClient, stackName: string, viewName: string): Promise<string> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Processed' }));
  const template = JSON.parse(out.TemplateBody ?? '{}') as { Resources?: Record<string, { Type: string; Properties?: { Environment?: { Variables?: Record<string, unknown> } } }> };
  const views: ViewConfig[] = [];
  for (const r of Object.values(template.Resources ?? {})) {
    const raw = r.Type === 'AWS::Lambda::Function' ? r.Properties?.Environment?.Variables?.[VIEWS_ENV] : undefined;
    if (typeof raw === 'string') views.push(...readViewsEnv(raw));
  }
  const view = views.find(v => v.name === viewName);
  if (!view) throw new Error(`Stack '${stackName}' has no view '${viewName}'${views.length ? `; views: ${[...new Set(views.map(v => v.name))].join(', ')}` : ''}.`);
  if (view.format !== 'debezium') {
    throw new Error(`View '${viewName}' is the output of a Flink transform (${view.sourceTable}), not a captured table: re-snapshot the captured tables the transform reads (--table), and its job recomputes the view.`);
  }
  return view.sourceTable;
}

/** Invokes a function synchronously (Lambda Invoke, SigV4-signed) and returns its JSON result; a function error throws its message. */
export function lambdaInvoke(region: string): <T>(functionName: string, payload: unknown) => Promise<T> {
  const signer = new SignatureV4({ service: 'lambda', region, credentials: defaultProvider(), sha256: Sha256 });
  const hostname = `lambda.${region}.amazonaws.com`;
  return async <T>(functionName: string, payload: unknown): Promise<T> => {
    const request = await signer.sign(new HttpRequest({
      method: 'POST', protocol: 'https:', hostname, path: `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
      headers: { 'host': hostname, 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' }, body: JSON.stringify(payload),
    }));
    const response = await fetch(`https://${hostname}${request.path}`, { method: 'POST', headers: request.headers, body: request.body as string });
    const text = await response.text();
    if (!response.ok) throw new Error(`Lambda Invoke of ${functionName} returned HTTP ${response.status}: ${text}`);
    if (response.headers.get('x-amz-function-error')) {
      const err = JSON.parse(text) as { errorMessage?: string };
      throw new Error(`The bootstrap function refused the signal: ${err.errorMessage ?? text}`);
    }
    return JSON.parse(text) as T;
  };
}

export interface ResnapshotOptions {
  readonly stackName: string;
  readonly tables?: string[];
  readonly view?: string;
  readonly where?: string;
  readonly sourceId?: string;
  /** A derived view only: restart its Flink applications from this snapshot (RESTORE_FROM_CUSTOM_SNAPSHOT) and send no signal. */
  readonly fromSnapshot?: string;
  /** Follow the snapshot's notifications until it completes. */
  readonly wait: boolean;
  /** @default 3_600_000 */
  readonly timeoutMs?: number;
  /** @default 10_000 */
  readonly pollIntervalMs?: number;
}

export interface ResnapshotClients {
  readonly cloudformation: CloudFormationClient;
  readonly logs: CloudWatchLogsClient;
  readonly invoke: <T>(functionName: string, payload: unknown) => Promise<T>;
  /** Managed Flink, for rebuilding a derived view. */
  readonly flink?: KinesisAnalyticsV2Client;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface ResnapshotResult {
  /** Absent when a derived view was restarted from a snapshot (nothing to re-read). */
  readonly signal?: SnapshotSignalResponse;
  /** A derived view: the Flink applications restarted without state. */
  readonly rebuilt?: DerivedViewPlan;
  /** The last notification seen (absent without --wait, or when none arrived in time). */
  readonly last?: SnapshotNotification;
  readonly elapsedMs: number;
}

/** Sends the signal and, with `wait`, prints each new notification of that snapshot until COMPLETED or ABORTED (or the timeout). */
export async function resnapshot(o: ResnapshotOptions, clients: ResnapshotClients, print: (line: string) => void): Promise<ResnapshotResult> {
  const now = clients.now ?? Date.now;
  const sleep = clients.sleep ?? (ms => new Promise<void>(r => setTimeout(r, ms)));
  const started = now();
  const plan = o.view ? await derivedViewPlan(clients.cloudformation, o.stackName, o.view) : undefined;
  if (o.fromSnapshot !== undefined && !plan) throw new Error('--from-snapshot applies to a view computed by Flink (--view NAME of a transform\'s output).');
  if (o.fromSnapshot !== undefined && plan && plan.applications.length > 1) {
    // A snapshot belongs to one application: restoring the same name in each would fail on all but one (or restore unrelated state).
    throw new Error(`--from-snapshot names one application's snapshot, but view '${plan.view}' is computed by ${plan.applications.length} Flink applications `
      + `(${plan.applications.join(', ')}); restore each with the Managed Flink console or StartApplication (RESTORE_FROM_CUSTOM_SNAPSHOT), or rebuild the view without --from-snapshot.`);
  }
  if (plan) {
    // The view is rebuilt by its Flink applications recomputing it from their inputs: first each application restarts without state,
    // so its sources read every retained change again; then the captured tables it reads are re-snapshotted, so rows whose changes
    // the topics no longer retain come back too. The view's sink ranks the recomputed results after the old ones (output offsets).
    if (!clients.flink) throw new Error('Rebuilding a derived view needs a Managed Flink client.');
    const restart = { snapshotName: o.fromSnapshot, deadline: started + (o.timeoutMs ?? 3_600_000), pollIntervalMs: o.pollIntervalMs ?? 10_000, sleep, now };
    for (const app of plan.applications) await restartWithoutState(clients.flink, app, restart, print);
    print(`View '${plan.view}' is recomputed into ${plan.topic}; its values can step back to older results until the job has caught up with its input topics.`);
    if (o.fromSnapshot !== undefined) return { rebuilt: plan, elapsedMs: now() - started };
  }
  const tables = plan ? plan.sourceTables : o.view ? [await viewSourceTable(clients.cloudformation, o.stackName, o.view)] : (o.tables ?? []);
  const targets = await findResnapshotTargets(clients.cloudformation, o.stackName, o.sourceId);
  const request: SnapshotSignalRequest = { Action: 'execute-snapshot', Tables: tables, ...(o.where !== undefined ? { Where: o.where } : {}) };
  const signal = await clients.invoke<SnapshotSignalResponse>(targets.functionName, request);
  print(`Signal ${signal.SignalId} inserted into ${signal.SignalTable}: incremental snapshot of ${signal.Tables.join(', ')}${o.where ? ` where ${o.where}` : ''}.`);
  if (!o.wait) return { signal, rebuilt: plan, elapsedMs: now() - started };
  if (targets.logGroupNames.length === 0) {
    throw new Error(`Cannot follow snapshot ${signal.SignalId} (the signal was sent; do not send it again): the stack has no connector log group next to a Custom::CdcSnapshotSignal. Watch the RecordsReceived metric of the view instead.`);
  }
  const seen = new Set<string>();
  let last: SnapshotNotification | undefined;
  const deadline = started + (o.timeoutMs ?? 3_600_000);
  while (now() < deadline) {
    for (const logGroupName of targets.logGroupNames) {
      let token: string | undefined;
      do {
        const page = await clients.logs.send(new FilterLogEventsCommand({
          logGroupName, startTime: started - 60_000, filterPattern: `"${signal.SignalId}"`, nextToken: token,
        }));
        for (const e of page.events ?? []) {
          if (!e.eventId || seen.has(`${logGroupName} ${e.eventId}`)) continue;
          seen.add(`${logGroupName} ${e.eventId}`);
          const n = parseNotification(e.message ?? '');
          if (!n || n.id !== signal.SignalId) continue;
          last = n;
          print(`${new Date(n.timestampMs ?? e.timestamp ?? now()).toISOString()} ${describeNotification(n)}`);
        }
        token = page.nextToken;
      } while (token);
    }
    if (last && (last.type === 'COMPLETED' || last.type === 'ABORTED')) return { signal, rebuilt: plan, last, elapsedMs: now() - started };
    await sleep(o.pollIntervalMs ?? 10_000);
  }
  throw new Error(`The snapshot ${signal.SignalId} did not complete within ${Math.round((o.timeoutMs ?? 3_600_000) / 1000)} s`
    + `${last ? ` (last: ${describeNotification(last)})` : ' (no notification yet: is the connector RUNNING? `agent-data-stack status`)'}; it goes on in the connector. Run again with a longer --timeout to follow it.`);
}
