// The artifact-builder handler run for real against a local HTTP server standing in for Maven Central (S3 mocked).
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import * as tar from 'tar';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  ArtifactProperties, buildZip, extractZip, fetchGet, handleArtifactEvent, mergeJars, safeJoin,
} from '../../lambda/artifact-builder';

const s3Mock = mockClient(S3Client);
const fastRetry = { attempts: 4, baseDelayMs: 1, sleep: async () => undefined };

let server: http.Server;
let base: string;
let tarGz: Buffer;
const hits = new Map<string, number>();
const routes = new Map<string, (count: number) => { status: number; body: Buffer | string }>();

function sha(alg: string, data: Buffer): string {
  return createHash(alg).update(data).digest('hex');
}

beforeAll(async () => {
  // A real plugin-shaped .tar.gz: a connector folder with two jars and a nested file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artifact-src-'));
  fs.mkdirSync(path.join(dir, 'debezium-connector-postgres', 'lib'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'debezium-connector-postgres', 'debezium-core.jar'), 'core-jar-bytes');
  fs.writeFileSync(path.join(dir, 'debezium-connector-postgres', 'postgresql.jar'), 'driver-jar-bytes');
  fs.writeFileSync(path.join(dir, 'debezium-connector-postgres', 'lib', 'README.md'), 'readme');
  const tarFile = path.join(dir, 'plugin.tar.gz');
  await tar.create({ gzip: true, cwd: dir, file: tarFile }, ['debezium-connector-postgres']);
  tarGz = fs.readFileSync(tarFile);
  fs.rmSync(dir, { recursive: true, force: true });

  routes.set('/plugin.tar.gz', () => ({ status: 200, body: tarGz }));
  routes.set('/plugin.tar.gz.sha1', () => ({ status: 200, body: `${sha('sha1', tarGz)}  plugin.tar.gz\n` }));
  routes.set('/plugin.tar.gz.sha512', () => ({ status: 200, body: sha('sha512', tarGz) }));
  routes.set('/wrong.sha1', () => ({ status: 200, body: sha('sha1', Buffer.from('something else')) }));
  routes.set('/provider.jar', () => ({ status: 200, body: Buffer.from('config-provider-jar') }));
  routes.set('/flaky.tar.gz', (n) => (n <= 2 ? { status: 503, body: 'try later' } : { status: 200, body: tarGz }));
  routes.set('/down.tar.gz', () => ({ status: 503, body: 'down' }));
  routes.set('/missing.tar.gz', () => ({ status: 404, body: 'no' }));

  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const count = (hits.get(url) ?? 0) + 1;
    hits.set(url, count);
    const route = routes.get(url);
    const out = route ? route(count) : { status: 404, body: 'not found' };
    res.writeHead(out.status);
    res.end(out.body);
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>(r => server.close(() => r()));
});

beforeEach(() => {
  s3Mock.reset();
  hits.clear();
});

