// What every agent-data-stack subcommand shares: the command shape, its I/O, flag parsing and the user-facing error type.
import type { StatusClients } from './status/clients';

/** A problem the user fixes (usage, unknown stack): printed without a stack trace, exit code 2. */
export class UserError extends Error {}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Record<string, string | undefined>;
  /** @default - real SDK clients with the default credential chain */
  readonly clients?: StatusClients;
  readonly clock?: () => Date;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Parses `--flag value`, `--flag=value` and boolean `--flag`. */
export function parseFlags(args: string[], known: Record<string, 'string' | 'boolean'>): Record<string, string | boolean> {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m || !(m[1] in known)) throw new UserError(`Unknown argument '${args[i]}'.`);
    const [, name, inline] = m;
    if (known[name] === 'boolean') {
      flags[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value.startsWith('--')) throw new UserError(`--${name} needs a value.`);
    flags[name] = value;
  }
  return flags;
}

export function numberFlag(flags: Record<string, string | boolean>, name: string): number | undefined {
  if (flags[name] === undefined) return undefined;
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--${name} must be a positive number, got '${flags[name]}'.`);
  return n;
}

export function isCredentialsError(e: unknown): boolean {
  const err = e as { name?: string; message?: string };
  return err?.name === 'CredentialsProviderError'
    || /Could not load credentials|Unable to locate credentials|security token included in the request is (invalid|expired)/i.test(err?.message ?? '')
    || err?.name === 'ExpiredTokenException' || err?.name === 'UnrecognizedClientException';
}
