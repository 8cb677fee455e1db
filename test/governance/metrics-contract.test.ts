// The custom-metric contract across layers: every alarm and widget AgentObservability builds (with its defaults) for an AgentSink and an
// AgentMcpServer reads a namespace, metric name and dimension set (names and values) that the sink and MCP runtimes really publish.
// "Published" is what the runtime modules print as EMF when run with the environment the constructs synthesize.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentObservability, AgentObservabilityProps, DecisionAuditLog } from '../../constructs/governance';
import { AgentMcpServer } from '../../constructs/mcp';
import { AgentCache } from '../../constructs/stores/agent-cache';
import { AgentSink } from '../../constructs/stores/agent-sink';
import { AgentView, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import type { McpServerDeps, ToolCallEvent } from '../../lambda/mcp/context';
import { toolCallObserver } from '../../lambda/mcp/observability';
import { EmfMetrics, JsonLogger } from '../../lambda/shared/telemetry';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { MCP_METRIC_NAMES, SINK_METRIC_NAMES } from '../../contract/metric-names';
import { readViewsEnv } from '../../lambda/shared/views-env';
import { EmfSinkMetrics } from '../../lambda/sink/metrics';
import { processBatch } from '../../lambda/sink/process';
import { testApp, testStack } from '../helpers/app';
import { FakeSearch } from '../mcp/fakes';
import { InMemoryDecisionStore, NOW_MS } from '../mcp/support';
import { testAgentViews } from '../mcp/agent-views';
import { b64, fixtureRecords, mskEvent } from '../sink/helpers';
import { FakeCluster } from '../stores/fakes';
import { ConnectorStandIn } from '../helpers/metric-stand-ins';

/** What `DebeziumConnector.heartbeatTopic` is for topic prefix `dbserver1`. */
const HEARTBEAT_TOPIC = '__debezium-heartbeat.dbserver1';
const PRODUCTS_TOPIC = 'dbserver1.inventory.products';

const productFields = [
  { name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING },
  { name: 'description', type: ViewFieldType.TEXT }, { name: 'weight', type: ViewFieldType.NUMBER },
];
const products = new AgentView({
  name: 'products', description: 'Products by id', topic: PRODUCTS_TOPIC, sourceTable: 'inventory.products',
  key: ['id'], fields: productFields, store: ViewStore.CACHE,
});
const productNames = new AgentView({
  name: 'product_names', description: 'Product names by id, from the same topic', topic: PRODUCTS_TOPIC, sourceTable: 'inventory.products',
  key: ['id'], fields: productFields.slice(0, 2), store: ViewStore.CACHE, cache: { keyPrefix: 'pn:' },
});

interface Built {
  stack: Stack;
  sink: AgentSink;
  server: AgentMcpServer;
  template: Template;
}

/** The three layers in one stack, observed with AgentObservability's defaults: only the constructs' public properties connect them. */
function build(observe: (sink: AgentSink, server: AgentMcpServer) => AgentObservabilityProps = defaults): Built {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cache = new AgentCache(stack, 'Cache', { vpc, cacheName: 'agent-views' });
  const sink = new AgentSink(stack, 'Sink', {
    cluster: new FakeCluster(stack, 'Kafka', vpc), cache, views: [products, productNames], heartbeatTopic: HEARTBEAT_TOPIC,
  });
  const server = new AgentMcpServer(stack, 'Mcp', {
    views: testAgentViews('agent:'), vpc, cache, search: new FakeSearch(stack, 'Search', vpc), decisionAuditLog: new DecisionAuditLog(stack, 'Audit'),
  });
  new AgentObservability(stack, 'Observability', observe(sink, server));
  return { stack, sink, server, template: Template.fromStack(stack) };
}

function defaults(sink: AgentSink, server: AgentMcpServer): AgentObservabilityProps {
  return {
    connector: new ConnectorStandIn(Stack.of(sink), 'Connector', 'agent-cdc', HEARTBEAT_TOPIC),
    sinks: [sink],
    mcp: server,
    decisions: {},
  };
}

/** One metric series: namespace, name and the exact dimensions (names and values). */
interface Series { namespace: string; metricName: string; dimensions: Record<string, string>; where: string }

function seriesKey(s: Pick<Series, 'namespace' | 'metricName' | 'dimensions'>): string {
  return JSON.stringify([s.namespace, s.metricName, Object.entries(s.dimensions).sort(([a], [b]) => a.localeCompare(b))]);
}

function functionEnvironment(t: Template, description: RegExp): Record<string, string> {
  const fns = Object.values(t.findResources('AWS::Lambda::Function')).filter(f => description.test(f.Properties.Description ?? ''));
  expect(fns).toHaveLength(1);
  const env = fns[0].Properties.Environment.Variables as Record<string, unknown>;
  // Only the plain values matter here (metric settings, views); tokens are store endpoints and table names.
  return Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

/** Runs `body` with `env` applied and stdout captured; returns the EMF documents printed. */
async function captureEmf(env: Record<string, string>, body: () => Promise<void>): Promise<any[]> {
  const saved = { ...process.env };
  const out: string[] = [];
  Object.assign(process.env, env);
  delete process.env.POWERTOOLS_DEV;
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => { out.push(String(chunk)); return true; });
  try {
    await body();
  } finally {
    spy.mockRestore();
    process.env = saved;
  }
  return out.join('').split('\n').filter(l => l.includes('"_aws"')).map(l => JSON.parse(l));
}

/** Every series the EMF documents define: each metric under each of its dimension sets, with the document's dimension values. */
function emfSeries(docs: any[], where: string): Series[] {
  const series: Series[] = [];
  for (const doc of docs) {
    for (const directive of doc._aws.CloudWatchMetrics) {
      for (const set of directive.Dimensions as string[][]) {
        const dimensions = Object.fromEntries(set.map(name => [name, String(doc[name])]));
        for (const m of directive.Metrics as { Name: string }[]) series.push({ namespace: directive.Namespace, metricName: m.Name, dimensions, where });
      }
    }
  }
  return series;
}

/** Runs the sink's batch logic and its EMF metrics (what the deployed handler uses) with the sink function's synthesized environment, over a batch exercising every counter. */
async function sinkPublishes(t: Template): Promise<Series[]> {
  const env = functionEnvironment(t, /^Agent store sink/);
  const views = readViewsEnv(env.AGENT_VIEWS);
  const records = fixtureRecords('postgres-products.jsonl', PRODUCTS_TOPIC);
  const garbage = { topic: PRODUCTS_TOPIC, partition: 1, offset: 9, key: b64({ id: 1 }), value: Buffer.from('{not json').toString('base64') };
  const heartbeat = { topic: env.AGENT_SINK_HEARTBEAT_TOPIC_PREFIX, partition: 0, offset: 0, key: b64({ serverName: 'dbserver1' }), value: b64({ ts_ms: NOW_MS - 1500 }) };
  const docs = await captureEmf(env, async () => {
    const metrics = new EmfSinkMetrics(EmfMetrics.fromEnv());
    await processBatch(mskEvent([...records, garbage, heartbeat]), {
      views,
      writers: { cache: async (_view, batch) => ({ written: batch.length - 1, stale: 1, failed: [] }) },
      deadLetters: { send: async () => undefined },
      metrics,
      log: { info: () => undefined, warn: () => undefined },
      heartbeatTopicPrefix: env.AGENT_SINK_HEARTBEAT_TOPIC_PREFIX,
      now: () => NOW_MS,
    });
    metrics.flush();
  });
  return emfSeries(docs, 'sink');
}

function rpc(id: number, name: string, args: Record<string, unknown>): Request {
  return new Request('https://mcp.example.internal/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }),
  });
}

