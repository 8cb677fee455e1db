// Tool argument validation with errors an agent can act on: each names the argument, what was expected and an example.
import * as z from 'zod';

type JsonSchema = Record<string, any>;

/** A Standard Schema (what the MCP SDK validates tool input with) as the SDK expects it, with validation and JSON Schema. */
export interface AgentInputSchema {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    validate(value: unknown): { value: unknown } | { issues: { message: string }[] };
    readonly jsonSchema: { input(options: unknown): Record<string, unknown>; output(options: unknown): Record<string, unknown> };
  };
}

/**
 * Wraps a zod input schema so that a failed validation reads as one sentence per problem
 * (`missing required argument 'customer_id' (integer), e.g. 42`) instead of zod's
 * `Invalid input at customer_id`. The advertised JSON Schema is zod's own.
 */
export function agentInputSchema(schema: z.ZodType): AgentInputSchema {
  const zodStandard = (schema as unknown as { '~standard': { jsonSchema: AgentInputSchema['~standard']['jsonSchema'] } })['~standard'];
  let json: JsonSchema | undefined;
  return {
    '~standard': {
      version: 1,
      vendor: 'cdk-agent-data-stack',
      jsonSchema: zodStandard.jsonSchema,
      validate(value: unknown) {
        const parsed = schema.safeParse(value ?? {});
        if (parsed.success) return { value: parsed.data };
        json ??= z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
        return { issues: describeIssues(parsed.error.issues, json, value ?? {}).map(message => ({ message })) };
      },
    },
  };
}

