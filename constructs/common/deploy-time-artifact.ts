// Builds a ZIP at deploy time from pinned, checksum-verified downloads (e.g. Maven Central) plus inline files, and stores it in S3.
import { createHash } from 'crypto';
import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { findChainedRelocation } from '../../contract/jar-relocation';
import { AgentProvider } from './agent-provider';
import { accessLogBucketProps, deliverAccessLogsByBucketPolicy } from './private/access-logs';

/** One download that goes into a deploy-time artifact. */
export interface ArtifactSource {
  /** HTTPS URL of the file. */
  readonly url: string;
  /**
   * Caller-pinned SHA-256 (64 hex digits) of the file.
   * @default - only the published checksum (`checksumUrl`) is checked; one of the two is required
   */
  readonly sha256?: string;
  /**
   * URL of the checksum file published beside the download (Maven Central: `<url>.sha1`; `.sha256`/`.sha512` where published).
   * @default - only the pinned `sha256` is checked; one of the two is required
   */
  readonly checksumUrl?: string;
  /**
   * How to unpack the download into the ZIP. `merge-jar`: merged with every other `merge-jar` source of the same
   * `targetPath` into one JAR (classes unrelocated, service files concatenated, signatures dropped).
   * @default 'none' (the file is stored as is at `targetPath`)
   */
  readonly extract?: 'tar.gz' | 'zip' | 'none' | 'merge-jar';
  /** Folder (for archives; '' for the ZIP root) or file path (for `none` and `merge-jar`) inside the output ZIP. */
  readonly targetPath: string;
  /**
   * `merge-jar` only: take just these classes (internal names such as `org/apache/flink/runtime/util/HadoopUtils`, with
   * their nested classes) from this JAR.
   * @default - every entry of the JAR
   */
  readonly classes?: string[];
  /**
   * `merge-jar` only: classes (or, with `package`, packages) renamed in the whole merged JAR of this `targetPath`, as
   * maven-shade's `<relocation>` does (the entries and every reference in every class's constant pool).
   * @default - no class is renamed
   */
  readonly relocations?: JarClassRelocation[];
}

/** A class renamed in a merged JAR (internal names, `a/b/C`; nested classes `C$...` follow), or a package with `package`. */
export interface JarClassRelocation {
  readonly from: string;
  readonly to: string;
  /** `from` and `to` name packages (`org/apache/hadoop/conf`): every class in `from` and below moves under `to`. @default false */
  readonly package?: boolean;
}

/** A small text file written into the artifact (for example a Python `main.py`). */
export interface ArtifactInlineFile {
  readonly path: string;
  readonly content: string;
}

/** Control Tower S3 controls that do not fit buckets of deploy-time artifacts and their access logs. */
const ARTIFACT_BUCKET_CONTROLS = [
  { id: 'ControlTower-CT.S3.PR.4', reason: 'Objects are written only by the stack\'s deploy-time builder and read by MSK Connect or Managed Service for Apache Flink during deployment; nothing has to react to a new object.' },
  { id: 'ControlTower-CT.S3.PR.9', reason: 'Object Lock would block the lifecycle and stack deletion; versioning already keeps replaced artifacts, and only the deploy-time builder may write.' },
];

export interface ArtifactBucketProps {
  /**
   * Removal policy of the artifact bucket (and its access-log bucket).
   * @default RemovalPolicy.RETAIN (deployed plugins and applications reference its objects)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An S3 bucket for deploy-time artifacts with secure defaults: SSE-S3 encryption, versioning, TLS-only access,
 * all public access blocked, server access logs to a second bucket, retained on stack deletion.
 */
export class ArtifactBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactBucketProps = {}) {
    super(scope, id);
    deliverAccessLogsByBucketPolicy(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', accessLogBucketProps(removalPolicy));
    Validations.of(this.accessLogsBucket).acknowledge(
      { id: 'ControlTower-CT.S3.PR.2', reason: 'This is the server access log bucket of the artifact bucket; logging a log bucket would need a third bucket, and so on.' },
      { id: 'ControlTower-CT.S3.PR.10', reason: 'S3 server access log delivery writes to SSE-S3 buckets without a key policy for the logging service; the logs hold requests and object keys of public artifacts.' },
      ...ARTIFACT_BUCKET_CONTROLS,
    );
    this.bucket = new s3.Bucket(this, 'Resource', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy,
      // Current artifacts stay while deployed plugins and applications reference them; replaced ones go after 30 days.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    Validations.of(this.bucket).acknowledge(
      { id: 'ControlTower-CT.S3.PR.10', reason: 'The artifacts are public open-source JARs and archives from Maven Central and PyPI plus the stack\'s own SQL, checksum-verified at build; SSE-S3 protects them at rest and a customer-managed key would protect no secret.' },
      ...ARTIFACT_BUCKET_CONTROLS,
    );
  }
}

