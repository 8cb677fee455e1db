// Envelope decoding: Debezium with and without schemas, REPLICA IDENTITY DEFAULT deletes, tombstones, upsert-kafka, and versions that order positions.
import { coerce, decodeRecord, DecodeError, kafkaVersion, mysqlVersion, postgresVersion, heartbeatSourceTsMs, quoteUnsafeIntegers } from '../../lambda/shared/envelope';
import { cacheKey } from '../../contract/stored-record';
import type { ViewFieldType } from '../../contract/view-config';
import { b64, fixtureRecords, productsView } from './helpers';

const view = productsView({ keyPrefix: 'x:' });
const NOW = 1_700_000_000_000;

describe('versions', () => {
  test('PostgreSQL LSNs keep their numeric order, in both Debezium and textual forms', () => {
    expect(postgresVersion(34078720)).toBe(34078720n);
    expect(postgresVersion('0/16B3748')).toBe(0x16B3748n);
    expect(postgresVersion('1/0')).toBe(1n << 32n);
    expect(postgresVersion('1/0') > postgresVersion('0/FFFFFFFF')).toBe(true);
  });

  test('MySQL binlog file beats position beats row', () => {
    const a = mysqlVersion('mysql-bin.000003', 4294967295, 4095);
    const b = mysqlVersion('mysql-bin.000004', 4, 0);
    expect(b > a).toBe(true);
    expect(mysqlVersion('mysql-bin.000003', 2090, 1) > mysqlVersion('mysql-bin.000003', 2090, 0)).toBe(true);
    expect(mysqlVersion('mysql-bin.000003', 2091, 0) > mysqlVersion('mysql-bin.000003', 2090, 4095)).toBe(true);
    expect(mysqlVersion('mysql-bin.524287', 4294967295, 4095)).toBe((1n << 63n) - 1n);
  });

  test('out-of-range positions are refused instead of wrapping', () => {
    expect(() => mysqlVersion('mysql-bin.524288', 0, 0)).toThrow(DecodeError);
    expect(() => mysqlVersion('mysql-bin.1', 2 ** 32, 0)).toThrow(/exceeds/);
    expect(() => mysqlVersion('binlog', 1, 0)).toThrow(/not a binlog file name/);
    expect(() => postgresVersion('9223372036854775808')).toThrow(/exceeds/);
    expect(() => kafkaVersion('-1')).toThrow(DecodeError);
  });
});

describe('upsert-kafka commit time', () => {
  test('a view\'s commitTimeField gives provenance the source commit time; without it the record timestamp is used', () => {
    const upsertView = { ...view, format: 'upsert-kafka' as const, fields: [...view.fields, { name: 'source_commit_ts', type: 'timestamp' as const }] };
    const value = { id: 7, name: 'x', source_commit_ts: '2026-11-28 00:18:18.123Z' };
    const rec = { topic: 'flink.out', partition: 0, offset: 5, timestamp: Date.parse('2026-11-28T00:18:20.000Z'), key: b64({ id: 7 }), value: b64(value) };
    const carried = decodeRecord({ ...upsertView, commitTimeField: 'source_commit_ts' }, rec, { nowMs: NOW });
    const plain = decodeRecord(upsertView, rec, { nowMs: NOW });
    if (carried.kind !== 'write' || plain.kind !== 'write') throw new Error('expected writes');
    expect(carried.record.provenance.commitTimeMs).toBe(Date.parse('2026-11-28T00:18:18.123Z'));
    expect(carried.record.row).toMatchObject({ source_commit_ts: '2026-11-28T00:18:18.123Z' });
    expect(plain.record.provenance.commitTimeMs).toBe(rec.timestamp);
  });
});

