// A Lambda function with the library's defaults: current Node.js on arm64, the handler's prebuilt bundle, its own log group and a least-privilege role.
import * as fs from 'fs';
import * as path from 'path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundleDir, bundleFiles, readyHandlerBundle } from './handler-bundle';
import { acknowledgeLogGroup, acknowledgeUnreadableVpcConfig } from './nag';
import { estimatedEnvironmentBytes, LAMBDA_ENVIRONMENT_LIMIT_BYTES, UNRESOLVED_VALUE_ESTIMATE_BYTES } from './private/environment-size';
import { allowAwsApiEgress, keepEgressRestricted } from './security-group';
import { privateSubnetsWithEgressElseIsolated } from './subnets';

/** The Lambda runtime every function of this library uses. */
export const AGENT_LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Repository (or installed package) root: the folder holding `lambda/`. */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/**
 * Resolves a handler shipped in `lambda/<name>/index.ts` (source checkout) or
 * `lambda/<name>/index.js` (compiled package), so constructs work both from this repo and from node_modules.
 */
export function handlerEntry(name: string): string {
  for (const candidate of [
    path.join(PACKAGE_ROOT, 'lambda', name, 'index.ts'),
    path.join(PACKAGE_ROOT, 'dist', 'lambda', name, 'index.js'),
    path.join(PACKAGE_ROOT, 'lambda', name, 'index.js'),
  ]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`cdk-agent-data-stack: handler '${name}' not found under ${PACKAGE_ROOT}/lambda. Reinstall the package.`);
}

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'lambda'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk-agent-data-stack: cannot find the package root above ${start}`);
    dir = parent;
  }
}

export interface AgentFunctionProps {
  /** Folder name under `lambda/` holding `index.ts`. */
  readonly handlerName: string;
  /**
   * Path to the handler file, for handlers that are not part of this package; bundled with esbuild at synth.
   * @default - the package's prebuilt bundle of `lambda/<handlerName>/index.ts` (`bundles/<handlerName>`), no esbuild at synth
   */
  readonly entry?: string;
  /** One line saying what the function does; becomes the Lambda description. */
  readonly description: string;
  /** @default - no environment variables */
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - private subnets with egress, else isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * @default - when `vpc` is set, a new security group with no inbound rules and outbound only TCP 443 (AWS service
   * APIs through VPC endpoints or NAT); constructs add the ports of the stores they connect the function to
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY for the log group (logs are not the system of record) */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Modules esbuild leaves out of the bundle of an `entry`. @default - the AWS SDK v3, which the runtime provides */
  readonly externalModules?: string[];
  /** @default - no reserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /**
   * X-Ray tracing. With `Tracing.ACTIVE` Lambda samples invocations and the handlers' JSON logger (`lambda/shared/telemetry.ts`, Powertools' keys) puts the `xray_trace_id`
   * in every structured log line, so a log line leads to its trace.
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;
}

/**
 * Lambda function with secure, production-shaped defaults. Its role has no managed policies:
 * log writes are scoped to its own log group, and VPC access gets only the ENI actions Lambda needs.
 * Its code is the handler's bundle, built when the package is built (see `handler-bundle.ts`).
 */
export class AgentFunction extends lambda.Function {
  /** The function's own log group (with retention). */
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AgentFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    acknowledgeLogGroup(logGroup);
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role for ${props.description}`.slice(0, 1000),
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The log group's Arn attribute already covers its streams (it ends in ':*').
      resources: [logGroup.logGroupArn],
    }));
    if (props.vpc) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }));
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Lambda VPC networking: the EC2 ENI actions Lambda calls for a VPC function (the same set as AWSLambdaVPCAccessExecutionRole) do not support resource-level permissions; with active tracing, so do xray:PutTraceSegments and xray:PutTelemetryRecords.',
      });
    }
    super(scope, id, {
      code: props.entry ? entryCode(props.entry, props.externalModules) : packagedHandlerCode(props.handlerName),
      handler: 'index.handler',
      runtime: AGENT_LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize ?? 256,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? privateSubnetsWithEgressElseIsolated(props.vpc)) : undefined,
      securityGroups: props.securityGroups,
      // Lambda's automatic group, but restricted: only the rules below and those the constructs add.
      allowAllOutbound: props.vpc && !props.securityGroups ? false : undefined,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: props.tracing,
    });
    this.functionLogGroup = logGroup;
    // Lambda refuses more than 4 KB of environment at deploy (the stack rolls back); fail at synth instead.
    this.node.addValidation({
      validate: () => {
        const resolved = Stack.of(this).resolve((this.node.defaultChild as lambda.CfnFunction).environment) as { variables?: Record<string, unknown> } | undefined;
        const variables = Object.fromEntries(Object.entries(resolved?.variables ?? {})
          .map(([k, v]) => [k, typeof v === 'string' ? v : 'x'.repeat(UNRESOLVED_VALUE_ESTIMATE_BYTES)]));
        const bytes = estimatedEnvironmentBytes(variables);
        return bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES ? [] : [
          `${this.node.path}: its environment variables take about ${bytes} bytes as Lambda measures them (JSON, unresolved values `
          + `counted as ${UNRESOLVED_VALUE_ESTIMATE_BYTES} bytes); Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} and the deploy would fail. `
          + 'Split the views over several sinks or servers, or shorten view and field descriptions.',
        ];
      },
    });
    if (props.vpc) acknowledgeUnreadableVpcConfig(this);
    if (props.vpc && !props.securityGroups) {
      const [group] = this.connections.securityGroups;
      keepEgressRestricted(group);
      allowAwsApiEgress(group);
    }
  }
}

