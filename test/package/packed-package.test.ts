// The package as a user gets it: built, packed, installed into a scratch CDK app with only the documented peer
// dependencies, and both README examples compiled against its published types and synthesized with the handler
// bundles the package ships (esbuild is removed from the scratch app: a user's synth never runs it).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

let dir: string;
let app: string;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`, { cause: e });
  }
}

/** The README's TypeScript blocks as program files: a block that uses `this` becomes the body of a stack in an app. */
function readmePrograms(): string[] {
  const blocks = [...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(m => m[1]);
  return blocks.map(code => {
    if (!/\bthis\b/.test(code)) return code;
    const imports = code.match(/^(import[^\n]*\n)+/)![0];
    return `${imports}import { App as ReadmeApp, Stack as ReadmeStack } from 'aws-cdk-lib';\nimport { Construct as ReadmeConstruct } from 'constructs';\n`
      + `class ExistingStack extends ReadmeStack {\n  constructor(scope: ReadmeConstruct, id: string) {\n    super(scope, id);\n${code.slice(imports.length)}  }\n}\n`
      + 'new ExistingStack(new ReadmeApp(), \'ExistingStack\');\n';
  });
}

/** Runs a compiled program the way `cdk synth` does (CDK_OUTDIR set, so the App synthesizes on exit); returns the templates. */
function synth(program: string): Record<string, { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }> {
  const out = path.join(app, `cdk.out.${path.basename(program, '.js')}`);
  run(process.execPath, [program], app, { CDK_OUTDIR: out });
  return Object.fromEntries(fs.readdirSync(out).filter(f => f.endsWith('.template.json'))
    .map(f => [f.replace('.template.json', ''), JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'))]));
}

/** The staged Lambda code of each function of a synthesized app (cdk.out of the last synth of `program`). */
function stagedHandlerCode(program: string, template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }): string[] {
  const out = path.join(app, `cdk.out.${path.basename(program, '.js')}`);
  return Object.values(template.Resources).filter(r => r.Type === 'AWS::Lambda::Function')
    .map(r => String((r.Properties!.Code as { S3Key?: string }).S3Key ?? '').replace(/\.zip$/, ''))
    .map(hash => path.join(out, `asset.${hash}`, 'index.js'))
    .filter(f => fs.existsSync(f))
    .map(f => fs.readFileSync(f, 'utf8'));
}

function types(template: { Resources: Record<string, { Type: string }> }): Set<string> {
  return new Set(Object.values(template.Resources).map(r => r.Type));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-agent-data-stack-pack-'));
  run(NPM, ['run', 'build'], ROOT);
  // Built just above: prepack would only build again.
  const packed = JSON.parse(run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT))[0].filename as string;
  app = path.join(dir, 'app');
  fs.mkdirSync(path.join(app, 'src'), { recursive: true });
  // Only the documented peer dependencies beside the package: no cdk-nag, no dev dependencies.
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'scratch-cdk-app', version: '0.0.0', private: true,
    dependencies: {
      'aws-cdk-lib': pkg.peerDependencies['aws-cdk-lib'],
      'constructs': pkg.peerDependencies.constructs,
      'cdk-agent-data-stack': `file:${path.join(dir, packed)}`,
    },
  }, null, 2));
  run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
  // The synths below must not need esbuild: the handlers and the Flink grammar come prebuilt in the package.
  fs.rmSync(path.join(app, 'node_modules', 'esbuild'), { recursive: true, force: true });
  fs.rmSync(path.join(app, 'node_modules', '@esbuild'), { recursive: true, force: true });
  readmePrograms().forEach((code, i) => fs.writeFileSync(path.join(app, 'src', `readme${i}.ts`), code));
}, 900_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the package ships every handler\'s bundle and the Flink grammar, built from the sources it ships', () => {
  const installed = path.join(app, 'node_modules', 'cdk-agent-data-stack');
  for (const name of ['mcp', 'sink', 'replication-bootstrap', 'flink-starter', 'flink-starter-complete', 'search-index', 'artifact-builder']) {
    expect(fs.readFileSync(path.join(installed, 'bundles', name, 'index.js'))).toEqual(fs.readFileSync(path.join(ROOT, 'bundles', name, 'index.js')));
  }
  expect(fs.existsSync(path.join(installed, 'bundles', 'flink-parser.cjs'))).toBe(true);
});

test('the installed package has no cdk-nag, and its root imports', () => {
  expect(fs.existsSync(path.join(app, 'node_modules', 'cdk-nag'))).toBe(false);
  const out = run(process.execPath, ['-e', 'const m = require("cdk-agent-data-stack"); console.log(typeof m.AgentDataStack, typeof m.DebeziumConnector)'], app);
  expect(out.trim()).toBe('function function');
});

test('the gate is the cdk-agent-data-stack/gate subpath and names the missing optional peer dependency', () => {
  const out = run(process.execPath, ['-e', [
    'const gate = require("cdk-agent-data-stack/gate");',
    'console.log(JSON.stringify(gate.VALIDATION_GATE_CONTEXT));',
    'try { gate.applyValidationGate(new (require("aws-cdk-lib").App)()); } catch (e) { console.log(e.message); }',
  ].join('\n')], app);
  expect(out).toContain('"@aws-cdk/core:strictCfnValidateErrors":true');
  expect(out).toMatch(/needs the optional peer dependency cdk-nag.*npm install --save-dev cdk-nag/);
});

describe('README examples against the installed package', () => {
  beforeAll(() => {
    // The settings `cdk init app --language typescript` writes, resolving modules from the scratch app.
    const program = ts.createProgram(fs.readdirSync(path.join(app, 'src')).map(f => path.join(app, 'src', f)), {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
      lib: ['lib.es2022.d.ts'], strict: true, skipLibCheck: true, types: [], outDir: path.join(app, 'dist'), rootDir: path.join(app, 'src'),
    });
    const emitted = program.emit();
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
      .map(d => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
  }, 300_000);

  test('the one-declaration AgentDataStack synthesizes, its functions\' code the shipped bundles', () => {
    const templates = synth(path.join(app, 'dist', 'readme0.js'));
    const shipped = ['mcp', 'sink', 'replication-bootstrap'].map(n => fs.readFileSync(path.join(app, 'node_modules', 'cdk-agent-data-stack', 'bundles', n, 'index.js'), 'utf8'));
    const staged = stagedHandlerCode(path.join(app, 'dist', 'readme0.js'), templates.AgentDataStack);
    for (const code of shipped) expect(staged).toContain(code);
    expect(Object.keys(templates)).toEqual(['AgentDataStack']);
    const t = types(templates.AgentDataStack);
    for (const type of ['AWS::RDS::DBInstance', 'AWS::MSK::Cluster', 'AWS::KafkaConnect::Connector', 'AWS::KinesisAnalyticsV2::Application', 'AWS::Lambda::EventSourceMapping']) {
      expect(t).toContain(type);
    }
  }, 300_000);

  test('the single constructs synthesize in an existing stack with an imported VPC and database', () => {
    const templates = synth(path.join(app, 'dist', 'readme1.js'));
    const template = templates.ExistingStack;
    const t = types(template);
    expect(t).toContain('AWS::KafkaConnect::Connector');
    expect(t).toContain('AWS::MSK::Cluster');
    expect(t).not.toContain('AWS::RDS::DBInstance');
    expect(t).not.toContain('AWS::EC2::VPC');
    const cluster = Object.values(template.Resources).find(r => r.Type === 'AWS::MSK::Cluster')!;
    expect(JSON.stringify(cluster.Properties)).toContain('subnet-0a1b2c3d4e5f60001');
  }, 300_000);
});
