// Versions of PostgreSQL incremental snapshot reads (no LSN, a `sequence`) and of changes from a transaction open across a chunk,
// with the source blocks Debezium 3.1.2 produced on the engines (test/engines/resnapshot-schema-changes.test.ts).
import type { ViewConfig } from '../../contract/view-config';
import { decodeRecord, postgresSequence } from '../../lambda/shared/envelope';
import { mulberry32 } from '../helpers/random';
import { b64, productsView } from './helpers';

const view: ViewConfig = productsView({ keyPrefix: 'x:' });
const base = { version: '3.1.2.Final', connector: 'postgresql', name: 'agentdata', db: 'shop', schema: 'public', table: 'customers', xmin: null };
// As seen on the engines: the chunk read of row 300007 and the update of a transaction that began before the chunk and committed after it.
const chunkRead = { ...base, ts_ms: 1796092049286, snapshot: 'incremental', sequence: '["29514584","29514584"]', txId: null, lsn: null };
const straddler = { ...base, ts_ms: 1796092050298, snapshot: 'false', sequence: '["29572928","29488656"]', txId: 774, lsn: 29488656 };

function versionOf(op: string, source: Record<string, unknown>): bigint {
  const out = decodeRecord(view, { topic: view.topic, partition: 0, offset: 1, key: b64({ id: 7 }), value: b64({ op, before: null, after: { id: 7, name: 'n', description: 'd', weight: 1 }, source }) }, { nowMs: 0 });
  if (out.kind !== 'write') throw new Error('expected a write');
  return BigInt(out.record.provenance.version);
}

test('an incremental chunk read (no LSN) is versioned one below its stream position instead of being dead-lettered', () => {
  expect(versionOf('r', chunkRead)).toBe(29514583n);
});

test('a change of a transaction open across the chunk ranks above the chunk read that did not see it, although its LSN is lower', () => {
  expect(straddler.lsn).toBeLessThan(29514584);
  expect(versionOf('u', straddler)).toBe(29572928n);
  expect(versionOf('u', straddler)).toBeGreaterThan(versionOf('r', chunkRead));
});

test('a change whose LSN is past the last commit keeps its LSN; events without sequence keep the LSN; initial snapshot reads stay one below their LSN', () => {
  expect(versionOf('u', { ...straddler, lsn: 29600000, sequence: '["29572928","29600000"]' })).toBe(29600000n);
  expect(versionOf('u', { ...straddler, sequence: undefined })).toBe(29488656n);
  expect(versionOf('r', { ...base, snapshot: 'true', lsn: 500, sequence: '[null,"500"]' })).toBe(499n);
});

test('sequence parsing tolerates nulls and refuses junk', () => {
  expect(postgresSequence('["10","12"]')).toEqual({ lastCommit: 10n, lsn: 12n });
  expect(postgresSequence('["10",null]')).toEqual({ lastCommit: 10n });
  expect(postgresSequence('[null,"12"]')).toBeUndefined();
  expect(postgresSequence('not json')).toBeUndefined();
  expect(postgresSequence(42)).toBeUndefined();
});

/** `postgresSequence` as it was before its regular-expression fast path: JSON.parse of every value. */
function sequenceByJson(v: string): { lastCommit: bigint; lsn?: bigint } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const max = (1n << 63n) - 1n;
  const num = (x: unknown) => (typeof x === 'string' && /^\d+$/.test(x) ? BigInt(x) : undefined);
  const lastCommit = num(parsed[0]);
  if (lastCommit === undefined || lastCommit > max) return undefined;
  const lsn = num(parsed[1]);
  return { lastCommit, ...(lsn !== undefined && lsn <= max ? { lsn } : {}) };
}

test('property: the sequence fast path reads every value exactly as JSON.parse does', () => {
  const seed = Number(process.env.SINK_PROPERTY_SEED ?? 20261201);
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const digits = () => String(Math.floor(rand() * 1e9)) + (rand() < 0.2 ? '0000000000000' : '');
  const element = () => pick([
    () => 'null', () => `"${digits()}"`, () => `"${digits()}"`, () => '"9223372036854775807"', () => '"9223372036854775808"',
    () => '""', () => '"-1"', () => `"${digits()}a"`, () => '"\\u0031"', () => `" ${digits()}"`, () => digits(),
  ])();
  for (let i = 0; i < 20_000; i++) {
    const n = pick([2, 2, 2, 2, 1, 3]);
    const sep = pick([',', ',', ', ']);
    const v = pick(['[', '[', ' [']) + Array.from({ length: n }, element).join(sep) + pick([']', ']', '] ', '']);
    const got = postgresSequence(v);
    const want = sequenceByJson(v);
    if (JSON.stringify(got, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)) !== JSON.stringify(want, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))) {
      throw new Error(`sequence ${JSON.stringify(v)}: fast path ${String(got && `${got.lastCommit}/${got.lsn}`)}, JSON ${String(want && `${want.lastCommit}/${want.lsn}`)} (seed=${seed} case=${i})`);
    }
  }
});
