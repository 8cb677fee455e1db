// The domain findings AgentSearch acknowledges, each for the settings that raise it.
import { Validations } from 'aws-cdk-lib';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';

/** The domain's shape that decides which findings apply: dedicated masters, zones and data nodes. */
export interface DomainShape {
  readonly masters: number;
  readonly azCount: number;
  readonly dataNodes: number;
}

/** OS3 always (VPC only), OS4/OS7/CT.OPENSEARCH.PR.14 for development shapes, CT.OPENSEARCH.PR.16 (a false positive) always. */
export function acknowledgeDomain(domain: opensearch.Domain, { masters, azCount, dataNodes }: DomainShape): void {
  Validations.of(domain).acknowledge({
    id: 'AwsSolutions-OS3',
    reason: 'The domain has no public endpoint (VPC only): security groups, an access policy naming IAM roles, and FGAC restrict access; IP allowlists are the control for public domains.',
  });
  if (masters === 0) {
    Validations.of(domain).acknowledge({ id: 'AwsSolutions-OS4', reason: 'dedicatedMasterNodes is 0 (a development profile chose it); production profiles keep the default of 3.' });
  }
  if (azCount < 2) {
    Validations.of(domain).acknowledge({ id: 'AwsSolutions-OS7', reason: 'availabilityZoneCount is 1 (a development profile chose it); production profiles keep the default of 2 or more.' });
  }
  if (azCount < 2 || dataNodes < 3) {
    Validations.of(domain).acknowledge({
      id: 'ControlTower-CT.OPENSEARCH.PR.14',
      reason: `${dataNodes} data node(s) over ${azCount} Availability Zone(s), as the caller (the development profile) chose for cost: the index is rebuilt from the Kafka topics if a node is lost.`,
    });
  }
  Validations.of(domain).acknowledge({
    id: 'ControlTower-CT.OPENSEARCH.PR.16',
    reason: 'False positive: the domain enforces HTTPS with Policy-Min-TLS-1-2-PFS-2023-10 (TLS 1.2 or later with forward secrecy), stricter than the Policy-Min-TLS-1-2-2019-07 the rule accepts.',
  });
}