/** Agent-readable sentences for zod issues, at most 5 (the first problems are the ones to fix). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: JsonSchema, args: unknown): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const message = describeIssue(issue, root, args);
    if (!out.includes(message)) out.push(message);
    if (out.length === 5) break;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, root: JsonSchema, args: unknown): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const parent = schemaAt(root, path, args);
    const allowed = Object.keys(parent?.properties ?? {});
    const names = issue.keys.map(k => `'${argumentName([...path, k])}'`).join(', ');
    return `unknown argument ${names}: ${allowed.length ? `expected only ${allowed.map(a => `'${argumentName([...path, a])}'`).join(', ')}` : 'this takes no arguments'}${parent ? `, e.g. ${example(parent)}` : ''}`;
  }
  const schema = schemaAt(root, path, args);
  const name = argumentName(path);
  const expected = schema ? expectedOf(schema) : 'a valid value';
  const eg = schema ? `, e.g. ${example(schema)}` : '';
  const value = valueAt(args, path);
  if (value === undefined && path.length > 0) return `missing required argument '${name}' (${expected})${eg}`;
  const detail = detailOf(issue, value);
  return `argument '${name || '(arguments)'}' ${detail}; expected ${expected}${eg}`;
}

function detailOf(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'too_big': return `is too large (${issue.origin === 'string' ? 'too long' : issue.origin === 'array' ? 'too many items' : `above ${String(issue.maximum)}`})`;
    case 'too_small': return `is too small (${issue.origin === 'string' ? 'too short' : issue.origin === 'array' ? 'too few items' : `below ${String(issue.minimum)}`})`;
    case 'invalid_format': return `does not match the expected format${customMessage(issue.message)}`;
    case 'custom': return `is invalid: ${issue.message}`;
    case 'invalid_value': return `is ${describeValue(value)}, which is not allowed`;
    case 'not_multiple_of': return 'is not a whole multiple of the step';
    case 'invalid_key': return 'has an invalid key';
    default: return `is ${describeValue(value)}${customMessage(issue.message)}`;
  }
}

/** A message the schema author wrote (regex hints, refinements), as opposed to zod's generic ones. */
function customMessage(message: string): string {
  return /^(Invalid|Too |Unrecognized|Expected)/.test(message) ? '' : ` (${message})`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function argumentName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(args: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = args;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/**
 * The JSON Schema of the value at a path, through properties, items and records; at a union (a discriminated
 * `aggregation`, say) the branch whose constant properties match the given value.
 */
export function schemaAt(root: JsonSchema, path: readonly (string | number)[], value?: unknown): JsonSchema | undefined {
  let s: JsonSchema | undefined = root;
  let v: unknown = value;
  for (const p of path) {
    if (!s) return undefined;
    s = step(branchFor(s, v), p);
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  }
  return s ? branchFor(s, v) : undefined;
}

function unionOf(s: JsonSchema): JsonSchema[] | undefined {
  return Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
}

/** The union branch whose `const`/single-`enum` properties all equal the value's (the discriminator), else the schema itself. */
function branchFor(s: JsonSchema, value: unknown): JsonSchema {
  const branches = unionOf(s);
  if (!branches || value === null || typeof value !== 'object') return s;
  const matches = branches.filter(b => {
    const props: Record<string, JsonSchema> = b.properties ?? {};
    const fixed = Object.entries(props).filter(([, ps]) => ps.const !== undefined || (Array.isArray(ps.enum) && ps.enum.length === 1));
    return fixed.length > 0 && fixed.every(([k, ps]) => (ps.const ?? ps.enum[0]) === (value as Record<string, unknown>)[k]);
  });
  return matches.length === 1 ? matches[0] : s;
}

function step(s: JsonSchema, p: string | number): JsonSchema | undefined {
  if (typeof p === 'number') {
    if (s.items) return s.items;
    for (const branch of unionOf(s) ?? []) if (branch.items) return branch.items;
    return undefined;
  }
  if (s.properties?.[p]) return s.properties[p];
  if (s.additionalProperties && typeof s.additionalProperties === 'object') return s.additionalProperties;
  for (const branch of unionOf(s) ?? []) {
    const found = step(branch, p);
    if (found) return found;
  }
  return undefined;
}

const DIGITS = /^\^-\?\\d\{1,19\}\$$|^\^\\d/;
const DATE = /\\d\{4\}-\\d\{2\}-\\d\{2\}/;

/** What a value must be, in words: `integer`, `one of 'open', 'closed'`, `list of 1 to 100 objects`. */
export function expectedOf(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.length === 1 ? JSON.stringify(s.enum[0]) : `one of ${s.enum.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.oneOf)) return [...new Set(s.oneOf.map(expectedOf))].join(' or ');
  if (Array.isArray(s.anyOf)) {
    const types = s.anyOf.map((b: JsonSchema) => b.type);
    if (types.includes('integer') && s.anyOf.some((b: JsonSchema) => b.type === 'string' && DIGITS.test(b.pattern ?? ''))) return 'integer';
    if (types.includes('integer') && s.anyOf.some((b: JsonSchema) => b.type === 'string' && DATE.test(b.pattern ?? ''))) return 'timestamp: ISO-8601 date-time or epoch milliseconds';
    return [...new Set(s.anyOf.map(expectedOf))].join(' or ');
  }
  switch (s.type) {
    case 'string': {
      if (DATE.test(s.pattern ?? '')) return 'ISO-8601 date or date-time';
      if (DIGITS.test(s.pattern ?? '')) return 'integer written as decimal digits';
      const len = range(s.minLength, s.maxLength, 'character');
      return `string${len ? ` of ${len}` : ''}`;
    }
    case 'integer': return `integer${numberRange(s)}`;
    case 'number': return `number${numberRange(s)}`;
    case 'boolean': return 'true or false';
    case 'null': return 'null';
    case 'array': {
      const n = range(s.minItems, s.maxItems, 'item');
      return `list${n ? ` of ${n}` : ''}${s.items ? ` (each ${expectedOf(s.items)})` : ''}`;
    }
    case 'object': {
      const props = Object.keys(s.properties ?? {});
      if (props.length === 0) return s.additionalProperties && typeof s.additionalProperties === 'object' ? 'object of name: value pairs' : 'object';
      const required: string[] = s.required ?? [];
      return `object with ${props.map(p => (required.includes(p) ? p : `${p}?`)).join(', ')}`;
    }
    default: return 'a value';
  }
}

function range(min: number | undefined, max: number | undefined, unit: string): string {
  const plural = (n: number) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (min !== undefined && max !== undefined) return min === max ? plural(min) : `${min} to ${plural(max)}`;
  if (max !== undefined) return `at most ${plural(max)}`;
  if (min !== undefined && min > 0) return `at least ${plural(min)}`;
  return '';
}

function numberRange(s: JsonSchema): string {
  const min = s.minimum ?? s.exclusiveMinimum;
  const max = s.maximum ?? s.exclusiveMaximum;
  const shown = (n: unknown) => typeof n === 'number' && Math.abs(n) < 1e15;
  if (shown(min) && shown(max)) return ` from ${min} to ${max}`;
  if (shown(max)) return ` up to ${max}`;
  if (shown(min)) return ` from ${min}`;
  return '';
}

/** A valid example value as JSON text. */
export function example(s: JsonSchema): string {
  return JSON.stringify(exampleValue(s, 0));
}

function exampleValue(s: JsonSchema, depth: number): unknown {
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const union = unionOf(s);
  if (union?.length) return exampleValue(union[0], depth);
  switch (s.type) {
    case 'string': {
      if (DATE.test(s.pattern ?? '')) return '2026-01-31T12:00:00Z';
      if (DIGITS.test(s.pattern ?? '')) return '42';
      const text = 'example';
      return s.maxLength !== undefined && s.maxLength < text.length ? text.slice(0, Math.max(1, s.maxLength)) : text;
    }
    case 'integer': return clamp(42, s);
    case 'number': return clamp(1.5, s);
    case 'boolean': return true;
    case 'array': return depth > 3 || !s.items ? [] : Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => exampleValue(s.items, depth + 1));
    case 'object': {
      if (depth > 3) return {};
      const props: Record<string, JsonSchema> = s.properties ?? {};
      const names: string[] = s.required?.length ? s.required : Object.keys(props).slice(0, 1);
      const out: Record<string, unknown> = {};
      for (const n of names) if (props[n]) out[n] = exampleValue(props[n], depth + 1);
      return out;
    }
    default: return null;
  }
}

function clamp(n: number, s: JsonSchema): number {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : undefined);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : undefined);
  if (typeof max === 'number' && n > max) n = max;
  if (typeof min === 'number' && n < min) n = min;
  return n;
}
