// The sink's structured logs and CloudWatch EMF metrics, written to stdout in the shapes Powertools writes, without Powertools in the sink's bundle.

/** Where lines go: stdout, which Lambda sends to the function's log group (and CloudWatch reads EMF from). */
export type LineWriter = (line: string) => void;

const stdout: LineWriter = line => {
  process.stdout.write(line);
};

/** The metric units the sink publishes (CloudWatch's unit names). */
export type SinkMetricUnit = 'Count' | 'Milliseconds';

/** What `PowertoolsSinkMetrics` needs from a metrics object; Powertools' `Metrics` has the same three methods. */
export interface MetricsPublisher {
  addDimension(name: string, value: string): void;
  addMetric(name: string, unit: SinkMetricUnit, value: number): void;
  publishStoredMetrics(): void;
}

/**
 * One EMF document per `publishStoredMetrics()`: the default `service` dimension plus the dimensions added since the
 * last publish, as one dimension set, like Powertools Metrics (`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export class EmfMetrics implements MetricsPublisher {
  private dimensions: Record<string, string> = {};
  private metrics = new Map<string, { unit: SinkMetricUnit; value: number }>();

  constructor(
    private readonly namespace: string,
    private readonly serviceName: string,
    private readonly write: LineWriter = stdout,
    private readonly now: () => number = Date.now,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env, write?: LineWriter): EmfMetrics {
    return new EmfMetrics(env.POWERTOOLS_METRICS_NAMESPACE ?? 'default_namespace', env.POWERTOOLS_SERVICE_NAME ?? 'service_undefined', write);
  }

  addDimension(name: string, value: string): void {
    this.dimensions[name] = value;
  }

  addMetric(name: string, unit: SinkMetricUnit, value: number): void {
    this.metrics.set(name, { unit, value });
  }

  publishStoredMetrics(): void {
    if (this.metrics.size > 0) {
      const dimensions = { service: this.serviceName, ...this.dimensions };
      const values: Record<string, number> = {};
      for (const [name, m] of this.metrics) values[name] = m.value;
      this.write(`${JSON.stringify({
        _aws: {
          Timestamp: this.now(),
          CloudWatchMetrics: [{
            Namespace: this.namespace,
            Dimensions: [Object.keys(dimensions)],
            Metrics: [...this.metrics].map(([name, m]) => ({ Name: name, Unit: m.unit })),
          }],
        },
        ...dimensions,
        ...values,
      })}\n`);
    }
    this.dimensions = {};
    this.metrics.clear();
  }
}

/**
 * JSON log lines with the keys Powertools Logger writes (`level`, `message`, `timestamp`, `service`, the X-Ray trace id
 * when Lambda sets one) and the extra keys of each call at the top level; errors under `error`.
 */
export class JsonLogger {
  /** The current invocation's Lambda request id, written as `function_request_id` (Powertools' key) on every line. */
  public requestId: string | undefined;

  constructor(
    private readonly serviceName: string,
    private readonly write: LineWriter = stdout,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env, write?: LineWriter): JsonLogger {
    return new JsonLogger(env.POWERTOOLS_SERVICE_NAME ?? 'service_undefined', write, env);
  }

  info(message: string, extra: Record<string, unknown> = {}): void {
    this.log('INFO', message, extra);
  }

  warn(message: string, extra: Record<string, unknown> = {}): void {
    this.log('WARN', message, extra);
  }

  error(message: string, error: unknown): void {
    const e = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { message: String(error) };
    this.log('ERROR', message, { error: e });
  }

  private log(level: string, message: string, extra: Record<string, unknown>): void {
    const trace = xrayTraceId(this.env);
    this.write(`${JSON.stringify({
      level, message, timestamp: new Date().toISOString(), service: this.serviceName,
      ...(this.requestId ? { function_request_id: this.requestId } : {}),
      ...(trace ? { xray_trace_id: trace } : {}),
      ...extra,
    }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  }
}

/**
 * The X-Ray trace id of the current invocation: the `Root` of `_X_AMZN_TRACE_ID`, which Lambda sets for each invocation
 * ("This environment variable changes with each invocation",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html), so it is read per call, never cached.
 */
export function xrayTraceId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const header = env._X_AMZN_TRACE_ID;
  if (!header) return undefined;
  const root = header.split(';').find(part => part.startsWith('Root='));
  return root ? root.slice('Root='.length) : header.split(';')[0] || undefined;
}
