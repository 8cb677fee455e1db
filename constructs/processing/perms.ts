// IAM action lists of the processing layer.

/** What the start/stop custom resource calls on one application. */
export const FLINK_STARTER_ACTIONS = [
  'kinesisanalytics:DescribeApplication',
  'kinesisanalytics:StartApplication',
  'kinesisanalytics:StopApplication',
  'kinesisanalytics:ListApplicationSnapshots',
  'kinesisanalytics:ListApplicationOperations',
  'kinesisanalytics:DescribeApplicationOperation',
];

/** The starter's soak reads the application's restart metric (no resource-level permissions: resource `*`). */
export const FLINK_STARTER_METRIC_ACTIONS = ['cloudwatch:GetMetricData'];
/** The starter reads the job's exception from the application's log group when the job restarted. */
export const FLINK_STARTER_LOG_ACTIONS = ['logs:FilterLogEvents'];

/**
 * ENI management Managed Service for Apache Flink performs with the application's role for VPC access
 * (the list in the service's VPC permissions documentation). None supports resource-level permissions
 * for the resources it creates.
 */
export const FLINK_VPC_ACTIONS = [
  'ec2:DescribeVpcs',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeNetworkInterfaces',
  'ec2:CreateNetworkInterface',
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DeleteNetworkInterface',
];

/** Writing the application's log stream. */
export const FLINK_LOG_STREAM_ACTIONS = ['logs:PutLogEvents'];
/** Finding the application's log stream in its group. */
export const FLINK_LOG_GROUP_ACTIONS = ['logs:DescribeLogStreams'];
/** The service lists log groups to validate the logging option (no resource-level permission below `log-group:*`). */
export const FLINK_LOG_DESCRIBE_GROUPS_ACTIONS = ['logs:DescribeLogGroups'];
