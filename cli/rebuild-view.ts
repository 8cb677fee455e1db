// `agent-data-stack resnapshot --view <derived view>`: rebuilds a view computed by Flink by restarting the Managed Flink applications on
// its lineage path without their state, so their Kafka sources start at the position the tables declare for a stateless start
// (`scan.startup.mode`, `earliest-offset` by default: the beginning of each topic's retained data), or from a named snapshot.
import { GetTemplateCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  ApplicationRestoreType, DescribeApplicationOperationCommand, StartApplicationCommand, StopApplicationCommand, type KinesisAnalyticsV2Client,
} from '@aws-sdk/client-kinesis-analytics-v2';
import type { LineageCatalog } from '../contract/lineage';
import { VIEWS_ENV, type ViewConfig } from '../contract/view-config';
import { applicationStatus, operationFailure, TRANSITIONAL } from '../lambda/flink-starter/starter';
import { readViewsEnv } from '../lambda/shared/views-env';

type Template = { Resources?: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** What rebuilding a derived view restarts and re-reads. */
export interface DerivedViewPlan {
  readonly view: string;
  /** The topic the view's sink reads (a Flink output). */
  readonly topic: string;
  /** Managed Flink applications on the view's lineage path, upstream first. */
  readonly applications: string[];
  /** The captured tables the view traces back to. */
  readonly sourceTables: string[];
}

/** The lineage catalog AgentLineageCatalog stores in SSM parameters (`Lineage catalog of <ns>, part i of n`), joined from the template. */
export function lineageCatalogFromTemplate(template: Template): LineageCatalog | undefined {
  const parts = Object.values(template.Resources ?? {})
    .map(r => (r.Type === 'AWS::SSM::Parameter' ? /^Lineage catalog of .*, part (\d+) of (\d+)$/.exec(String(r.Properties?.Description ?? '')) : null) && r)
    .filter((r): r is { Type: string; Properties: Record<string, any> } => !!r)
    .map(r => ({ n: Number(/part (\d+) of/.exec(r.Properties.Description)![1]), value: r.Properties.Value }));
  if (parts.length === 0 || parts.some(p => typeof p.value !== 'string')) return undefined;
  return JSON.parse(parts.sort((a, b) => a.n - b.n).map(p => p.value as string).join('')) as LineageCatalog;
}

/** The views the stack's functions were deployed with (`AGENT_VIEWS`). */
function deployedViews(template: Template): ViewConfig[] {
  const views: ViewConfig[] = [];
  for (const r of Object.values(template.Resources ?? {})) {
    const raw = r.Type === 'AWS::Lambda::Function' ? r.Properties?.Environment?.Variables?.[VIEWS_ENV] : undefined;
    if (typeof raw === 'string') views.push(...readViewsEnv(raw));
  }
  return views;
}

/** The rebuild plan of a view computed by Flink; undefined for a view of a captured table (or an unknown view: the caller says so). */
export async function derivedViewPlan(cfn: CloudFormationClient, stackName: string, viewName: string): Promise<DerivedViewPlan | undefined> {
  const out = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Processed' }));
  const template = JSON.parse(out.TemplateBody ?? '{}') as Template;
  const view = deployedViews(template).find(v => v.name === viewName);
  if (!view || view.format === 'debezium') return undefined;
  const entry = lineageCatalogFromTemplate(template)?.views.find(v => v.view === viewName);
  const applications = [...new Set((entry?.pipeline ?? []).map(p => p.replace(/#\d+$/, '')))];
  if (!entry || applications.length === 0) {
    throw new Error(`View '${viewName}' is the output of a Flink transform (${view.sourceTable}), but the stack's lineage catalog names no Flink application for it: deploy the stack with this version of the library, then retry.`);
  }
  return { view: viewName, topic: entry.topic, applications, sourceTables: [...entry.sourceTables] };
}

export interface RestartOptions {
  /** Restore from this snapshot (RESTORE_FROM_CUSTOM_SNAPSHOT) instead of starting without state. */
  readonly snapshotName?: string;
  readonly deadline: number;
  readonly pollIntervalMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** The status, with a missing application as a clear error (it was deleted since the stack was deployed, or the name is stale). */
async function statusOf(kda: KinesisAnalyticsV2Client, name: string): Promise<string> {
  const s = await applicationStatus(kda, name);
  if (s === undefined) throw new Error(`Flink application ${name} does not exist: the stack's template names it, so the stack has drifted; redeploy it, then retry.`);
  return s;
}

/** Waits until the application is no longer in a transitional state (STARTING, STOPPING, UPDATING, AUTOSCALING, ...); returns that state. */
async function settledStatus(kda: KinesisAnalyticsV2Client, name: string, o: RestartOptions): Promise<string> {
  for (;;) {
    const s = await statusOf(kda, name);
    if (!TRANSITIONAL.has(s)) return s;
    if (o.now() > o.deadline) throw new Error(`Flink application ${name} is still ${s} after the timeout; see its CloudWatch logs, then run the command again.`);
    await o.sleep(o.pollIntervalMs);
  }
}

/**
 * Waits for the operation `operationId` (StopApplication or StartApplication) to bring the application to `want`. A settled state
 * other than `want` ends the wait at once: with the operation's recorded failure when it failed, or saying where it ended when it did
 * not; it is not waited on until the timeout. A state read before the operation has moved the application is waited past, as long as
 * the operation is still in progress.
 */
async function awaitOperation(
  kda: KinesisAnalyticsV2Client, name: string, operationId: string | undefined, want: 'READY' | 'RUNNING', what: string, o: RestartOptions,
): Promise<void> {
  for (;;) {
    const s = await statusOf(kda, name);
    if (s === want) return;
    if (!TRANSITIONAL.has(s)) {
      const op = operationId
        ? (await kda.send(new DescribeApplicationOperationCommand({ ApplicationName: name, OperationId: operationId }))).ApplicationOperationInfoDetails
        : undefined;
      if (op?.OperationStatus === 'FAILED') {
        throw new Error(`${what} of Flink application ${name} failed: ${await operationFailure(kda, name, operationId!)}. It is ${s}; fix the cause (see its CloudWatch logs), then run the command again.`);
      }
      if (op?.OperationStatus !== 'IN_PROGRESS') {
        throw new Error(`Flink application ${name} is ${s} after ${what} (operation ${operationId ?? 'unknown'}: ${op?.OperationStatus ?? 'no status'}), not ${want}; see its CloudWatch logs, then run the command again.`);
      }
    }
    if (o.now() > o.deadline) throw new Error(`Flink application ${name} is ${s}, not ${want}, after the timeout; see its CloudWatch logs, then run the command again.`);
    await o.sleep(o.pollIntervalMs);
  }
}

/**
 * Stops the application (Force false: the service takes a snapshot first, kept as the way back) and starts it with a run
 * configuration that skips restoring state (SKIP_RESTORE_FROM_SNAPSHOT), or restores a named snapshot. Without state, every Kafka
 * source starts where its table's `scan.startup.mode` says. An application caught mid-transition (STARTING, UPDATING, ...) is waited
 * on until it settles; one that settles anywhere but RUNNING or READY, or whose stop or start fails, ends the command with the
 * service's error. Resolves when the application is RUNNING again.
 */
export async function restartWithoutState(kda: KinesisAnalyticsV2Client, name: string, o: RestartOptions, print: (line: string) => void): Promise<string | undefined> {
  let s = await settledStatus(kda, name, o);
  if (s === 'RUNNING') {
    const stop = await kda.send(new StopApplicationCommand({ ApplicationName: name, Force: false }));
    print(`${name}: stopping (the service snapshots its state first: ListApplicationSnapshots names it, the way back).`);
    await awaitOperation(kda, name, stop.OperationId, 'READY', 'StopApplication', o);
    s = 'READY';
  }
  if (s !== 'READY') {
    throw new Error(`Flink application ${name} is ${s}; it can be restarted only from RUNNING or READY. See its CloudWatch logs and ListApplicationOperations, then run the command again.`);
  }
  const restore = o.snapshotName
    ? { ApplicationRestoreType: ApplicationRestoreType.RESTORE_FROM_CUSTOM_SNAPSHOT, SnapshotName: o.snapshotName }
    : { ApplicationRestoreType: ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT };
  const started = await kda.send(new StartApplicationCommand({
    ApplicationName: name,
    RunConfiguration: { ApplicationRestoreConfiguration: restore, FlinkRunConfiguration: { AllowNonRestoredState: false } },
  }));
  print(`${name}: starting ${o.snapshotName ? `from snapshot ${o.snapshotName}` : 'without state: its Kafka sources start from their declared scan.startup.mode (earliest-offset by default)'}.`);
  await awaitOperation(kda, name, started.OperationId, 'RUNNING', 'StartApplication', o);
  print(`${name}: running again.`);
  return started.OperationId;
}
