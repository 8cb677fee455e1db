// IAM action lists for Amazon MSK IAM access control (kafka-cluster:*), per resource type.

/** On the cluster: open a connection and read cluster metadata. */
export const CLUSTER_CONNECT_ACTIONS = ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'];
/** On the cluster: idempotent producers (the Kafka 3.x client default) need this in addition to WriteData. */
export const CLUSTER_IDEMPOTENT_WRITE_ACTIONS = ['kafka-cluster:WriteDataIdempotently'];
/** On topics: consume. */
export const TOPIC_READ_ACTIONS = ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'];
/** On topics: produce. */
export const TOPIC_WRITE_ACTIONS = ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'];
/** On topics: create (Debezium topic.creation, Kafka Connect internal topics). */
export const TOPIC_CREATE_ACTIONS = ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic'];
/** On consumer groups: join, commit offsets, describe. */
export const GROUP_ACTIONS = ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'];
