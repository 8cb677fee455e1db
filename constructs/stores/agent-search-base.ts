// Reads, writes and metrics shared by created and imported OpenSearch domains (AgentSearchBase), and the attributes of an imported one.
import { Arn, ArnFormat, Duration, Resource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { indexNameProblem } from '../../contract/search-mapping';
import { SEARCH_ENV } from '../../contract/search-env';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, OPENSEARCH_METRIC_NAMES } from '../../contract/metric-names';
import { IAgentSearch } from './refs';
import { SEARCH_READ_ACTIONS, SEARCH_WRITE_ACTIONS } from './search-perms';
import { nagResource } from '../common/nag';

/** Attributes of a domain created elsewhere. */
export interface AgentSearchAttributes {
  /** ARN of the domain (`arn:aws:es:<region>:<account>:domain/<name>`). */
  readonly domainArn: string;
  /** Endpoint hostname (no scheme). */
  readonly domainEndpoint: string;
  /** Security groups of the domain's VPC endpoint, so callers can be allowed in. @default - none: `connections` cannot open ports */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** Reads, writes and metrics shared by new and imported domains. */
export abstract class AgentSearchBase extends Resource implements IAgentSearch {
  public abstract readonly domainArn: string;
  public abstract readonly domainEndpoint: string;
  /** The domain name (the last part of the ARN). */
  public abstract readonly domainName: string;
  public abstract readonly connections: ec2.Connections;

  /**
   * Lets a principal search and get documents of the given indexes (aliases): IAM `es:ESHttpGet/Head/Post` on
   * `<domainArn>/<index>` and `<domainArn>/<index>/*`. On a domain this stack created, the principal is also
   * named in the domain access policy and mapped to a read-only FGAC role for these indexes.
   */
  public grantRead(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return this.grantIndexes('read', grantee, SEARCH_READ_ACTIONS, indexes);
  }

  /**
   * Lets a principal bulk-index, delete and multi-get documents of the given indexes: IAM
   * `es:ESHttpGet/Head/Post/Put/Delete` on the indexes, and (on a domain this stack created) a write FGAC role.
   */
  public grantWrite(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return this.grantIndexes('write', grantee, SEARCH_WRITE_ACTIONS, indexes);
  }

  /** `AGENT_SEARCH_ENDPOINT` and `AGENT_SEARCH_REGION`, read by `lambda/shared/search-client`. */
  public clientEnvironment(): Record<string, string> {
    return {
      [SEARCH_ENV.endpoint]: this.domainEndpoint,
      [SEARCH_ENV.region]: Arn.split(this.domainArn, ArnFormat.SLASH_RESOURCE_NAME).region ?? Stack.of(this).region,
    };
  }

  /** A metric of this domain in `AWS/ES`, dimensioned by DomainName and ClientId (the account). @default - Average over 1 minute */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.openSearch,
      metricName,
      // The domain's account: the stack's for a created domain, the ARN's for an imported one (environmentFromArn).
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.domainName]: this.domainName, [AWS_METRIC_DIMENSIONS.clientId]: this.env.account },
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
    });
  }

  /** 1 when at least one primary shard is unassigned (data is missing from searches). @default - Maximum over 1 minute */
  public metricClusterStatusRed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.clusterStatusRed, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** 1 when a replica shard is unassigned (one node loss away from red). @default - Maximum over 1 minute */
  public metricClusterStatusYellow(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.clusterStatusYellow, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** 1 when the domain blocks writes (storage or memory pressure): search views stop updating. @default - Maximum over 1 minute */
  public metricClusterIndexWritesBlocked(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.clusterIndexWritesBlocked, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Percentage of JVM heap in use on data nodes; sustained > 80% precedes 429 rejections. @default - Maximum over 1 minute */
  public metricJvmMemoryPressure(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.jvmMemoryPressure, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Milliseconds per indexing operation on shards. @default - Average over 1 minute */
  public metricIndexingLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.indexingLatency, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /** Milliseconds per search on shards. @default - Average over 1 minute */
  public metricSearchLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.searchLatency, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /** Free storage in MiB on the fullest data node. @default - Minimum over 1 minute */
  public metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.freeStorageSpace, { statistic: cloudwatch.Stats.MINIMUM, ...props });
  }

  /**
   * Lets a principal call `bedrock:InvokeModel` on one foundation model (the embedding model of a vector view),
   * named by ARN in this stack's region; no other model.
   */
  public grantInvokeEmbeddingModel(grantee: iam.IGrantable, modelId: string): iam.Grant {
    if (!Token.isUnresolved(modelId) && !/^[a-z0-9][a-z0-9.-]*(:[0-9a-z.-]+)?$/.test(modelId)) {
      throw new Error(`AgentSearch.grantInvokeEmbeddingModel: modelId '${modelId}' is not a Bedrock foundation model id (e.g. 'amazon.titan-embed-text-v2:0').`);
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['bedrock:InvokeModel'],
      resourceArns: [foundationModelArn(this, modelId)],
    });
  }

  /** Called for every grant so a domain this stack owns can name the principal in its access policy and FGAC roles. */
  protected onGrant(_kind: 'read' | 'write', _principal: iam.IPrincipal, _indexes: string[]): void {
    // Imported domains: their owner maps principals to FGAC roles.
  }

  private grantIndexes(kind: 'read' | 'write', grantee: iam.IGrantable, actions: string[], indexes: string[]): iam.Grant {
    if (indexes.length === 0) {
      throw new Error(`AgentSearch.grant${kind === 'read' ? 'Read' : 'Write'}: no index given. Pass the view indexes the principal needs, e.g. grant${kind === 'read' ? 'Read' : 'Write'}(fn, 'orders').`);
    }
    for (const index of indexes) {
      const problem = Token.isUnresolved(index) ? undefined : indexNameProblem(index);
      if (problem) throw new Error(`AgentSearch.grant${kind === 'read' ? 'Read' : 'Write'}: index '${index}' ${problem}. Use the view's search.index.`);
    }
    const resourceArns = indexes.flatMap(i => [`${this.domainArn}/${i}`, `${this.domainArn}/${i}/*`]);
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
    acknowledgeIndexWildcards(grantee.grantPrincipal, this.domainArn, indexes);
    this.onGrant(kind, grantee.grantPrincipal, indexes);
    return grant;
  }
}

/** The IAM5 finding cdk-nag reports for `<domainArn>/<index>/*` on the grantee's policy, acknowledged where the grant is made. */
export function acknowledgeIndexWildcards(principal: iam.IPrincipal, domainArn: string, indexes: string[]): void {
  if (!isConstruct(principal)) return;
  for (const index of indexes) {
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(principal, domainArn)}/${index}/*]`,
      reason: `OpenSearch HTTP paths under one index ('${index}'): _bulk, _search, _mget and _doc/<id>; no other index or domain.`,
    });
  }
}

/** `arn:<partition>:bedrock:<region>::foundation-model/<modelId>` (foundation models have no account). */
export function foundationModelArn(scope: IConstruct, modelId: string): string {
  return Stack.of(scope).formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId });
}

function isConstruct(x: unknown): x is IConstruct {
  return typeof x === 'object' && x !== null && 'node' in x;
}
