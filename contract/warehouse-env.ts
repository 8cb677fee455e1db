// Environment variable names the warehouse construct sets on the MCP function and the query tool reads.

/** Glue database holding every warehouse view's Iceberg tables. */
export const WAREHOUSE_DATABASE_ENV = 'AGENT_WAREHOUSE_DATABASE';
/** Athena workgroup the query tool runs in (bytes-scanned cutoff, encrypted results, enforced settings). */
export const WAREHOUSE_WORKGROUP_ENV = 'AGENT_WAREHOUSE_WORKGROUP';
/** Milliseconds a query may run before the tool stops it and answers with an error. */
export const WAREHOUSE_QUERY_TIMEOUT_ENV = 'AGENT_WAREHOUSE_QUERY_TIMEOUT_MS';
/** Athena data catalog of the database. */
export const WAREHOUSE_CATALOG = 'AwsDataCatalog';
/** Columns every warehouse table carries besides the view's fields. */
export const WAREHOUSE_COMMIT_TS_COLUMN = '_commit_ts';
/** History tables: the change kind ('c' insert/snapshot read 'r', 'u' update, 'd' delete, as Debezium's `op`). */
export const WAREHOUSE_OP_COLUMN = '_op';
