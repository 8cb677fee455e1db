// `cdk synth` time of the example app beside an empty CDK app, both as child processes (cold, like a user's run), and
// where the example's time goes: loading modules, building the construct tree (and in it the Flink SQL parses),
// aws-cdk-lib's CloudFormation Validate (which every app runs, the empty one too), the gate's scan (cdk-nag packs and the
// cfn-guard processes of the Control Tower rules), and the rest of synthesis (templates, asset staging).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleAll } from '../scripts/bundle-handlers';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');

/** Phase timings of one child synth, in ms (`cpu`: CPU time of the synth process itself, without its children). */
interface Phases {
  total: number; load: number; grammar: number; construct: number; synth: number; cfnValidate: number; gate: number;
  flinkParse: number; cfnGuard: number; cpu: number;
}

/** How a child runs the TypeScript sources: `cdk.json`'s esbuild hook, or ts-node (the app command before it). */
const REGISTER = { esbuild: './scripts/ts-register.js', tsNode: 'ts-node/register/transpile-only' } as const;

// Times each phase in the child: aws-cdk-lib's CloudFormationValidatePlugin, every plugin added through Validations
// (the gate), the cfn-guard runs inside the gate and the Flink grammar's parse are wrapped; `load` includes
// transpiling the sources, as `npx cdk synth` does.
const PRELUDE = `
  const { performance } = require('perf_hooks');
  const t = { load: 0, grammar: 0, construct: 0, synth: 0, cfnValidate: 0, gate: 0, flinkParse: 0, cfnGuard: 0 };
  const wrap = (obj, name, key, when = () => true) => { const f = obj[name]; obj[name] = function (...a) { if (!when(this)) return f.apply(this, a); const s = performance.now(); try { return f.apply(this, a); } finally { t[key] += performance.now() - s; } }; };
  const done = () => { const c = process.cpuUsage(); t.cpu = (c.user + c.system) / 1000; process.stdout.write(JSON.stringify(t)); };
  let s = performance.now();
  const core = require('aws-cdk-lib');
  // aws-cdk-lib's default instance; a registered subclass (the gate's, which keeps reports) is timed where it is added,
  // reads of a kept report included, and its call into this prototype is not counted twice.
  wrap(core.CloudFormationValidatePlugin.prototype, 'validate', 'cfnValidate', p => p.constructor === core.CloudFormationValidatePlugin);
  const addPlugins = core.Validations.prototype.addPlugins;
  core.Validations.prototype.addPlugins = function (...plugins) {
    for (const p of plugins) wrap(p, 'validate', p instanceof core.CloudFormationValidatePlugin ? 'cfnValidate' : 'gate');
    return addPlugins.apply(this, plugins);
  };
`;
const EMPTY = `${PRELUDE}
  t.load = performance.now() - s; s = performance.now();
  const app = new core.App(); new core.Stack(app, 'Empty');
  t.construct = performance.now() - s; s = performance.now();
  app.synth();
  t.synth = performance.now() - s;
  done();`;
const EXAMPLE = `${PRELUDE}
  // The cfn-guard processes: the gate's side-by-side runner (lib/guard-parallel.ts) or a validator's own spawn of one.
  const cp = require('child_process');
  const spawnSync = cp.spawnSync;
  cp.spawnSync = function (file, args, ...rest) {
    if (!/cfn-guard$/.test(String(file)) && !(Array.isArray(args) && /cfn-guard runner/.test(String(args[1])))) return spawnSync.call(this, file, args, ...rest);
    const s = performance.now();
    try { return spawnSync.call(this, file, args, ...rest); } finally { t.cfnGuard += performance.now() - s; }
  };
  const { loadFlinkParser } = require('./constructs/processing/private/flink-parser');
  const { applyValidationGate, VALIDATION_GATE_CONTEXT } = require('./lib/validation-gate');
  const { defineExampleApp } = require('./bin/example');
  t.load = performance.now() - s; s = performance.now();
  // The grammar loads on the construct tree's first Flink program; loaded here (to count its parses), it is a phase of its own.
  wrap(loadFlinkParser().FlinkSQL.prototype, 'parse', 'flinkParse');
  t.grammar = performance.now() - s; s = performance.now();
  const app = new core.App({ context: { ...require('./cdk.json').context, ...VALIDATION_GATE_CONTEXT } });
  applyValidationGate(app);
  defineExampleApp(app, { profile: 'development' });
  t.construct = performance.now() - s; s = performance.now();
  app.synth();
  t.synth = performance.now() - s;
  done();`;

