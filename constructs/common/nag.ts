// cdk-nag finding ids for token-valued resources: one implementation of the flattening cdk-nag applies, shared by every acknowledgement.
import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The string cdk-nag puts in `Resource::...` for a resolved CloudFormation value (its flattenCfnReference rules). */
export function flattenForNag(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'];
    return (items as unknown[]).map(flattenForNag).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenForNag(o['Fn::Sub']);
  if (o['Fn::GetAtt']) return `<${flattenForNag(o['Fn::GetAtt'][0])}.${flattenForNag(o['Fn::GetAtt'][1])}>`;
  if (o['Fn::ImportValue']) return flattenForNag(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenForNag(o.Ref)}>`;
  return JSON.stringify(node);
}

/** How cdk-nag names `value` (an ARN that may hold tokens) in an IAM5 finding id, as seen from `scope`'s stack. */
export function nagResource(scope: IConstruct, value: string): string {
  return Token.isUnresolved(value) ? flattenForNag(Stack.of(scope).resolve(value)) : value;
}
