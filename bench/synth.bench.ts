// `cdk synth` time of the example app beside an empty CDK app, both as child processes (cold, like a user's run).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');

function run(script: string): number {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: ROOT, stdio: 'pipe', env: { ...process.env, CDK_OUTDIR: out },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.rmSync(out, { recursive: true, force: true });
  return ms;
}

export async function synthBench(iterations = 3): Promise<BenchRow[]> {
  const empty = `const { App, Stack } = require('aws-cdk-lib'); const app = new App(); new Stack(app, 'Empty'); app.synth();`;
  const example = `
    const { App } = require('aws-cdk-lib');
    const { applyValidationGate, VALIDATION_GATE_CONTEXT } = require('./lib/validation-gate');
    const { defineExampleApp } = require('./bin/example');
    const app = new App({ context: { ...require('./cdk.json').context, ...VALIDATION_GATE_CONTEXT } });
    applyValidationGate(app);
    defineExampleApp(app, { profile: 'development' });
    app.synth();`;
  const e: number[] = [];
  const x: number[] = [];
  for (let i = 0; i < iterations; i++) {
    e.push(run(empty));
    x.push(run(example));
  }
  const es = summarize(e);
  const xs = summarize(x);
  return [{ bench: 'cdk synth', metric: `example app, p50 of ${iterations}`, value: xs.p50, unit: 'ms', baselineName: 'empty app', baseline: es.p50 }];
}
