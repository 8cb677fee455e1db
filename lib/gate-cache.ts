// What the validation gate keeps between synths, in the user's cache directory: each pack's findings per template (used by
// validation-gate.ts) and aws-cdk-lib's CloudFormation Validate report per template (KeptCloudFormationValidatePlugin).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationValidatePlugin, IPolicyValidationContext, PolicyValidationPluginReport } from 'aws-cdk-lib';

import { GATE_CACHE_ENV, gateCacheDir, keptJson, synthCacheEnabled } from '../constructs/common/synth-cache';

export { GATE_CACHE_ENV, gateCacheDir, keptJson, synthCacheEnabled };

/** `name@version` of an installed package (its package.json found above its main file), or `name@-` when absent. */
export function packageVersion(name: string): string {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name, { paths: [__dirname] }));
  } catch {
    return `${name}@-`;
  }
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === name) return `${name}@${pkg.version}`;
    }
  }
  return `${name}@-`;
}

/**
 * aws-cdk-lib's CloudFormation Validate with its report kept per input. Its report depends only on the templates' text,
 * the stacks' account and region, and the engine's version and rules (aws-cdk-lib's and the engine's package versions;
 * this plugin takes no custom rules), so it is kept in the gate's cache directory under a hash of all of them; an
 * unchanged template skips starting the engine (most of a repeat synth's time). Template paths are stored by stack
 * position, so a report serves the same templates in any output directory. An instance of `CloudFormationValidatePlugin`,
 * so aws-cdk-lib runs it in place of its default one, trusts it, and still applies acknowledgments and
 * `strictCfnValidateErrors` to its report. `CDK_AGENT_GATE_CACHE=off` validates afresh; `CDK_VALIDATION=false` and an App
 * built with `builtinCloudFormationValidation: false` turn it off as they turn off the default one.
 */
export class KeptCloudFormationValidatePlugin extends CloudFormationValidatePlugin {
  /** aws-cdk-lib's default rules only: custom rules or schemas would change the report, and the key does not cover them. */
  public constructor() {
    super();
  }

  public override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const builtin = (context.appConstruct as unknown as { _builtinCloudFormationValidation?: boolean } | undefined)?._builtinCloudFormationValidation;
    if (process.env.CDK_VALIDATION === 'false' || builtin === false) return { success: true, violations: [] };
    const stacks = stackTemplatesOf(context);
    // No file (the cache is off, or the engine's version is unknown): validated afresh, nothing kept.
    const file = synthCacheEnabled() ? cfnValidateCacheFile(stacks) : undefined;
    // Kept with each template path as its stack's position, so the report serves the same templates in another output
    // directory (each test's own, a second checkout) with that directory's paths.
    const kept = keptJson(file, () => mapTemplatePaths(super.validate(context), p => {
      const i = stacks.findIndex(st => st.templatePath === p);
      return i >= 0 ? `${TEMPLATE_TOKEN}${i}` : p;
    }));
    return mapTemplatePaths(kept, p => (p.startsWith(TEMPLATE_TOKEN) ? stacks[Number(p.slice(TEMPLATE_TOKEN.length))]?.templatePath ?? p : p));
  }
}

const TEMPLATE_TOKEN = 'kept-template:';

type StackTemplate = { readonly stackConstructPath?: string; readonly templatePath: string; readonly accountId?: string; readonly region?: string };

function stackTemplatesOf(context: IPolicyValidationContext): readonly StackTemplate[] {
  return (context.stackTemplates ?? context.templatePaths.map(templatePath => ({ templatePath }))) as readonly StackTemplate[];
}

function mapTemplatePaths(report: PolicyValidationPluginReport, map: (templatePath: string) => string): PolicyValidationPluginReport {
  for (const v of report.violations) {
    for (const r of v.violatingResources as Array<{ templatePath?: string }>) if (typeof r.templatePath === 'string') r.templatePath = map(r.templatePath);
  }
  return report;
}

/**
 * Where the CloudFormation Validate report of these templates is kept (see KeptCloudFormationValidatePlugin): a hash of
 * each template's text, its stack, account and region, and this file, aws-cdk-lib's and the engine's versions.
 */
export function cfnValidateCacheFile(stacks: readonly StackTemplate[]): string | undefined {
  const code = cfnValidateCodeKey();
  if (!code) return undefined;
  const key = crypto.createHash('sha256').update(JSON.stringify({
    code,
    stacks: stacks.map(st => ({
      stack: st.stackConstructPath, account: st.accountId, region: st.region,
      template: crypto.createHash('sha256').update(fs.readFileSync(st.templatePath)).digest('hex'),
    })),
  })).digest('hex').slice(0, 32);
  return path.join(gateCacheDir(), 'cfn-validate', `${key}.json`);
}

let codeKey: string | null | undefined;
/**
 * This file's code with aws-cdk-lib's and the engine's versions, read once per process (they do not change under a
 * running synth); null when the engine's version is unknown.
 */
function cfnValidateCodeKey(): string | null {
  if (codeKey === undefined) {
    const engine = cfnValidateEngineVersion();
    codeKey = engine ? JSON.stringify([fs.readFileSync(__filename, 'utf8'), packageVersion('aws-cdk-lib'), engine]) : null;
  }
  return codeKey;
}

/** `@aws/cloudformation-validate@<version>`: the engine aws-cdk-lib runs, resolved from aws-cdk-lib's own folder; undefined when not found. */
function cfnValidateEngineVersion(): string | undefined {
  const name = '@aws/cloudformation-validate';
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [path.dirname(require.resolve('aws-cdk-lib/package.json', { paths: [__dirname] }))] });
    return `${name}@${JSON.parse(fs.readFileSync(file, 'utf8')).version}`;
  } catch {
    // Unresolvable (another aws-cdk-lib layout): without the engine's version no report can be kept safely.
    return undefined;
  }
}

let instance: KeptCloudFormationValidatePlugin | undefined;
/**
 * The one instance of a process, registered in every gated App, as aws-cdk-lib shares one default instance: its engine
 * starts once per process, on the first report that is not kept, however many Apps a test suite synthesizes.
 */
export function sharedKeptCloudFormationValidatePlugin(): KeptCloudFormationValidatePlugin {
  return instance ??= new KeptCloudFormationValidatePlugin();
}
