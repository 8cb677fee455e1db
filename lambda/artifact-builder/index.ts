// Custom resource handler: builds a deploy-time artifact ZIP (downloads verified by checksum) and stores it once per input hash.
import { createHash } from 'crypto';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ArtifactSourceSpec, assembleArtifact, HttpGet, InlineFileSpec, RetryOptions } from './build';

export * from './build';

/** Resource properties the DeployTimeArtifact construct sends. */
export interface ArtifactProperties {
  readonly BucketName: string;
  readonly ObjectKey: string;
  /** Hash of the inputs, computed at synth; also part of ObjectKey. */
  readonly InputHash: string;
  readonly Sources: ArtifactSourceSpec[];
  readonly Files?: InlineFileSpec[];
}

export interface ArtifactResult {
  readonly PhysicalResourceId: string;
  readonly Data: { ObjectKey: string; ObjectVersion: string; Sha256: string; Reused: string };
}

export interface ArtifactDeps {
  readonly s3: S3Client;
  readonly get: HttpGet;
  readonly retry?: RetryOptions;
}

const INPUT_HASH_METADATA = 'input-hash';
const SHA256_METADATA = 'zip-sha256';

/**
 * Create/Update: returns the existing object when its key already holds these inputs (idempotent, no download);
 * otherwise builds and uploads it. Delete leaves the object: the bucket is versioned and retained, and an
 * old plugin may still reference it until CloudFormation finishes replacing it.
 */
export async function handleArtifactEvent(event: CloudFormationCustomResourceEvent, deps: ArtifactDeps): Promise<ArtifactResult | { PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const props = event.ResourceProperties as unknown as ArtifactProperties;
  if (!props.BucketName || !props.ObjectKey || !props.InputHash || !Array.isArray(props.Sources)) {
    throw new Error('artifact-builder: BucketName, ObjectKey, InputHash and Sources are required resource properties.');
  }
  return ensureArtifact(props, deps);
}

/** Uploads the artifact unless the key already holds an object built from the same inputs. */
export async function ensureArtifact(props: ArtifactProperties, deps: ArtifactDeps): Promise<ArtifactResult> {
  const physicalId = `s3://${props.BucketName}/${props.ObjectKey}`;
  const existing = await headObject(deps.s3, props.BucketName, props.ObjectKey);
  if (existing && existing.inputHash === props.InputHash && existing.versionId) {
    return {
      PhysicalResourceId: physicalId,
      Data: { ObjectKey: props.ObjectKey, ObjectVersion: existing.versionId, Sha256: existing.sha256 ?? '', Reused: 'true' },
    };
  }
  const zip = await assembleArtifact(deps.get, props.Sources, props.Files ?? [], deps.retry);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  const put = await deps.s3.send(new PutObjectCommand({
    Bucket: props.BucketName,
    Key: props.ObjectKey,
    Body: zip,
    ContentType: 'application/zip',
    ChecksumSHA256: createHash('sha256').update(zip).digest('base64'),
    Metadata: { [INPUT_HASH_METADATA]: props.InputHash, [SHA256_METADATA]: sha256 },
  }));
  if (!put.VersionId) {
    throw new Error(`artifact-builder: bucket ${props.BucketName} returned no object version; enable versioning on the artifact bucket.`);
  }
  return {
    PhysicalResourceId: physicalId,
    Data: { ObjectKey: props.ObjectKey, ObjectVersion: put.VersionId, Sha256: sha256, Reused: 'false' },
  };
}

async function headObject(s3: S3Client, bucket: string, key: string): Promise<{ inputHash?: string; sha256?: string; versionId?: string } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { inputHash: head.Metadata?.[INPUT_HASH_METADATA], sha256: head.Metadata?.[SHA256_METADATA], versionId: head.VersionId };
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return undefined;
    throw e;
  }
}

/** HTTPS GET with Node's fetch, following redirects, one minute per attempt. */
export const fetchGet: HttpGet = async (url) => {
  const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
};

const s3 = new S3Client({});

export async function handler(event: CloudFormationCustomResourceEvent) {
  return handleArtifactEvent(event, { s3, get: fetchGet });
}
