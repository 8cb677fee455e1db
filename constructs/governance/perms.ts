// IAM action lists of the governance constructs.

/** Append and read decisions: no UpdateItem, DeleteItem, BatchWriteItem or PartiQL, so a recorded decision cannot be changed through this grant. */
export const DECISION_RECORD_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'];

/** Read the lineage catalog parameters. */
export const LINEAGE_READ_ACTIONS = ['ssm:GetParameters', 'ssm:GetParameter'];
