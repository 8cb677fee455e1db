// What the engine tests that drive the sink share: the sink's own batch code (processBatch) over a cache writer, with metrics and
// logs discarded and dead letters collected, and a poll-until-true wait.
import { noMetrics } from '../../cli/dev/dev-loop';
import type { ViewConfig } from '../../contract/view-config';
import type { MskEvent, MskEventRecord } from '../../lambda/shared/envelope';
import type { DeadLetter } from '../../lambda/sink/dead-letter';
import { processBatch, type BatchSummary, type BatchWriter } from '../../lambda/sink/process';

const quiet = { info: () => undefined, warn: () => undefined };

export interface CacheSinkOptions {
  /** The views the batch is for (read at each batch: a test may set them after creating the handler). */
  readonly views: () => ViewConfig[];
  readonly writer: BatchWriter;
  /** Where dead letters go. @default - a dead letter fails the batch, naming it */
  readonly letters?: DeadLetter[];
  /** Every record delivered, in delivery order. @default - not kept */
  readonly delivered?: MskEventRecord[];
}

/** An MSK event handler that runs the sink's batch code into the cache, as the deployed sink function does. */
export function cacheSink(o: CacheSinkOptions): (event: MskEvent) => Promise<BatchSummary> {
  return event => {
    o.delivered?.push(...Object.values(event.records).flat());
    return processBatch(event, {
      views: o.views(), writers: { cache: o.writer }, metrics: noMetrics, log: quiet,
      deadLetters: {
        send: async l => {
          if (!o.letters) throw new Error(`dead letter: ${JSON.stringify(l[0]).slice(0, 500)}`);
          o.letters.push(...l);
        },
      },
    });
  };
}

/** Polls `predicate` every 100 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
    await new Promise(r => setTimeout(r, 100));
  }
}
