// Acknowledges, by exact finding id, the wildcard resources a store's grant method put on our role (index documents, table indexes, object keys).
import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The same flattening cdk-nag applies to a resource before naming a finding (`Resource::<flat>`). */
export function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'];
    return (items as unknown[]).map(flattenReference).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenReference(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenReference(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenReference(o.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * Each wildcard resource of the grant gets its own acknowledgement with the given reason; actions are never
 * acknowledged here, so a grant that widened to `service:*` still fails the gate.
 */
export function acknowledgeGrantWildcards(scope: Construct, grant: iam.Grant, reason: string): void {
  const stack = Stack.of(scope);
  for (const statement of grant.principalStatements) {
    for (const resource of statement.resources) {
      const flat = Token.isUnresolved(resource) ? flattenReference(stack.resolve(resource)) : resource;
      if (flat.includes('*') && flat !== '*') {
        Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
      }
    }
  }
}
