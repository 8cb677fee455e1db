// What is kept between synths (constructs/common/synth-cache.ts): a value is read back as written, a damaged entry is
// computed again, and no JSON text is made for nothing (no file and nobody asking for it).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { keptJson, keptJsonEntry } from '../../constructs/common/synth-cache';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-cache-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A value that counts how often it is serialized. */
function counted(payload: unknown): { value: { toJSON(): unknown }; serialized: () => number } {
  let n = 0;
  return { value: { toJSON: () => { n += 1; return payload; } }, serialized: () => n };
}

test('no file: keptJson computes and serializes nothing', () => {
  const c = counted({ a: 1 });
  let computed = 0;
  const value = keptJson(undefined, () => { computed += 1; return c.value; });
  expect(value).toBe(c.value);
  expect(computed).toBe(1);
  expect(c.serialized()).toBe(0);
});

test('no file: keptJsonEntry makes the text once, because its caller asks for it', () => {
  const c = counted({ a: 1 });
  const entry = keptJsonEntry(undefined, () => c.value);
  expect(entry.text).toBe('{"a":1}');
  expect(c.serialized()).toBe(1);
});

test('with a file: written once, then read back without computing', () => {
  const file = path.join(dir, 'nested', 'entry.json');
  const c = counted({ findings: ['x'] });
  expect(keptJson(file, () => c.value)).toBe(c.value);
  expect(c.serialized()).toBe(1);
  expect(fs.readFileSync(file, 'utf8')).toBe('{"findings":["x"]}');
  expect(fs.readdirSync(path.dirname(file))).toEqual(['entry.json']);

  const again = keptJsonEntry(file, () => { throw new Error('must not compute'); });
  expect(again).toEqual({ value: { findings: ['x'] }, text: '{"findings":["x"]}' });
});

test('a damaged entry is computed again and rewritten', () => {
  const file = path.join(dir, 'entry.json');
  fs.writeFileSync(file, '{"trunc');
  expect(keptJson(file, () => ({ ok: true }))).toEqual({ ok: true });
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ ok: true });
});
