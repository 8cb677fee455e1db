// scripts/ts-register.js, the hook cdk.json's app runs the sources with (esbuild in place of ts-node's TypeScript
// compiler): the code it emits behaves as the compiler's does with tsconfig.json's options, and errors point at the
// TypeScript lines.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const { transpile } = require('../../scripts/ts-register.js') as { transpile: (source: string, filename: string) => string };

// Class fields initialized after super() (tsconfig's ES2022 target: define semantics, so a declared field set by the
// base constructor is reset), parameter properties, enums, a type-only import that must be elided.
const SOURCE = `
import type { Construct } from 'constructs';
enum Kind { A = 'a', B = 'b' }
class Base { constructor() { this.init(); } init(): void {} }
class Child extends Base {
  public declared?: string;
  public readonly value = Kind.B;
  constructor(public readonly id: string, private readonly scope?: Construct) { super(); }
  init(): void { this.declared = 'set by the base constructor'; }
}
const c = new Child('x');
module.exports = { result: { keys: Object.keys(c), declared: c.declared, value: c.value, id: c.id, kinds: Object.entries(Kind) } };
`;

function evaluate(js: string): unknown {
  const m = { exports: {} as { result?: unknown } };
  (vm.runInThisContext(`(function (module, exports, require) {${js}\n})`) as (...a: unknown[]) => void)(m, m.exports, require);
  return m.exports.result;
}

test('cdk.json runs the app through scripts/ts-register.js, not ts-node', () => {
  const app: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).app;
  expect(app).toBe('node -r ./scripts/ts-register.js bin/app.ts');
});

test('the emitted code behaves as the TypeScript compiler\'s with tsconfig.json\'s options', () => {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
  const { options } = ts.convertCompilerOptionsFromJson(tsconfig.compilerOptions, ROOT);
  const byTsc = evaluate(ts.transpileModule(SOURCE, { compilerOptions: { ...options, inlineSourceMap: false, inlineSources: false } }).outputText);
  expect(evaluate(transpile(SOURCE, 'sample.ts'))).toEqual(byTsc);
  // The define semantics are what make the two agree here: the field declared without an initializer is reset.
  expect(byTsc).toMatchObject({ declared: undefined, value: 'b', id: 'x' });
});

test('an error thrown in a TypeScript source names the TypeScript file and line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-register-'));
  try {
    const file = path.join(dir, 'thrower.ts');
    // Types and blank lines before the throw: in the emitted JavaScript it sits on another line.
    fs.writeFileSync(file, 'interface Shape {\n  readonly a: number;\n}\n\nconst s: Shape = { a: 1 };\n\nif (s.a === 1) throw new Error(\'from line 7\');\n');
    let stderr = '';
    try {
      execFileSync(process.execPath, ['-r', path.join(ROOT, 'scripts', 'ts-register.js'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain('from line 7');
    expect(stderr).toContain(`${file}:7:`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a dynamic import of an extensionless TypeScript sibling loads it, as under tsc\'s CommonJS output', () => {
  // The CLI loads its commands lazily with `await import('./dev/stop-signals')`; esbuild left as-is emits an ESM
  // import that Node cannot resolve without the `.ts` extension ("Cannot find module"), which broke `npm run dev`.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-register-'));
  try {
    fs.writeFileSync(path.join(dir, 'sibling.ts'), 'export const answer: number = 42;\n');
    fs.writeFileSync(path.join(dir, 'main.ts'),
      'async function main(): Promise<void> {\n  const m = await import(\'./sibling\');\n  process.stdout.write(`answer=${m.answer}`);\n}\nvoid main();\n');
    const out = execFileSync(process.execPath, ['-r', path.join(ROOT, 'scripts', 'ts-register.js'), path.join(dir, 'main.ts')],
      { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    expect(out).toBe('answer=42');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
