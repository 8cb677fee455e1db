// Every repository file the docs name in backticks exists, so a moved or renamed module cannot leave the docs pointing nowhere.
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)];

/** `dir/…/file.ext` in backticks whose first folder is one of this repository's; `lib/…` only for this repository's `lib/*.ts` (a deeper
 * `lib/…` is another package's, `lib/*.jar` is inside the Flink package). */
const REPO_PATH = /`((?:constructs|lambda|contract|cli|bin|test|scripts|toolchain|bundles|docs)\/[A-Za-z0-9_./@-]+\.[a-z]+|lib\/[A-Za-z0-9_.-]+\.ts)(?:#[^`]*)?`/g;

function missingPaths(markdown: string, exists: (p: string) => boolean): string[] {
  const missing = new Set<string>();
  for (const [, p] of markdown.matchAll(REPO_PATH)) if (!exists(p)) missing.add(p);
  return [...missing];
}

test('every repository path the docs name exists', () => {
  const missing = DOCS.flatMap(doc => missingPaths(fs.readFileSync(path.join(ROOT, doc), 'utf8'), p => fs.existsSync(path.join(ROOT, p)))
    .map(p => `${doc}: ${p}`));
  expect(missing).toEqual([]);
});

test('the check catches a path that does not exist and leaves other packages\' paths alone', () => {
  const text = 'See `contract/lineage-loader.ts`, `lambda/shared/lineage-loader.ts#L1` and cdk-nag\'s `lib/rules/opensearch/X.js`.';
  expect(missingPaths(text, p => fs.existsSync(path.join(ROOT, p)))).toEqual(['contract/lineage-loader.ts']);
});
