// The validation gate over the example app: zero unacknowledged cdk-nag or CloudFormation Validate findings.
import { defineExampleApp } from '../../bin/example';
import { testApp } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

describe('validation gate over the example app', () => {
  test.each(['development', 'production'])('%s profile synthesizes with zero findings', (profile) => {
    const app = testApp({ gate: true });
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
