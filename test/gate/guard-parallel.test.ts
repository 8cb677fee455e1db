// The gate's cfn-guard runs, side by side: the same reports as the validator's own one-at-a-time runs.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validateGuardRuns, type GuardRun } from '../../lib/guard-parallel';

const validatorDir = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json', { paths: [path.join(__dirname, '..', '..', 'lib')] }));
const { CfnGuardValidator } = require(validatorDir);
const utils = require(path.join(validatorDir, 'lib', 'utils.js'));
const rules = (folder: string, ...names: string[]) => names.map(n => path.join(validatorDir, 'rules', 'control-tower', 'cfn-guard', folder, `${n}.guard`));
const MAX = 64 * 1024 * 1024;

let dir: string;
let runs: GuardRun[];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-parallel-'));
  const write = (name: string, resources: object) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify({ Resources: resources }));
    return file;
  };
  runs = [
    // A plain bucket breaks several S3 controls; a versioned, logged one fewer.
    { rules: rules('s3', 'ct-s3-pr-1', 'ct-s3-pr-2', 'ct-s3-pr-10'), data: write('s3.json', { Plain: { Type: 'AWS::S3::Bucket', Properties: {} }, Versioned: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } } }) },
    { rules: rules('sqs', 'ct-sqs-pr-1', 'ct-sqs-pr-2'), data: write('sqs.json', { Queue: { Type: 'AWS::SQS::Queue', Properties: {} } }) },
    { rules: rules('cloudwatch', 'ct-cloudwatch-pr-2'), data: write('logs.json', { Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } } }) },
  ];
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ids = (reports: Array<{ violations: Array<{ ruleName: string; violatingResources: Array<{ resourceLogicalId?: string }> }> }>) =>
  reports.map(r => r.violations.flatMap(v => v.violatingResources.map(x => `${v.ruleName} ${x.resourceLogicalId}`)).sort());

test('the runs go out side by side (no process through the validator\'s exec) and give the validator\'s own reports', () => {
  const one = runs.map(r => new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: r.rules, maxBuffer: MAX }).validate({ templatePaths: [r.data] }));
  const original = utils.exec;
  let spawned = 0;
  utils.exec = (...args: unknown[]) => { spawned += 1; return original(...args); };
  try {
    const parallel = validateGuardRuns(CfnGuardValidator, validatorDir, runs, MAX);
    expect(spawned).toBe(0);
    expect(parallel).toEqual(one);
    expect(ids(parallel)[0].length).toBeGreaterThan(2);
    expect(ids(parallel)[1].length).toBeGreaterThan(0);
  } finally {
    utils.exec = original;
  }
  expect(utils.exec).toBe(original);
});

test('a validator whose exec cannot be reached runs each process itself, with the same reports', () => {
  const expected = ids(validateGuardRuns(CfnGuardValidator, validatorDir, runs, MAX));
  expect(ids(validateGuardRuns(CfnGuardValidator, path.join(dir, 'no-such-validator'), runs, MAX))).toEqual(expected);
});

test('a cfn-guard process that fails fails the scan with the validator\'s error and cfn-guard\'s message, and the validator\'s exec is restored', () => {
  const missing = { rules: runs[1].rules, data: path.join(dir, 'missing.json') };
  // The validator's own run of it fails too (cfn-guard exits 255).
  expect(() => new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: missing.rules, maxBuffer: MAX }).validate({ templatePaths: [missing.data] }))
    .toThrow(/Command exited with status 255/);
  const original = utils.exec;
  expect(() => validateGuardRuns(CfnGuardValidator, validatorDir, [runs[0], missing], MAX))
    .toThrow(/CfnGuardValidator plugin failed[\s\S]*Command exited with status 255: .*missing\.json` does not exist/);
  expect(utils.exec).toBe(original);
});