export interface DeployTimeArtifactProps {
  /** Versioned bucket the ZIP is written to (see `ArtifactBucket`). */
  readonly bucket: s3.IBucket;
  /** Downloads to put into the ZIP, each verified by checksum. */
  readonly sources: ArtifactSource[];
  /**
   * Inline text files added to the ZIP.
   * @default - none
   */
  readonly files?: ArtifactInlineFile[];
  /**
   * Key prefix of the object; the key is `<prefix><sha256 of the inputs>.zip`.
   * @default 'artifacts/'
   */
  readonly objectKeyPrefix?: string;
}

/**
 * A ZIP built during deployment. The object key contains a hash of the inputs, so changing a version, checksum
 * or file creates a new object (and any resource using `objectKey` is replaced); identical inputs reuse the object.
 * Deleting the construct leaves the object in the (versioned, retained) bucket.
 */
export class DeployTimeArtifact extends Construct {
  public readonly bucket: s3.IBucket;
  /** Key of the ZIP in `bucket`; known at synth. */
  public readonly objectKey: string;
  /** S3 version ID of the ZIP (deploy-time attribute). */
  public readonly objectVersion: string;
  /** SHA-256 (hex) of the ZIP (deploy-time attribute). */
  public readonly sha256: string;
  /** Hash of the inputs (synth-time). */
  public readonly inputHash: string;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: DeployTimeArtifactProps) {
    super(scope, id);
    validate(props);
    const sources = props.sources.map(s => ({
      url: s.url,
      ...(s.sha256 ? { sha256: s.sha256.toLowerCase() } : {}),
      ...(s.checksumUrl ? { checksumUrl: s.checksumUrl } : {}),
      extract: s.extract ?? 'none',
      targetPath: s.targetPath,
      ...(s.classes ? { classes: [...s.classes] } : {}),
      ...(s.relocations ? { relocations: s.relocations.map(r => ({ from: r.from, to: r.to, ...(r.package ? { package: true } : {}) })) } : {}),
    }));
    const files = (props.files ?? []).map(f => ({ path: f.path, content: f.content }));
    this.inputHash = createHash('sha256').update(JSON.stringify({ format: 1, sources, files })).digest('hex');
    this.bucket = props.bucket;
    this.objectKey = `${props.objectKeyPrefix ?? 'artifacts/'}${this.inputHash}.zip`;

    const provider = DeployTimeArtifact.provider(this);
    const objectArn = props.bucket.arnForObjects(this.objectKey);
    const grant = iam.Grant.addToPrincipal({
      grantee: provider.onEventFunction,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [objectArn],
    });
    props.bucket.encryptionKey?.grantEncryptDecrypt(provider.onEventFunction);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DeployTimeArtifact',
      properties: { BucketName: props.bucket.bucketName, ObjectKey: this.objectKey, InputHash: this.inputHash, Sources: sources, Files: files },
    });
    grant.applyBefore(this.resource);
    this.objectVersion = this.resource.getAttString('ObjectVersion');
    this.sha256 = this.resource.getAttString('Sha256');
  }

  /** Lets a principal read this one object (any version). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [this.bucket.arnForObjects(this.objectKey)],
    });
    this.bucket.encryptionKey?.grantDecrypt(grantee);
    return grant;
  }

  /** One builder function per stack, shared by every artifact in it. */
  private static provider(scope: Construct): AgentProvider {
    return AgentProvider.singleton(scope, 'CdkAgentDataStackArtifactBuilder', {
      handlerName: 'artifact-builder',
      description: 'cdk-agent-data-stack deploy-time artifact builder (downloads, verifies checksums, builds a ZIP, uploads to S3)',
      timeout: Duration.minutes(10),
      // Archives are unpacked and JARs merged in memory (/tmp is not used): the warehouse writer's package (Iceberg, its AWS
      // bundle and Hadoop merged into one 160 MB JAR) peaks at about 2 GB RSS, measured with the builder's own code.
      memorySize: 4096,
    });
  }
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function validate(props: DeployTimeArtifactProps): void {
  if (props.sources.length === 0 && (props.files ?? []).length === 0) {
    throw new Error('DeployTimeArtifact: sources and files are both empty; give at least one source or file.');
  }
  for (const [i, s] of props.sources.entries()) {
    if (Token.isUnresolved(s.url) || Token.isUnresolved(s.sha256) || Token.isUnresolved(s.checksumUrl) || Token.isUnresolved(s.targetPath)) {
      throw new Error(`DeployTimeArtifact: sources[${i}] contains a token; the inputs must be known at synth because the object key is their hash.`);
    }
    if (!/^https:\/\//.test(s.url)) {
      throw new Error(`DeployTimeArtifact: sources[${i}].url is '${s.url}'; use an https:// URL.`);
    }
    if (!s.sha256 && !s.checksumUrl) {
      throw new Error(`DeployTimeArtifact: sources[${i}] (${s.url}) has neither sha256 nor checksumUrl; pin a sha256 or give the published checksum URL.`);
    }
    if (s.sha256 !== undefined && !HEX64.test(s.sha256)) {
      throw new Error(`DeployTimeArtifact: sources[${i}].sha256 is '${s.sha256}'; give 64 hex digits.`);
    }
    if (s.checksumUrl !== undefined && !/^https:\/\/.*\.(sha1|sha256|sha512)$/i.test(s.checksumUrl)) {
      throw new Error(`DeployTimeArtifact: sources[${i}].checksumUrl is '${s.checksumUrl}'; give an https:// URL ending in .sha1, .sha256 or .sha512.`);
    }
    if ((s.extract ?? 'none') === 'none' && !s.targetPath.replace(/\/+$/, '')) {
      throw new Error(`DeployTimeArtifact: sources[${i}].targetPath is empty; a file that is not unpacked needs a file path.`);
    }
    if ((s.classes || s.relocations) && s.extract !== 'merge-jar') {
      throw new Error(`DeployTimeArtifact: sources[${i}] (${s.url}) has classes or relocations but extract '${s.extract ?? 'none'}'; they apply to 'merge-jar' sources only.`);
    }
    for (const r of s.relocations ?? []) {
      if (r.package && r.to.startsWith(`${r.from}/`)) {
        throw new Error(`DeployTimeArtifact: sources[${i}] relocates package '${r.from}' into itself ('${r.to}'); choose a package outside it.`);
      }
    }
    for (const name of [...(s.classes ?? []), ...(s.relocations ?? []).flatMap(r => [r.from, r.to])]) {
      if (!/^[A-Za-z_$][\w$]*(\/[A-Za-z_$][\w$]*)*$/.test(name)) {
        throw new Error(`DeployTimeArtifact: sources[${i}] names class '${name}'; give class names in internal form (org/example/Name).`);
      }
    }
    if (s.extract === 'merge-jar' && !/\.jar$/.test(s.targetPath)) {
      throw new Error(`DeployTimeArtifact: sources[${i}].targetPath is '${s.targetPath}'; a 'merge-jar' source needs the merged JAR's path, ending in .jar.`);
    }
  }
  checkChainedRelocations(props.sources);
  for (const [i, f] of (props.files ?? []).entries()) {
    if (Token.isUnresolved(f.path) || Token.isUnresolved(f.content)) {
      throw new Error(`DeployTimeArtifact: files[${i}] contains a token; inline files must be known at synth because the object key is their hash.`);
    }
  }
  if (props.objectKeyPrefix !== undefined && Token.isUnresolved(props.objectKeyPrefix)) {
    throw new Error('DeployTimeArtifact: objectKeyPrefix is a token; give a literal prefix such as \'plugins/\'.');
  }
}

