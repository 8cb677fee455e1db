// The validation gate: cdk-nag packs and the Control Tower cfn-guard rules over the synthesized templates, plus
// CloudFormation validation with warnings treated as errors.
// Published as the `cdk-agent-data-stack/gate` subpath, not from the package root: cdk-nag and
// @cdklabs/cdk-validator-cfnguard are optional peer dependencies, loaded only when the gate runs, so an app without
// them can import every construct.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  App, AppProps, CfnResource, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport,
  LegacyStackSynthesizer, PolicyViolation, Stack, Validations,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { type GuardRun, validateGuardRuns } from './guard-parallel';
import { opaqueStackOutputs } from '../constructs/common/nag';
import { gateCacheDir, sharedKeptCloudFormationValidatePlugin, keptJson, packageVersion, synthCacheEnabled } from './gate-cache';

export { cfnValidateCacheFile, GATE_CACHE_ENV, KeptCloudFormationValidatePlugin } from './gate-cache';

/**
 * Context that makes `CloudFormation Validate` findings fail synthesis: its errors stay errors
 * (`validateAgainstDefaultRules`) and its warnings count as errors (`strictCfnValidateErrors`).
 * `cdk.json` sets the same keys for `npx cdk synth`.
 */
export const VALIDATION_GATE_CONTEXT: Readonly<Record<string, boolean>> = {
  '@aws-cdk/core:strictCfnValidateErrors': true,
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};

/** A rule pack the gate can run over the synthesized templates. */
export enum GatePack {
  /** cdk-nag AwsSolutions. Rule ids `AwsSolutions-*`. */
  AWS_SOLUTIONS = 'AwsSolutions',
  /** cdk-nag Serverless. Rule ids `Serverless-*`. */
  SERVERLESS = 'Serverless',
  /** cdk-nag NIST 800-53 Rev 5. Rule ids `NIST.800.53.R5-*`. */
  NIST_800_53_R5 = 'NIST.800.53.R5',
  /** The AWS Control Tower proactive controls shipped with @cdklabs/cdk-validator-cfnguard. Rule ids `ControlTower-<guard rule>`. */
  CONTROL_TOWER = 'ControlTower',
}

/** The packs `applyValidationGate` runs unless told otherwise. */
export const DEFAULT_GATE_PACKS: readonly GatePack[] = [GatePack.AWS_SOLUTIONS, GatePack.SERVERLESS, GatePack.CONTROL_TOWER];

export interface ValidationGateOptions {
  /**
   * The packs to run over every synthesized template.
   * @default - AwsSolutions, Serverless and the Control Tower cfn-guard rules (`DEFAULT_GATE_PACKS`)
   */
  readonly packs?: readonly GatePack[];
  /**
   * Keep aws-cdk-lib's CloudFormation Validate report per template, as the gate keeps its own findings: the gate registers
   * a `CloudFormationValidatePlugin` whose report on an unchanged template (same text, path, account and region, same
   * aws-cdk-lib and validation engine) is read back instead of starting the engine again. Turn it off when the app
   * registers a `CloudFormationValidatePlugin` of its own (aws-cdk-lib accepts one per app).
   * @default true
   */
  readonly keepCloudFormationValidateReports?: boolean;
}

/** One finding of a pack on one resource. */
export interface GateFinding {
  readonly pack: GatePack;
  /** The rule id an acknowledgment must name, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  readonly description: string;
  /** The stack's construct path. */
  readonly stack: string;
  readonly logicalId: string;
  /** The construct path of the resource in the app; the logical id when the app has no construct for it. */
  readonly constructPath: string;
  /** The acknowledgment's reason, when one covers this finding. */
  readonly acknowledgedBy?: { readonly path: string; readonly reason: string };
}

/** An acknowledgment of a pack rule recorded with `Validations.of(scope).acknowledge(...)`. */
export interface GateAcknowledgment {
  readonly pack: GatePack;
  readonly rule: string;
  readonly reason: string;
  /** The construct path it was recorded on; it covers that construct and everything below it. */
  readonly path: string;
}