describe('Debezium', () => {
  test('a PostgreSQL snapshot read ranks below a change at the same LSN (the slot\'s consistent point), above any earlier one', () => {
    const at = (op: string, lsn: number) => {
      const after = { id: 7, name: op };
      const out = decodeRecord(view, { topic: view.topic, partition: 0, offset: lsn, key: b64({ id: 7 }), value: b64({ before: null, after, op, source: { lsn, ts_ms: 1, db: 'd', schema: 's', table: 't' } }) }, { nowMs: NOW });
      if (out.kind !== 'write') throw new Error('expected a write');
      return out.record.provenance;
    };
    expect(BigInt(at('u', 1000).version)).toBeGreaterThan(BigInt(at('r', 1000).version));
    expect(BigInt(at('c', 1000).version)).toBeGreaterThan(BigInt(at('r', 1000).version));
    expect(BigInt(at('r', 1000).version)).toBeGreaterThan(BigInt(at('u', 998).version));
    expect(at('r', 1000).position).toEqual({ kind: 'postgres', lsn: '1000' });
    expect(at('u', 1000).version).toBe('1000');
  });

  test('a MySQL snapshot event (op r, or an old connector\'s op c with snapshot true) ranks below the first change at its binlog position', () => {
    const at = (op: string, pos: number, snapshot: string) => {
      const after = { id: 7, name: op };
      const source = { file: 'mysql-bin.000003', pos, row: 0, snapshot, ts_ms: 1, db: 'inventory', table: 'products' };
      const out = decodeRecord(view, { topic: view.topic, partition: 0, offset: pos, key: b64({ id: 7 }), value: b64({ before: null, after, op, source }) }, { nowMs: NOW });
      if (out.kind !== 'write') throw new Error('expected a write');
      return BigInt(out.record.provenance.version);
    };
    expect(at('u', 154, 'false')).toBeGreaterThan(at('r', 154, 'true'));
    expect(at('u', 154, 'false')).toBeGreaterThan(at('c', 154, 'true'));
    expect(at('u', 154, 'false')).toBeGreaterThan(at('r', 154, 'last'));
    expect(at('r', 154, 'true')).toBeGreaterThan(at('u', 153, 'false'));
    expect(at('c', 154, 'false')).toBe(mysqlVersion('mysql-bin.000003', 154, 0));
  });

  test('PostgreSQL without schemas: snapshot read carries provenance and the projected row', () => {
    const [rec] = fixtureRecords('postgres-products.jsonl', view.topic);
    const out = decodeRecord(view, rec, { nowMs: NOW });
    expect(out).toEqual({
      kind: 'write',
      record: {
        view: 'products',
        row: { id: 101, name: 'scooter', description: 'Small 2-wheel scooter', weight: 3.14 },
        provenance: {
          sourceDatabase: 'fullfillment/postgres',
          sourceTable: 'inventory.products',
          key: { id: 101 },
          commitTimeMs: 1596001099434,
          position: { kind: 'postgres', lsn: '34078720', txId: 601 },
          // One below the LSN: a snapshot read ranks below a change at the same position.
          version: '34078719',
          op: 'r',
          kafka: { topic: view.topic, partition: 0, offset: '0' },
          writtenAtMs: NOW,
        },
      },
    });
  });

  test('MySQL with schemas: the {schema, payload} wrapper is removed and the version packs file/pos/row', () => {
    const recs = fixtureRecords('mysql-products-schema-include.jsonl', view.topic);
    const update = decodeRecord(view, recs[7], { nowMs: NOW });
    expect(update.kind).toBe('write');
    if (update.kind !== 'write') return;
    expect(update.record.provenance.op).toBe('u');
    expect(update.record.provenance.position).toEqual({ kind: 'mysql', file: 'mysql-bin.000003', pos: 1707, row: 0 });
    expect(update.record.provenance.version).toBe(mysqlVersion('mysql-bin.000003', 1707, 0).toString());
    expect(update.record.provenance.sourceTable).toBe('inventory.products');
    expect(update.record.row).toMatchObject({ id: 110 });
  });

  test('a delete whose before is null takes its key from the Kafka record key', () => {
    const recs = fixtureRecords('postgres-products-replica-identity-default.jsonl', view.topic, [111]);
    const del = recs.find(r => JSON.parse(Buffer.from(r.value ?? b64('null'), 'base64').toString()).op === 'd')!;
    const out = decodeRecord(view, del, { nowMs: NOW });
    expect(out.kind === 'write' && out.record.row).toBeNull();
    expect(out.kind === 'write' && out.record.provenance.key).toEqual({ id: 111 });
  });

  test('the record key is read only where the row images lack the key: a delete without a before image', () => {
    const recs = fixtureRecords('postgres-products-replica-identity-default.jsonl', view.topic, [111]);
    const notJson = Buffer.from('{not json').toString('base64');
    const ops = recs.filter(r => r.value !== null).map(r => ({ rec: { ...r, key: notJson }, op: JSON.parse(Buffer.from(r.value!, 'base64').toString()).op as string }));
    const change = ops.find(o => o.op !== 'd')!;
    const del = ops.find(o => o.op === 'd')!;
    // A change is keyed by its after image, so its Kafka key is never decoded; the delete needs it and refuses a bad one.
    expect(decodeRecord(view, change.rec, { nowMs: NOW }).kind).toBe('write');
    expect(() => decodeRecord(view, del.rec, { nowMs: NOW })).toThrow(/record key is not JSON/);
  });

  test('a tombstone (null value) is skipped: the delete before it carried the position', () => {
    const recs = fixtureRecords('postgres-products.jsonl', view.topic);
    const tomb = recs[recs.length - 1];
    expect(tomb.value).toBeNull();
    expect(decodeRecord(view, tomb, { nowMs: NOW })).toEqual({ kind: 'skip', reason: 'tombstone' });
  });

  test('a delete with neither images nor record key is undecodable', () => {
    const value = { before: null, after: null, op: 'd', source: { lsn: 5, ts_ms: 1, db: 'd', schema: 's', table: 't' } };
    expect(() => decodeRecord(view, { topic: view.topic, partition: 0, offset: 9, key: null, value: b64(value) }, { nowMs: NOW }))
      .toThrow(/row key \(id\) is unknown/);
  });

  test('garbage, unknown ops and position-less events are DecodeErrors', () => {
    const rec = (value: string) => ({ topic: view.topic, partition: 0, offset: 1, key: b64({ id: 1 }), value: Buffer.from(value).toString('base64') });
    expect(() => decodeRecord(view, rec('not json'), { nowMs: NOW })).toThrow(DecodeError);
    expect(() => decodeRecord(view, rec(JSON.stringify({ op: 't', source: { lsn: 1 } })), { nowMs: NOW })).toThrow(/op 't'/);
    expect(() => decodeRecord(view, rec(JSON.stringify({ op: 'c', after: { id: 1 }, source: {} })), { nowMs: NOW })).toThrow(/neither lsn nor binlog/);
    expect(() => decodeRecord(view, rec(JSON.stringify({ op: 'c', after: { name: 'x' }, source: { lsn: 1 } })), { nowMs: NOW })).toThrow(/key column 'id'/);
  });

  test('a declared field holding Debezium\'s placeholder for an unchanged TOASTed value is a DecodeError naming the field and the fix', () => {
    const placeholder = '__debezium_unavailable_value';
    const update = (after: Record<string, unknown>) => ({
      topic: view.topic, partition: 0, offset: 4, key: b64({ id: 1 }),
      value: b64({ op: 'u', before: null, after: { id: 1, name: 'n', weight: 1, ...after }, source: { connector: 'postgresql', lsn: 77, ts_ms: 1, db: 'inventory', schema: 'inventory', table: 'products' } }),
    });
    // The string (text columns), the base64 of its bytes (bytea) and the one element of an array column.
    for (const description of [placeholder, Buffer.from(placeholder).toString('base64'), [placeholder]]) {
      expect(() => decodeRecord(view, update({ description }), { nowMs: NOW })).toThrow(DecodeError);
      expect(() => decodeRecord(view, update({ description }), { nowMs: NOW })).toThrow(new RegExp(
        "^field 'description' holds Debezium's placeholder for an unchanged TOASTed value: .* List inventory\\.products in the source's "
        + 'fullRowImageTables .*agent-data-stack resnapshot --view products\\)\\.$'));
    }
    // An undeclared column with the placeholder is not stored, so it does not matter; a value that only contains it is a value.
    expect(decodeRecord(view, update({ notes: placeholder }), { nowMs: NOW })).toMatchObject({ kind: 'write' });
    expect(decodeRecord(view, update({ description: `${placeholder} and more` }), { nowMs: NOW })).toMatchObject({ kind: 'write', record: { row: { description: `${placeholder} and more` } } });
    expect(decodeRecord(view, update({ description: [placeholder, placeholder] }), { nowMs: NOW })).toMatchObject({ kind: 'write' });
    // A delete carries no row, so its before image's placeholders do not matter.
    const del = { topic: view.topic, partition: 0, offset: 5, key: b64({ id: 1 }), value: b64({ op: 'd', before: { id: 1, description: placeholder }, after: null, source: { lsn: 78, ts_ms: 1 } }) };
    expect(decodeRecord(view, del, { nowMs: NOW })).toMatchObject({ kind: 'write', record: { row: null } });
  });

  test('schema-change events are skipped, not dead-lettered', () => {
    const rec = { topic: view.topic, partition: 0, offset: 1, key: null, value: b64({ ddl: 'ALTER TABLE x', databaseName: 'd' }) };
    expect(decodeRecord(view, rec, { nowMs: NOW })).toEqual({ kind: 'skip', reason: 'schema-change' });
  });
});

