// Shutdown of the local loops (`dev`, `dev --engines` and its parts): what was started is undone newest first, every step tried.

/** One thing to undo on stop; a returned promise is awaited. */
export interface StopStep {
  /** Named in the log lines (`stopped <what>`). */
  readonly what: string;
  readonly run: () => unknown;
}

export interface StopInOrderOptions {
  /** Told `stopped <what>` after each step and `stopping <what> failed: <message>` after each failure. @default - silent */
  readonly log?: (line: string) => void;
  /** Add each step's duration to its `stopped` line: `stopped <what> (<n> ms)`. @default false */
  readonly timings?: boolean;
  /**
   * Given each failure (after it is logged). With it, the failures are the caller's and `stopInOrder` resolves; without it, the
   * first failure is thrown once every step has run.
   * @default - throw the first failure
   */
  readonly onError?: (error: unknown, step: StopStep) => void;
}

/**
 * Runs `steps` in reverse (the newest first), each even when an earlier one failed. The array is not changed: a caller whose
 * stop may be called twice passes `steps.splice(0)`, so the second call finds nothing left to undo.
 */
export async function stopInOrder(steps: readonly StopStep[], options: StopInOrderOptions = {}): Promise<void> {
  const failures: unknown[] = [];
  for (const step of [...steps].reverse()) {
    const t0 = Date.now();
    try {
      await step.run();
      options.log?.(`stopped ${step.what}${options.timings ? ` (${Date.now() - t0} ms)` : ''}`);
    } catch (e) {
      options.log?.(`stopping ${step.what} failed: ${(e as Error)?.message ?? String(e)}`);
      if (options.onError) options.onError(e, step);
      else failures.push(e);
    }
  }
  if (failures.length > 0) throw failures[0];
}
