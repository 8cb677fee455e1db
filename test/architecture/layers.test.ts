// The import direction between the top-level layers (docs/ARCHITECTURE.md, "Layers"): contract/ is the pure vocabulary both
// sides share and imports nothing; constructs/ never reaches into handler code (only asset paths, as strings); handlers never
// import constructs or the CDK. Read from the sources themselves, so a new import that breaks the direction fails here.
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === '__pycache__') continue;
      out.push(...sources(rel));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(rel);
    }
  }
  return out;
}

/** Every module specifier a file imports, requires or re-exports (static and dynamic forms). */
export function specifiers(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The top-level folder a relative specifier lands in, or the package name of a bare one. */
function target(file: string, specifier: string): { layer?: string; pkg?: string } {
  if (!specifier.startsWith('.')) return { pkg: specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0] };
  const resolved = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier));
  return { layer: resolved.split(path.sep)[0] };
}

function violations(dir: string, allowed: (t: { layer?: string; pkg?: string }) => boolean): string[] {
  const bad: string[] = [];
  for (const file of sources(dir)) {
    for (const spec of specifiers(file)) {
      const t = target(file, spec);
      if (!allowed(t)) bad.push(`${file} imports '${spec}'`);
    }
  }
  return bad;
}

describe('layer import direction', () => {
  test('contract/ imports only itself: no package, no construct, no handler', () => {
    expect(sources('contract').length).toBeGreaterThan(5);
    expect(violations('contract', (t) => t.layer === 'contract')).toEqual([]);
  });

  test('constructs/ imports nothing from lambda/ (handlers are referenced by asset path only)', () => {
    expect(violations('constructs', (t) => t.layer !== 'lambda' && t.layer !== 'cli' && t.layer !== 'bin')).toEqual([]);
  });

  test('lambda/ imports neither constructs, the CDK nor the composition layer', () => {
    expect(
      violations('lambda', (t) => !['constructs', 'lib', 'bin', 'cli'].includes(t.layer ?? '') && t.pkg !== 'aws-cdk-lib' && t.pkg !== 'constructs'),
    ).toEqual([]);
  });

  test('toolchain/ (build helpers both sides use in a source checkout) imports only Node built-ins and esbuild', () => {
    expect(sources('toolchain').length).toBeGreaterThan(0);
    expect(violations('toolchain', (t) => t.layer === 'toolchain' || ['crypto', 'fs', 'os', 'path', 'esbuild'].includes(t.pkg ?? ''))).toEqual([]);
  });

  test('one owner per bundling job: handler bundles in constructs/common, the SQL grammars in toolchain/sql-grammar.ts', () => {
    const owners = ['constructs/common/agent-function.ts', 'constructs/common/handler-bundle.ts', 'toolchain/sql-grammar.ts'];
    const callers = ['contract', 'constructs', 'lambda', 'lib', 'cli', 'toolchain'].flatMap(sources)
      .filter(file => /\bbuildSync\(|\besbuild\.build\(/.test(fs.readFileSync(path.join(ROOT, file), 'utf8')));
    expect(callers.map(f => f.split(path.sep).join('/')).sort()).toEqual(owners);
  });

  test('the checker sees a forbidden import (a file that imports a handler module from constructs/ is reported)', () => {
    const probe = path.join('constructs', '__probe__.ts');
    fs.writeFileSync(path.join(ROOT, probe), "import { handler } from '../lambda/sink';\nexport const x = handler;\n");
    try {
      expect(violations('constructs', (t) => t.layer !== 'lambda')).toEqual([`${probe} imports '../lambda/sink'`]);
    } finally {
      fs.unlinkSync(path.join(ROOT, probe));
    }
  });
});
