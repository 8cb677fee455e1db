// The validation gate over the example app: zero unacknowledged cdk-nag or CloudFormation Validate findings.
import { Template } from 'aws-cdk-lib/assertions';
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

  test('an app without the S3 access-log flag (made before it existed) still passes: log delivery by bucket policy, no ACL', () => {
    // `cdk init` has set @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy for years; an older app, or one that imports
    // these constructs without that context, would otherwise get the LogDeliveryWrite ACL on each log bucket.
    const app = testApp({ gate: DEFAULT_GATE_PACKS, context: { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': undefined } });
    expect(app.node.tryGetContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy')).toBeUndefined();
    const stack = defineExampleApp(app, { profile: 'development' });
    expect(formatFindings(gateFindings(app))).toBe('');
    const template = Template.fromStack(stack);
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.values(buckets).filter(b => b.Properties?.AccessControl !== undefined)).toEqual([]);
    // Every bucket that receives server access logs grants the logging service in its policy, scoped to its sources.
    const targets = new Set(Object.values(buckets).map(b => b.Properties?.LoggingConfiguration?.DestinationBucketName?.Ref).filter(Boolean));
    expect(targets.size).toBeGreaterThanOrEqual(5);
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    for (const target of targets) {
      const statements = policies.filter(p => p.Properties.Bucket.Ref === target).flatMap(p => p.Properties.PolicyDocument.Statement);
      const granted = statements.some(st => st.Principal?.Service === 'logging.s3.amazonaws.com' && st.Action === 's3:PutObject' && st.Condition?.ArnLike?.['aws:SourceArn']);
      expect({ target, granted }).toEqual({ target, granted: true });
    }
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