/**
 * Node.js options for every child, the empty app's too, from `BENCH_SYNTH_NODE_FLAGS` (space-separated), so a flag is
 * measured on both sides alike: V8 flags such as `--single-threaded-gc` are not allowed in NODE_OPTIONS.
 */
const NODE_FLAGS = (process.env.BENCH_SYNTH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

function run(script: string, env: NodeJS.ProcessEnv = {}, register: string = REGISTER.esbuild): Phases {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const t0 = process.hrtime.bigint();
  const stdout = execFileSync(process.execPath, [...NODE_FLAGS, '-r', register, '-e', script], {
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
  // One warm-up synth keeps the gate's findings and the Validate report of the example's template; then the three kinds take turns.
  run(EXAMPLE);
  for (let i = 0; i < iterations; i++) {
    empty.push(run(EMPTY));
    first.push(run(EXAMPLE, { CDK_AGENT_GATE_CACHE: 'off' }));
    repeat.push(run(EXAMPLE));
  }
  // The same first synth with ts-node transpiling the sources (cdk.json's app command before scripts/ts-register.js).
  const tsNode = run(EXAMPLE, { CDK_AGENT_GATE_CACHE: 'off' }, REGISTER.tsNode);
  const p50 = (xs: Phases[], k: keyof Phases) => summarize(xs.map(x => x[k])).p50;
  const baseline = p50(empty, 'total');
  const row = (metric: string, value: number): BenchRow => ({ bench: 'cdk synth', metric, value, unit: 'ms', baselineName: 'empty app', baseline });
  const rest = (xs: Phases[]) => summarize(xs.map(x => x.synth - x.cfnValidate - x.gate)).p50;
  // What aws-cdk-lib alone adds for this template: its CloudFormation Validate of the example's template beyond the
  // empty app's. No change to this library can go below it without changing the template.
  const floor = baseline + p50(first, 'cfnValidate') - p50(empty, 'cfnValidate');
  return [
    row(`example app, first synth of its template (gate scans), p50 of ${iterations}`, p50(first, 'total')),
    row(`example app, repeat synth (gate findings and CloudFormation Validate report of the unchanged template kept), p50 of ${iterations}`, p50(repeat, 'total')),
    row('example app, first synth under ts-node --transpile-only instead of scripts/ts-register.js (1 run)', tsNode.total),
    row('floor: empty app + the CloudFormation Validate time the example\'s template adds', floor),
    row('first synth: loading modules (esbuild transpiling the sources)', p50(first, 'load')),
    row('first synth, ts-node: loading modules (the TypeScript compiler transpiling the sources)', tsNode.load),
    row('first synth: loading the Flink SQL grammar (part of the construct tree in a plain synth)', p50(first, 'grammar')),
    row('first synth: construct tree', p50(first, 'construct')),
    row('first synth: of which the Flink SQL grammar parsing both Flink programs', p50(first, 'flinkParse')),
    row('first synth: aws-cdk-lib CloudFormation Validate', p50(first, 'cfnValidate')),
    row('first synth: gate scan (AwsSolutions, Serverless, Control Tower)', p50(first, 'gate')),
    row('first synth: of which the cfn-guard processes of the Control Tower rules', p50(first, 'cfnGuard')),
    row('first synth: rest of synthesis (templates, handler bundles copied)', rest(first)),
    row('empty app: aws-cdk-lib CloudFormation Validate', p50(empty, 'cfnValidate')),
    { bench: 'cdk synth', metric: 'example app, first synth: CPU of the synth process (cfn-guard children not counted)', value: p50(first, 'cpu'),
      unit: 'ms', baselineName: 'empty app CPU', baseline: p50(empty, 'cpu') },
  ];
}