function event(type: 'Create' | 'Update' | 'Delete', props: Partial<ArtifactProperties>): CloudFormationCustomResourceEvent {
  const full: ArtifactProperties = {
    BucketName: 'artifact-bucket',
    ObjectKey: 'plugins/abc.zip',
    InputHash: 'abc',
    Sources: [
      { url: `${base}/plugin.tar.gz`, checksumUrl: `${base}/plugin.tar.gz.sha1`, extract: 'tar.gz', targetPath: '' },
      { url: `${base}/provider.jar`, sha256: sha('sha256', Buffer.from('config-provider-jar')), extract: 'none', targetPath: 'msk-config-providers/provider.jar' },
    ],
    Files: [{ path: 'NOTICE.txt', content: 'built at deploy time' }],
    ...props,
  };
  return {
    RequestType: type,
    ServiceToken: 'token', ResponseURL: 'https://example.invalid', StackId: 'stack', RequestId: 'req',
    LogicalResourceId: 'Artifact', ResourceType: 'Custom::DeployTimeArtifact',
    ResourceProperties: { ServiceToken: 'token', ...full },
    ...(type === 'Create' ? {} : { PhysicalResourceId: 's3://artifact-bucket/plugins/abc.zip' }),
    ...(type === 'Update' ? { OldResourceProperties: {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

const get = (url: string) => fetchGet(url);

describe('artifact-builder handler', () => {
  test('builds the ZIP from a real .tar.gz plus a verified jar and an inline file, and uploads it', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    const result = await handleArtifactEvent(event('Create', {}), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });

    const put = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    const zip = put.Body as Buffer;
    expect(put.Bucket).toBe('artifact-bucket');
    expect(put.Key).toBe('plugins/abc.zip');
    expect(put.ContentType).toBe('application/zip');
    expect(put.Metadata).toEqual({ 'input-hash': 'abc', 'zip-sha256': sha('sha256', zip) });
    expect(result).toEqual({
      PhysicalResourceId: 's3://artifact-bucket/plugins/abc.zip',
      Data: { ObjectKey: 'plugins/abc.zip', ObjectVersion: 'v1', Sha256: sha('sha256', zip), Reused: 'false' },
    });
    const entries = extractZip(zip);
    expect([...entries.keys()].sort()).toEqual([
      'NOTICE.txt',
      'debezium-connector-postgres/debezium-core.jar',
      'debezium-connector-postgres/lib/README.md',
      'debezium-connector-postgres/postgresql.jar',
      'msk-config-providers/provider.jar',
    ]);
    expect(entries.get('debezium-connector-postgres/postgresql.jar')!.toString()).toBe('driver-jar-bytes');
    expect(entries.get('msk-config-providers/provider.jar')!.toString()).toBe('config-provider-jar');

    // An independent reader (Info-ZIP) accepts the archive and its CRCs.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'artifact-zip-')), 'out.zip');
    fs.writeFileSync(file, zip);
    expect(execFileSync('unzip', ['-t', file]).toString()).toMatch(/No errors detected/);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  test('the ZIP is byte-identical for identical inputs (deterministic build)', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
    const s3 = new S3Client({ region: 'us-east-1' });
    await handleArtifactEvent(event('Create', {}), { s3, get, retry: fastRetry });
    await handleArtifactEvent(event('Create', {}), { s3, get, retry: fastRetry });
    const [a, b] = s3Mock.commandCalls(PutObjectCommand).map(c => c.args[0].input.Body as Buffer);
    expect(Buffer.compare(a, b)).toBe(0);
  });

  test('property: the ZIP bytes do not depend on the order entries arrive in (fixed seed)', async () => {
    const seed = 20261127;
    console.log(`buildZip order-independence seed: ${seed}`);
    let state = seed;
    const random = () => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648; };
    const names = Array.from({ length: 25 }, (_, i) => `dir${i % 4}/file-${i}.jar`);
    const reference = await buildZip(new Map(names.map(n => [n, Buffer.from(`content of ${n}`)])));
    for (let round = 0; round < 20; round++) {
      const shuffled = [...names].sort(() => random() - 0.5);
      const zip = await buildZip(new Map(shuffled.map(n => [n, Buffer.from(`content of ${n}`)])));
      expect(Buffer.compare(zip, reference)).toBe(0);
    }
  });

  test('accepts a published .sha512 checksum', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v9' });
    const result = await handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/plugin.tar.gz`, checksumUrl: `${base}/plugin.tar.gz.sha512`, extract: 'tar.gz', targetPath: 'plugin' }],
      Files: [],
    }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
    expect((result as any).Data.ObjectVersion).toBe('v9');
    const zip = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Body as Buffer;
    expect([...extractZip(zip).keys()]).toContain('plugin/debezium-connector-postgres/postgresql.jar');
  });

  test('rejects a mismatch with the published checksum and uploads nothing', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    await expect(handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/plugin.tar.gz`, checksumUrl: `${base}/wrong.sha1`, extract: 'tar.gz', targetPath: '' }],
    }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry })).rejects.toThrow(/checksum mismatch for .*plugin\.tar\.gz: published sha1/);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('rejects a mismatch with the caller-pinned sha256', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    await expect(handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/plugin.tar.gz`, checksumUrl: `${base}/plugin.tar.gz.sha1`, sha256: 'a'.repeat(64), extract: 'tar.gz', targetPath: '' }],
    }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry })).rejects.toThrow(/pinned sha256 a{64}, downloaded [0-9a-f]{64}/);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('retries a transient 503 and then succeeds', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v2' });
    routes.set('/flaky.tar.gz.sha1', () => ({ status: 200, body: sha('sha1', tarGz) }));
    const result = await handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/flaky.tar.gz`, checksumUrl: `${base}/flaky.tar.gz.sha1`, extract: 'tar.gz', targetPath: '' }],
    }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
    expect(hits.get('/flaky.tar.gz')).toBe(3);
    expect((result as any).Data.ObjectVersion).toBe('v2');
  });

  test('gives up after the configured attempts on a persistent 503, and does not retry a 404', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    const deps = { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry };
    await expect(handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/down.tar.gz`, sha256: 'a'.repeat(64), extract: 'tar.gz', targetPath: '' }],
    }), deps)).rejects.toThrow(/failed after 4 attempts.*HTTP 503/);
    expect(hits.get('/down.tar.gz')).toBe(4);
    await expect(handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/missing.tar.gz`, sha256: 'a'.repeat(64), extract: 'tar.gz', targetPath: '' }],
    }), deps)).rejects.toThrow(/HTTP 404; check the URL/);
    expect(hits.get('/missing.tar.gz')).toBe(1);
  });

  test('is idempotent on update: an object with the same input hash is reused without downloading', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'v1', Metadata: { 'input-hash': 'abc', 'zip-sha256': 'f'.repeat(64) } });
    const result = await handleArtifactEvent(event('Update', {}), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
    expect(result).toEqual({
      PhysicalResourceId: 's3://artifact-bucket/plugins/abc.zip',
      Data: { ObjectKey: 'plugins/abc.zip', ObjectVersion: 'v1', Sha256: 'f'.repeat(64), Reused: 'true' },
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(hits.size).toBe(0);
  });

  test('rebuilds when the object at the key was written from other inputs', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'v1', Metadata: { 'input-hash': 'other' } });
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v3' });
    const result = await handleArtifactEvent(event('Update', {}), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
    expect((result as any).Data).toMatchObject({ ObjectVersion: 'v3', Reused: 'false' });
  });

  test('fails with a clear message when the bucket is not versioned', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(PutObjectCommand).resolves({});
    await expect(handleArtifactEvent(event('Create', {}), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry }))
      .rejects.toThrow(/returned no object version; enable versioning/);
  });

  test('Delete leaves the object and calls nothing', async () => {
    const result = await handleArtifactEvent(event('Delete', {}), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
    expect(result).toEqual({ PhysicalResourceId: 's3://artifact-bucket/plugins/abc.zip' });
    expect(s3Mock.calls()).toHaveLength(0);
    expect(hits.size).toBe(0);
  });

  test('refuses archive entries that escape their folder', () => {
    expect(() => safeJoin('plugin', '../../etc/passwd')).toThrow(/escapes its folder/);
    expect(() => safeJoin('', '/abs')).toThrow(/escapes its folder/);
    expect(safeJoin('plugin', './a/b.jar')).toBe('plugin/a/b.jar');
  });

  test('refuses two inputs writing the same path', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    await expect(handleArtifactEvent(event('Create', {
      Files: [{ path: 'msk-config-providers/provider.jar', content: 'x' }],
    }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry })).rejects.toThrow(/two inputs write 'msk-config-providers\/provider.jar'/);
  });

  test('unpacks a zip source', async () => {
    const inner = await buildZip(new Map([['a/x.jar', Buffer.from('x')], ['b.txt', Buffer.from('bee')]]));
    routes.set('/inner.zip', () => ({ status: 200, body: inner }));
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v4' });
    await handleArtifactEvent(event('Create', {
      Sources: [{ url: `${base}/inner.zip`, sha256: sha('sha256', inner), extract: 'zip', targetPath: 'provider' }],
      Files: [],
    }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
    const zip = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Body as Buffer;
    const entries = extractZip(zip);
    expect([...entries.keys()].sort()).toEqual(['provider/a/x.jar', 'provider/b.txt']);
    expect(entries.get('provider/b.txt')!.toString()).toBe('bee');
  });

  describe('merge-jar', () => {
    const FACTORY = 'META-INF/services/org.apache.flink.table.factories.Factory';
    const jar = (entries: Record<string, string>) => buildZip(new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)])));
    /** Entry names in the order they are stored (local headers), as a JarInputStream reads them. */
    const storedOrder = (zip: Buffer) => {
      const names: string[] = [];
      for (let o = 0; zip.readUInt32LE(o) === 0x04034b50;) {
        const nameLength = zip.readUInt16LE(o + 26);
        names.push(zip.toString('utf8', o + 30, o + 30 + nameLength));
        o += 30 + nameLength + zip.readUInt16LE(o + 28) + zip.readUInt32LE(o + 18);
      }
      return names;
    };

    test('merges like maven-shade without relocation: classes kept, services concatenated, signatures dropped, a fresh manifest first', async () => {
      const connector = await jar({
        'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\r\nMain-Class: x\r\n',
        'org/apache/flink/connector/kafka/KafkaSource.class': 'connector',
        [FACTORY]: '# factories\norg.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory\norg.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory\n',
        'META-INF/NOTICE': 'connector notice',
        'module-info.class': 'module',
      });
      const clients = await jar({
        'org/apache/kafka/common/security/auth/AuthenticateCallbackHandler.class': 'interface',
        'META-INF/NOTICE': 'kafka notice',
        'META-INF/versions/9/module-info.class': 'module',
        'META-INF/INDEX.LIST': 'index',
      });
      const iam = await jar({
        'software/amazon/msk/auth/iam/IAMClientCallbackHandler.class': 'handler',
        [FACTORY]: 'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory\r\ncom.example.Other # trailing comment\n',
        'META-INF/SIGNER.SF': 'sig', 'META-INF/SIGNER.RSA': 'sig', 'META-INF/OTHER.DSA': 'sig', 'META-INF/KEY.EC': 'sig',
        'META-INF/sub/keep.SF': 'not a signature: not directly under META-INF',
      });
      const merged = await mergeJars([{ name: 'connector', body: connector }, { name: 'clients', body: clients }, { name: 'iam', body: iam }]);
      const entries = extractZip(merged.jar);
      expect([...entries.keys()].sort()).toEqual([
        'META-INF/MANIFEST.MF', 'META-INF/NOTICE', FACTORY, 'META-INF/sub/keep.SF',
        'org/apache/flink/connector/kafka/KafkaSource.class',
        'org/apache/kafka/common/security/auth/AuthenticateCallbackHandler.class',
        'software/amazon/msk/auth/iam/IAMClientCallbackHandler.class',
      ]);
      expect(entries.get(FACTORY)!.toString()).toBe([
        'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory',
        'org.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory',
        'com.example.Other',
        '',
      ].join('\n'));
      expect(entries.get('META-INF/NOTICE')!.toString()).toBe('connector notice');
      expect(merged.conflicts).toEqual(['META-INF/NOTICE']);
      expect(entries.get('META-INF/MANIFEST.MF')!.toString()).toBe('Manifest-Version: 1.0\r\nCreated-By: cdk-agent-data-stack artifact-builder\r\n\r\n');
      expect(storedOrder(merged.jar)[0]).toBe('META-INF/MANIFEST.MF');
      // Deterministic: the same parts give the same bytes.
      expect((await mergeJars([{ name: 'connector', body: connector }, { name: 'clients', body: clients }, { name: 'iam', body: iam }])).jar.equals(merged.jar)).toBe(true);
    });

    test('the handler downloads and verifies every part, merges the parts of one targetPath in order, and stores one JAR', async () => {
      const a = await jar({ 'a/A.class': 'a', 'META-INF/services/s.S': 'a.Impl\n' });
      const b = await jar({ 'b/B.class': 'b', 'META-INF/services/s.S': 'b.Impl\n' });
      routes.set('/a.jar', () => ({ status: 200, body: a }));
      routes.set('/a.jar.sha1', () => ({ status: 200, body: sha('sha1', a) }));
      routes.set('/b.jar', () => ({ status: 200, body: b }));
      s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
      s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v5' });
      await handleArtifactEvent(event('Create', {
        Sources: [
          { url: `${base}/a.jar`, checksumUrl: `${base}/a.jar.sha1`, sha256: sha('sha256', a), extract: 'merge-jar', targetPath: 'lib/deps.jar' },
          { url: `${base}/b.jar`, sha256: sha('sha256', b), extract: 'merge-jar', targetPath: 'lib/deps.jar' },
        ],
        Files: [{ path: 'main.py', content: 'print(1)' }],
      }), { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry });
      const zip = extractZip(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Body as Buffer);
      expect([...zip.keys()].sort()).toEqual(['lib/deps.jar', 'main.py']);
      const merged = extractZip(zip.get('lib/deps.jar')!);
      expect([...merged.keys()].sort()).toEqual(['META-INF/MANIFEST.MF', 'META-INF/services/s.S', 'a/A.class', 'b/B.class']);
      expect(merged.get('META-INF/services/s.S')!.toString()).toBe('a.Impl\nb.Impl\n');
    });

    test('one part failing its pinned checksum fails the build and uploads nothing; a merge target must be a .jar path', async () => {
      const a = await jar({ 'a/A.class': 'a' });
      routes.set('/a.jar', () => ({ status: 200, body: a }));
      s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
      const deps = { s3: new S3Client({ region: 'us-east-1' }), get, retry: fastRetry };
      await expect(handleArtifactEvent(event('Create', {
        Sources: [
          { url: `${base}/a.jar`, sha256: sha('sha256', a), extract: 'merge-jar', targetPath: 'lib/deps.jar' },
          { url: `${base}/a.jar`, sha256: 'f'.repeat(64), extract: 'merge-jar', targetPath: 'lib/deps.jar' },
        ],
        Files: [],
      }), deps)).rejects.toThrow(/checksum mismatch for .*\/a\.jar: pinned sha256 f{64}/);
      await expect(handleArtifactEvent(event('Create', {
        Sources: [{ url: `${base}/a.jar`, sha256: sha('sha256', a), extract: 'merge-jar', targetPath: 'lib/deps' }],
        Files: [],
      }), deps)).rejects.toThrow(/extract 'merge-jar' and needs a JAR file path/);
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      await expect(mergeJars([{ name: 'broken.jar', body: Buffer.from('not a zip') }])).rejects.toThrow(/broken.jar is not a readable JAR/);
    });
  });
});
