// IAM action lists the stores layer grants.

/** IAM authentication to an ElastiCache cache as a given user (both ARNs must be named). */
export const CACHE_CONNECT_ACTIONS = ['elasticache:Connect'];

/** What the Lambda event source mapping needs on the MSK cluster beyond the Kafka data-plane grants. */
export const ESM_CLUSTER_ACTIONS = ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'];

/** EC2 calls Lambda's MSK poller makes with the function's role to reach the cluster's VPC (no resource-level permissions). */
export const ESM_NETWORK_ACTIONS = ['ec2:DescribeVpcs', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'];

/**
 * `kafka-cluster:*` actions Lambda's MSK event source mapping needs with IAM access control (Lambda developer guide,
 * with-msk-configure.html; the AWSLambdaMSKExecutionRole managed policy holds none of them), by resource type.
 */
export const ESM_KAFKA_CLUSTER_ACTIONS = ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'];
/** On each topic the mapping reads. */
export const ESM_KAFKA_TOPIC_ACTIONS = ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'];
/** On the mapping's consumer group. */
export const ESM_KAFKA_GROUP_ACTIONS = ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'];
