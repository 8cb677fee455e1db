// The dev loop's change capture against a real PostgreSQL with wal_level=logical: envelopes match Debezium's shape and order.
import { Client } from 'pg';
import { lsnToNumber, PgChangeCapture, CapturedRecord } from '../../cli/dev/pg-capture';
import { LocalPostgres, startLocalPostgres } from '../../cli/dev/embedded-postgres';

let pg: LocalPostgres;
let client: Client;

beforeAll(async () => {
  pg = await startLocalPostgres();
  client = new Client(pg.connection);
  await client.connect();
  await client.query(`CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL, tier text, updated_at timestamptz DEFAULT now())`);
  await client.query(`INSERT INTO public.customers (id, name, tier) VALUES (1, 'Ada', 'gold'), (2, 'Grace', 'silver')`);
});

afterAll(async () => {
  await client?.end();
  await pg?.stop();
});

function waitFor(records: CapturedRecord[], n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (records.length >= n) return resolve();
      if (Date.now() - started > 15000) return reject(new Error(`only ${records.length} of ${n} records arrived`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

test('lsnToNumber matches PostgreSQL pg_lsn arithmetic', async () => {
  const r = await client.query(`SELECT ('16/B374D848'::pg_lsn - '0/0'::pg_lsn)::text AS n`);
  expect(lsnToNumber('16/B374D848')).toBe(Number(r.rows[0].n));
  expect(() => lsnToNumber('nope')).toThrow(/not a PostgreSQL LSN/);
});

test('snapshot, insert, update, delete and tombstone arrive as Debezium envelopes in LSN order', async () => {
  const records: CapturedRecord[] = [];
  const capture = new PgChangeCapture({
    connection: pg.connection, topicPrefix: 'agentdata', tables: ['public.customers'],
    slotName: 'dev_test_slot', publicationName: 'dev_test_pub', onRecords: async (batch) => { records.push(...batch); },
  });
  await capture.start();
  try {
    expect(records.map(r => r.value?.op)).toEqual(['r', 'r']);
    expect(records[0].value?.source.snapshot).toBe('true');
    await client.query(`INSERT INTO public.customers (id, name, tier) VALUES (3, 'Linus', 'bronze')`);
    await client.query(`UPDATE public.customers SET tier = 'platinum' WHERE id = 1`);
    await client.query(`DELETE FROM public.customers WHERE id = 2`);
    await waitFor(records, 6);
    const changes = records.slice(2);
    expect(changes.map(r => r.value?.op ?? 'tombstone')).toEqual(['c', 'u', 'd', 'tombstone']);
    const [ins, upd, del, tomb] = changes;
    expect(ins.topic).toBe('agentdata.public.customers');
    expect(ins.key).toEqual({ id: 3 });
    expect(ins.value?.after).toMatchObject({ id: 3, name: 'Linus', tier: 'bronze' });
    expect(upd.value?.after).toMatchObject({ id: 1, tier: 'platinum' });
    expect(del.value?.before).toMatchObject({ id: 2 });
    expect(del.value?.after).toBeNull();
    expect(tomb.key).toEqual({ id: 2 });
    // Change LSNs grow strictly with commit order; the snapshot sits at the slot's consistent point, which the
    // first change may share (sinks must rank a snapshot read below a change at the same LSN).
    const lsns = [ins, upd, del].map(r => r.value!.source.lsn);
    expect(lsns[0]).toBeLessThan(lsns[1]);
    expect(lsns[1]).toBeLessThan(lsns[2]);
    expect(records[0].value!.source.lsn).toBeLessThanOrEqual(lsns[0]);
    // Commit time comes from the source transaction, not the capture's clock.
    const dbNow = Number((await client.query(`SELECT extract(epoch from now()) * 1000 AS ms`)).rows[0].ms);
    expect(Math.abs(upd.value!.source.ts_ms - dbNow)).toBeLessThan(60_000);
    expect(upd.value?.source).toMatchObject({ connector: 'postgresql', db: 'agentdata', schema: 'public', table: 'customers' });
  } finally {
    await capture.stop();
  }
  const slots = await client.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'dev_test_slot'`);
  expect(slots.rowCount).toBe(0);
  const pubs = await client.query(`SELECT 1 FROM pg_publication WHERE pubname = 'dev_test_pub'`);
  expect(pubs.rowCount).toBe(0);
});

test('a primary-key change is a delete (with tombstone) of the old key and a create of the new key, as Debezium emits it', async () => {
  // Debezium's PostgreSQL connector, "Primary key updates": in place of an update it sends a delete for the old key
  // (followed by a tombstone) and a create for the new key. With the default replica identity pgoutput still sends the
  // old key tuple ('K') when the key changes; with REPLICA IDENTITY FULL it sends the whole old row ('O').
  await client.query(`CREATE TABLE public.accounts (id int PRIMARY KEY, name text NOT NULL, tier text)`);
  await client.query(`CREATE TABLE public.accounts_full (id int PRIMARY KEY, name text NOT NULL, tier text)`);
  await client.query(`ALTER TABLE public.accounts_full REPLICA IDENTITY FULL`);
  const records: CapturedRecord[] = [];
  const capture = new PgChangeCapture({
    connection: pg.connection, topicPrefix: 'agentdata', tables: ['public.accounts', 'public.accounts_full'],
    slotName: 'dev_pk_slot', publicationName: 'dev_pk_pub', onRecords: async (batch) => { records.push(...batch); },
  });
  await capture.start();
  try {
    await client.query(`INSERT INTO public.accounts VALUES (5000, 'Ada', 'gold')`);
    await client.query(`UPDATE public.accounts SET id = 5001 WHERE id = 5000`);
    await client.query(`UPDATE public.accounts SET tier = 'platinum' WHERE id = 5001`);
    await client.query(`INSERT INTO public.accounts_full VALUES (7000, 'Grace', 'silver')`);
    await client.query(`UPDATE public.accounts_full SET id = 7001, tier = 'gold' WHERE id = 7000`);
    await waitFor(records, 9);
    expect(records.map(r => [r.topic.split('.').pop(), r.value?.op ?? 'tombstone', r.key])).toEqual([
      ['accounts', 'c', { id: 5000 }],
      ['accounts', 'd', { id: 5000 }],
      ['accounts', 'tombstone', { id: 5000 }],
      ['accounts', 'c', { id: 5001 }],
      ['accounts', 'u', { id: 5001 }],
      ['accounts_full', 'c', { id: 7000 }],
      ['accounts_full', 'd', { id: 7000 }],
      ['accounts_full', 'tombstone', { id: 7000 }],
      ['accounts_full', 'c', { id: 7001 }],
    ]);
    const [, del, , create, update, , delFull, , createFull] = records;
    // Default identity: the old image is the key only, as in Debezium's delete events for such tables.
    expect(del.value).toMatchObject({ before: { id: 5000 }, after: null, op: 'd' });
    expect(create.value).toMatchObject({ before: null, after: { id: 5001, name: 'Ada', tier: 'gold' }, op: 'c' });
    // Both events come from the one update statement: same transaction and position.
    expect(create.value!.source.lsn).toBe(del.value!.source.lsn);
    expect(create.value!.source.txId).toBe(del.value!.source.txId);
    expect(create.offset).toBeGreaterThan(del.offset);
    // An update that keeps the key stays an update.
    expect(update.value).toMatchObject({ after: { id: 5001, tier: 'platinum' }, op: 'u' });
    expect(delFull.value).toMatchObject({ before: { id: 7000, name: 'Grace', tier: 'silver' }, after: null, op: 'd' });
    expect(createFull.value).toMatchObject({ before: null, after: { id: 7001, name: 'Grace', tier: 'gold' }, op: 'c' });
  } finally {
    await capture.stop();
  }
});

test('tombstonesOnDelete: false drops the tombstone after a primary-key change too', async () => {
  await client.query(`CREATE TABLE public.accounts_nt (id int PRIMARY KEY, name text NOT NULL)`);
  const records: CapturedRecord[] = [];
  const capture = new PgChangeCapture({
    connection: pg.connection, topicPrefix: 'agentdata', tables: ['public.accounts_nt'], tombstonesOnDelete: false,
    slotName: 'dev_pk_nt_slot', publicationName: 'dev_pk_nt_pub', onRecords: async (batch) => { records.push(...batch); },
  });
  await capture.start();
  try {
    await client.query(`INSERT INTO public.accounts_nt VALUES (1, 'Ada')`);
    await client.query(`UPDATE public.accounts_nt SET id = 2 WHERE id = 1`);
    await waitFor(records, 3);
    await new Promise(r => setTimeout(r, 200));
    expect(records.map(r => [r.value?.op ?? 'tombstone', r.key])).toEqual([['c', { id: 1 }], ['d', { id: 1 }], ['c', { id: 2 }]]);
  } finally {
    await capture.stop();
  }
});

test('refuses a table name that is not schema.table', () => {
  expect(() => new PgChangeCapture({
    connection: pg.connection, topicPrefix: 'x', tables: ['customers'], slotName: 's', publicationName: 'p', onRecords: async () => undefined,
  })).toThrow(/schema\.table/);
});
