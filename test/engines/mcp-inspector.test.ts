// The MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`, the reference client, which needs Node 22) lists and calls
// every tool of the test views over HTTP, and through `agent-data-stack connect` over stdio. Node 22 and the Inspector come
// from the npm registry into the engine cache, never into the repository.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { ENGINE_CACHE_DIR } from '../../cli/dev/engines/maven';
import { Harness, startHarness } from '../mcp/harness';

const INSPECTOR_VERSION = '2.12.0';
const NODE_VERSION = '22.23.5';
const DIR = path.join(ENGINE_CACHE_DIR, `mcp-inspector-${INSPECTOR_VERSION}-node-${NODE_VERSION}`);
const NODE22 = path.join(DIR, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');
const LAUNCHER = path.join(DIR, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');
const REPO = path.join(__dirname, '..', '..');

/** Installs Node 22 and the Inspector with npm into the engine cache once; fails loudly, naming the fix, when npm cannot. */
function ensureInspector(): void {
  if (fs.existsSync(NODE22) && fs.existsSync(LAUNCHER)) return;
  fs.mkdirSync(DIR, { recursive: true });
  if (!fs.existsSync(path.join(DIR, 'package.json'))) fs.writeFileSync(path.join(DIR, 'package.json'), '{"name":"mcp-inspector-engine","private":true}\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', `node-${process.platform}-${process.arch}@${NODE_VERSION}`, `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`],
    { cwd: DIR, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0 || !fs.existsSync(NODE22) || !fs.existsSync(LAUNCHER)) {
    throw new Error(`The MCP Inspector ${INSPECTOR_VERSION} (which needs Node 22, installed as node-${process.platform}-${process.arch}@${NODE_VERSION}) could not be installed into ${DIR} with npm: ${(r.stderr || r.stdout || String(r.error)).slice(-2000)}. Check that the npm registry is reachable.`);
  }
}

/** Runs the Inspector CLI without blocking: the servers it talks to live in this process. */
function inspector(args: string[]): Promise<{ code: number | null; json: any; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(NODE22, [LAUNCHER, '--cli', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'inspector-home-')) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', c => { stdout += c; });
    child.stderr.on('data', c => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', code => {
      clearTimeout(timer);
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, json, stderr: `${stderr}${json === undefined ? stdout : ''}` });
    });
  });
}

/** Example arguments for every tool of the test views (`test/mcp/support.ts`). */
const CALLS: Record<string, string[]> = {
  customers_lookup: ['customer_id=42'],
  customers_lookup_many: ['keys=[{"customer_id":42},{"customer_id":43}]'],
  order_items_lookup: ['order_id=7', 'sku=A:1*'],
  order_items_lookup_many: ['keys=[{"order_id":7,"sku":"A:1*"}]'],
  tickets_search: ['text=refund'],
  tickets_aggregate: ['aggregation={"type":"terms","field":"status"}'],
  tickets_similar: ['text=refund not received'],
  list_sources: [],
  describe_source: ['view=customers'],
  get_lineage: ['view=customers', 'key={"customer_id":42}'],
  record_decision: ['agentId=inspector', 'decision=checked', 'rationale=engine test'],
  get_decision: ['decisionId=dec-1'],
};

let h: Harness;
let relay: http.Server;
let relayUrl: string;
const methods: string[] = [];

beforeAll(async () => {
  ensureInspector();
  h = await startHarness();
  // A recording relay in front of the handler: which protocol era the Inspector speaks is read off the wire.
  relay = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        const m = JSON.parse(body.toString('utf8'));
        if (typeof m.method === 'string') methods.push(m.method);
      } catch { /* not JSON: the handler answers it */ }
      const up = http.request(`${h.url}${req.url}`, { method: req.method, headers: req.headers }, upRes => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  });
  await new Promise<void>(r => relay.listen(0, '127.0.0.1', r));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}/mcp`;
}, 900_000);

afterAll(async () => {
  relay?.closeAllConnections();
  await new Promise<void>(r => (relay ? relay.close(() => r()) : r()));
  await h?.stop();
});

describe.each([['legacy', 'initialize'], ['modern', 'server/discover']])('--protocol-era %s', (era, handshake) => {
  test('over Streamable HTTP it lists every tool and calls each one without an error', async () => {
    methods.length = 0;
    const list = await inspector([relayUrl, '--protocol-era', era, '--method', 'tools/list']);
    expect({ code: list.code, stderr: list.code === 0 ? '' : list.stderr }).toEqual({ code: 0, stderr: '' });
    const names: string[] = list.json.tools.map((t: { name: string }) => t.name);
    expect(names.sort()).toEqual(Object.keys(CALLS).sort());
    for (const name of names) {
      const r = await inspector([relayUrl, '--protocol-era', era, '--method', 'tools/call', '--tool-name', name, ...CALLS[name].flatMap(a => ['--tool-arg', a])]);
      expect({ name, code: r.code, isError: r.json?.isError ?? false, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ name, code: 0, isError: false, stderr: '' });
      expect(r.json.structuredContent).toBeDefined();
    }
    expect(methods).toContain(handshake);
    if (era === 'modern') expect(methods).not.toContain('initialize');
    process.stdout.write(`MCP Inspector ${INSPECTOR_VERSION} --protocol-era ${era}: ${[...new Set(methods)].join(', ')}\n`);
  });
});

test('an argument error reaches the Inspector with the argument, what was expected and an example', async () => {
  const r = await inspector([relayUrl, '--protocol-era', 'modern', '--method', 'tools/call', '--tool-name', 'customers_lookup']);
  expect(JSON.stringify(r.json)).toMatch(/missing required argument 'customer_id' \(integer\), e\.g\. 42/);
});

test('over stdio through agent-data-stack connect it lists (2025-11-25) and calls tools (2026-07-28)', async () => {
  const target = [process.execPath, '--require', 'ts-node/register/transpile-only', path.join(REPO, 'cli', 'agent-data-stack.ts'), 'connect', '--url', `${h.url}/mcp`, '--region', 'us-east-1'];
  const env = ['AWS_ACCESS_KEY_ID=AKIDINSPECTORTEST', 'AWS_SECRET_ACCESS_KEY=inspector-test-secret', 'AWS_EC2_METADATA_DISABLED=true', `PATH=${process.env.PATH}`].flatMap(e => ['-e', e]);
  const list = await inspector([...env, '--cwd', REPO, '--transport', 'stdio', '--method', 'tools/list', '--', ...target]);
  expect({ code: list.code, stderr: list.code === 0 ? '' : list.stderr }).toEqual({ code: 0, stderr: '' });
  expect(list.json.tools).toHaveLength(12);
  const call = await inspector([...env, '--cwd', REPO, '--transport', 'stdio', '--protocol-era', 'modern', '--method', 'tools/call', '--tool-name', 'customers_lookup', '--tool-arg', 'customer_id=42', '--', ...target]);
  expect(call.json.structuredContent).toMatchObject({ found: true, row: { name: 'Ada' } });
});
