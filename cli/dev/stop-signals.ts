// When the dev loop must stop: SIGINT, SIGTERM, SIGHUP, or the death of the process that started it (npm, a shell).
import * as fs from 'fs';

/** The signals that stop the dev loop: Ctrl-C, `kill`, and a closed terminal. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopWatch {
  /** Resolves with the reason (a signal name, or `parent process N exited`) on the first stop request. */
  readonly stopped: Promise<string>;
  /** Removes the signal handlers and the parent watch. Until then, repeated signals are only reported, so a second
   * Ctrl-C (or the copy of it npm forwards) cannot kill the process half-way through its clean-up. */
  dispose(): void;
}

export interface StopWatchOptions {
  /** Told about stop requests that arrive while the first one is being handled. @default - ignored */
  readonly onRepeat?: (reason: string) => void;
  /** How often to check whether the parent process is still there, in milliseconds. @default 500 */
  readonly parentPollMs?: number;
}

/** The current parent pid from /proc (Linux), or undefined where there is no /proc. */
export function currentParentPid(): number | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // The command name may contain spaces and parentheses: the fields after it start after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether the process that started this one has exited (we were re-parented, or the pid is gone). */
export function parentExited(originalParent: number): boolean {
  // process.ppid is fixed at start-up in Node.js 20, so it cannot tell; /proc can.
  const now = currentParentPid();
  if (now !== undefined) return now !== originalParent;
  try {
    process.kill(originalParent, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Watches for the end of the dev loop's life. Signals sent to `npm run dev` reach node only if npm's child is node
 * itself (the `dev` script execs node; a `sh -c` in between swallows SIGINT and dies on SIGTERM, orphaning node),
 * and npm does not forward SIGHUP at all, nor can anything forward SIGKILL: so the parent is watched too, and its
 * death stops the loop like a signal.
 */
export function watchForStop(options: StopWatchOptions = {}): StopWatch {
  const originalParent = process.ppid;
  let first: string | undefined;
  let resolveStopped!: (reason: string) => void;
  const stopped = new Promise<string>(resolve => { resolveStopped = resolve; });
  const request = (reason: string) => {
    if (first === undefined) {
      first = reason;
      resolveStopped(reason);
    } else {
      options.onRepeat?.(reason);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => request(signal);
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  // pid 1 (or none) as parent: started by init or a container runtime, there is no parent whose death means "stop".
  const timer = originalParent > 1
    ? setInterval(() => {
      if (first === undefined && parentExited(originalParent)) request(`parent process ${originalParent} exited`);
    }, options.parentPollMs ?? 500)
    : undefined;
  timer?.unref();
  return {
    stopped,
    dispose() {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      if (timer) clearInterval(timer);
    },
  };
}
