// The validation gate over the example app: zero unacknowledged cdk-nag or CloudFormation Validate findings.
import { defineExampleApp } from '../../bin/example';
import { DEFAULT_GATE_PACKS } from '../../lib/validation-gate';
import { testApp } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

describe('validation gate over the example app', () => {
  test.each(['development', 'production'])('%s profile synthesizes with zero findings', (profile) => {
    // Every pack `npx cdk synth` runs: AwsSolutions, Serverless and the Control Tower rules.
    const app = testApp({ gate: DEFAULT_GATE_PACKS });
    defineExampleApp(app, { profile });
    const findings = gateFindings(app);
    expect(formatFindings(findings)).toBe('');
  });

  test('the gate catches an unacknowledged finding', () => {
    const app = testApp({ gate: true });
    const stack = defineExampleApp(app, { profile: 'development' });
    // A bucket with no access logs and no TLS enforcement breaks AwsSolutions-S1 and S10.
    new (require('aws-cdk-lib/aws-s3').Bucket)(stack, 'UngatedBucket');
    const rules = gateFindings(app).map(f => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  test('the gate treats CloudFormation Validate warnings as failures', () => {
    const app = testApp({ gate: true });
    const stack = defineExampleApp(app, { profile: 'development' });
    const { CfnResource } = require('aws-cdk-lib');
    new CfnResource(stack, 'OutOfRange', { type: 'AWS::Logs::LogGroup', properties: { RetentionInDays: 4 } });
    const findings = gateFindings(app).filter(f => f.plugin === 'CloudFormation Validate');
    expect(findings.length).toBeGreaterThan(0);
  });
});

describe('determinism', () => {
  // Token names (and pseudo-parameter tokens such as AWS::Region) are numbered per process in load order, so a name
  // hashed from a token's printed form differs between processes. Synthesize in two processes that load differently.
  function synthInChild(preload: string): string {
    const { execFileSync } = require('child_process');
    const path = require('path');
    const script = `
      ${preload}
      const { App } = require('aws-cdk-lib');
      const { Template } = require('aws-cdk-lib/assertions');
      const { defineExampleApp } = require('./bin/example');
      const app = new App({ context: { ...require('./cdk.json').context, 'aws:cdk:bundling-stacks': [] } });
      process.stdout.write(JSON.stringify(Template.fromStack(defineExampleApp(app, { profile: 'development' })).toJSON()));`;
    return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: path.join(__dirname, '..', '..'), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
    });
  }

  test('the example app synthesizes to the same template in processes that create tokens in a different order', () => {
    const plain = synthInChild('');
    const shifted = synthInChild(`const { Lazy, Stack, App: A } = require('aws-cdk-lib'); const s = new Stack(new A(), 'Noise');
      for (let i = 0; i < 250; i++) s.resolve(Lazy.string({ produce: () => 'n' + i }));`);
    expect(JSON.parse(shifted)).toEqual(JSON.parse(plain));
  });
});
