// IAM action lists the stores layer grants.

/** IAM authentication to an ElastiCache cache as a given user (both ARNs must be named). */
export const CACHE_CONNECT_ACTIONS = ['elasticache:Connect'];

/** What the Lambda event source mapping needs on the MSK cluster beyond the Kafka data-plane grants. */
export const ESM_CLUSTER_ACTIONS = ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'];

/** EC2 calls Lambda's MSK poller makes with the function's role to reach the cluster's VPC (no resource-level permissions). */
export const ESM_NETWORK_ACTIONS = ['ec2:DescribeVpcs', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'];
