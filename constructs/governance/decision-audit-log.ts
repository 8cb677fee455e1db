// DecisionAuditLog: the append-only DynamoDB table record_decision writes and get_decision reads, queryable by decision id and by agent and time.
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';
import { DECISION_TABLE_ENV } from '../../contract/decision-store';
import { DECISION_RECORD_ACTIONS } from './perms';

/**
 * Item writes other than an append: denied explicitly to every grantee of `grantRecord` and, on tables created here, in
 * the table's resource policy for every principal, so a recorded decision cannot be changed or removed even by a role
 * that is later granted broader write access. (No DynamoDB condition key covers `ConditionExpression`: that a put never
 * replaces an existing id is the store's `attribute_not_exists(decisionId)`.)
 */
export const DECISION_MUTATE_ACTIONS = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLUpdate', 'dynamodb:UpdateItem'];

/** The global secondary index holding decisions by agent, newest last by `recordedAt`. */
export const DECISIONS_BY_AGENT_INDEX = 'byAgent';

export interface DecisionAuditLogProps {
  /** @default - a CloudFormation-generated name */
  readonly tableName?: string;
  /** Customer managed key for the table. @default - the AWS managed key for DynamoDB (`aws/dynamodb`), so key use is visible in CloudTrail */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN (an audit log outlives the stack) */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true */
  readonly deletionProtection?: boolean;
}

/** A decision audit table the MCP server can record to, created here or imported. */
export interface IDecisionAuditLog extends IConstruct {
  readonly tableName: string;
  readonly tableArn: string;
  /** PutItem, GetItem and Query on the table and its `byAgent` index; never UpdateItem or DeleteItem. */
  grantRecord(grantee: iam.IGrantable): iam.Grant;
  /** Environment variables `lambda/shared/decision-store-dynamodb.ts` reads. */
  environment(): Record<string, string>;
}

export interface DecisionAuditLogAttributes {
  readonly tableName: string;
  /** @default - the table uses an AWS owned or AWS managed key (nothing to grant) */
  readonly encryptionKey?: kms.IKey;
}

abstract class DecisionAuditLogBase extends Construct implements IDecisionAuditLog {
  public abstract readonly tableName: string;
  public abstract readonly tableArn: string;
  public abstract readonly encryptionKey?: kms.IKey;

  /**
   * Lets a principal append decisions and read them: PutItem, GetItem and Query on the table and its `byAgent`
   * index. No UpdateItem or DeleteItem: the store writes with `attribute_not_exists(decisionId)`, so an id is never overwritten.
   */
  public grantRecord(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: DECISION_RECORD_ACTIONS,
      resourceArns: [this.tableArn, `${this.tableArn}/index/${DECISIONS_BY_AGENT_INDEX}`],
    });
    // Append-only in IAM, not only in code: an explicit deny outlives any allow the same role gets elsewhere.
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DecisionAuditAppendOnly',
      effect: iam.Effect.DENY,
      actions: DECISION_MUTATE_ACTIONS,
      resources: [this.tableArn],
    }));
    this.encryptionKey?.grantEncryptDecrypt(grantee);
    return grant;
  }

  public environment(): Record<string, string> {
    return { [DECISION_TABLE_ENV]: this.tableName };
  }
}

/**
 * The decision audit table: on-demand, point-in-time recovery, encrypted, retained.
 * Keys: `decisionId` (partition); index `byAgent` on `agentId` + `recordedAt` (ISO-8601, sorts by time).
 */
export class DecisionAuditLog extends DecisionAuditLogBase {
  /** An existing table with the same key layout (`decisionId`; index `byAgent` on `agentId` + `recordedAt`). */
  public static fromTableAttributes(scope: Construct, id: string, attrs: DecisionAuditLogAttributes): IDecisionAuditLog {
    class Imported extends DecisionAuditLogBase {
      public readonly tableName = attrs.tableName;
      public readonly tableArn = Stack.of(scope).formatArn({ service: 'dynamodb', resource: 'table', resourceName: attrs.tableName });
      public readonly encryptionKey = attrs.encryptionKey;
    }
    return new Imported(scope, id);
  }

  public readonly table: dynamodb.TableV2;
  public readonly tableName: string;
  public readonly tableArn: string;
  public readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: DecisionAuditLogProps = {}) {
    super(scope, id);
    if (props.tableName !== undefined && !Token.isUnresolved(props.tableName) && !/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(`DecisionAuditLog: tableName '${props.tableName}' is not a valid DynamoDB table name. Use 3-255 letters, digits, '_', '-' or '.'.`);
    }
    this.encryptionKey = props.encryptionKey;
    this.table = new dynamodb.TableV2(this, 'Resource', {
      tableName: props.tableName,
      partitionKey: { name: 'decisionId', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey
        ? dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey)
        : dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: props.deletionProtection ?? true,
      // Append-only for everyone: no principal may update or delete a recorded decision (changing this policy is itself audited).
      resourcePolicy: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({
          sid: 'DecisionAuditAppendOnly',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: DECISION_MUTATE_ACTIONS,
          resources: ['*'],
        })],
      }),
      globalSecondaryIndexes: [{
        indexName: DECISIONS_BY_AGENT_INDEX,
        partitionKey: { name: 'agentId', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'recordedAt', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      }],
    });
    this.tableName = this.table.tableName;
    this.tableArn = this.table.tableArn;
  }
}
