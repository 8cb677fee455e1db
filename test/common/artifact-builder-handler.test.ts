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
  ArtifactProperties, buildZip, extractZip, fetchGet, handleArtifactEvent, safeJoin,
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
});
