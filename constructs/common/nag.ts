// Acknowledgment helpers: cdk-nag's finding ids for token-valued resources, and the findings of deploy-time functions and log groups explained once.
import { CfnResource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';

/** The string cdk-nag puts in `Resource::...` for a resolved CloudFormation value (its flattenCfnReference rules). */
export function flattenForNag(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'];
    return (items as unknown[]).map(flattenForNag).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenForNag(o['Fn::Sub']);
  if (o['Fn::GetAtt']) return `<${flattenForNag(o['Fn::GetAtt'][0])}.${flattenForNag(o['Fn::GetAtt'][1])}>`;
  if (o['Fn::ImportValue']) return flattenForNag(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenForNag(o.Ref)}>`;
  return JSON.stringify(node);
}

/** How cdk-nag names `value` (an ARN that may hold tokens) in an IAM5 finding id, as seen from `scope`'s stack. */
export function nagResource(scope: IConstruct, value: string): string {
  return Token.isUnresolved(value) ? flattenForNag(opaqueStackOutputs(Stack.of(scope).resolve(value))) : value;
}

/**
 * A template value with each `Fn::GetStackOutput` (a weak cross-stack reference, "returns the value of an output from
 * another stack", https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html;
 * CfnInclude refuses it as an unsupported function) replaced by an `Fn::ImportValue` of a name made from the reference: an opaque value that every
 * rule treats as it treats any import. The gate scans templates with this replacement, and the acknowledgments that name
 * a value (`nagResource`) name it the same way.
 */
export function opaqueStackOutputs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(opaqueStackOutputs);
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === 'Fn::GetStackOutput') {
    const { StackName, Region, OutputName } = (o['Fn::GetStackOutput'] ?? {}) as Record<string, unknown>;
    const part = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v ?? ''));
    return { 'Fn::ImportValue': `Fn::GetStackOutput:${part(Region)}:${part(StackName)}:${part(OutputName)}` };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, opaqueStackOutputs(v)]));
}

/**
 * Records acknowledgments whose finding ids name values known only once the app is prepared. A reference to a resource
 * of another stack resolves to the consuming template's form (`Fn::ImportValue`, or `Fn::GetStackOutput` with weak
 * cross-stack references) only in aws-cdk-lib's prepare step, after every constructor and before the tree's
 * validations, which is where `acknowledgments` is called (once).
 */
export function acknowledgeWhenPrepared(scope: IConstruct, acknowledgments: () => Array<{ id: string; reason: string }>): void {
  let done = false;
  scope.node.addValidation({
    validate: () => {
      if (!done) {
        done = true;
        const acks = acknowledgments();
        if (acks.length > 0) Validations.of(scope).acknowledge(...acks);
      }
      return [];
    },
  });
}

/** Per stack, the type of each of its own resources by logical id: one walk of the tree per stack and synthesis. */
const resourceTypesByStack = new WeakMap<Stack, Map<string, string>>();
/** Stacks whose lookup is dropped at the start of each synthesis's validation. */
const resourceTypesReset = new WeakSet<Stack>();

function resourceTypes(stack: Stack): Map<string, string> {
  let types = resourceTypesByStack.get(stack);
  if (!types) {
    types = new Map();
    for (const c of stack.node.findAll()) {
      if (CfnResource.isCfnResource(c) && Stack.of(c) === stack) types.set(stack.resolve(c.logicalId), c.cfnResourceType);
    }
    resourceTypesByStack.set(stack, types);
  }
  return types;
}

/**
 * Control Tower `CT.LAMBDA.PR.3` ("Require an AWS Lambda function to be in a customer-managed Amazon Virtual Private
 * Cloud (VPC)", https://docs.aws.amazon.com/controltower/latest/userguide/lambda-rules.html) on a function that is in a
 * VPC but whose subnet or security group ids its rule (`lambda/ct-lambda-pr-3.guard` in @cdklabs/cdk-validator-cfnguard)
 * cannot read. The rule accepts each id only as a non-empty string or a `Ref`/`Fn::GetAtt`
 * of an `AWS::EC2::Subnet` (or `AWS::EC2::SecurityGroup`) in the same template; an id from another stack
 * (`Fn::ImportValue`, `Fn::GetStackOutput`, a `Fn::Select` over an imported list) or from a parameter fails it.
 * Acknowledged only then: both lists non-empty, no empty string, and at least one id such an intrinsic.
 */
export function acknowledgeUnreadableVpcConfig(fn: lambda.Function): void {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const stack = Stack.of(cfn);
  if (!resourceTypesReset.has(stack)) {
    // validateTree visits a stack before its descendants, so every synthesis builds the lookup again, after every
    // construct exists (a function added after a first synth then sees resources added with it).
    resourceTypesReset.add(stack);
    stack.node.addValidation({ validate: () => { resourceTypesByStack.delete(stack); return []; } });
  }
  acknowledgeWhenPrepared(cfn, () => {
    const vpc = stack.resolve(cfn.vpcConfig) as { subnetIds?: unknown[]; securityGroupIds?: unknown[] } | undefined;
    const local = resourceTypes(stack);
    const kind = (v: unknown, type: string): 'read' | 'opaque' | 'bad' => {
      if (typeof v === 'string') return /^\s*$/.test(v) ? 'bad' : 'read';
      if (v === null || typeof v !== 'object') return 'bad';
      const o = v as Record<string, any>;
      const target = o.Ref ?? (Array.isArray(o['Fn::GetAtt']) ? o['Fn::GetAtt'][0] : undefined);
      return typeof target === 'string' && local.get(target) === type ? 'read' : 'opaque';
    };
    const subnets = (vpc?.subnetIds ?? []).map(v => kind(v, 'AWS::EC2::Subnet'));
    const groups = (vpc?.securityGroupIds ?? []).map(v => kind(v, 'AWS::EC2::SecurityGroup'));
    const all = [...subnets, ...groups];
    if (subnets.length === 0 || groups.length === 0 || all.includes('bad') || !all.includes('opaque')) return [];
    const opaque = [subnets.includes('opaque') ? 'subnet' : '', groups.includes('opaque') ? 'security group' : ''].filter(x => x).join(' and ');
    return [{
      id: 'ControlTower-CT.LAMBDA.PR.3',
      reason: `The function is in the VPC (VpcConfig names ${subnets.length} subnets and ${groups.length} security groups), but its ${opaque} ids come from another stack or a parameter; the control's rule reads an id only as a string or a Ref/Fn::GetAtt of a resource of the same template, so it reports a function that is in the VPC.`,
    }];
  });
}

