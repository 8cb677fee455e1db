// Acknowledges, by exact finding id, the wildcard resources a store's grant method put on our role (index documents, table indexes, object keys).
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { nagResource } from '../../common/nag';

/**
 * Each wildcard resource of the grant gets its own acknowledgement with the given reason; actions are never
 * acknowledged here, so a grant that widened to `service:*` still fails the gate.
 */
export function acknowledgeGrantWildcards(scope: Construct, grant: iam.Grant, reason: string): void {
  for (const statement of grant.principalStatements) {
    for (const resource of statement.resources) {
      const flat = nagResource(scope, resource);
      if (flat.includes('*') && flat !== '*') {
        Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
      }
    }
  }
}
