// The ApplicationConfiguration of a Flink SQL application: code location, runner property groups, checkpoints, monitoring, parallelism, VPC.
import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kda from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  BOOTSTRAP_SERVERS_VARIABLE, FlinkLogLevel, FlinkMetricsLevel, FlinkSqlApplicationProps, SQL_RUNNER_GROUP, SQL_VARIABLES_GROUP,
} from '../flink-sql-application-props';
import type { FlinkJar } from '../flink-runtime';

/** Where the application's ENIs go and which security groups they carry. */
export interface FlinkNetwork {
  readonly connections: ec2.Connections;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly subnets: ec2.SelectedSubnets;
}

/** The application's log group and stream. */
export interface FlinkLogging {
  readonly logGroup: logs.LogGroup;
  readonly logStream: logs.LogStream;
  readonly streamArn: string;
}

export interface FlinkApplicationCode extends FlinkNetwork {
  readonly bucket: s3.IBucket;
  readonly objectKey: string;
  readonly objectVersion: string;
  readonly dependencies: FlinkJar[];
}

/** `checkpointInterval` when the props give none (also what the consumer-lag alarms of the application's groups add). */
export const DEFAULT_CHECKPOINT_INTERVAL = Duration.seconds(60);

export function applicationConfiguration(
  props: FlinkSqlApplicationProps, code: FlinkApplicationCode,
): kda.CfnApplication.ApplicationConfigurationProperty {
  const checkpointInterval = props.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL;
  const minPause = props.minPauseBetweenCheckpoints ?? Duration.seconds(5);
  const { dependencies } = code;
  return {
    applicationCodeConfiguration: {
      codeContentType: 'ZIPFILE',
      codeContent: { s3ContentLocation: { bucketArn: code.bucket.bucketArn, fileKey: code.objectKey, objectVersion: code.objectVersion } },
    },
    environmentProperties: {
      propertyGroups: [
        {
          propertyGroupId: 'kinesis.analytics.flink.run.options',
          propertyMap: { python: 'main.py', jarfile: `lib/${dependencies[0].props.fileName}` },
        },
        {
          propertyGroupId: SQL_RUNNER_GROUP,
          propertyMap: {
            file: 'job.sql',
            ...(dependencies.length > 1 ? { jars: dependencies.slice(1).map(d => `lib/${d.props.fileName}`).join(';') } : {}),
          },
        },
        { propertyGroupId: SQL_VARIABLES_GROUP, propertyMap: { ...props.sqlVariables, [BOOTSTRAP_SERVERS_VARIABLE]: props.cluster.bootstrapBrokersSaslIam } },
      ],
    },
    flinkApplicationConfiguration: {
      checkpointConfiguration: {
        configurationType: 'CUSTOM',
        checkpointingEnabled: true,
        checkpointInterval: checkpointInterval.toMilliseconds(),
        minPauseBetweenCheckpoints: minPause.toMilliseconds(),
      },
      monitoringConfiguration: {
        configurationType: 'CUSTOM',
        logLevel: props.logLevel ?? FlinkLogLevel.INFO,
        metricsLevel: props.metricsLevel ?? FlinkMetricsLevel.APPLICATION,
      },
      parallelismConfiguration: {
        configurationType: 'CUSTOM',
        parallelism: props.parallelism ?? 1,
        parallelismPerKpu: props.parallelismPerKpu ?? 1,
        autoScalingEnabled: props.autoScaling ?? true,
      },
    },
    applicationSnapshotConfiguration: { snapshotsEnabled: props.snapshots ?? true },
    vpcConfigurations: [{ subnetIds: code.subnets.subnetIds, securityGroupIds: code.securityGroups.map(sg => sg.securityGroupId) }],
  };
}

/**
 * The runtime and the whole ApplicationConfiguration as one JSON string for the starter: CloudFormation's UpdateApplication
 * restarts the job when any of it changes (code, `sqlVariables` with the bootstrap brokers, checkpoints, log and metrics
 * levels, parallelism, snapshots, VPC), and the starter must then get an Update to soak the new job.
 *
 * The configuration itself, not a hash of it: CloudFormation has no hash function, and a hash taken at synth sees a token
 * only as its Ref/GetAtt, so new brokers or a new package version behind the same expression would not change it. Here
 * the tokens stay CloudFormation expressions (`Stack.toJsonString`): the template is the same on every synth, and the
 * value CloudFormation resolves, and compares to the last deploy's, changes exactly when a referenced value does.
 */
export function restartingConfiguration(scope: Construct, runtime: string, config: kda.CfnApplication.ApplicationConfigurationProperty): string {
  const vpcs = (config.vpcConfigurations ?? []) as kda.CfnApplication.VpcConfigurationProperty[];
  return Stack.of(scope).toJsonString({
    runtime,
    ...config,
    // Lists joined into strings: a list token (subnets of an imported VPC given as Fn::Split) cannot stand inside a JSON string.
    vpcConfigurations: vpcs.map(v => ({ subnetIds: Fn.join(',', v.subnetIds), securityGroupIds: Fn.join(',', v.securityGroupIds) })),
  });
}
