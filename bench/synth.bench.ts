// `cdk synth` time of the example app beside an empty CDK app, both as child processes (cold, like a user's run), and
// where the example's time goes: loading modules, building the construct tree, aws-cdk-lib's CloudFormation Validate
// (which every app runs, the empty one too), the gate's scan, and the rest of synthesis (templates, asset staging).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleAll } from '../scripts/bundle-handlers';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');

/** Phase timings of one child synth, in ms. */
interface Phases { total: number; load: number; construct: number; synth: number; cfnValidate: number; gate: number }

// Times each phase in the child: aws-cdk-lib's CloudFormationValidatePlugin and every plugin added through Validations
// (the gate) are wrapped; `load` includes ts-node compiling the sources, as `npx cdk synth` does.
const PRELUDE = `
  const { performance } = require('perf_hooks');
  const t = { load: 0, construct: 0, synth: 0, cfnValidate: 0, gate: 0 };
  const wrap = (obj, name, key) => { const f = obj[name]; obj[name] = function (...a) { const s = performance.now(); try { return f.apply(this, a); } finally { t[key] += performance.now() - s; } }; };
  let s = performance.now();
  const core = require('aws-cdk-lib');
  wrap(core.CloudFormationValidatePlugin.prototype, 'validate', 'cfnValidate');
  const addPlugins = core.Validations.prototype.addPlugins;
  core.Validations.prototype.addPlugins = function (...plugins) { for (const p of plugins) wrap(p, 'validate', 'gate'); return addPlugins.apply(this, plugins); };
`;
const EMPTY = `${PRELUDE}
  t.load = performance.now() - s; s = performance.now();
  const app = new core.App(); new core.Stack(app, 'Empty');
  t.construct = performance.now() - s; s = performance.now();
  app.synth();
  t.synth = performance.now() - s;
  process.stdout.write(JSON.stringify(t));`;
const EXAMPLE = `${PRELUDE}
  const { applyValidationGate, VALIDATION_GATE_CONTEXT } = require('./lib/validation-gate');
  const { defineExampleApp } = require('./bin/example');
  t.load = performance.now() - s; s = performance.now();
  const app = new core.App({ context: { ...require('./cdk.json').context, ...VALIDATION_GATE_CONTEXT } });
  applyValidationGate(app);
  defineExampleApp(app, { profile: 'development' });
  t.construct = performance.now() - s; s = performance.now();
  app.synth();
  t.synth = performance.now() - s;
  process.stdout.write(JSON.stringify(t));`;

function run(script: string, env: NodeJS.ProcessEnv = {}): Phases {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const t0 = process.hrtime.bigint();
  const stdout = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, CDK_OUTDIR: out },
  }).toString();
  const total = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.rmSync(out, { recursive: true, force: true });
  return { total, ...JSON.parse(stdout) };
}

export async function synthBench(iterations = 3): Promise<BenchRow[]> {
  // What `npm ci` (prepare) or `npm run build` leaves: every handler bundle built, so no run below bundles.
  bundleAll(ROOT);
  const empty: Phases[] = [];
  const first: Phases[] = [];
  const repeat: Phases[] = [];
  // One warm-up synth fills the gate's findings for the example's template; then the three kinds take turns.
  run(EXAMPLE);
  for (let i = 0; i < iterations; i++) {
    empty.push(run(EMPTY));
    first.push(run(EXAMPLE, { CDK_AGENT_GATE_CACHE: 'off' }));
    repeat.push(run(EXAMPLE));
  }
  const p50 = (xs: Phases[], k: keyof Phases) => summarize(xs.map(x => x[k])).p50;
  const baseline = p50(empty, 'total');
  const row = (metric: string, value: number): BenchRow => ({ bench: 'cdk synth', metric, value, unit: 'ms', baselineName: 'empty app', baseline });
  const rest = (xs: Phases[]) => summarize(xs.map(x => x.synth - x.cfnValidate - x.gate)).p50;
  return [
    row(`example app, first synth of its template (gate scans), p50 of ${iterations}`, p50(first, 'total')),
    row(`example app, repeat synth (gate findings of the unchanged template kept), p50 of ${iterations}`, p50(repeat, 'total')),
    row('first synth: loading modules (ts-node compiling the sources)', p50(first, 'load')),
    row('first synth: construct tree (incl. Flink SQL grammar)', p50(first, 'construct')),
    row('first synth: aws-cdk-lib CloudFormation Validate', p50(first, 'cfnValidate')),
    row('first synth: gate scan (AwsSolutions, Serverless, Control Tower)', p50(first, 'gate')),
    row('first synth: rest of synthesis (templates, handler bundles copied)', rest(first)),
    row('empty app: aws-cdk-lib CloudFormation Validate', p50(empty, 'cfnValidate')),
  ];
}