describe('upsert-kafka', () => {
  const upsertView = productsView({ keyPrefix: 'x:', format: 'upsert-kafka', topic: 'flink.products', sourceTable: 'flink_products' });

  test('an upsert is versioned by its offset and keeps the record timestamp as commit time', () => {
    const out = decodeRecord(upsertView, {
      topic: 'flink.products', partition: 3, offset: '12345', timestamp: 1000, key: b64({ id: 7 }), value: b64({ id: 7, name: 'n', extra: 1 }),
    }, { nowMs: NOW });
    expect(out).toMatchObject({
      kind: 'write',
      record: {
        row: { id: 7, name: 'n', description: null, weight: null },
        provenance: { version: '12345', op: 'upsert', commitTimeMs: 1000, position: { kind: 'kafka', topic: 'flink.products', partition: 3, offset: '12345' }, sourceTable: 'flink_products' },
      },
    });
  });

  test('a null value is a versioned delete', () => {
    const out = decodeRecord(upsertView, { topic: 'flink.products', partition: 0, offset: 8, timestamp: 5, key: b64({ id: 7 }), value: null }, { nowMs: NOW });
    expect(out).toMatchObject({ kind: 'write', record: { row: null, provenance: { op: 'delete', version: '8', key: { id: 7 } } } });
  });
});

