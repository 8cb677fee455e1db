// Runs the gate's cfn-guard processes side by side, and reads each one's output with CfnGuardValidator's own parsing.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';

/** One cfn-guard run: rule files over one data file. */
export interface GuardRun {
  readonly rules: string[];
  readonly data: string;
}

interface GuardValidator {
  validate(context: { templatePaths: string[] }): PolicyValidationPluginReport;
}
type GuardValidatorClass = new (props: { controlTowerRulesEnabled: boolean; rules: string[]; maxBuffer: number }) => GuardValidator;
type Exec = (commandLine: string[], options?: { json?: boolean; maxBuffer?: number }) => unknown;

/** cfn-guard's exit codes for a run that found violations (the validator's own `exec` accepts them too). */
const VIOLATIONS_FOUND = new Set([0, 5, 19]);

/**
 * The validator's reports for `runs`, in order. The validator spawns one cfn-guard process at a time through its
 * `lib/utils` `exec`; here its command lines are collected first (with `exec` answering "no results"), run side by side
 * in one helper process, and each validator is then asked again with `exec` answering its own process's output, so the
 * flags and the parsing stay the validator's. If that module cannot be swapped (a future validator), each run spawns its
 * own process as before: slower, same findings.
 */
export function validateGuardRuns(Validator: GuardValidatorClass, validatorDir: string, runs: readonly GuardRun[], maxBuffer: number): PolicyValidationPluginReport[] {
  const validators = runs.map(r => new Validator({ controlTowerRulesEnabled: false, rules: r.rules, maxBuffer }));
  const sequential = () => validators.map((v, i) => v.validate({ templatePaths: [runs[i].data] }));
  let utils: { exec: Exec };
  try {
    utils = require(path.join(validatorDir, 'lib', 'utils.js'));
  } catch {
    return sequential();
  }
  const original = utils.exec;
  if (typeof original !== 'function' || runs.length < 2) return sequential();
  const commandLines: string[][] = [];
  try {
    for (const [i, v] of validators.entries()) {
      utils.exec = commandLine => {
        commandLines[i] = commandLine;
        return [];
      };
      v.validate({ templatePaths: [runs[i].data] });
    }
  } finally {
    utils.exec = original;
  }
  if (commandLines.length !== runs.length || commandLines.some(c => c === undefined)) return sequential();

  const outputs = runSideBySide(commandLines, maxBuffer);
  try {
    return validators.map((v, i) => {
      utils.exec = (commandLine, options) => {
        if (commandLine.join('\0') !== commandLines[i].join('\0')) return original(commandLine, options);
        const { status, signal, stdout, stderr } = outputs[i];
        if (status === null || !VIOLATIONS_FOUND.has(status)) {
          throw new Error(`Command exited with ${status !== null ? `status ${status}` : `signal ${signal}`}: ${stderr.trim()}`);
        }
        const text = stdout.trim();
        if (!options?.json) return text;
        return text.length === 0 ? {} : JSON.parse(text);
      };
      return v.validate({ templatePaths: [runs[i].data] });
    });
  } finally {
    utils.exec = original;
  }
}

interface ProcessOutput {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the command lines in one Node helper process, as many at a time as the machine has cores (each cfn-guard
 * process is single-threaded and CPU-bound), each one's stdout into its own file.
 */
function runSideBySide(commandLines: string[][], maxBuffer: number): ProcessOutput[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-guard-out-'));
  try {
    const jobs = commandLines.map((commandLine, i) => ({ commandLine, out: path.join(dir, `${i}.out`) }));
    const width = Math.max(1, Math.min(jobs.length, os.availableParallelism?.() ?? os.cpus().length));
    const helper = spawnSync(process.execPath, ['-e', HELPER, String(width), String(maxBuffer)], {
      input: JSON.stringify(jobs), maxBuffer, stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (helper.error) throw helper.error;
    if (helper.status !== 0) throw new Error(`cdk-agent-data-stack/gate: the cfn-guard runner failed (status ${helper.status}): ${helper.stderr.toString().trim()}`);
    const results: Array<Omit<ProcessOutput, 'stdout'>> = JSON.parse(helper.stdout.toString());
    return results.map((r, i) => ({ ...r, stdout: fs.readFileSync(jobs[i].out, 'utf8') }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The helper: reads the jobs on stdin, runs `width` at a time, writes each stdout to its file, prints the statuses. */
const HELPER = `// cdk-agent-data-stack gate: the cfn-guard runner
const { execFile } = require('child_process');
const fs = require('fs');
const [width, maxBuffer] = process.argv.slice(1).map(Number);
const jobs = JSON.parse(fs.readFileSync(0, 'utf8'));
const results = new Array(jobs.length);
let next = 0;
const worker = () => new Promise(done => {
  const i = next++;
  if (i >= jobs.length) return done();
  const [file, ...args] = jobs[i].commandLine;
  execFile(file, args, { maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => {
    fs.writeFileSync(jobs[i].out, stdout ?? '');
    const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
    results[i] = { status, signal: err && err.signal ? err.signal : null, stderr: String(stderr ?? '') + (err && typeof err.code !== 'number' ? String(err.message) : '') };
    worker().then(done);
  });
});
Promise.all(Array.from({ length: width }, worker)).then(() => process.stdout.write(JSON.stringify(results)));
`;
