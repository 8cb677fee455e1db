// `agent-data-stack resnapshot --view <derived view>`: rebuilds a view computed by Flink by restarting the Managed Flink applications on
// its lineage path without their state, so their Kafka sources start at the position the tables declare for a stateless start
// (`scan.startup.mode`, `earliest-offset` by default: the beginning of each topic's retained data), or from a named snapshot.
import { GetTemplateCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  ApplicationRestoreType, DescribeApplicationCommand, StartApplicationCommand, StopApplicationCommand, type KinesisAnalyticsV2Client,
} from '@aws-sdk/client-kinesis-analytics-v2';
import type { LineageCatalog } from '../contract/lineage';
import { VIEWS_ENV, type ViewConfig } from '../contract/view-config';
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

async function status(kda: KinesisAnalyticsV2Client, name: string): Promise<string> {
  const out = await kda.send(new DescribeApplicationCommand({ ApplicationName: name }));
  return out.ApplicationDetail?.ApplicationStatus ?? 'UNKNOWN';
}

async function waitFor(kda: KinesisAnalyticsV2Client, name: string, want: string, o: RestartOptions): Promise<void> {
  for (;;) {
    const s = await status(kda, name);
    if (s === want) return;
    if (o.now() > o.deadline) throw new Error(`Flink application ${name} is ${s}, not ${want}, after the timeout; see its CloudWatch logs, then run the command again.`);
    await o.sleep(o.pollIntervalMs);
  }
}

/**
 * Stops the application (Force false: the service takes a snapshot first, kept as the way back) and starts it with a run
 * configuration that skips restoring state (SKIP_RESTORE_FROM_SNAPSHOT), or restores a named snapshot. Without state, every Kafka
 * source starts where its table's `scan.startup.mode` says. Resolves when the application is RUNNING again.
 */
export async function restartWithoutState(kda: KinesisAnalyticsV2Client, name: string, o: RestartOptions, print: (line: string) => void): Promise<string | undefined> {
  let s = await status(kda, name);
  if (s === 'RUNNING' || s === 'AUTOSCALING') {
    await kda.send(new StopApplicationCommand({ ApplicationName: name, Force: false }));
    print(`${name}: stopping (the service snapshots its state first: ListApplicationSnapshots names it, the way back).`);
    s = 'STOPPING';
  }
  if (s !== 'READY') await waitFor(kda, name, 'READY', o);
  const restore = o.snapshotName
    ? { ApplicationRestoreType: ApplicationRestoreType.RESTORE_FROM_CUSTOM_SNAPSHOT, SnapshotName: o.snapshotName }
    : { ApplicationRestoreType: ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT };
  const started = await kda.send(new StartApplicationCommand({
    ApplicationName: name,
    RunConfiguration: { ApplicationRestoreConfiguration: restore, FlinkRunConfiguration: { AllowNonRestoredState: false } },
  }));
  print(`${name}: starting ${o.snapshotName ? `from snapshot ${o.snapshotName}` : 'without state: its Kafka sources start from their declared scan.startup.mode (earliest-offset by default)'}.`);
  await waitFor(kda, name, 'RUNNING', o);
  print(`${name}: running again.`);
  return started.OperationId;
}
