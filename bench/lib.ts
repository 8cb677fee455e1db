// Small helpers for benchmarks: percentiles, timing and a printed table with each figure beside its same-run baseline.

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export function summarize(samplesMs: number[]): { p50: number; p99: number; mean: number; n: number } {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), n: s.length };
}

export async function timeMs<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const out = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, out];
}

export interface BenchRow {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly baselineName: string;
  readonly baseline: number;
}

/** Rows as plain objects with the ratio computed, for `npm run bench -- --json` (comparable across commits). */
export function rowsAsJson(rows: BenchRow[]): Array<Record<string, string | number | null>> {
  const num = (n: number) => (Number.isFinite(n) ? n : null);
  return rows.map(r => ({
    bench: r.bench, metric: r.metric, value: num(r.value), unit: r.unit,
    baseline: r.baselineName, baselineValue: num(r.baseline), ratio: num(r.value / r.baseline),
  }));
}

/** Prints rows as a table with `ratio = value / baseline`; figures are reported, never asserted. */
export function printRows(rows: BenchRow[]): void {
  const fmt = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : 'n/a');
  console.log('| bench | metric | value | baseline | baseline value | ratio |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.bench} | ${r.metric} | ${fmt(r.value)} ${r.unit} | ${r.baselineName} | ${fmt(r.baseline)} ${r.unit} | ${fmt(r.value / r.baseline)} |`);
  }
}
