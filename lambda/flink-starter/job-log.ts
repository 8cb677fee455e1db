// The Flink job's own error, read from the application's CloudWatch log stream when the starter sees the job restart, and the fix for the errors that have one.

/** One log event as CloudWatch Logs `FilterLogEvents` returns it. */
export interface FilteredLogEvent {
  readonly timestamp?: number;
  readonly message?: string;
}

/** The part of the CloudWatch Logs client the starter uses (`FilterLogEvents`, request and response as documented). */
export interface ApplicationLogs {
  filterLogEvents(input: {
    logGroupName: string;
    logStreamNames?: string[];
    startTime?: number;
    endTime?: number;
    filterPattern?: string;
    nextToken?: string;
    limit?: number;
  }): Promise<{ events?: FilteredLogEvent[]; nextToken?: string }>;
}

/** Events that can carry the job's failure: ERROR lines, and INFO lines with an exception (Flink logs job failures at INFO). */
const ERROR_PATTERN = '?ERROR ?Exception ?Error';
const MAX_LOG_PAGES = 5;

/**
 * The job's own error from the application's log stream since `since`: the first logged exception (with its
 * deepest cause), as Managed Service for Apache Flink writes them (JSON with `message`, `messageType`,
 * `throwableInformation`). The first one is the failure that started the restart loop; later ones repeat it.
 */
export async function jobError(logs: ApplicationLogs, group: string, stream: string | undefined, since: number): Promise<string | undefined> {
  let nextToken: string | undefined;
  const events: FilteredLogEvent[] = [];
  for (let page = 0; page < MAX_LOG_PAGES; page++) {
    const out = await logs.filterLogEvents({
      logGroupName: group, ...(stream ? { logStreamNames: [stream] } : {}), startTime: since, filterPattern: ERROR_PATTERN, nextToken, limit: 100,
    });
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken || events.some(e => throwableOf(e))) break;
  }
  events.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
  const withThrowable = events.find(e => throwableOf(e));
  const chosen = withThrowable ?? events.find(e => /"messageType"\s*:\s*"ERROR"/.test(e.message ?? ''));
  if (!chosen) return undefined;
  const parsed = parseLogRecord(chosen.message ?? '');
  const throwable = throwableOf(chosen);
  const text = throwable ? `${parsed.message ? `${parsed.message}: ` : ''}${deepestCause(throwable)}` : parsed.message ?? chosen.message ?? '';
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}

function parseLogRecord(message: string): { message?: string; throwableInformation?: unknown } {
  try {
    const record = JSON.parse(message);
    return typeof record === 'object' && record ? record : { message };
  } catch {
    return { message };
  }
}

function throwableOf(event: FilteredLogEvent): string | undefined {
  const t = parseLogRecord(event.message ?? '').throwableInformation;
  if (Array.isArray(t)) return t.length > 0 ? t.join('\n') : undefined;
  return typeof t === 'string' && t.trim() ? t : undefined;
}

/** The deepest `Caused by:` of a Java stack trace, else its first line. */
function deepestCause(trace: string): string {
  const lines = trace.split('\n').map(l => l.trim());
  const causes = lines.filter(l => l.startsWith('Caused by:'));
  return causes.length > 0 ? causes[causes.length - 1].slice('Caused by:'.length).trim() : lines[0];
}

/** What the user can do about a restart loop, for the errors that have a known fix. */
export function fixFor(error: string | undefined): string {
  if (error && /allowNonRestoredState|Cannot map checkpoint\/savepoint state|Failed to rollback to checkpoint\/savepoint/i.test(error)) {
    return ' The new program cannot take over the snapshot\'s state (a changed SQL gives operators new ids). Deploy it once with allowNonRestoredState: true (the state of operators that no longer exist is dropped), or with snapshots: false to start from the sources\' startup positions.';
  }
  return ' Fix the job and deploy again; the stack rolls back to the previous version meanwhile.';
}
