// What this library keeps between synths in the user's cache directory (`$XDG_CACHE_HOME` or `~/.cache`): the validation
// gate's findings and CloudFormation Validate reports per template (lib/gate-cache.ts, lib/validation-gate.ts) and the Flink
// SQL analysis per program (constructs/processing/private/flink-analysis-cache.ts). Each entry is keyed by a hash of
// everything its result depends on, so an entry is only ever reused for the same input.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Set to `off` to compute everything afresh: nothing is read from or written to the cache directory. */
export const GATE_CACHE_ENV = 'CDK_AGENT_GATE_CACHE';

/** Whether the cache directory is in use (`CDK_AGENT_GATE_CACHE` is not `off`). */
export function synthCacheEnabled(): boolean {
  return process.env[GATE_CACHE_ENV] !== 'off';
}

/** The JSON kept in `file`, or `compute()`'s result, then kept there (written atomically; no file: nothing kept). */
export function keptJson<T>(file: string | undefined, compute: () => T): T {
  return kept(file, compute).value;
}

/**
 * `keptJson`'s value with its JSON text, each made once: the value read from the file (or computed) and the text read
 * (or written). A caller that keeps copies of its own keeps the text and hands out the value.
 */
export function keptJsonEntry<T>(file: string | undefined, compute: () => T): { value: T; text: string } {
  const { value, text } = kept(file, compute);
  return { value, text: text ?? JSON.stringify(value) };
}

/** The value with the text read from or written to `file`; no file: no text is made (the gate's callers need none). */
function kept<T>(file: string | undefined, compute: () => T): { value: T; text?: string } {
  if (file && fs.existsSync(file)) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      return { value: JSON.parse(text) as T, text };
    } catch {
      // A damaged entry is computed again and rewritten.
    }
  }
  const value = compute();
  if (!file) return { value };
  const text = JSON.stringify(value);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch {
    // No writable cache directory: the next synth computes again.
  }
  return { value, text };
}

/** The library's directory in the user's cache directory (`$XDG_CACHE_HOME` or `~/.cache`). */
export function gateCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cdk-agent-data-stack');
}
