// Broker storage that grows by itself: Application Auto Scaling target tracking on MSK's KafkaBrokerStorageUtilization.
// AWS: https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand.html (once every six hours, never shrinks),
// https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand-details.html (target 10-80 %, up to 16 TiB per broker,
// grows by the larger of 10 GiB and 10 %), https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-msk.html
// (dimension kafka:broker-storage:VolumeSize, scale-in disabled, service-linked role AWSServiceRoleForApplicationAutoScaling_KafkaCluster).
import { Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import { Construct } from 'constructs';

/** Broker storage auto scaling of a provisioned cluster. */
export interface BrokerStorageAutoScaling {
  /**
   * Largest EBS volume per broker (GiB) auto scaling may grow to: the cost ceiling (MSK bills provisioned storage per
   * GB-month, and storage never shrinks). At most 16384.
   */
  readonly maxVolumeSizeGiB: number;
  /**
   * Disk utilization (percent) MSK keeps each broker at by growing its volume. AWS allows 10 to 80 and recommends 50 to 60.
   * @default 60
   */
  readonly targetUtilizationPercent?: number;
}

/** MSK's largest broker volume (16 TiB). */
export const MSK_MAX_VOLUME_GIB = 16384;

export function validateStorageAutoScaling(s: BrokerStorageAutoScaling, volumeSizeGiB: number, serverless: boolean): void {
  if (serverless) {
    throw new Error('AgentStreamingCluster: storageAutoScaling applies to provisioned clusters only (MSK Serverless has no broker volumes); remove it or set serverless to false.');
  }
  const max = s.maxVolumeSizeGiB;
  if (!Token.isUnresolved(max) && (!Number.isInteger(max) || max <= volumeSizeGiB || max > MSK_MAX_VOLUME_GIB)) {
    throw new Error(`AgentStreamingCluster: storageAutoScaling.maxVolumeSizeGiB is ${max}; use a whole number above volumeSizeGiB (${volumeSizeGiB}) and at most ${MSK_MAX_VOLUME_GIB}, e.g. ${Math.min(MSK_MAX_VOLUME_GIB, volumeSizeGiB * 10)}.`);
  }
  const target = s.targetUtilizationPercent;
  if (target !== undefined && !Token.isUnresolved(target) && !(target >= 10 && target <= 80)) {
    throw new Error(`AgentStreamingCluster: storageAutoScaling.targetUtilizationPercent is ${target}; MSK accepts 10 to 80 (AWS recommends 50 to 60).`);
  }
}

/**
 * Registers the cluster's broker storage with Application Auto Scaling and tracks the utilization target (scale-out only).
 * L1 on purpose: without a RoleARN Application Auto Scaling uses its service-linked role for MSK (the L2 would create a role).
 */
export function addStorageAutoScaling(scope: Construct, clusterArn: string, volumeSizeGiB: number, s: BrokerStorageAutoScaling): appscaling.CfnScalableTarget {
  const target = new appscaling.CfnScalableTarget(scope, 'StorageScaling', {
    serviceNamespace: 'kafka',
    scalableDimension: 'kafka:broker-storage:VolumeSize',
    resourceId: clusterArn,
    minCapacity: volumeSizeGiB,
    maxCapacity: s.maxVolumeSizeGiB,
  });
  new appscaling.CfnScalingPolicy(scope, 'StorageUtilization', {
    policyName: 'broker-storage-utilization',
    policyType: 'TargetTrackingScaling',
    scalingTargetId: target.ref,
    targetTrackingScalingPolicyConfiguration: {
      predefinedMetricSpecification: { predefinedMetricType: 'KafkaBrokerStorageUtilization' },
      targetValue: s.targetUtilizationPercent ?? 60,
      // MSK cannot shrink a volume; Application Auto Scaling disables scale-in for it anyway.
      disableScaleIn: true,
    },
  });
  return target;
}
