// Structured logs and CloudWatch EMF metrics for the sink and the MCP server, written to stdout in the shapes Powertools for AWS Lambda
// writes (test/sink/telemetry.test.ts compares them with Powertools' own output), without Powertools in either bundle: its Logger and
// Metrics cost about 34 KiB and 5 ms of `require` on every cold start.

/** Where lines go: stdout, which Lambda sends to the function's log group (and CloudWatch reads EMF from). */
export type LineWriter = (line: string) => void;

const stdout: LineWriter = line => {
  process.stdout.write(line);
};

/** The metric units the handlers publish (CloudWatch's unit names). */
export type MetricUnitName = 'Count' | 'Milliseconds';

/** What `PowertoolsSinkMetrics` and the MCP observer need from a metrics object; Powertools' `Metrics` has the same three methods. */
export interface MetricsPublisher {
  addDimension(name: string, value: string): void;
  addMetric(name: string, unit: MetricUnitName, value: number): void;
  publishStoredMetrics(): void;
}

/**
 * One EMF document per `publishStoredMetrics()`: the default `service` dimension plus the dimensions added since the
 * last publish, as one dimension set, like Powertools Metrics (`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export class EmfMetrics implements MetricsPublisher {
  private dimensions: Record<string, string> = {};
  private metrics = new Map<string, { unit: MetricUnitName; value: number }>();

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

  addMetric(name: string, unit: MetricUnitName, value: number): void {
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

/** Powertools Logger's level thresholds (`LogLevelThreshold`): a line is written when its level is at or above the logger's. */
export const LOG_LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;

const isLevel = (v: string | undefined): v is LogLevelName => v !== undefined && Object.prototype.hasOwnProperty.call(LOG_LEVELS, v);

/**
 * The level Powertools Logger starts at: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`, its `FATAL` read as
 * `CRITICAL`) win, then `POWERTOOLS_LOG_LEVEL`, then `LOG_LEVEL`, then `INFO`. A value that is not a level name
 * (case-sensitive, as in Powertools) is ignored.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/#log-levels
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevelName {
  const alc = env.AWS_LAMBDA_LOG_LEVEL === 'FATAL' ? 'CRITICAL' : env.AWS_LAMBDA_LOG_LEVEL;
  if (isLevel(alc)) return alc;
  const own = env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL;
  return isLevel(own) ? own : 'INFO';
}

/**
 * JSON log lines with the keys Powertools Logger writes (`level`, `message`, `timestamp`, `service`, the X-Ray trace id
 * when Lambda sets one), then the keys added with `appendKeys`, then the keys of each call; errors under `error`.
 * Lines below the level of `logLevelFromEnv` are not written.
 */
export class JsonLogger {
  /** The current invocation's Lambda request id, written as `function_request_id` (Powertools' key) on every line. */
  public requestId: string | undefined;
  private readonly threshold: number;
  private keys: Record<string, unknown> = {};

  constructor(
    private readonly serviceName: string,
    private readonly write: LineWriter = stdout,
    private readonly env: NodeJS.ProcessEnv = process.env,
    level: LogLevelName = logLevelFromEnv(env),
  ) {
    this.threshold = LOG_LEVELS[level];
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env, write?: LineWriter): JsonLogger {
    return new JsonLogger(env.POWERTOOLS_SERVICE_NAME ?? 'service_undefined', write, env);
  }

  /** Keys written on every later line (Powertools' `appendKeys`); a key set to undefined is dropped from the lines. */
  appendKeys(keys: Record<string, unknown>): void {
    this.keys = { ...this.keys, ...keys };
  }

  info(message: string, extra: Record<string, unknown> = {}): void {
    if (this.threshold <= LOG_LEVELS.INFO) this.log('INFO', message, extra);
  }

  warn(message: string, extra: Record<string, unknown> = {}): void {
    if (this.threshold <= LOG_LEVELS.WARN) this.log('WARN', message, extra);
  }

  error(message: string, error: unknown): void {
    if (this.threshold > LOG_LEVELS.ERROR) return;
    const e = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { message: String(error) };
    this.log('ERROR', message, { error: e });
  }

  private log(level: string, message: string, extra: Record<string, unknown>): void {
    const trace = xrayTraceId(this.env);
    this.write(`${JSON.stringify({
      level, message, timestamp: new Date().toISOString(), service: this.serviceName,
      ...(this.requestId ? { function_request_id: this.requestId } : {}),
      ...(trace ? { xray_trace_id: trace } : {}),
      ...this.keys,
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
