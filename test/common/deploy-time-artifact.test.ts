// DeployTimeArtifact and ArtifactBucket: object key from the input hash, least-privilege builder role, validation, gate.
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ArtifactBucket, DeployTimeArtifact, DeployTimeArtifactProps, JarClassRelocation } from '../../constructs/common/deploy-time-artifact';
import { HADOOP_CONF_RELOCATION, HADOOP_UTILS_RELOCATION } from '../../constructs/stores/warehouse-jars';
import { relocateEntries } from '../../lambda/artifact-builder/relocate';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

const MAVEN = 'https://repo1.maven.org/maven2/io/debezium/debezium-connector-postgres/3.0.8.Final/debezium-connector-postgres-3.0.8.Final-plugin.tar.gz';
const SOURCES = [{ url: MAVEN, checksumUrl: `${MAVEN}.sha1`, extract: 'tar.gz' as const, targetPath: '' }];

function build(props: Partial<DeployTimeArtifactProps> = {}, gate = false, bundle = false) {
  const app = testApp({ gate, bundle });
  const stack = testStack(app);
  const bucket = new ArtifactBucket(stack, 'Artifacts').bucket;
  const artifact = new DeployTimeArtifact(stack, 'Plugin', { bucket, sources: SOURCES, ...props });
  return { app, stack, bucket, artifact };
}