/**
 * Runs the MCP server's tool-call observer (with the handler's logger and EMF metrics) with the MCP function's synthesized environment: a real `record_decision`
 * and `list_sources` through the server, then one successful and one failed call of every tool the construct names.
 */
async function mcpPublishes(t: Template, toolNames: string[]): Promise<{ series: Series[]; recorded: boolean }> {
  const env = functionEnvironment(t, /^MCP server/);
  let recorded = false;
  const docs = await captureEmf(env, async () => {
    const observer = toolCallObserver(JsonLogger.fromEnv(process.env, () => undefined), EmfMetrics.fromEnv());
    const decisions = new InMemoryDecisionStore(() => NOW_MS);
    const deps: McpServerDeps = { views: readViewsEnv(env.AGENT_VIEWS), decisions, now: () => NOW_MS, observer };
    const decision = await (await handleHttpRequest(rpc(1, 'record_decision', { agentId: 'agent-1', decision: 'refund', rationale: 'policy' }), deps)).json();
    recorded = decision.result?.isError !== true && decisions.records.size === 1;
    await handleHttpRequest(rpc(2, 'list_sources', {}), deps);
    for (const tool of toolNames) {
      for (const outcome of ['ok', 'error'] as const) {
        const e: ToolCallEvent = { tool, correlationId: 'c', outcome, latencyMs: 3, resultBytes: 0, resultCount: 0, positions: [] };
        // A synthetic success of record_decision would count a decision that was never recorded.
        if (!(tool === 'record_decision' && outcome === 'ok')) observer.onToolCall(e);
      }
    }
  });
  return { series: emfSeries(docs, 'mcp'), recorded };
}

/** Flattens the dashboard body's Fn::Join; other tokens (function names, of AWS/Lambda metrics only) become a quote-free placeholder. */
function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value.Ref === 'AWS::AccountId') return '123456789012';
  if (value.Ref === 'AWS::Region') return 'us-east-1';
  return `<token ${Object.keys(value)[0]}>`;
}

