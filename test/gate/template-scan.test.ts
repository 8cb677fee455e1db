// The gate scans the synthesized templates: raw CfnResources, the Control Tower rules, and stale acknowledgments.
import { CfnResource, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { defineExampleApp } from '../../bin/example';
import { DEFAULT_GATE_PACKS, GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { gateFindings, scanApp } from '../helpers/gate';

describe('the gate scans the synthesized templates', () => {
  test('a raw CfnResource is checked (cdk-nag\'s construct-tree walk cannot read its properties)', () => {
    const app = testApp({ gate: [GatePack.AWS_SOLUTIONS] });
    const stack = testStack(app);
    new CfnResource(stack, 'RawRole', {
      type: 'AWS::IAM::Role',
      properties: {
        AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
        ManagedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      },
    });
    const findings = gateFindings(app);
    expect(findings.map(f => f.rule)).toContain('AwsSolutions-IAM4[Policy::arn:aws:iam::aws:policy/AdministratorAccess]');
    expect(findings.find(f => f.rule.startsWith('AwsSolutions-IAM4'))!.paths).toEqual(['TestStack/RawRole']);
  });

  test('the Control Tower rules run with every gate, and findings name the Control Tower control', () => {
    const app = testApp({ gate: DEFAULT_GATE_PACKS });
    new s3.Bucket(testStack(app), 'Plain', { enforceSSL: true });
    const rules = gateFindings(app).map(f => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['ControlTower-CT.S3.PR.2', 'ControlTower-CT.S3.PR.10', 'AwsSolutions-S1']));
  });

  test('an acknowledgment that matches no finding fails the gate', () => {
    const app = testApp({ gate: true });
    const stack = testStack(app);
    const bucket = new s3.Bucket(stack, 'Logged', {
      enforceSSL: true, versioned: true, serverAccessLogsPrefix: 'self/', encryption: s3.BucketEncryption.S3_MANAGED,
    });
    // S1 (no access logs) does not fire on a bucket that logs: this acknowledgment is stale.
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'pre-emptive' });
    const stale = gateFindings(app).filter(f => f.rule.startsWith('stale-acknowledgment:'));
    expect(stale.map(f => [f.rule, f.paths])).toEqual([['stale-acknowledgment:AwsSolutions-S1', ['TestStack/Logged']]]);
  });

  test('an acknowledgment covers the finding of its construct and everything below it', () => {
    const app = testApp();
    const stack = testStack(app);
    const bucket = new s3.Bucket(stack, 'Plain', { enforceSSL: true });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test' });
    const scan = scanApp(app, [GatePack.AWS_SOLUTIONS]);
    const s1 = scan.findings.find(f => f.rule === 'AwsSolutions-S1')!;
    expect(s1.acknowledgedBy).toEqual({ path: 'TestStack/Plain', reason: 'test' });
    expect(scan.unacknowledged.map(f => f.rule)).not.toContain('AwsSolutions-S1');
    expect(scan.stale).toEqual([]);
  });
});

describe('the example app under the template scan', () => {
  const scans: Record<string, ReturnType<typeof scanApp>> = {};
  const apps: Record<string, ReturnType<typeof testApp>> = {};
  beforeAll(() => {
    for (const profile of ['development', 'production']) {
      apps[profile] = testApp();
      defineExampleApp(apps[profile], { profile });
      scans[profile] = scanApp(apps[profile], [GatePack.AWS_SOLUTIONS, GatePack.SERVERLESS]);
    }
  });

  test.each(['development', 'production'])('%s: every finding of cdk-nag\'s construct-tree walk is also a finding of the template scan', (profile) => {
    const nag = require('cdk-nag');
    const fromTemplates = new Set(scans[profile].findings.map(f => `${f.rule} ${f.constructPath}`));
    for (const Pack of [nag.AwsSolutionsChecks, nag.ServerlessChecks]) {
      const pack = new Pack();
      pack.isAcknowledged = () => false; // every raw finding, acknowledged or not
      const fromTree = pack.validateScope(apps[profile]).violations
        .flatMap((v: any) => v.violatingResources.map((r: any) => `${v.ruleName} ${r.constructPath}`));
      expect(fromTree.length).toBeGreaterThan(0);
      expect(fromTree.filter((x: string) => !fromTemplates.has(x))).toEqual([]);
    }
  });

  test('the template scan finds the raw default-security-group provider role the tree walk misses', () => {
    expect(scans.development.findings.map(f => `${f.rule} ${f.constructPath}`)).toContain(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole] AgentDataStack/Custom::VpcRestrictDefaultSGCustomResourceProvider/Role');
  });

  test('the Control Tower rules give the same findings per folder as in one run over the whole template', () => {
    const app = testApp();
    defineExampleApp(app, { profile: 'development' });
    const scan = scanApp(app, [GatePack.CONTROL_TOWER]);
    const path = require('path');
    const templatePath = path.join(app.outdir, 'AgentDataStack.template.json');
    // Resolved as the gate resolves it (from lib/).
    const { CfnGuardValidator } = require(require.resolve('@cdklabs/cdk-validator-cfnguard', { paths: [path.join(__dirname, '..', '..', 'lib')] }));
    const whole = new CfnGuardValidator({ maxBuffer: 256 * 1024 * 1024 }).validate({ templatePaths: [templatePath] });
    const wholeIds = new Set<string>(whole.violations.flatMap((v: any) => v.violatingResources.map((r: any) => `${v.ruleName} ${r.resourceLogicalId}`)));
    const guardRule = (f: { description: string }) => whole.violations.find((v: any) => v.description === f.description)?.ruleName;
    const splitIds = new Set(scan.findings.map(f => `${guardRule(f)} ${f.logicalId}`));
    expect([...splitIds].sort()).toEqual([...wholeIds].sort());
  });
});
