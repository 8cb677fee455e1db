// Acknowledges cdk-nag IAM5 for Kafka topic/group name patterns, using the finding ID cdk-nag computes for the resource.
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { nagResource } from '../../common/nag';

/**
 * MSK IAM authorizes topics and groups by name pattern, so a pattern grant is the least privilege available;
 * acknowledge exactly those resources (not IAM5 in general) on the principal that received them.
 */
export function acknowledgePatternGrant(grantee: iam.IGrantable, scope: IConstruct, arns: string[], reason: string): void {
  const principal = grantee.grantPrincipal as unknown as IConstruct;
  if (!principal || !('node' in principal)) return;
  for (const arn of arns) {
    const flat = nagResource(scope, arn);
    if (!flat.includes('*')) continue;
    Validations.of(principal).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
  }
}
