// The cluster-protocol path serverless caches use: a real three-primary Redis cluster on loopback, keys spread over slots, pipelined writes, NOSCRIPT on every primary.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cluster } from 'ioredis';
import { createCacheClient } from '../../lambda/shared/cache-client';
import { APPLY_ROW_SHA, readCacheRecord, writeCacheBatch } from '../../lambda/shared/cache-writer';
import { decodeRecord } from '../../lambda/shared/envelope';
import type { StoredRecord } from '../../contract/stored-record';
import { fixtureRecords, freePort, productsView, uniquePrefix } from './helpers';

const procs: ChildProcess[] = [];
let ports: number[] = [];
let dir: string;

async function waitFor(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} did not start`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cluster-'));
  ports = [await freePort(), await freePort(), await freePort()];
  for (const port of ports) {
    // The cluster bus port named outright: the default, port + 10000, is past 65535 for an ephemeral port above 55535
    // (redis-server then refuses to start) and is not checked to be free.
    const busPort = await freePort();
    procs.push(spawn('redis-server', [
      '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
      '--save', '', '--appendonly', 'no', '--dir', dir,
    ], { stdio: 'ignore' }));
  }
  for (const port of ports) await waitFor(port);
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`);
  // Every node, not only the first: a client that reaches a node still learning the slot map gets CLUSTERDOWN and
  // reconnects, which on a loaded machine (the full suite) outlasted the test's timeout.
  for (let i = 0; i < 200; i++) {
    const states = ports.map(port => spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout ?? '');
    if (states.every(info => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))) return;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('cluster did not reach cluster_state:ok on every node');
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a cluster-mode client writes a batch spanning every shard, converges on the fixture, and reloads the script on each primary after a flush', async () => {
  const client = createCacheClient(
    { host: '127.0.0.1', port: ports[0], tls: false, auth: 'none', serverless: true, clusterMode: true },
  );
  const view = productsView({ keyPrefix: uniquePrefix('cluster') });
  try {
    const redis = await client.ready();
    expect(redis).toBeInstanceOf(Cluster);
    const cluster = redis as Cluster;
    await Promise.all(cluster.nodes('master').map(n => n.script('FLUSH')));
    const records = fixtureRecords('postgres-products.jsonl', view.topic)
      .map(r => decodeRecord(view, r, { nowMs: 1 }))
      .flatMap(d => (d.kind === 'write' ? [d.record] : [] as StoredRecord[]));
    const result = await writeCacheBatch(redis, view, records);
    expect(result).toEqual({ written: 16, stale: 0, failed: [] });
    expect(await writeCacheBatch(redis, view, [...records].reverse())).toEqual({ written: 0, stale: 16, failed: [] });
    // The ten product keys hash to slots on more than one primary, and each primary now has the script.
    const primaries = cluster.nodes('master');
    const holding = await Promise.all(primaries.map(n => n.dbsize()));
    expect(holding.filter(n => n > 0).length).toBeGreaterThan(1);
    for (const n of primaries) expect(await n.script('EXISTS', APPLY_ROW_SHA)).toEqual([1]);
    expect((await readCacheRecord(redis, view, { id: 110 }))?.row).toMatchObject({ weight: 0.5 });
    expect((await readCacheRecord(redis, view, { id: 111 }))?.row).toBeNull();
  } finally {
    await client.close();
  }
});

test('in cluster mode a rotated password reaches every node: killed connections come back authenticated', async () => {
  for (const port of ports) {
    spawnSync('redis-cli', ['-p', String(port), 'ACL', 'SETUSER', 'agent-sink', 'on', '>token-1', '~*', '+@all']);
  }
  let current = 'token-1';
  const client = createCacheClient(
    { host: '127.0.0.1', port: ports[0], tls: false, auth: 'iam', user: 'agent-sink', serverless: true, clusterMode: true },
    { passwordSource: { password: async () => current } },
  );
  const view = productsView({ keyPrefix: uniquePrefix('clusterauth') });
  const records = fixtureRecords('postgres-products.jsonl', view.topic)
    .map(r => decodeRecord(view, r, { nowMs: 1 }))
    .flatMap(d => (d.kind === 'write' ? [d.record] : [] as StoredRecord[]));
  try {
    await writeCacheBatch(await client.ready(), view, records.slice(0, 8));
    for (const port of ports) {
      spawnSync('redis-cli', ['-p', String(port), 'ACL', 'SETUSER', 'agent-sink', 'resetpass', '>token-2']);
    }
    current = 'token-2';
    const redis = await client.ready();
    for (const port of ports) spawnSync('redis-cli', ['-p', String(port), 'CLIENT', 'KILL', 'USER', 'agent-sink']);
    const result = await writeCacheBatch(redis, view, records);
    expect(result).toEqual({ written: 8, stale: 8, failed: [] });
    expect((await readCacheRecord(redis, view, { id: 111 }))?.row).toBeNull();
  } finally {
    await client.close();
  }
});
