// Smaller rooms: no TypeScript source under contract/, constructs/, lambda/, lib/, cli/ or toolchain/ grows past MAX_LINES. Files still being
// split are named in ALLOWED_OVER_LIMIT; the list only shrinks: a listed file that is back under the limit must leave the list.
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const LAYERS = ['contract', 'constructs', 'lambda', 'lib', 'cli', 'toolchain'];

/** The most lines a source file may have. */
export const MAX_LINES = 400;

/** Files over the limit that are being split (issue 19, item 5). Remove an entry once its file is under MAX_LINES; never add one. */
export const ALLOWED_OVER_LIMIT: readonly string[] = [];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '__pycache__') out.push(...sources(rel));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(rel);
    }
  }
  return out;
}

function lineCount(file: string): number {
  return fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/\n$/, '').split('\n').length;
}

/** Files over `max` lines that `allowed` does not name, and allowed files that are no longer over it (or gone). */
export function sizeProblems(files: Record<string, number>, max: number, allowed: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [file, lines] of Object.entries(files)) {
    if (lines > max && !allowed.includes(file)) {
      problems.push(`${file} has ${lines} lines (limit ${max}): split it into named modules (constructs: props, base, private/ helpers).`);
    }
  }
  for (const file of allowed) {
    if (!(file in files)) problems.push(`${file} is allowed over the limit but does not exist: remove it from ALLOWED_OVER_LIMIT.`);
    else if (files[file] <= max) problems.push(`${file} is down to ${files[file]} lines: remove it from ALLOWED_OVER_LIMIT so it stays small.`);
  }
  return problems;
}

describe('source file size', () => {
  const files = Object.fromEntries(LAYERS.flatMap(sources).map(f => [f, lineCount(f)]));

  test(`no source file under ${LAYERS.join(', ')} is over ${MAX_LINES} lines, except the shrinking allow-list`, () => {
    expect(Object.keys(files).length).toBeGreaterThan(100);
    expect(sizeProblems(files, MAX_LINES, ALLOWED_OVER_LIMIT)).toEqual([]);
  });

  test('the check fails on a new large file, and on an allowed file that is already small', () => {
    expect(sizeProblems({ 'constructs/x.ts': 401 }, 400, [])).toEqual([expect.stringMatching(/constructs\/x\.ts has 401 lines/)]);
    expect(sizeProblems({ 'constructs/x.ts': 400 }, 400, [])).toEqual([]);
    expect(sizeProblems({ 'lib/a.ts': 120 }, 400, ['lib/a.ts'])).toEqual([expect.stringMatching(/lib\/a\.ts is down to 120 lines/)]);
    expect(sizeProblems({}, 400, ['lib/gone.ts'])).toEqual([expect.stringMatching(/does not exist/)]);
  });

  test('the allow-list is sorted and names only files of the checked layers', () => {
    expect([...ALLOWED_OVER_LIMIT].sort()).toEqual(ALLOWED_OVER_LIMIT);
    for (const file of ALLOWED_OVER_LIMIT) expect(LAYERS).toContain(file.split('/')[0]);
  });
});
