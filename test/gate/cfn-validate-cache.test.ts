// aws-cdk-lib's CloudFormation Validate under the gate keeps its report per template (KeptCloudFormationValidatePlugin):
// an unchanged template is not validated twice, in any output directory, and every switch that turns the default
// validation off turns this one off too.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, CloudFormationValidatePlugin, Stack, Validations } from 'aws-cdk-lib';
import { applyValidationGate, cfnValidateCacheFile, GATE_CACHE_ENV, GatePack } from '../../lib/validation-gate';
import { TEST_ENV, testApp } from '../helpers/app';
import { gateFindings } from '../helpers/gate';

const CFN_VALIDATE = CloudFormationValidatePlugin.PLUGIN_NAME;
const RUN = crypto.randomBytes(6).toString('hex');

/** An app whose one queue carries a property SQS does not have (F3002), named per run so its template is new to the cache. */
function probeApp(options: { builtin?: boolean } = {}): { app: App; template: () => string } {
  const app = testApp({ gate: [GatePack.AWS_SOLUTIONS] });
  if (options.builtin === false) (app as unknown as { _builtinCloudFormationValidation: boolean })._builtinCloudFormationValidation = false;
  const stack = new Stack(app, 'CfnValidateProbe', { env: TEST_ENV });
  const queue = new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { QueueName: `probe-${RUN}`, NotAQueueProperty: 1 } });
  Validations.of(queue).acknowledge(
    { id: 'AwsSolutions-SQS3', reason: 'a probe queue of this test, never deployed' },
    { id: 'AwsSolutions-SQS4', reason: 'a probe queue of this test, never deployed' },
  );
  return { app, template: () => path.join(app.outdir, 'CfnValidateProbe.template.json') };
}

function keptFile(template: string): string {
  return cfnValidateCacheFile([{ stackConstructPath: 'CfnValidateProbe', templatePath: template, ...TEST_ENV_IDS }])!;
}
const TEST_ENV_IDS = { accountId: TEST_ENV.account, region: TEST_ENV.region };
const cfnFindings = (app: App) => gateFindings(app).filter(f => f.plugin === CFN_VALIDATE);

// Reports planted here stay out of the developer's own cache directory.
const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-validate-cache-'));
const previousCacheHome = process.env.XDG_CACHE_HOME;
beforeAll(() => { process.env.XDG_CACHE_HOME = cacheHome; });
afterAll(() => {
  if (previousCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = previousCacheHome;
  fs.rmSync(cacheHome, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env[GATE_CACHE_ENV];
  delete process.env.CDK_VALIDATION;
});

test('the report is kept per template and read back by a synth into another output directory, with that directory\'s paths', () => {
  const first = probeApp();
  expect(cfnFindings(first.app).map(f => f.rule)).toEqual(['F3002']);
  const kept = keptFile(first.template());
  expect(kept.startsWith(cacheHome)).toBe(true);
  const report = JSON.parse(fs.readFileSync(kept, 'utf8'));
  // Kept without the output directory: the template path is its stack's position.
  expect(report.violations[0].violatingResources[0]).toMatchObject({ resourceLogicalId: 'Queue', templatePath: 'kept-template:0' });

  // Proof that the next synth reads it: a violation planted in the kept report is reported, in the new directory.
  report.violations.push({ ...report.violations[0], ruleName: 'PLANTED', description: 'planted in the kept report' });
  fs.writeFileSync(kept, JSON.stringify(report));
  const second = probeApp();
  expect(second.app.outdir).not.toBe(first.app.outdir);
  expect(cfnFindings(second.app).map(f => f.rule).sort()).toEqual(['F3002', 'PLANTED']);
  const written = JSON.parse(fs.readFileSync(path.join(second.app.outdir, 'validation-report.json'), 'utf8'));
  type Construct = { cloudFormationResource?: { templatePath?: string } };
  const resources: Construct[] = written.pluginReports.find((r: { pluginName: string }) => r.pluginName === CFN_VALIDATE).violations
    .flatMap((v: { violatingConstructs?: Construct[] }) => v.violatingConstructs ?? []);
  expect(resources.map(r => r.cloudFormationResource?.templatePath)).toEqual(['CfnValidateProbe.template.json', 'CfnValidateProbe.template.json']);
});

test(`${GATE_CACHE_ENV}=off validates afresh; CDK_VALIDATION=false and builtinCloudFormationValidation: false turn it off`, () => {
  const first = probeApp();
  cfnFindings(first.app);
  fs.writeFileSync(keptFile(first.template()), JSON.stringify({ success: true, violations: [] }));
  // The planted clean report is what a cached synth sees; with the cache off the engine finds F3002 again.
  expect(cfnFindings(probeApp().app)).toEqual([]);
  process.env[GATE_CACHE_ENV] = 'off';
  expect(cfnFindings(probeApp().app).map(f => f.rule)).toEqual(['F3002']);

  process.env.CDK_VALIDATION = 'false';
  expect(cfnFindings(probeApp().app)).toEqual([]);
  delete process.env.CDK_VALIDATION;
  expect(cfnFindings(probeApp({ builtin: false }).app)).toEqual([]);
});

test('keepCloudFormationValidateReports: false leaves aws-cdk-lib\'s own validation, so an app can register its own plugin', () => {
  const { app } = probeApp();
  // testApp applied the gate with the kept plugin: a second CloudFormationValidatePlugin is refused by aws-cdk-lib.
  Validations.of(app).addPlugins(new CloudFormationValidatePlugin());
  expect(() => app.synth()).toThrow(/CloudFormationValidatePlugin/);

  const own = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-own-')), context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  applyValidationGate(own, { packs: [], keepCloudFormationValidateReports: false });
  Validations.of(own).addPlugins(new CloudFormationValidatePlugin());
  const stack = new Stack(own, 'CfnValidateProbe', { env: TEST_ENV });
  new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { QueueName: `own-${RUN}`, NotAQueueProperty: 1 } });
  expect(cfnFindings(own).map(f => f.rule)).toEqual(['F3002']);
});