/** Never pulled: every bundle is made locally (a copy of the prebuilt bundle, or esbuild for an `entry`). */
const NO_DOCKER = DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-alpine');

/**
 * The asset of a packaged handler: its prebuilt bundle copied into the cloud assembly, hashed by content (an unchanged
 * bundle keeps its hash). Stacks that skip bundling (`aws:cdk:bundling-stacks`) stage nothing and read no file.
 */
function packagedHandlerCode(name: string): lambda.Code {
  if (!fs.existsSync(path.join(PACKAGE_ROOT, 'lambda', name, 'index.ts')) && !fs.existsSync(path.join(bundleDir(PACKAGE_ROOT, name), 'index.js'))) {
    throw new Error(`cdk-agent-data-stack: handler '${name}' not found: neither ${PACKAGE_ROOT}/lambda/${name}/index.ts nor its bundle. Reinstall the package.`);
  }
  const source = path.join(PACKAGE_ROOT, 'lambda', name);
  return lambda.Code.fromAsset(fs.existsSync(source) ? source : bundleDir(PACKAGE_ROOT, name), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: NO_DOCKER,
      // Not passed to anything: it keys CDK's asset cache, which cannot tell two `local` functions apart.
      environment: { AGENT_HANDLER: name },
      local: {
        tryBundle(outputDir: string): boolean {
          const dir = readyHandlerBundle(PACKAGE_ROOT, name);
          for (const f of bundleFiles(name)) fs.copyFileSync(path.join(dir, f), path.join(outputDir, f));
          return true;
        },
      },
    },
  });
}

/** A handler outside the package, bundled with esbuild at synth with the packaged handlers' options. */
function entryCode(entry: string, externalModules: string[] = ['@aws-sdk/*']): lambda.Code {
  return lambda.Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: NO_DOCKER,
      // Not passed to anything: it keys CDK's asset cache, which cannot tell two `local` functions apart.
      environment: { AGENT_ENTRY: path.basename(entry), AGENT_EXTERNALS: externalModules.join(',') },
      local: {
        tryBundle(outputDir: string): boolean {
          const esbuild = require('esbuild') as typeof import('esbuild');
          esbuild.buildSync({
            entryPoints: [entry], outfile: path.join(outputDir, 'index.js'), bundle: true, platform: 'node', target: 'node24',
            format: 'cjs', minify: true, sourcemap: true, external: externalModules, logLevel: 'warning', absWorkingDir: PACKAGE_ROOT,
          });
          return true;
        },
      },
    },
  });
}
