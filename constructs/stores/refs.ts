// Reference interfaces of the agent stores, so sinks and the MCP server can be wired to them without knowing how they were built.
import { IResource } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';

/** An ElastiCache (Valkey/Redis OSS) store for key lookups. */
export interface IAgentCache extends IResource, ec2.IConnectable {
  /** ARN of the cache (serverless cache or replication group). */
  readonly cacheArn: string;
  readonly endpointAddress: string;
  readonly endpointPort: number;
  /** Grants `elasticache:Connect` (IAM auth) or secret read (RBAC password auth) to a client. */
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  /** Environment variables `lambda/shared` cache clients read to connect (endpoint, port, TLS, auth mode, user, secret). */
  clientEnvironment(): Record<string, string>;
}

/** An OpenSearch Service domain for search and aggregation. */
export interface IAgentSearch extends IResource, ec2.IConnectable {
  readonly domainArn: string;
  /** Hostname of the domain endpoint (no scheme). */
  readonly domainEndpoint: string;
  /** Lets a principal read (search, get) the given indexes. */
  grantRead(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant;
  /** Lets a principal write (bulk index, delete) the given indexes. */
  grantWrite(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant;
  /** Environment variables `lambda/shared` search clients read (endpoint, region). */
  clientEnvironment(): Record<string, string>;
}
