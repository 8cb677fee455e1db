// S3 server access logs delivered under the log bucket's policy in every app, whatever its feature flags.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

/**
 * Makes each server access log bucket created under `scope` admit S3 log delivery through its bucket policy (the
 * `logging.s3.amazonaws.com` principal, limited to the source bucket's ARN and account), never the `LogDeliveryWrite`
 * ACL. aws-cdk-lib chooses between the two by the `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` feature flag, read
 * from the log bucket's construct path upward; an app made before the flag existed, or without `cdk init`'s recommended
 * flags, gets the ACL. AWS's S3 API reference says a log bucket with ACLs disabled (bucket owner enforced) admits log
 * delivery by policy only (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html), and Control
 * Tower's CT.S3.PR.5 fails a bucket that manages access with an ACL, so the gate stopped such an app's synth on this
 * library's own buckets. Setting the flag on `scope` decides it for this construct's buckets alone. Call it before
 * `scope` has children (construct context cannot be set after).
 */
export function deliverAccessLogsByBucketPolicy(scope: Construct): void {
  scope.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
}

/**
 * The properties of every server access log bucket of this library (the artifact buckets' and the dead-letter
 * bucket's). SSE-S3: the encryption S3 log delivery supports without a key policy for the logging service. Not
 * BUCKET_OWNER_ENFORCED: a bucket deployed before `deliverAccessLogsByBucketPolicy`, by an app without the S3
 * access-log flag, holds the `LogDeliveryWrite` ACL, and S3 refuses enforced ownership while an ACL grants anyone but
 * the owner. Logs are kept a year; versions replaced by a later write a day.
 */
export function accessLogBucketProps(removalPolicy: RemovalPolicy): s3.BucketProps {
  return {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    removalPolicy,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(1) }],
  };
}