describe('DeployTimeArtifact', () => {
  test('creates one custom resource with the sources, inline files and a hashed object key', () => {
    const { stack, artifact } = build({ files: [{ path: 'main.py', content: 'print(1)' }], objectKeyPrefix: 'plugins/' });
    expect(artifact.objectKey).toMatch(/^plugins\/[0-9a-f]{64}\.zip$/);
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::DeployTimeArtifact', 1);
    t.hasResourceProperties('Custom::DeployTimeArtifact', {
      BucketName: { Ref: Match.stringLikeRegexp('^Artifacts') },
      ObjectKey: artifact.objectKey,
      InputHash: artifact.inputHash,
      Sources: [{ url: MAVEN, checksumUrl: `${MAVEN}.sha1`, extract: 'tar.gz', targetPath: '' }],
      Files: [{ path: 'main.py', content: 'print(1)' }],
    });
  });

  test('defaults: objectKeyPrefix artifacts/, extract none, no inline files', () => {
    const { stack, artifact } = build({ sources: [{ url: 'https://example.com/a.jar', sha256: 'A'.repeat(64), targetPath: 'lib/a.jar' }] });
    expect(artifact.objectKey).toMatch(/^artifacts\/[0-9a-f]{64}\.zip$/);
    Template.fromStack(stack).hasResourceProperties('Custom::DeployTimeArtifact', {
      Sources: [{ url: 'https://example.com/a.jar', sha256: 'a'.repeat(64), extract: 'none', targetPath: 'lib/a.jar' }],
      Files: [],
    });
  });

  test('a changed input gives a new object key; identical inputs give the same key', () => {
    const a = build().artifact.objectKey;
    const b = build().artifact.objectKey;
    const c = build({ sources: [{ ...SOURCES[0], url: MAVEN.replace(/3\.0\.8/g, '3.0.9') }] }).artifact.objectKey;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  test('exposes the object version as a deploy-time attribute', () => {
    const { stack, artifact } = build();
    const resolved = stack.resolve(artifact.objectVersion);
    expect(resolved['Fn::GetAtt'][1]).toBe('ObjectVersion');
    expect(resolved['Fn::GetAtt'][0]).toMatch(/^Plugin/);
    expect(stack.resolve(artifact.sha256)['Fn::GetAtt'][1]).toBe('Sha256');
  });

  test('the builder may only get and put the one object key', () => {
    const { stack, artifact } = build();
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Artifacts'), 'Arn'] }, `/${artifact.objectKey}`]] },
      }]) },
    });
  });

  test('one builder function per stack, shared by every artifact', () => {
    const { stack, bucket } = build();
    new DeployTimeArtifact(stack, 'Second', { bucket, sources: [{ url: 'https://example.com/b.jar', sha256: 'b'.repeat(64), targetPath: 'b.jar' }] });
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::DeployTimeArtifact', 2);
    t.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('artifact builder') }, 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('artifact builder'), MemorySize: 4096, Timeout: 600, Runtime: 'nodejs24.x',
    });
  });

  test('grantRead gives read of the one object only', () => {
    const { stack, artifact } = build();
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('kafkaconnect.amazonaws.com') });
    artifact.grantRead(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
      PolicyDocument: { Statement: [{
        Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Artifacts'), 'Arn'] }, `/${artifact.objectKey}`]] },
      }] },
    });
  });

  test('fails when a source is not https', () => {
    expect(() => build({ sources: [{ url: 'http://repo1.maven.org/x.tar.gz', sha256: 'a'.repeat(64), extract: 'tar.gz', targetPath: '' }] }))
      .toThrow(/sources\[0\]\.url is 'http:\/\/repo1.maven.org\/x.tar.gz'; use an https:\/\/ URL/);
  });

  test('fails when a source has no checksum at all', () => {
    expect(() => build({ sources: [{ url: 'https://example.com/x.jar', targetPath: 'x.jar' }] })).toThrow(/neither sha256 nor checksumUrl/);
  });

  test('fails when sha256 is not 64 hex digits', () => {
    expect(() => build({ sources: [{ url: 'https://example.com/x.jar', sha256: 'abc', targetPath: 'x.jar' }] })).toThrow(/sha256 is 'abc'; give 64 hex digits/);
  });

  test('fails when checksumUrl is an MD5 file', () => {
    expect(() => build({ sources: [{ url: 'https://example.com/x.jar', checksumUrl: 'https://example.com/x.jar.md5', targetPath: 'x.jar' }] }))
      .toThrow(/checksumUrl is 'https:\/\/example.com\/x.jar.md5'.*\.sha1, \.sha256 or \.sha512/);
  });

  test('fails when an unpacked file has no target path', () => {
    expect(() => build({ sources: [{ url: 'https://example.com/x.jar', sha256: 'a'.repeat(64), targetPath: '' }] })).toThrow(/targetPath is empty/);
  });

  test('fails when classes or relocations are given for a source that is not merged', () => {
    expect(() => build({ sources: [{ url: 'https://example.com/x.jar', sha256: 'a'.repeat(64), targetPath: 'x.jar', classes: ['a/B'] }] }))
      .toThrow(/sources\[0\] \(https:\/\/example.com\/x.jar\) has classes or relocations but extract 'none'; they apply to 'merge-jar' sources only/);
  });

  test('fails when a relocation names a class not in internal form', () => {
    expect(() => build({ sources: [{ url: 'https://example.com/x.jar', sha256: 'a'.repeat(64), extract: 'merge-jar', targetPath: 'x.jar', relocations: [{ from: 'a.b.C', to: 'd/C' }] }] }))
      .toThrow(/sources\[0\] names class 'a.b.C'; give class names in internal form/);
  });

  test('fails when a package relocation moves a package into itself; a package relocation is carried to the builder as data', () => {
    const source = { url: 'https://example.com/x.jar', sha256: 'a'.repeat(64), extract: 'merge-jar' as const, targetPath: 'x.jar' };
    expect(() => build({ sources: [{ ...source, relocations: [{ from: 'a/b', to: 'a/b/shaded', package: true }] }] }))
      .toThrow(/sources\[0\] relocates package 'a\/b' into itself \('a\/b\/shaded'\); choose a package outside it/);
    const app = testApp();
    const stack = testStack(app);
    new DeployTimeArtifact(stack, 'Pkg', { bucket: new s3.Bucket(stack, 'B', { versioned: true }), sources: [{ ...source, relocations: [{ from: 'a/b', to: 'shaded/a/b', package: true }] }] });
    const specs = JSON.stringify(Template.fromStack(stack).findResources('Custom::DeployTimeArtifact'));
    expect(specs).toContain('{"from":"a/b","to":"shaded/a/b","package":true}');
  });

  describe('chained relocations (one relocation\'s new name moved again by another of the same merged JAR) fail at synth, as the builder fails them at deploy', () => {
    const jar = (relocations: JarClassRelocation[], targetPath = 'x.jar') => ({ url: 'https://example.com/x.jar', sha256: 'a'.repeat(64), extract: 'merge-jar' as const, targetPath, relocations });

    test('package into a package another relocation moves', () => {
      expect(() => build({ sources: [jar([{ from: 'a', to: 'b', package: true }, { from: 'b', to: 'c', package: true }])] }))
        .toThrow("DeployTimeArtifact: sources[0] relocates package 'a' to 'b', which the relocation of package 'b' to 'c' (sources[0], same merged JAR 'x.jar') would move again; "
          + "the builder refuses chained relocations. Relocate 'a' straight to its final name ('c') or to a name no other relocation matches.");
      expect(() => build({ sources: [jar([{ from: 'a/x', to: 'b/y', package: true }, { from: 'b', to: 'c', package: true }])] }))
        .toThrow(/relocates package 'a\/x' to 'b\/y', which the relocation of package 'b' to 'c' .* final name \('c\/y'\)/);
    });

    test('class into a class (or a nested class of one) another relocation moves', () => {
      expect(() => build({ sources: [jar([{ from: 'x/A', to: 'p/B' }, { from: 'p/B', to: 'q/B' }])] }))
        .toThrow(/sources\[0\] relocates class 'x\/A' to 'p\/B', which the relocation of class 'p\/B' to 'q\/B' \(sources\[0\], same merged JAR 'x.jar'\) would move again; .* final name \('q\/B'\)/);
      expect(() => build({ sources: [jar([{ from: 'x/A', to: 'p/B$In' }, { from: 'p/B', to: 'q/B' }])] }))
        .toThrow(/relocates class 'x\/A' to 'p\/B\$In', which the relocation of class 'p\/B' .* final name \('q\/B\$In'\)/);
    });

    test('class into a package, and package onto a class, another relocation moves', () => {
      expect(() => build({ sources: [jar([{ from: 'x/A', to: 'p/A' }, { from: 'p', to: 'q', package: true }])] }))
        .toThrow(/relocates class 'x\/A' to 'p\/A', which the relocation of package 'p' to 'q' .* final name \('q\/A'\)/);
      expect(() => build({ sources: [jar([{ from: 'x', to: 'p/C', package: true }, { from: 'p/C', to: 'q/C' }])] }))
        .toThrow(/relocates package 'x' to 'p\/C', which the relocation of class 'p\/C' to 'q\/C'/);
    });

    test('across two sources of one merged JAR, named by the builder\'s path (./lib/x.jar is lib/x.jar), in either order', () => {
      expect(() => build({ sources: [jar([{ from: 'b', to: 'c', package: true }], 'lib/x.jar'), jar([{ from: 'a', to: 'b', package: true }], './lib/x.jar')] }))
        .toThrow(/sources\[1\] relocates package 'a' to 'b', which the relocation of package 'b' to 'c' \(sources\[0\], same merged JAR 'lib\/x.jar'\) would move again/);
    });

    test('accepted: relocations that do not chain, names that only share a prefix, and chains split over two merged JARs', () => {
      const sources = [
        jar([{ ...HADOOP_UTILS_RELOCATION }, { ...HADOOP_CONF_RELOCATION }, { from: 'p', to: 'qq', package: true }, { from: 'q', to: 'r', package: true },
          { from: 'x/A', to: 'y/AB' }, { from: 'y/A', to: 'z/A' }]),
        jar([{ from: 'a', to: 'b', package: true }], 'one.jar'),
        jar([{ from: 'b', to: 'c', package: true }], 'two.jar'),
      ];
      const { stack } = build({ sources });
      Template.fromStack(stack).hasResourceProperties('Custom::DeployTimeArtifact', { Sources: Match.arrayWith([Match.objectLike({ targetPath: 'two.jar' })]) });
    });

    test('a package moved into a package that holds a moved package: the error says which name it would hold', () => {
      expect(() => build({ sources: [jar([{ from: 'p', to: 'q', package: true }, { from: 'q/s', to: 'r', package: true }])] }))
        .toThrow(/relocates package 'p' to 'q', which the relocation of package 'q\/s' to 'r' \(sources\[0\].*'q' would hold 'q\/s': relocate 'p' to a name that holds no name another relocation moves/);
    });

    // The construct and the builder share the rule (contract/jar-relocation.ts); this table runs both on the same relocations.
    test.each([
      ['package -> package', true, [{ from: 'a', to: 'b', package: true }, { from: 'b', to: 'c', package: true }]],
      ['package -> subpackage of a moved package', true, [{ from: 'a', to: 'b/s', package: true }, { from: 'b', to: 'c', package: true }]],
      ['class -> class', true, [{ from: 'x/A', to: 'p/B' }, { from: 'p/B', to: 'q/B' }]],
      ['class -> nested class of a moved class', true, [{ from: 'x/A', to: 'p/B$I' }, { from: 'p/B', to: 'q/B' }]],
      ['class -> moved package', true, [{ from: 'x/A', to: 'p/A' }, { from: 'p', to: 'q', package: true }]],
      ['package -> moved class', true, [{ from: 'x', to: 'p/C', package: true }, { from: 'p/C', to: 'q/C' }]],
      ['reverse order (the mover first)', true, [{ from: 'b', to: 'c', package: true }, { from: 'a', to: 'b', package: true }]],
      ['the two Hadoop relocations', false, [{ ...HADOOP_UTILS_RELOCATION }, { ...HADOOP_CONF_RELOCATION }]],
      ['package names sharing a prefix', false, [{ from: 'p', to: 'qq', package: true }, { from: 'q', to: 'r', package: true }]],
      ['class names sharing a prefix', false, [{ from: 'x/A', to: 'y/AB' }, { from: 'y/A', to: 'z/A' }]],
      ['class -> moved package, the package listed first', true, [{ from: 'm', to: 'n', package: true }, { from: 'k/N', to: 'm/N' }]],
      ['a package relocated beside a class of the same name plus a suffix', false, [{ from: 'a', to: 'p/CD', package: true }, { from: 'p/C', to: 'q/C' }]],
      // The mover's name lies inside the new name's region: classes moved into `q` include those `q/s -> r` moves.
      ['package into a package holding a moved package', true, [{ from: 'p', to: 'q', package: true }, { from: 'q/s', to: 'r', package: true }]],
      ['package into a package holding a moved class', true, [{ from: 'p', to: 'q', package: true }, { from: 'q/Z', to: 'r/Z' }]],
      ['class onto a class whose nested class is moved', true, [{ from: 'x/A', to: 'p/A' }, { from: 'p/A$In', to: 'r/In' }]],
      ['package beside a moved package of a longer name', false, [{ from: 'p', to: 'q', package: true }, { from: 'qs', to: 'r', package: true }]],
    ] as [string, boolean, JarClassRelocation[]][])('builder and construct agree: %s (refused by both: %s)', (_name, chained, relocations) => {
      const builderRefuses = (() => {
        try { relocateEntries(new Map(), relocations); return false; } catch (e) { if (/would move them again/.test(String(e))) return true; throw e; }
      })();
      const constructRefuses = (() => {
        try { build({ sources: [jar(relocations)] }); return false; } catch (e) { if (/would move again/.test(String(e))) return true; throw e; }
      })();
      expect({ builderRefuses, constructRefuses }).toEqual({ builderRefuses: chained, constructRefuses: chained });
    });
  });

  test('fails when there is nothing to build', () => {
    expect(() => build({ sources: [] })).toThrow(/sources and files are both empty/);
  });

  test('fails when an input is a token', () => {
    const app = testApp();
    const stack = testStack(app);
    const bucket = new s3.Bucket(stack, 'B', { versioned: true });
    expect(() => new DeployTimeArtifact(stack, 'A', { bucket, sources: [], files: [{ path: 'x', content: bucket.bucketName }] }))
      .toThrow(/files\[0\] contains a token/);
  });

  test('ArtifactBucket: encrypted, versioned, TLS-only, no public access, access-logged, retained', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);
    t.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('ArtifactsAccessLogs') }, LogFilePrefix: 'artifacts/' },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^Artifacts[0-9A-F]{8}$') },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('passes the validation gate', () => {
    const { app } = build({}, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('the handler bundles with local esbuild', () => {
    const { stack, app } = build({}, false, true);
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('artifact builder') } });
    const code = (Object.values(fns)[0] as any).Properties.Code;
    expect(code.S3Key).toMatch(/\.zip$/);
    // The bundle exists in the cloud assembly and carries the handler and its tar/yazl dependencies.
    const assetDir = require('path').join(app.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = require('fs').readFileSync(require('path').join(assetDir, 'index.js'), 'utf8');
    expect(bundle).toMatch(/input-hash/);
    expect(bundle.length).toBeGreaterThan(20_000);
  });
});
