// Property-style robustness: random and mutated arguments for every tool (fixed, printed seed) always get a structured answer, and the server keeps serving.
import { errorText, Harness, startHarness } from './harness';
import { mulberry32 } from '../helpers/random';

const SEED = Number(process.env.MCP_FUZZ_SEED ?? 20261127);
const CASES_PER_TOOL = 40;


const NASTY = ['*', '?', '[a-z]', '{tag}', "'; redis.call('FLUSHALL') --", '"]]', '\u0000', '\r\nQUIT\r\n', 'status:open OR *:*', '{"match_all":{}}',
  '../../etc/passwd', '${jndi:ldap://x}', '<script>', '😀', ' ', '', 'a'.repeat(600), '-1', '9'.repeat(25), '1e308', 'null', 'true'];

function value(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * 11);
  switch (pick) {
    case 0: return NASTY[Math.floor(r() * NASTY.length)];
    case 1: return Math.floor((r() - 0.5) * 2 ** 53);
    case 2: return r() * 1e6;
    case 3: return r() < 0.5;
    case 4: return null;
    case 5: return depth > 2 ? 'leaf' : Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    case 6: return depth > 2 ? 1 : object(r, depth + 1, []);
    case 7: return Math.floor(r() * 200) - 50;
    case 8: return new Date(Math.floor(r() * 2e12)).toISOString();
    default: return `v${Math.floor(r() * 1000)}`;
  }
}

function object(r: () => number, depth: number, keys: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const useKnown = keys.length > 0 && r() < 0.8;
    const k = useKnown ? keys[Math.floor(r() * keys.length)] : NASTY[Math.floor(r() * NASTY.length)] || 'x';
    o[k] = value(r, depth);
  }
  return o;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

test(`random arguments never break a tool (seed ${SEED})`, async () => {
  console.log(`MCP fuzz seed: ${SEED} (set MCP_FUZZ_SEED to replay)`);
  const r = mulberry32(SEED);
  const { tools } = await h.client.listTools();
  let errors = 0;
  let answers = 0;
  for (const tool of tools) {
    const keys = Object.keys((tool.inputSchema.properties ?? {}) as object);
    for (let i = 0; i < CASES_PER_TOOL; i++) {
      const args = object(r, 0, keys);
      const res = await h.call(tool.name, args);
      if (res.isError) {
        errors++;
        const text = errorText(res);
        expect(text.length).toBeGreaterThan(0);
        expect(text).not.toMatch(/\n\s+at |node_modules|127\.0\.0\.1/);
      } else {
        answers++;
        expect(res.structuredContent).toBeDefined();
      }
    }
  }
  expect(errors).toBeGreaterThan(0);
  expect(answers).toBeGreaterThan(0);
  const ok = await h.call('customers_lookup', { customer_id: 42 });
  expect(ok.structuredContent.found).toBe(true);
  expect((await h.redis.keys(`${h.prefix}*`)).length).toBe(4);
});