/**
 * Refuses, per merged JAR, a relocation whose new name another relocation of the same JAR would move again: the builder
 * gathers the relocations of every `merge-jar` source of one target path and refuses such a pair with the same rule
 * (`findChainedRelocation`), which would otherwise fail the deployment. Runs after every name has been checked (a token
 * has been refused by then).
 */
function checkChainedRelocations(sources: readonly ArtifactSource[]): void {
  const byJar = new Map<string, { source: number; from: string; to: string; package: boolean }[]>();
  for (const [i, s] of sources.entries()) {
    if (s.extract !== 'merge-jar') continue;
    // The builder's key for the merged JAR (build.ts, assembleArtifact and safeJoin): './lib/a.jar' and 'lib/a.jar' are one JAR.
    const jar = path.posix.normalize(s.targetPath.replace(/^\/+|\/+$/g, '').replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
    // As the construct hands them over: `package` only when truthy.
    const relocations = (s.relocations ?? []).map(r => ({ source: i, from: r.from, to: r.to, package: Boolean(r.package) }));
    byJar.set(jar, [...(byJar.get(jar) ?? []), ...relocations]);
  }
  for (const [jar, relocations] of byJar) {
    const chained = findChainedRelocation(relocations);
    if (!chained) continue;
    const [a, b] = [relocations[chained.index], relocations[chained.movedBy]];
    const kind = (r: { package: boolean }) => (r.package ? 'package' : 'class');
    throw new Error(`DeployTimeArtifact: sources[${a.source}] relocates ${kind(a)} '${a.from}' to '${a.to}', which the relocation of ${kind(b)} `
      + `'${b.from}' to '${b.to}' (sources[${b.source}], same merged JAR '${jar}') would move again; the builder refuses chained relocations. `
      + (chained.way === 'lands-in'
        ? `Relocate '${a.from}' straight to its final name ('${b.to}${a.to.slice(b.from.length)}') or to a name no other relocation matches.`
        : `'${a.to}' would hold '${b.from}': relocate '${a.from}' to a name that holds no name another relocation moves.`));
  }
}
