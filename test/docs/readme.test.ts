// The README's TypeScript examples compile against the current API, and the tools it says its declaration derives are the
// tools that declaration gives, so the docs cannot drift from the code.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');

function typeScriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map(m => m[1]);
}

test('every TypeScript block in README.md type-checks against the package', () => {
  const blocks = typeScriptBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const dir = fs.mkdtempSync(path.join(__dirname, 'readme-'));
  try {
    const files = blocks.map((code, i) => {
      const file = path.join(dir, `block${i}.ts`);
      const source = code.replace(/from 'cdk-agent-data-stack'/g, `from '${path.relative(dir, path.join(ROOT, 'index')).replace(/\\/g, '/')}'`);
      // Blocks that use `this` are constructor bodies: wrap them in a stack.
      const body = /\bthis\b/.test(source)
        ? source.replace(/^(import[^\n]*\n)+/m, imports => `${imports}import { Stack as __Stack } from 'aws-cdk-lib';\nimport { Construct as __Construct } from 'constructs';\nexport class __Example extends __Stack {\n  constructor(scope: __Construct, id: string) {\n    super(scope, id);\n`) + '\n  }\n}\n'
        : `${source}\nexport {};\n`;
      fs.writeFileSync(file, body);
      return file;
    });
    const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config;
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
    const program = ts.createProgram(files, { ...options, noEmit: true, noUnusedLocals: false });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter(d => d.file && files.includes(path.resolve(d.file.fileName)));
    const messages = diagnostics.map(d => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(messages).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the MCP tools the README lists are the tools its declaration derives', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const declaration = typeScriptBlocks(readme).find(b => b.includes('new AgentDataStack('));
  expect(declaration).toBeDefined();
  const listed = /the MCP tools \(([^)]*)\)/.exec(readme.replace(/\s+/g, ' '))?.[1];
  expect(listed).toBeDefined();
  const dir = fs.mkdtempSync(path.join(__dirname, 'readme-'));
  try {
    // The declaration as a module: bundling skipped, the stack exported.
    const file = path.join(dir, 'declaration.ts');
    fs.writeFileSync(file, declaration!
      .replace(/from 'cdk-agent-data-stack'/g, `from '${path.relative(dir, path.join(ROOT, 'index')).replace(/\\/g, '/')}'`)
      .replace('new AgentDataStack(new App(),', "export const stack = new AgentDataStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }),"));
    const { stack } = require(file) as { stack: { mcp: { toolNames: string[] } } };
    expect([...listed!.matchAll(/`([a-z_]+)`/g)].map(m => m[1]).sort()).toEqual([...stack.mcp.toolNames].sort());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