test('heartbeat records yield their source time', () => {
  expect(heartbeatSourceTsMs({ topic: '__debezium-heartbeat.x', partition: 0, offset: 0, value: b64({ ts_ms: 42 }) })).toBe(42);
  expect(heartbeatSourceTsMs({ topic: '__debezium-heartbeat.x', partition: 0, offset: 0, value: b64({ schema: {}, payload: { ts_ms: 43 } }) })).toBe(43);
  expect(heartbeatSourceTsMs({ topic: '__debezium-heartbeat.x', partition: 0, offset: 0, value: null })).toBeUndefined();
});

describe('field coercion to the view\'s types', () => {
  test.each([
    ['integer', '42', 42],
    ['integer', '12345678901234567890', '12345678901234567890'],
    ['integer', 'AeJA', 'AeJA'],
    ['number', '3.25', 3.25],
    ['number', '', ''],
    ['boolean', 'true', true],
    ['boolean', 0, false],
    ['string', 7, '7'],
    ['keyword', true, 'true'],
    ['json', '{"a":1}', { a: 1 }],
    ['json', '"just text"', '"just text"'],
    ['json', 'not json', 'not json'],
    ['timestamp', 1596001099434, '2020-07-29T05:38:19.434Z'],
    ['text', null, null],
  ] as [ViewFieldType, unknown, unknown][])('%s: %p becomes %p', (type, input, output) => {
    expect(coerce(type, input)).toEqual(output);
  });

  test('decoded rows carry coerced values', () => {
    const v = productsView({ keyPrefix: 'x:' });
    const value = { op: 'c', after: { id: '5', name: 9, weight: '1.5' }, source: { lsn: 1, ts_ms: 1, db: 'd', schema: 's', table: 't' } };
    const out = decodeRecord(v, { topic: v.topic, partition: 0, offset: 0, key: null, value: b64(value) }, { nowMs: NOW });
    expect(out.kind === 'write' && out.record.row).toEqual({ id: 5, name: '9', description: null, weight: 1.5 });
  });
});

