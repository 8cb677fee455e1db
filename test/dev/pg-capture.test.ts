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

test('refuses a table name that is not schema.table', () => {
  expect(() => new PgChangeCapture({
    connection: pg.connection, topicPrefix: 'x', tables: ['customers'], slotName: 's', publicationName: 'p', onRecords: async () => undefined,
  })).toThrow(/schema\.table/);
});