/** Everything one scan of an app's templates saw. */
export interface GateScan {
  /** Every finding, acknowledged or not. */
  readonly findings: GateFinding[];
  /** The findings no acknowledgment covers. */
  readonly unacknowledged: GateFinding[];
  /** Acknowledgments of a scanned pack's rules that match no finding: stale or pre-emptive. */
  readonly stale: GateAcknowledgment[];
}

/**
 * Adds the gate to an app: after synthesis every template is scanned by the packs (`options.packs`), and an
 * unacknowledged finding or a stale acknowledgment fails `app.synth()`. Needs `cdk-nag` installed, and
 * `@cdklabs/cdk-validator-cfnguard` when the Control Tower pack runs.
 */
export function applyValidationGate(app: App, options: ValidationGateOptions = {}): App {
  Validations.of(app).addPlugins(new TemplateScanPlugin(options.packs ?? DEFAULT_GATE_PACKS));
  if (options.keepCloudFormationValidateReports ?? true) Validations.of(app).addPlugins(sharedKeptCloudFormationValidatePlugin());
  return app;
}

/** A new App with the gate's context and the gate already applied. Needs `cdk-nag` (and the cfn-guard validator) installed. */
export function createGatedApp(props: AppProps = {}, options: ValidationGateOptions = {}): App {
  const app = new App({ ...props, context: { ...VALIDATION_GATE_CONTEXT, ...props.context } });
  return applyValidationGate(app, options);
}

/** The templates of one synthesis, with the app they came from. */
export interface GateScanInput {
  readonly appConstruct: IConstruct;
  readonly stackTemplates: ReadonlyArray<{ readonly stackConstructPath: string; readonly templatePath: string }>;
}

/**
 * Runs `packs` over each synthesized template, loaded into a fresh app with `CfnInclude` so that every resource is a
 * typed L1 (a raw `CfnResource` in the app, such as aws-cdk-lib's `Custom::VpcRestrictDefaultSG` provider role, is
 * invisible to cdk-nag's construct-tree walk), then applies the acknowledgments recorded on the app's constructs.
 */
export function scanTemplates(input: GateScanInput, packs: readonly GatePack[]): GateScan {
  const acknowledgments = collectAcknowledgments(input.appConstruct);
  const findings: GateFinding[] = [];
  for (const { stackConstructPath, templatePath } of input.stackTemplates) {
    const stack = findStack(input.appConstruct, stackConstructPath);
    const byLogicalId = stack ? resourcesByLogicalId(stack) : new Map<string, CfnResource>();
    const templateHash = crypto.createHash('sha256').update(fs.readFileSync(templatePath)).digest('hex');
    const raw = [
      ...packs.filter(p => p !== GatePack.CONTROL_TOWER).map(p => cachedFindings(p, templateHash, () => runNagPack(p, templatePath))),
      ...(packs.includes(GatePack.CONTROL_TOWER) ? [cachedFindings(GatePack.CONTROL_TOWER, templateHash, () => runControlTower(templatePath))] : []),
    ].flat();
    for (const f of raw) {
      const resource = byLogicalId.get(f.logicalId);
      const constructPath = resource?.node.path ?? f.logicalId;
      const ack = resource ? findAcknowledgment(resource, f.rule) : undefined;
      findings.push({ ...f, stack: stackConstructPath, constructPath, ...(ack ? { acknowledgedBy: ack } : {}) });
    }
  }
  // An acknowledgment matches a finding of its rule on its construct or below it (a closer one may be the one reported).
  const stale = acknowledgments.filter(a => packs.includes(a.pack)
    && !findings.some(f => f.rule === a.rule && (f.constructPath === a.path || f.constructPath.startsWith(`${a.path}/`))));
  return { findings, unacknowledged: findings.filter(f => !f.acknowledgedBy), stale };
}

/** The gate as a CDK validation plugin: reports every unacknowledged finding and every stale acknowledgment. */
class TemplateScanPlugin implements IPolicyValidationPlugin {
  public readonly name = 'cdk-agent-data-stack gate';