/** The Lambda settings the Serverless and Control Tower packs check, read from a typed or a raw `AWS::Lambda::Function`. */
function lambdaSettings(fn: CfnResource): { tracing: boolean; deadLetter: boolean; memory: boolean; vpc: boolean } {
  // A typed L1 holds camelCase property objects; a raw CfnResource holds the template's PascalCase properties.
  const p = fn instanceof lambda.CfnFunction
    ? (({ t, d, m, v }: Record<string, any>) => ({ tracing: t?.mode, dlq: d?.targetArn, memory: m, subnets: v?.subnetIds }))(
      Stack.of(fn).resolve({ t: fn.tracingConfig, d: fn.deadLetterConfig, m: fn.memorySize, v: fn.vpcConfig }))
    : Stack.of(fn).resolve((({ TracingConfig: t, DeadLetterConfig: d, MemorySize: m, VpcConfig: v }: Record<string, any>) =>
      ({ tracing: t?.Mode, dlq: d?.TargetArn, memory: m, subnets: v?.SubnetIds }))((fn as unknown as { _cfnProperties?: Record<string, any> })._cfnProperties ?? {}));
  return { tracing: p.tracing === 'Active', deadLetter: p.dlq !== undefined, memory: p.memory !== undefined, vpc: (p.subnets ?? []).length > 0 };
}

/**
 * Explains the Serverless and Control Tower findings of functions that run only while CloudFormation deploys
 * (custom resource handlers, aws-cdk-lib's singletons), for exactly the settings each function lacks.
 * `what` names the functions in the reasons.
 */
export function acknowledgeDeployTimeFunctions(scope: IConstruct, what: string): void {
  for (const c of scope.node.findAll()) {
    if (!CfnResource.isCfnResource(c) || c.cfnResourceType !== 'AWS::Lambda::Function') continue;
    const s = lambdaSettings(c);
    const acks: Array<{ id: string; reason: string }> = [];
    if (!s.deadLetter) {
      acks.push({ id: 'Serverless-LambdaDLQ', reason: `${what}: CloudFormation (or the Provider framework) invokes it for a stack operation and a failed event fails that operation, which CloudFormation reports and rolls back; there is nothing to replay from a dead-letter queue.` });
    }
    if (!s.tracing) {
      acks.push({ id: 'Serverless-LambdaTracing', reason: `${what}: runs only during deployments; its errors surface in the CloudFormation events and its own log group, so X-Ray segments would trace nothing of the data path.` });
    }
    if (!s.memory) {
      acks.push({ id: 'Serverless-LambdaDefaultMemorySize', reason: `${what}: aws-cdk-lib creates it without a MemorySize (128 MB); it relays one CloudFormation event per call and needs no more.` });
    }
    if (!s.vpc) {
      acks.push({ id: 'ControlTower-CT.LAMBDA.PR.3', reason: `${what}: calls only AWS control-plane APIs (CloudFormation, Lambda, Step Functions, the service it configures), never a data store in the VPC, so it runs outside the VPC.` });
    }
    if (acks.length > 0) Validations.of(c).acknowledge(...acks);
  }
}

/** The Control Tower log group findings, for the log groups under `scope` that lack the setting. */
export function acknowledgeLogGroups(scope: IConstruct): void {
  for (const c of scope.node.findAll()) {
    if (c instanceof logs.CfnLogGroup) acknowledgeLogGroup(c);
  }
}

/**
 * The Control Tower log group findings of one log group, for the settings it lacks. Each construct calls it for the log
 * groups it creates, so a construct used alone in a stack passes the gate as it does inside AgentDataStack.
 */
export function acknowledgeLogGroup(logGroup: logs.ILogGroup | logs.CfnLogGroup): void {
  const c = logGroup instanceof logs.CfnLogGroup ? logGroup : logGroup.node.defaultChild;
  if (!(c instanceof logs.CfnLogGroup)) return;
  const days = c.retentionInDays;
  if (days !== undefined && !Token.isUnresolved(days) && days < 365) {
    Validations.of(c).acknowledge({
      id: 'ControlTower-CT.CLOUDWATCH.PR.2',
      reason: `Operational logs kept ${days} days (the profile's or construct's logRetention): they are diagnostics, not the system of record; the source database holds the data and CloudTrail the audit trail. Set logRetention to keep them a year.`,
    });
  }
  if (c.kmsKeyId === undefined) {
    Validations.of(c).acknowledge({
      id: 'ControlTower-CT.CLOUDWATCH.PR.3',
      reason: 'CloudWatch Logs encrypts every log group at rest with a service key (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); a customer-managed key would add only a key policy, and reads are already limited to IAM principals granted logs:GetLogEvents.',
    });
  }
}

/**
 * A key policy statement that keeps grants to AWS services (Control Tower CT.KMS.PR.3): a principal may create a
 * grant only for an AWS resource or when it is itself an AWS service.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
 */
export function denyNonServiceGrants(key: kms.Key): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
}
