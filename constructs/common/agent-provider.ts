// A custom resource provider (CDK Provider framework) whose onEvent handler is an AgentFunction, with the framework's nag findings explained once.
import { CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AgentFunction, AgentFunctionProps } from './agent-function';
import { acknowledgeDeployTimeFunctions, acknowledgeLogGroups } from './nag';
import { allowAwsApiEgress, restrictedSecurityGroup } from './security-group';

export interface AgentProviderProps extends AgentFunctionProps {
  /**
   * Handler folder for an `isComplete` function (async resources that poll until done).
   * @default - synchronous provider
   */
  readonly isCompleteHandlerName?: string;
  /** Path to the isComplete handler file. @default - `lambda/<isCompleteHandlerName>/index.ts` */
  readonly isCompleteEntry?: string;
  /** @default Duration.seconds(10) */
  readonly queryInterval?: Duration;
  /** @default Duration.minutes(30) */
  readonly totalTimeout?: Duration;
}

/**
 * Provider framework around our handler functions. Exposes `onEventFunction` (and `isCompleteFunction`)
 * so callers grant them exactly what they need.
 */
export class AgentProvider extends Construct {
  public readonly provider: cr.Provider;
  public readonly onEventFunction: AgentFunction;
  public readonly isCompleteFunction?: AgentFunction;
  public readonly serviceToken: string;

  /**
   * The provider `id` at the root of `scope`'s stack, created on first use: one handler (and one log group and role)
   * per stack, shared by every custom resource of that kind.
   */
  public static singleton(scope: Construct, id: string, props: AgentProviderProps): AgentProvider {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(id) as AgentProvider | undefined) ?? new AgentProvider(stack, id, props);
  }

  constructor(scope: Construct, id: string, props: AgentProviderProps) {
    super(scope, id);
    this.onEventFunction = new AgentFunction(this, 'OnEvent', props);
    if (props.isCompleteHandlerName) {
      this.isCompleteFunction = new AgentFunction(this, 'IsComplete', {
        ...props,
        handlerName: props.isCompleteHandlerName,
        entry: props.isCompleteEntry,
        description: `${props.description} (completion check)`,
      });
    }
    // The framework's functions only call AWS APIs (invoke the handlers, answer CloudFormation's presigned S3 URL, Step Functions).
    let frameworkSecurityGroups = props.securityGroups;
    if (props.vpc && !frameworkSecurityGroups) {
      const group = restrictedSecurityGroup(this, 'FrameworkSecurityGroup', {
        vpc: props.vpc,
        description: `Custom resource framework of ${this.node.path}: AWS APIs over HTTPS only`,
      });
      allowAwsApiEgress(group);
      frameworkSecurityGroups = [group];
    }
    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      isCompleteHandler: this.isCompleteFunction,
      queryInterval: props.queryInterval ?? (this.isCompleteFunction ? Duration.seconds(10) : undefined),
      totalTimeout: this.isCompleteFunction ? (props.totalTimeout ?? Duration.minutes(30)) : undefined,
      logGroup: frameworkLogs,
      vpc: props.vpc as ec2.IVpc | undefined,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: frameworkSecurityGroups,
      ...(this.isCompleteFunction ? {
        disableWaiterStateMachineLogging: false,
        waiterStateMachineLogOptions: {
          destination: new logs.LogGroup(this, 'WaiterLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH }),
          level: sfn.LogLevel.ALL,
        },
      } : {}),
    });
    this.serviceToken = this.provider.serviceToken;
    acknowledgeProviderFramework(this.provider);
    acknowledgeLogGroups(this);
    acknowledgeDeployTimeFunctions(this.onEventFunction, `Custom resource handler ${this.onEventFunction.node.path}`);
    if (this.isCompleteFunction) acknowledgeDeployTimeFunctions(this.isCompleteFunction, `Custom resource completion check ${this.isCompleteFunction.node.path}`);
  }
}

/** The Provider framework's own functions are AWS-maintained; explain their findings once, here, for what applies. */
export function acknowledgeProviderFramework(provider: cr.Provider): void {
  const frameworkFunctions = provider.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function && c.node.id.startsWith('framework-'));
  const waiter = provider.node.tryFindChild('waiter-state-machine');
  // Functions invoked by ARN (the ARN with ':*' covers their versions): the handlers, and with a waiter the framework's
  // isComplete and onTimeout functions, which the state machine invokes.
  const invoked: lambda.IFunction[] = [provider.onEventHandler, ...(provider.isCompleteHandler ? [provider.isCompleteHandler] : [])];
  if (waiter) invoked.push(...frameworkFunctions.filter(f => f.node.id !== 'framework-onEvent'));
  for (const fn of invoked) {
    const cfn = fn.node.defaultChild as CfnElement | undefined;
    if (!cfn) continue;
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(cfn)}.Arn>:*]`,
      reason: 'CDK Provider framework: its functions and waiter state machine invoke the handler functions by ARN, including their versions (the ARN with ":*").',
    });
  }
  if (waiter) {
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The Provider framework waiter state machine writes to CloudWatch Logs through log delivery actions (logs:CreateLogDelivery, logs:DescribeResourcePolicies, ...) that do not support resource-level permissions.',
      },
      {
        id: 'AwsSolutions-SF2',
        reason: 'The Provider framework waiter state machine is created by aws-cdk-lib without an X-Ray option; it only polls isComplete during deployments and logs ALL events.',
      },
      {
        id: 'Serverless-StepFunctionStateMachineXray',
        reason: 'The Provider framework waiter state machine is created by aws-cdk-lib without an X-Ray option; it only polls isComplete during deployments and logs ALL events to its log group.',
      },
      {
        id: 'ControlTower-CT.STEPFUNCTIONS.PR.2',
        reason: 'The Provider framework waiter state machine is created by aws-cdk-lib without an X-Ray option; it only polls isComplete during deployments and logs ALL events to its log group.',
      },
    );
  }
  const managedPolicies = frameworkFunctions.flatMap(f => {
    const role = f.role?.node.defaultChild;
    return role instanceof iam.CfnRole ? [JSON.stringify(Stack.of(f).resolve(role.managedPolicyArns) ?? [])] : [];
  }).join(' ');
  for (const name of ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']) {
    if (!managedPolicies.includes(`service-role/${name}"`)) continue;
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`,
      reason: name === 'AWSLambdaBasicExecutionRole'
        ? 'The CDK Provider framework function is created by aws-cdk-lib with the AWS-managed basic execution role; it only writes its own logs.'
        : 'The CDK Provider framework function in a VPC gets the AWS-managed VPC access role from aws-cdk-lib; ENI actions have no resource-level permissions.',
    });
  }
  acknowledgeDeployTimeFunctions(provider, `Custom resource framework function of ${provider.node.path}`);
}