  constructor(private readonly packs: readonly GatePack[]) {
    // Fail at construction, not mid-synthesis, when a pack's library is missing.
    for (const p of packs) (p === GatePack.CONTROL_TOWER ? loadCfnGuard : loadCdkNag)();
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const scan = scanTemplates(context, this.packs);
    const violations: PolicyViolation[] = [];
    const byRule = new Map<string, PolicyViolation>();
    for (const f of scan.unacknowledged) {
      const resource = { constructPath: f.constructPath, resourceLogicalId: f.logicalId, locations: ['Properties'] };
      const existing = byRule.get(f.rule);
      if (existing) (existing.violatingResources as unknown[]).push(resource);
      else {
        const v: PolicyViolation = { ruleName: f.rule, description: f.description, severity: 'error', violatingResources: [resource] };
        byRule.set(f.rule, v);
        violations.push(v);
      }
    }
    for (const a of scan.stale) {
      violations.push({
        ruleName: `stale-acknowledgment:${a.rule}`,
        description: `The acknowledgment of ${a.rule} at ${a.path} matches no finding of the ${a.pack} pack: remove it (its reason was "${a.reason}").`,
        severity: 'error',
        violatingResources: [{ constructPath: a.path, locations: ['Metadata'] }],
      });
    }
    return { success: violations.length === 0, violations };
  }
}

interface RawFinding { readonly pack: GatePack; readonly rule: string; readonly description: string; readonly logicalId: string }

/** Loads one template into a fresh app, so the packs see typed L1s with the template's logical ids. */
function includeTemplate(templatePath: string): Stack {
  const { CfnInclude } = require('aws-cdk-lib/cloudformation-include') as typeof import('aws-cdk-lib/cloudformation-include');
  // Under the CLI (CDK_OUTDIR set) every App synthesizes itself at exit unless told not to; this one is only scanned.
  // No version reporting and the legacy synthesizer: the included template already has its CDKMetadata resource and
  // BootstrapVersion parameter, and a second one is refused as a duplicate logical id.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-scan-'));
  const app = new App({ outdir, analyticsReporting: false, autoSynth: false });
  const stack = new Stack(app, 'Scan', { analyticsReporting: false, synthesizer: new LegacyStackSynthesizer() });
  // CfnInclude refuses Fn::GetStackOutput (weak cross-stack references): it is loaded as an opaque import instead.
  const templateFile = path.join(outdir, 'scanned.template.json');
  fs.writeFileSync(templateFile, JSON.stringify(scannableTemplate(templatePath)));
  new CfnInclude(stack, 'Template', { templateFile });
  // CfnInclude has read it; the copy holds the whole template and is not needed again.
  fs.rmSync(templateFile, { force: true });
  return stack;
}

/** The template as the packs scan it: each `Fn::GetStackOutput` an opaque `Fn::ImportValue` (`opaqueStackOutputs`). */
function scannableTemplate(templatePath: string): { Resources?: Record<string, { Type: string }> } {
  return opaqueStackOutputs(JSON.parse(fs.readFileSync(templatePath, 'utf8'))) as { Resources?: Record<string, { Type: string }> };
}

const includedTemplates = new Map<string, Stack>();
function includedTemplate(templatePath: string): Stack {
  const key = `${templatePath}\u0000${fs.statSync(templatePath).mtimeMs}`;
  let stack = includedTemplates.get(key);
  if (!stack) {
    includedTemplates.clear();
    stack = includeTemplate(templatePath);
    includedTemplates.set(key, stack);
  }
  return stack;
}

function runNagPack(pack: GatePack, templatePath: string): RawFinding[] {
  const nag = loadCdkNag();
  const Pack = {
    [GatePack.AWS_SOLUTIONS]: nag.AwsSolutionsChecks,
    [GatePack.SERVERLESS]: nag.ServerlessChecks,
    [GatePack.NIST_800_53_R5]: nag.NIST80053R5Checks,
  }[pack as Exclude<GatePack, GatePack.CONTROL_TOWER>];
  const stack = includedTemplate(templatePath);
  const prefix = `${stack.node.path}/Template/`;
  const report = new Pack().validateScope(stack);
  return report.violations.flatMap(v => v.violatingResources.map(r => ({
    pack, rule: v.ruleName, description: v.description,
    logicalId: (r.constructPath ?? '').slice(prefix.length).split('/')[0],
  })));
}

