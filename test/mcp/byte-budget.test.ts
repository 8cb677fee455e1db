// One byte rule for every answer that returns rows or hits (lambda/mcp/byte-budget.ts): the kept items' JSON array fits in
// the budget, the next item would not, and the first item is always kept. The Athena reader, which stops paging at the
// budget, keeps exactly what the answer would keep of the same rows, so the answer never cuts what the reader read.
import { mockClient } from 'aws-sdk-client-mock';
import { JsonByteBudget, withinBudget } from '../../lambda/mcp/byte-budget';
import { AthenaClient, athenaWarehouseReader, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '../../lambda/mcp/warehouse-athena';
import { mulberry32 } from '../helpers/random';

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('withinBudget', () => {
  test('the kept items\' JSON array fits, one more would not, and at least one item is kept', () => {
    const chars = ['a', 'é', '€', '😀', '"', '\\', '\n'];
    for (let seed = 1; seed <= 300; seed++) {
      const rand = mulberry32(seed);
      const items = Array.from({ length: 1 + Math.floor(rand() * 30) }, (_, id) => ({
        id, note: Array.from({ length: Math.floor(rand() * 40) }, () => chars[Math.floor(rand() * chars.length)]).join(''),
      }));
      const budget = Math.floor(rand() * 1500);
      const kept = withinBudget(items, budget);
      expect({ seed, kept }).toEqual({ seed, kept: items.slice(0, kept.length) });
      expect(kept.length).toBeGreaterThanOrEqual(1);
      if (kept.length > 1) expect({ seed, bytes: bytes(kept) <= budget }).toEqual({ seed, bytes: true });
      if (kept.length < items.length) expect({ seed, over: bytes(items.slice(0, kept.length + 1)) > budget }).toEqual({ seed, over: true });
    }
  });

  test('counts UTF-8 bytes, not UTF-16 units: ["€€€"] is 13 bytes, ["€€€","x"] 17', () => {
    expect(withinBudget(['€€€', 'x'], 16)).toEqual(['€€€']);
    expect(withinBudget(['€€€', 'x'], 17)).toEqual(['€€€', 'x']);
    const b = new JsonByteBudget(13);
    expect(b.admit('€€€')).toBe(true);
    expect(b.admit('')).toBe(false);
  });
});

test('the Athena reader keeps exactly the rows the answer\'s rule keeps of the same rows, across pages', async () => {
  const athena = mockClient(AthenaClient);
  try {
    // Three pages of 40 rows of varying sizes (UTF-8 multi-byte notes); the budget falls inside the second page.
    const all = Array.from({ length: 120 }, (_, i) => ({ id: i, note: 'é'.repeat((i * 37) % 300) }));
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { QueryExecutionId: 'q', Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).callsFake(input => {
      const n = input.NextToken ? Number(input.NextToken) : 0;
      return {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: 'id', Type: 'integer' }, { Name: 'note', Type: 'varchar' }] },
          Rows: [
            ...(n === 0 ? [{ Data: [{ VarCharValue: 'id' }, { VarCharValue: 'note' }] }] : []),
            ...all.slice(n, n + 40).map(r => ({ Data: [{ VarCharValue: String(r.id) }, { VarCharValue: r.note }] })),
          ],
        },
        NextToken: n + 40 < all.length ? String(n + 40) : undefined,
      };
    });
    const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'wg', database: 'db', timeoutMs: 5000, sleep: async () => undefined });
    const budget = 20_000;
    const expected = withinBudget(all, budget);
    expect(expected.length).toBeGreaterThan(40);
    expect(expected.length).toBeLessThan(80);
    const out = await reader.run('SELECT 1', [], 1000, budget);
    expect(out.rows).toEqual(expected);
    expect(out).toMatchObject({ truncated: true, cutAtBytes: true });
    expect(withinBudget(out.rows, budget)).toEqual(out.rows);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(2);
  } finally {
    athena.restore();
  }
});
