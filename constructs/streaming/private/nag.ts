// Acknowledges cdk-nag IAM5 for Kafka topic/group name patterns, using the finding ID cdk-nag computes for the resource.
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { acknowledgeWhenPrepared, nagResource } from '../../common/nag';

/**
 * MSK IAM authorizes topics and groups by name pattern, so a pattern grant is the least privilege available;
 * acknowledge exactly those resources (not IAM5 in general) on the principal that received them.
 */
export function acknowledgePatternGrant(grantee: iam.IGrantable, arns: string[], reason: string): void {
  const principal = grantee.grantPrincipal as unknown as IConstruct;
  if (!principal || !('node' in principal)) return;
  // The finding is on the principal's policy, so the ARN is named as the principal's template holds it: a cluster of
  // another stack is an import there (Fn::ImportValue or Fn::GetStackOutput), known only once the app is prepared.
  acknowledgeWhenPrepared(principal, () => arns.map(arn => nagResource(principal, arn)).filter(flat => flat.includes('*'))
    .map(flat => ({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason })));
}
