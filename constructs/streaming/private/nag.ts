// Acknowledges cdk-nag IAM5 for Kafka topic/group name patterns, using the finding ID cdk-nag computes for the resource.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** The string cdk-nag puts in `Resource::...` for a resolved CloudFormation value (same rules as its flattenCfnReference). */
export function flattenForNag(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\${/g, '<').replace(/}/g, '>');
  const node = value as Record<string, any>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return (items as unknown[]).map(flattenForNag).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenForNag(node['Fn::Sub']);
  if (node['Fn::GetAtt']) return `<${flattenForNag(node['Fn::GetAtt'][0])}.${flattenForNag(node['Fn::GetAtt'][1])}>`;
  if (node['Fn::ImportValue']) return flattenForNag(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenForNag(node.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * MSK IAM authorizes topics and groups by name pattern, so a pattern grant is the least privilege available;
 * acknowledge exactly those resources (not IAM5 in general) on the principal that received them.
 */
export function acknowledgePatternGrant(grantee: iam.IGrantable, scope: IConstruct, arns: string[], reason: string): void {
  const principal = grantee.grantPrincipal as unknown as IConstruct;
  if (!principal || !('node' in principal)) return;
  for (const arn of arns) {
    const flat = flattenForNag(Stack.of(scope).resolve(arn));
    if (!flat.includes('*')) continue;
    Validations.of(principal).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
  }
}