/**
 * A pack's findings on a template depend only on the template's text and on the code that found them (this file, the
 * pack's library, aws-cdk-lib's CfnInclude), so they are kept in the user's cache directory per (template hash, pack,
 * versions): synthesizing an unchanged template again (`cdk deploy` after `cdk synth`, the many synths of one stack in
 * a test suite) skips the scan. Acknowledgments, and stale ones, are evaluated on every synth from the app itself.
 * The user's own directory, not a shared temp directory: another user must not be able to plant an empty scan.
 */
function cachedFindings(pack: GatePack, templateHash: string, scan: () => RawFinding[]): RawFinding[] {
  return keptJson(synthCacheEnabled() ? gateCacheFile(pack, templateHash) : undefined, scan);
}

/** Where the findings of `pack` on a template with this sha256 are kept: `$XDG_CACHE_HOME` or `~/.cache`. */
export function gateCacheFile(pack: GatePack, templateHash: string): string {
  return path.join(gateCacheDir(), 'gate-scan', `${pack}-${scanKey(pack, templateHash)}.json`);
}

let codeKey: string | undefined;
function scanKey(pack: GatePack, templateHash: string): string {
  codeKey ??= [
    fs.readFileSync(__filename, 'utf8'),
    // The template is scanned with opaqueStackOutputs' replacement.
    fs.readFileSync(require.resolve('../constructs/common/nag'), 'utf8'),
    ...['aws-cdk-lib', 'cdk-nag', '@cdklabs/cdk-validator-cfnguard'].map(packageVersion),
  ].join('\n');
  return crypto.createHash('sha256').update(`${codeKey}\n${pack}\n${templateHash}`).digest('hex').slice(0, 32);
}

/**
 * The Control Tower rules, one cfn-guard run per rule folder with only the folder's rule files that name a resource
 * type the template has, over only the resources of the types those files name. Each rule walks every resource of the
 * data it is given, and a rule with no resource of its types finds nothing, so this gives the same findings as one run
 * of every rule over the whole template (pinned by a test) in a fraction of its time. Skipping the files of absent
 * types matters because cfn-guard parses every rule it is given: the EC2 folder's six instance, host, fleet and launch
 * template rules took 0.3 s to parse on every synth of a template that has none of those resources.
 */