/** The agent's own metrics (any namespace not owned by AWS) that alarms and dashboard widgets read. */
function customMetricsRead(t: Template): Series[] {
  const refs: Series[] = [];
  const dims = (list: any[] = []) => Object.fromEntries(list.map((d: any) => [d.Name, flatten(d.Value)]));
  for (const [id, alarm] of Object.entries(t.findResources('AWS::CloudWatch::Alarm'))) {
    const p = alarm.Properties;
    if (p.MetricName) refs.push({ namespace: p.Namespace, metricName: p.MetricName, dimensions: dims(p.Dimensions), where: id });
    for (const m of p.Metrics ?? []) {
      if (m.MetricStat) refs.push({ namespace: m.MetricStat.Metric.Namespace, metricName: m.MetricStat.Metric.MetricName, dimensions: dims(m.MetricStat.Metric.Dimensions), where: id });
    }
  }
  for (const dashboard of Object.values(t.findResources('AWS::CloudWatch::Dashboard'))) {
    for (const w of JSON.parse(flatten(dashboard.Properties.DashboardBody)).widgets) {
      for (const m of w.properties.metrics ?? []) {
        const parts = m.filter((x: unknown) => typeof x === 'string');
        if (parts.length === 0) continue;
        const [namespace, metricName, ...rest] = parts;
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
        refs.push({ namespace, metricName, dimensions, where: w.properties.title });
      }
    }
  }
  return refs.filter(r => !r.namespace.startsWith('AWS/'));
}

function unpublished(read: Series[], published: Series[]): string[] {
  const keys = new Set(published.map(seriesKey));
  return read.filter(r => !keys.has(seriesKey(r))).map(r => `${r.where}: ${seriesKey(r)}`);
}

function constructMetric(stack: Stack, metric: cloudwatch.Metric, where: string): Series {
  return { namespace: metric.namespace, metricName: metric.metricName, dimensions: stack.resolve(metric.dimensions), where };
}

describe('custom metric contract: sink and MCP emitters vs. AgentObservability', () => {
  let built: Built;
  let published: Series[];
  let decisionRecorded: boolean;

  beforeAll(async () => {
    built = build();
    const sink = await sinkPublishes(built.template);
    const mcp = await mcpPublishes(built.template, built.server.toolNames);
    published = [...sink, ...mcp.series];
    decisionRecorded = mcp.recorded;
  });

  test('the runtimes publish every metric of the contract, under the constructs\' namespace and service names', () => {
    expect(decisionRecorded).toBe(true);
    const names = new Set(published.map(s => s.metricName));
    for (const name of [...Object.values(SINK_METRIC_NAMES), ...Object.values(MCP_METRIC_NAMES)]) expect(names).toContain(name);
    expect(new Set(published.map(s => s.namespace))).toEqual(new Set([built.sink.metricsNamespace, built.server.metricsNamespace]));
    expect(published.find(s => s.metricName === 'CdcLag')?.dimensions).toEqual({ service: built.sink.serviceName, Topic: HEARTBEAT_TOPIC });
    expect(published.filter(s => s.metricName === 'DecisionsRecorded').map(s => s.dimensions)).toEqual([{ service: built.server.serviceName }]);
  });

  test('every custom-metric alarm and widget of AgentObservability reads a series the sink or MCP server publishes', () => {
    const read = customMetricsRead(built.template);
    // Not vacuous: every agent metric is read, by at least one alarm or widget.
    expect(new Set(read.map(r => r.metricName))).toEqual(new Set([...Object.values(SINK_METRIC_NAMES), ...Object.values(MCP_METRIC_NAMES)]));
    expect(read.length).toBeGreaterThan(40);
    expect(unpublished(read, published)).toEqual([]);
  });

  test('the constructs\' own metric*() methods read published series too', () => {
    const { stack, sink, server } = built;
    const read = [
      ...sink.views.flatMap(v => [
        sink.metricRecordsReceived(v.name), sink.metricRecordsWritten(v.name), sink.metricRecordsStale(v.name),
        sink.metricRecordsSkipped(v.name), sink.metricRecordsDeadLettered(v.name), sink.metricFreshnessLag(v.name),
      ]),
      sink.metricCdcLag(),
      ...server.toolNames.flatMap(tool => [server.metricToolCalls(tool), server.metricToolErrors(tool), server.metricToolLatency(tool)]),
      server.metricDecisionsRecorded(),
    ].map(m => constructMetric(stack, m, m.metricName));
    expect(unpublished(read, published)).toEqual([]);
  });

  test('the check fails on a namespace, metric name or dimension the functions do not publish', () => {
    const base = customMetricsRead(built.template).find(r => r.metricName === 'ToolCalls')!;
    expect(unpublished([base], published)).toEqual([]);
    expect(unpublished([{ ...base, namespace: 'AgentDataStack/Mcp' }], published)).toHaveLength(1);
    expect(unpublished([{ ...base, metricName: 'ToolCall' }], published)).toHaveLength(1);
    expect(unpublished([{ ...base, dimensions: { service: base.dimensions.service, tool: base.dimensions.Tool } }], published)).toHaveLength(1);
    expect(unpublished([{ ...base, dimensions: { service: 'agent-mcp', Tool: base.dimensions.Tool } }], published)).toHaveLength(1);
    // A sink counter read without its View dimension is a series nobody publishes.
    const counter = customMetricsRead(built.template).find(r => r.metricName === 'RecordsWritten')!;
    expect(unpublished([{ ...counter, dimensions: { service: counter.dimensions.service } }], published)).toHaveLength(1);
  });

});