describe('integers beyond 2^53 (BIGINT keys and values the JSON converter writes as numbers)', () => {
  const BIG = ['9007199254740992', '9007199254740993', '-9223372036854775808', '18446744073709551615'];
  // JSON text by hand: JSON.stringify of a number would already have rounded it.
  const debezium = (id: string, extra = '') => Buffer.from(`{"before":null,"after":{"id":${id},"name":"n","weight":1${extra}},"op":"u",`
    + '"source":{"connector":"postgresql","lsn":77,"ts_ms":1,"db":"inventory","schema":"inventory","table":"products"}}').toString('base64');
  const rec = (id: string, extra = '') => ({ topic: view.topic, partition: 0, offset: 4, key: Buffer.from(`{"id":${id}}`).toString('base64'), value: debezium(id, extra) });
  const written = (r: ReturnType<typeof rec>, v = view) => {
    const o = decodeRecord(v, r, { nowMs: NOW });
    if (o.kind !== 'write') throw new Error(o.reason);
    return o.record;
  };

  test('keys keep every digit, so two BIGINT ids a double cannot tell apart name two rows', () => {
    expect(Number(BIG[0])).toBe(Number(BIG[1]));
    const records = BIG.map(id => written(rec(id)));
    expect(records.map(r => r.provenance.key)).toEqual(BIG.map(id => ({ id })));
    expect(records.map(r => r.row!.id)).toEqual(BIG);
    expect(new Set(records.map(r => cacheKey('p:', view.key, r.provenance.key))).size).toBe(BIG.length);
  });

  test('a safe integer key is still a number, and encodes as its digit string would', () => {
    const small = written(rec('9007199254740991'));
    expect(small.provenance.key).toEqual({ id: 9007199254740991 });
    expect(cacheKey('p:', view.key, small.provenance.key)).toBe(cacheKey('p:', view.key, { id: '9007199254740991' }));
  });

  test('a stored integer field beyond 2^53 keeps its digits too; a nanosecond timestamp in the same record still normalizes', () => {
    const withTs = { ...view, fields: [...view.fields, { name: 'big', type: 'integer' as const }, { name: 'at', type: 'timestamp' as const }] };
    const r = written(rec('5', ',"big":123456789012345678901,"at":1764547200123456789'), withTs);
    expect(r.row).toMatchObject({ id: 5, big: '123456789012345678901', at: '2025-12-01T00:00:00.123Z' });
  });

  test('a delete whose key is only in the record key, and an upsert-kafka key, keep their digits', () => {
    const del = { topic: view.topic, partition: 0, offset: 5, key: Buffer.from(`{"id":${BIG[1]}}`).toString('base64'),
      value: Buffer.from('{"before":null,"after":null,"op":"d","source":{"lsn":78,"ts_ms":1}}').toString('base64') };
    expect(written(del).provenance.key).toEqual({ id: BIG[1] });
    const upsertView = productsView({ keyPrefix: 'x:', format: 'upsert-kafka', topic: 'flink.products', sourceTable: 'flink_products' });
    const up = { topic: 'flink.products', partition: 0, offset: 6, timestamp: 1, key: Buffer.from(`{"id":${BIG[1]}}`).toString('base64'),
      value: Buffer.from(`{"id":${BIG[1]},"name":"n"}`).toString('base64') };
    expect(written(up, upsertView)).toMatchObject({ provenance: { key: { id: BIG[1] } }, row: { id: BIG[1] } });
  });

  test('quoteUnsafeIntegers quotes only integer literals outside strings that are not safe integers', () => {
    const text = '{"a":9007199254740993,"b":"9007199254740993 \\" 12345678901234567","c":[-9007199254740993,1.5e300,12345678901234567.5,9007199254740991],"d":{"e":1}}';
    expect(quoteUnsafeIntegers(text)).toBe('{"a":"9007199254740993","b":"9007199254740993 \\" 12345678901234567","c":["-9007199254740993",1.5e300,12345678901234567.5,9007199254740991],"d":{"e":1}}');
    const plain = '{"a":1,"b":"x"}';
    expect(quoteUnsafeIntegers(plain)).toBe(plain);
  });
});