function runControlTower(templatePath: string): RawFinding[] {
  const { CfnGuardValidator } = loadCfnGuard();
  const resources: Record<string, { Type: string }> = scannableTemplate(templatePath).Resources ?? {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-guard-'));
  try {
    const present = new Set(Object.values(resources).map(r => r.Type));
    const runs: GuardRun[] = controlTowerRuleFolders().flatMap(({ folder, files }) => {
      // A rule file that names no type (none does today) is run, over every resource.
      const used = files.filter(f => f.types.length === 0 || f.types.some(t => present.has(t)));
      if (used.length === 0) return [];
      const types = new Set(used.flatMap(f => f.types));
      const every = used.some(f => f.types.length === 0);
      const subset = Object.fromEntries(Object.entries(resources).filter(([, r]) => every || types.has(r.Type)));
      const data = path.join(dir, `${path.basename(folder)}.json`);
      fs.writeFileSync(data, JSON.stringify({ Resources: subset }));
      return [{ rules: used.map(f => f.file), data }];
    });
    return validateGuardRuns(CfnGuardValidator, cfnGuardDir(), runs, 256 * 1024 * 1024).flatMap(report =>
      report.violations.flatMap(v => v.violatingResources.map(r => ({
        pack: GatePack.CONTROL_TOWER,
        // `[CT.S3.PR.1]: Require ...`: the control's id is what a security team reads; the guard rule name is the fallback.
        rule: `ControlTower-${/^\[(CT\.[A-Z0-9.]+)\]/.exec(v.description)?.[1] ?? v.ruleName}`,
        description: v.description,
        logicalId: (r as { resourceLogicalId?: string }).resourceLogicalId ?? '',
      }))));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface RuleFolder {
  folder: string;
  /** Each rule file with the resource types it names. */
  files: Array<{ file: string; types: string[] }>;
}
/** The folder of the installed @cdklabs/cdk-validator-cfnguard, as `loadCfnGuard` resolves it. */
function cfnGuardDir(): string {
  return path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json', { paths: [__dirname] }));
}

let ruleFolders: RuleFolder[] | undefined;
function controlTowerRuleFolders(): RuleFolder[] {
  if (!ruleFolders) {
    const root = path.join(cfnGuardDir(), 'rules', 'control-tower', 'cfn-guard');
    ruleFolders = fs.readdirSync(root).map(name => path.join(root, name)).filter(f => fs.statSync(f).isDirectory()).map(folder => ({
      folder,
      files: fs.readdirSync(folder).sort().map(f => path.join(folder, f)).map(file => ({
        file, types: [...new Set(fs.readFileSync(file, 'utf8').match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? [])],
      })),
    }));
  }
  return ruleFolders;
}

function findStack(root: IConstruct, stackPath: string): Stack | undefined {
  return root.node.findAll().find((c): c is Stack => Stack.isStack(c) && (c.node.path === stackPath || c.artifactId === stackPath));
}

function resourcesByLogicalId(stack: Stack): Map<string, CfnResource> {
  const map = new Map<string, CfnResource>();
  for (const c of stack.node.findAll()) {
    if (CfnResource.isCfnResource(c) && Stack.of(c) === stack) map.set(stack.resolve(c.logicalId), c);
  }
  return map;
}

const PACK_OF_RULE: ReadonlyArray<[string, GatePack]> = [
  ['AwsSolutions-', GatePack.AWS_SOLUTIONS], ['Serverless-', GatePack.SERVERLESS],
  ['NIST.800.53.R5-', GatePack.NIST_800_53_R5], ['ControlTower-', GatePack.CONTROL_TOWER],
];

/** The rule id an acknowledgment names, without the namespace `Validations.acknowledge` prefixes (`Annotation::`). */
function ruleOfAcknowledgment(key: string): string {
  const bracket = key.indexOf('[');
  const sep = key.indexOf('::');
  return sep >= 0 && (bracket < 0 || sep < bracket) ? key.slice(sep + 2) : key;
}

function acknowledgmentsOn(c: IConstruct): Array<{ rule: string; reason: string }> {
  return c.node.metadata
    .filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && m.data)
    .flatMap(m => Object.entries(m.data as Record<string, string>).map(([key, reason]) => ({ rule: ruleOfAcknowledgment(key), reason })));
}

function findAcknowledgment(resource: IConstruct, rule: string): { path: string; reason: string } | undefined {
  for (let c: IConstruct | undefined = resource; c; c = c.node.scope) {
    const ack = acknowledgmentsOn(c).find(a => a.rule === rule);
    if (ack) return { path: c.node.path, reason: ack.reason };
  }
  return undefined;
}

function collectAcknowledgments(root: IConstruct): GateAcknowledgment[] {
  return root.node.findAll().flatMap(c => acknowledgmentsOn(c).flatMap(a => {
    const pack = PACK_OF_RULE.find(([prefix]) => a.rule.startsWith(prefix))?.[1];
    return pack ? [{ pack, rule: a.rule, reason: a.reason, path: c.node.path }] : [];
  }));
}

type CdkNag = typeof import('cdk-nag');
function loadCdkNag(): CdkNag {
  return loadOptional('cdk-nag', 'cdk-nag@^3');
}

interface CfnGuard {
  CfnGuardValidator: new (props?: { controlTowerRulesEnabled?: boolean; rules?: string[]; maxBuffer?: number }) => {
    validate(context: { templatePaths: string[] }): PolicyValidationPluginReport;
  };
}
function loadCfnGuard(): CfnGuard {
  return loadOptional('@cdklabs/cdk-validator-cfnguard', '@cdklabs/cdk-validator-cfnguard');
}

function loadOptional<T>(name: string, install: string): T {
  try {
    return require(name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(`cdk-agent-data-stack/gate: the validation gate needs the optional peer dependency ${name}, which is not installed; run \`npm install --save-dev ${install}\` (or pass \`packs\` without the pack that needs it).`, { cause: e });
  }
}
