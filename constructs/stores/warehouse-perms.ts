// IAM action lists of the warehouse: the Iceberg writer, the query tool (Athena) and the Glue table optimizers.

/** Athena calls of the query tool, on its workgroup only. */
export const WAREHOUSE_ATHENA_QUERY_ACTIONS = ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'];
/** Glue catalog reads Athena makes with the caller's credentials to plan a query (catalog, database, the view's tables). */
export const WAREHOUSE_GLUE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'];
/** Glue calls of Iceberg's GlueCatalog when it commits a snapshot (optimistic `UpdateTable` with the previous metadata location). */
export const WAREHOUSE_GLUE_WRITE_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'];
/** Data and metadata files of the Iceberg tables. */
export const WAREHOUSE_OBJECT_READ_ACTIONS = ['s3:GetObject'];
export const WAREHOUSE_OBJECT_WRITE_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
export const WAREHOUSE_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation'];
/** The key of the data bucket and the query results. */
export const WAREHOUSE_KEY_WRITE_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'];
/** The table optimizers' own log groups (Glue developer guide, table-optimizers prerequisites). */
export const WAREHOUSE_OPTIMIZER_LOG_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];
