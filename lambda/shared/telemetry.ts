// Structured logs and CloudWatch EMF metrics for the sink and the MCP server, written to stdout in the shapes Powertools for AWS Lambda
// writes (test/common/telemetry.test.ts compares them with Powertools' own output), without Powertools in either bundle: its Logger and
// Metrics cost about 34 KiB and 5 ms of `require` on every cold start.

/** Where lines go: stdout, which Lambda sends to the function's log group (and CloudWatch reads EMF from). */
export type LineWriter = (line: string) => void;

const stdout: LineWriter = line => {
  process.stdout.write(line);
};

/** What the handlers' batch and tool-call code logs through: `JsonLogger`, Powertools' `Logger`, or a test's stand-in. */
export interface StructuredLog {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

/** The metric units the handlers publish (CloudWatch's unit names). */
export type MetricUnitName = 'Count' | 'Milliseconds';

/** What `EmfSinkMetrics` and the MCP observer need from a metrics object; Powertools' `Metrics` has the same three methods. */
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
 * `CRITICAL`) win, then `POWERTOOLS_LOG_LEVEL`, then `LOG_LEVEL`, then `INFO`. Values are trimmed; one that is not a level name
 * (case-sensitive, as in Powertools) is ignored.
 * https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/#log-levels
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevelName {
  const lambdaLevel = env.AWS_LAMBDA_LOG_LEVEL?.trim();
  const alc = lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel;
  if (isLevel(alc)) return alc;
  const own = env.POWERTOOLS_LOG_LEVEL?.trim() || env.LOG_LEVEL?.trim();
  return isLevel(own) ? own : 'INFO';
}

/** Keys of every line that neither `appendKeys` nor a call's keys can replace (Powertools' `ReservedKeys`). */
const RESERVED_KEYS = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/** `file:line` of the first stack frame with a location, as Powertools' `getCodeLocation` finds it. */
function codeLocation(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const m = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (m) return `${m[1]}:${Number(m[2])}`;
  }
  return '';
}

/**
 * An error as Powertools Logger writes it: `name`, `location`, `message`, `stack`, `cause` (an Error cause formatted the
 * same way, down the chain), then the error's own enumerable fields (`code`, `errno`, an SDK error's `$metadata`).
 */
export function formatError(error: Error): Record<string, unknown> {
  const formatted: Record<string, unknown> = {
    name: error.name,
    location: codeLocation(error.stack),
    message: error.message,
    stack: error.stack,
    cause: error.cause instanceof Error ? formatError(error.cause) : error.cause,
  };
  for (const key in error) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && key !== 'cause') formatted[key] = (error as unknown as Record<string, unknown>)[key];
  }
  return formatted;
}

/**
 * JSON log lines with the keys Powertools Logger writes (`level`, `message`, `timestamp`, `service`, `sampling_rate`, the
 * X-Ray trace id when Lambda sets one), then the keys added with `appendKeys`, then the keys of each call; errors under
 * `error` in Powertools' form (`formatError`). Lines below the level of `logLevelFromEnv` are not written. Every line
 * goes to stdout, where Powertools writes WARN and ERROR lines to stderr: Lambda sends both to the function's log group.
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
    this.keys = { ...this.keys, ...withoutReserved(keys) };
  }

  info(message: string, extra: Record<string, unknown> = {}): void {
    if (this.threshold <= LOG_LEVELS.INFO) this.log('INFO', message, extra);
  }

  warn(message: string, extra: Record<string, unknown> = {}): void {
    if (this.threshold <= LOG_LEVELS.WARN) this.log('WARN', message, extra);
  }

  /** Logs `error` under `error`: an Error in Powertools' form, anything else (a thrown string, say) as it is. */
  error(message: string, error: unknown): void {
    if (this.threshold > LOG_LEVELS.ERROR) return;
    this.log('ERROR', message, { error: error instanceof Error ? formatError(error) : error });
  }

  private log(level: string, message: string, extra: Record<string, unknown>): void {
    const trace = xrayTraceId(this.env);
    this.write(`${JSON.stringify({
      level, message, timestamp: new Date().toISOString(), service: this.serviceName,
      ...(this.requestId ? { function_request_id: this.requestId } : {}),
      // No log sampling is configured: Powertools writes its rate, 0, on every line.
      sampling_rate: 0,
      ...(trace ? { xray_trace_id: trace } : {}),
      ...this.keys,
      ...withoutReserved(extra),
    }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  }
}

function withoutReserved(keys: Record<string, unknown>): Record<string, unknown> {
  for (const key in keys) {
    if (RESERVED_KEYS.has(key)) return Object.fromEntries(Object.entries(keys).filter(([k]) => !RESERVED_KEYS.has(k)));
  }
  return keys;
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
