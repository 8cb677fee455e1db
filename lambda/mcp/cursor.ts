// Opaque page cursors for multi-row tools: an offset bound to the tool, the query it pages and the caller's row scope, validated on return.
import { createHash } from 'crypto';
import { ToolRefusal } from './errors';

export const CURSOR_INVALID = 'cursor_invalid';
/** Longest cursor accepted as an argument. */
export const MAX_CURSOR_LENGTH = 256;

/** JSON with object keys sorted, so the same arguments always bind to the same hash. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter(k => (value as Record<string, unknown>)[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function bindingHash(tool: string, binding: unknown): string {
  return createHash('sha256').update(`${tool}\n${canonical(binding)}`).digest('base64url').slice(0, 22);
}

/**
 * The cursor for the page starting at `offset`. It carries no authority: the next call re-applies the caller's row scope and
 * every bound, so a forged cursor can reach nothing the same call with `from` could not. Binding it to the query stops a
 * cursor from one query being replayed against another, where its offset would mean nothing.
 */
export function encodeCursor(tool: string, offset: number, binding: unknown): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offset, h: bindingHash(tool, binding) })).toString('base64url');
}

/** The offset a cursor points at, after checking it was issued by this tool for the same query and lies within `maxOffset`. */
export function decodeCursor(tool: string, cursor: string, binding: unknown, maxOffset: number): number {
  const refuse = (why: string) => new ToolRefusal(CURSOR_INVALID,
    `argument 'cursor' ${why}. Pass the nextCursor of the previous ${tool} answer unchanged, with the same other arguments, or leave cursor out to start from the first page.`);
  let parsed: { v?: unknown; o?: unknown; h?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('is not a cursor this server issued');
  }
  if (!parsed || typeof parsed !== 'object' || parsed.v !== 1 || typeof parsed.h !== 'string' || !Number.isInteger(parsed.o)) {
    throw refuse('is not a cursor this server issued');
  }
  if (parsed.h !== bindingHash(tool, binding)) throw refuse('was issued for different arguments (or by another tool)');
  const offset = parsed.o as number;
  if (offset < 0 || offset > maxOffset) throw refuse(`points outside the pages this tool serves (0 to ${maxOffset})`);
  return offset;
}
